import Foundation

// Weight gradient of a 3x3 stride-1 pad-1 convolution by Winograd F(3x3, 2x2): the transpose of the forward's
// F(2x2, 3x3) (WinogradKernels). For one 2x2 block ("tile") of dy and the 4x4 input patch X under it,
//   dW (3x3) += sum over the tile of X[p+ki][q+kj] * dY[p][q] = G^T [ (B^T X B) ⊙ (A dY A^T) ] G
// with the forward's matrices (B^T X B is exactly the forward's input transform V):
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   A = [1 0; 1 1; 1 -1; 0 -1]   G^T = [1 ½ ½ 0; 0 ½ -½ 0; 0 ½ ½ 1]
// The G^T . G transform is linear, so it is applied once, after summing over every tile of every image:
//   M[ξ] (Cout, Cin) = sum over tiles t of D[ξ] (Cout, t) V[ξ] (Cin, t)^T      (16 sgemms per chunk of tiles)
//   dW[co][ci] += G^T M[.][co][ci] G
// 16 multiply-adds per tile and (Cout, Cin) pair instead of im2col's 36, and no column matrix; the sgemms have
// K = tiles of a chunk (hundreds), M = Cout, N = Cin, the shape sgemm runs best.
//
// Workers: one per core with single-threaded sgemm and a private M; items (image, chunk of tiles) are dealt
// round-robin (worker w takes items w, w+T, ...) and the private sums are added in worker order, so the result
// does not depend on timing (same convention as ConvKernels.backward). Rounding differs from im2col + sgemm by a
// few float ulps times the number of summed terms; tests compare with ConvKernels.backwardNaive.
//
// Used by ConvKernels.backward for dW of 3x3 pad-1 layers with Cin and Cout >= minChannels (32: in KeyPointNet every
// 3x3 layer but conv1a 3->32, whose dW stays im2col + sgemm; docs/perf.md, Round 4).

public enum WinogradWeightGradientKernels {
    /// Switch for A/B runs and tests: KP2D_WINOGRAD_DW=0 turns it off, KP2D_WINOGRAD_DW=N sets minChannels.
    nonisolated(unsafe) public static var enabled = ProcessInfo.processInfo.environment["KP2D_WINOGRAD_DW"] != "0"
    /// Smallest Cin and Cout whose dW uses this kernel.
    nonisolated(unsafe) public static var minChannels = ProcessInfo.processInfo.environment["KP2D_WINOGRAD_DW"].flatMap { Int($0) }.map { max(1, $0) } ?? 32
    /// Target floats of one chunk's transformed input (and transformed gradient) per worker.
    nonisolated(unsafe) public static var chunkFloats = 1 << 20

    public static func applies(_ s: Conv2dShape) -> Bool {
        enabled && s.kh == 3 && s.kw == 3 && s.pad == 1 && s.cin >= minChannels && s.cout >= minChannels
    }

    /// D[ξ][co][t - t0] = (A dY A^T)[ξ] for tiles t0..<t1 of the gradient dyn (Cout,Ho,Wo) (zero outside it).
    /// A dY A^T of the 2x2 tile [a b; c d]: rows (a, b), (a+c, b+d), (a-c, b-d), (-c, -d), each row (p, q) -> (p, p+q, p-q, -q).
    static func transformGradient(_ dd: UnsafeMutablePointer<Float>, _ dyn: UnsafePointer<Float>, _ s: Conv2dShape,
                                  tiles t0: Int, _ t1: Int, ld: Int) {
        let tw = (s.wo + 1) / 2, plane = s.cout * ld
        for co in 0..<s.cout {
            let src = dyn + co * s.p
            let dst = dd + co * ld
            var t = t0
            while t < t1 {
                let ti = t / tw, tj = t % tw
                // Eight tiles of one tile row at once: 16 gradient columns of rows 2ti and 2ti+1.
                if tj + 8 <= tw && t + 8 <= t1 && 2 * ti + 1 < s.ho && 2 * tj + 16 <= s.wo {
                    let p = src + 2 * ti * s.wo + 2 * tj
                    let r0 = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
                    let r1 = UnsafeRawPointer(p + s.wo).loadUnaligned(as: SIMD16<Float>.self)
                    let a = r0.evenHalf, b = r0.oddHalf, c = r1.evenHalf, d = r1.oddHalf
                    let o = dst + (t - t0)
                    @inline(__always) func row(_ r: Int, _ u: SIMD8<Float>, _ v: SIMD8<Float>) {
                        UnsafeMutableRawPointer(o + (4 * r) * plane).storeBytes(of: u, as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(o + (4 * r + 1) * plane).storeBytes(of: u + v, as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(o + (4 * r + 2) * plane).storeBytes(of: u - v, as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(o + (4 * r + 3) * plane).storeBytes(of: -v, as: SIMD8<Float>.self)
                    }
                    row(0, a, b); row(1, a + c, b + d); row(2, a - c, b - d); row(3, -c, -d)
                    t += 8
                    continue
                }
                let oh = 2 * ti, ow = 2 * tj
                let hasRow1 = oh + 1 < s.ho, hasCol1 = ow + 1 < s.wo
                let a = src[oh * s.wo + ow]
                let b: Float = hasCol1 ? src[oh * s.wo + ow + 1] : 0
                let c: Float = hasRow1 ? src[(oh + 1) * s.wo + ow] : 0
                let d: Float = hasRow1 && hasCol1 ? src[(oh + 1) * s.wo + ow + 1] : 0
                let o = dst + (t - t0)
                @inline(__always) func row(_ r: Int, _ u: Float, _ v: Float) {
                    o[(4 * r) * plane] = u
                    o[(4 * r + 1) * plane] = u + v
                    o[(4 * r + 2) * plane] = u - v
                    o[(4 * r + 3) * plane] = -v
                }
                row(0, a, b); row(1, a + c, b + d); row(2, a - c, b - d); row(3, -c, -d)
                t += 1
            }
        }
    }

    /// dw (Cout,Cin,3,3) += G^T M G for M (16, Cout, Cin).
    static func transformBack(_ dw: UnsafeMutablePointer<Float>, _ mm: UnsafePointer<Float>, cout: Int, cin: Int) {
        let plane = cout * cin
        KernelParallel.forRanges(cout, costPerItem: cin * 64) { range in
            for co in range {
                for ci in 0..<cin {
                    let m = mm + co * cin + ci
                    // t = G^T m (3 rows of 4): row0 = m0 + ½(m1 + m2), row1 = ½(m1 - m2), row2 = ½(m1 + m2) + m3 (m_i = row i of m)
                    var t = SIMD16<Float>()
                    for c in 0..<4 {
                        let m0 = m[c * plane], m1 = m[(4 + c) * plane], m2 = m[(8 + c) * plane], m3 = m[(12 + c) * plane]
                        let h = 0.5 * (m1 + m2)
                        t[c] = m0 + h
                        t[4 + c] = 0.5 * (m1 - m2)
                        t[8 + c] = h + m3
                    }
                    // dW = t G (3x3), the same combination along the columns
                    let g = dw + (co * cin + ci) * 9
                    for r in 0..<3 {
                        let a0 = t[4 * r], a1 = t[4 * r + 1], a2 = t[4 * r + 2], a3 = t[4 * r + 3]
                        let h = 0.5 * (a1 + a2)
                        g[3 * r] += a0 + h
                        g[3 * r + 1] += 0.5 * (a1 - a2)
                        g[3 * r + 2] += h + a3
                    }
                }
            }
        }
    }

    /// Tiles per chunk and chunks per image for shape s, with at least one item per worker.
    static func chunking(_ s: Conv2dShape, workers: Int) -> (perChunk: Int, chunks: Int) {
        let tiles = ((s.ho + 1) / 2) * ((s.wo + 1) / 2)
        var chunks = (tiles + max(8, chunkFloats / (16 * max(s.cin, s.cout))) - 1) / max(8, chunkFloats / (16 * max(s.cin, s.cout)))
        chunks = max(chunks, (workers + s.n - 1) / s.n)
        chunks = min(chunks, max(1, tiles / 8))
        let perChunk = (tiles + chunks - 1) / chunks
        return (perChunk, (tiles + perChunk - 1) / perChunk)
    }

    /// dw (Cout,Cin,3,3) += dL/dW of y = conv3x3pad1(x (N,Cin,H,W), w), from dy (N,Cout,H,W).
    public static func weightGradient(_ dw: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                      _ x: UnsafePointer<Float>, _ s: Conv2dShape) {
        precondition(s.kh == 3 && s.kw == 3 && s.pad == 1, "Winograd F(3x3,2x2) needs a 3x3 kernel with padding 1, got \(s)")
        if s.n == 0 || s.cout == 0 || s.cin == 0 { return }
        let tw = (s.wo + 1) / 2, tiles = ((s.ho + 1) / 2) * tw
        let (perChunk, chunks) = chunking(s, workers: ConvKernels.workers)
        let items = s.n * chunks
        let workers = max(1, min(ConvKernels.workers, items))
        let xStride = s.cin * s.h * s.w, yStride = s.cout * s.p
        let mCount = 16 * s.cout * s.cin
        // V and D rows have WinogradKernels.leadingDimension(tiles:) columns (the input transform writes whole
        // groups of tiles); the sgemms read only the chunk's tiles.
        let ldMax = WinogradKernels.leadingDimension(tiles: perChunk)
        let vCount = 16 * s.cin * ldMax, dCount = 16 * s.cout * ldMax
        // Worker w's sums in m + w * mCount; used[w] tells whether it had any item (else its M is not written).
        StoragePool.shared.with(count: workers * mCount) { m in
            func work(_ w: Int) {
                StoragePool.shared.with(count: vCount) { v in
                    StoragePool.shared.with(count: dCount) { d in
                        let mw = m + w * mCount
                        var first = true
                        for item in stride(from: w, to: items, by: workers) {
                            let n = item / chunks, t0 = (item % chunks) * perChunk, t1 = min(tiles, t0 + perChunk)
                            let ld = WinogradKernels.leadingDimension(tiles: t1 - t0)
                            WinogradKernels.transformInput(v, x + n * xStride, s, tiles: t0, t1, ld: ld)
                            transformGradient(d, dy + n * yStride, s, tiles: t0, t1, ld: ld)
                            for xi in 0..<16 {
                                // M[ξ] (Cout, Cin) (+)= D[ξ] (Cout, tiles) @ V[ξ] (Cin, tiles)^T
                                MatmulKernels.sgemm(c: mw + xi * s.cout * s.cin, ldc: s.cin, transA: false, transB: true,
                                                    m: s.cout, n: s.cin, k: t1 - t0, alpha: 1,
                                                    a: d + xi * s.cout * ld, lda: ld, b: v + xi * s.cin * ld, ldb: ld,
                                                    beta: first ? 0 : 1)
                            }
                            first = false
                        }
                        if first { mw.update(repeating: 0, count: mCount) }
                    }
                }
            }
            KernelParallel.withSingleThreadedBLAS {
                if workers > 1 {
                    KernelParallel.perform(workers: workers) { work($0) }
                } else {
                    work(0)
                }
            }
            // Private sums in worker order, split over the elements.
            if workers > 1 {
                KernelParallel.forRanges(mCount, costPerItem: workers) { range in
                    for w in 1..<workers {
                        let src = m + w * mCount
                        for i in range { m[i] += src[i] }
                    }
                }
            }
            transformBack(dw, m, cout: s.cout, cin: s.cin)
        }
    }
}
