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
//
// With many tiles (as WinogradF43Kernels.applies: at least its minTiles 4x4 tiles per image) the same scheme runs with
// 4x4 tiles of dy and 6x6 input patches: F(3x3, 4x4), the transpose of the forward's F(4x4, 3x3), with its matrices:
//   dW (3x3) += G^T [ (B^T X B) ⊙ (A dY A^T) ] G     (B^T X B: WinogradF43Kernels.transformInput)
//   A (6x4) = [1 0 0 0; 1 1 1 1; 1 -1 1 -1; 1 2 4 8; 1 -2 4 -8; 0 0 0 1]
//   G^T (3x6) = [1/4 -1/6 -1/6 1/24 1/24 0; 0 -1/6 1/6 1/12 -1/12 0; 0 -1/6 -1/6 1/6 1/6 1]
// 36 products per 16 dy values instead of 16 per 4 (2.25 per dy value and channel pair instead of 4), and the
// transformed input and gradient 36 values per 16 instead of 16 per 4. A/B switch: KP2D_WINOGRAD_DW_F43=0.

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

    /// Switch for the 4x4-tile variant (KP2D_WINOGRAD_DW_F43=0: always 2x2 tiles).
    nonisolated(unsafe) public static var usesLargeTiles = ProcessInfo.processInfo.environment["KP2D_WINOGRAD_DW_F43"] != "0"
    /// Smallest number of 4x4 tiles per image that uses the 4x4-tile variant (KP2D_WINOGRAD_DW_F43=N, N > 0).
    nonisolated(unsafe) public static var largeTileMinimum =
        ProcessInfo.processInfo.environment["KP2D_WINOGRAD_DW_F43"].flatMap { Int($0) }.map { max(1, $0) } ?? WinogradF43Kernels.minTiles

    /// The tile size of a shape where `applies`: F(3x3, 4x4) where there are many 4x4 tiles, else F(3x3, 2x2).
    public enum Tiles: Sendable {
        case two, four
        /// Side of a tile of dy.
        var side: Int { self == .two ? 2 : 4 }
        /// Products (transformed values) per tile: (side + 2)^2.
        var products: Int { self == .two ? 16 : 36 }
    }

    public static func tiles(_ s: Conv2dShape) -> Tiles {
        usesLargeTiles && WinogradF43Kernels.tiles(s) >= largeTileMinimum ? .four : .two
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

    /// A applied to four values (a column or row of a 4x4 dy tile): (a, a+b+c+d, a-b+c-d, a+2b+4c+8d, a-2b+4c-8d, d).
    @inline(__always)
    static func a6<V: SIMD>(_ a: V, _ b: V, _ c: V, _ d: V) -> (V, V, V, V, V, V) where V.Scalar == Float {
        let two: V.Scalar = 2, four: V.Scalar = 4, eight: V.Scalar = 8
        let ac = a + c, bd = b + d, ac4 = a + four * c, bd8 = two * b + eight * d
        return (a, ac + bd, ac - bd, ac4 + bd8, ac4 - bd8, d)
    }

    /// D[ξ][co][t - t0] = (A dY A^T)[ξ] for the 4x4 tiles t0..<t1 of the gradient dyn (Cout,Ho,Wo) (zero outside it).
    /// Eight whole tiles of a tile row at a time (four rows of 32 gradient values, one lane per tile); tiles cut by the
    /// edge, and the rest of a segment, one by one.
    static func transformGradient4(_ dd: UnsafeMutablePointer<Float>, _ dyn: UnsafePointer<Float>, _ s: Conv2dShape,
                                   tiles t0: Int, _ t1: Int, ld: Int) {
        let tw = (s.wo + 3) / 4, plane = s.cout &* ld
        for co in 0..<s.cout {
            let src = dyn + co &* s.p
            let dst = dd + co &* ld
            var t = t0
            while t < t1 {
                let ti = t / tw, tj = t % tw
                let groupFits = tj + 8 <= tw && t + 8 <= t1
                if groupFits && 4 * ti + 3 < s.ho && 4 * (tj + 8) <= s.wo {
                    typealias V = SIMD8<Float>
                    let p = src + (4 * ti * s.wo + 4 * tj)
                    @inline(__always) func row(_ r: Int) -> (V, V, V, V, V, V) {
                        let c = WinogradF43Kernels.columns8(UnsafeRawPointer(p + r &* s.wo).loadUnaligned(as: SIMD16<UInt64>.self))
                        return a6(c.0, c.1, c.2, c.3)
                    }
                    let e0 = row(0), e1 = row(1), e2 = row(2), e3 = row(3)
                    let o = dst + (t &- t0)
                    @inline(__always) func column(_ j: Int, _ a: V, _ b: V, _ c: V, _ d: V) {
                        let x = a6(a, b, c, d)
                        @inline(__always) func put(_ i: Int, _ v: V) {
                            UnsafeMutableRawPointer(o + (6 &* i &+ j) &* plane).storeBytes(of: v, as: V.self)
                        }
                        put(0, x.0); put(1, x.1); put(2, x.2); put(3, x.3); put(4, x.4); put(5, x.5)
                    }
                    column(0, e0.0, e1.0, e2.0, e3.0); column(1, e0.1, e1.1, e2.1, e3.1)
                    column(2, e0.2, e1.2, e2.2, e3.2); column(3, e0.3, e1.3, e2.3, e3.3)
                    column(4, e0.4, e1.4, e2.4, e3.4); column(5, e0.5, e1.5, e2.5, e3.5)
                    t &+= 8
                    continue
                }
                // One tile, zero outside the gradient (in lane 0 of SIMD2 values, to share a6 with the vector path).
                let oh = 4 &* ti, ow = 4 &* tj
                @inline(__always) func value(_ r: Int, _ c: Int) -> SIMD2<Float> {
                    oh + r < s.ho && ow + c < s.wo ? SIMD2(repeating: src[(oh + r) * s.wo + ow + c]) : SIMD2()
                }
                @inline(__always) func row(_ r: Int) -> (SIMD2<Float>, SIMD2<Float>, SIMD2<Float>, SIMD2<Float>, SIMD2<Float>, SIMD2<Float>) {
                    a6(value(r, 0), value(r, 1), value(r, 2), value(r, 3))
                }
                let e0 = row(0), e1 = row(1), e2 = row(2), e3 = row(3)
                let o = dst + (t &- t0)
                @inline(__always) func column(_ j: Int, _ a: SIMD2<Float>, _ b: SIMD2<Float>, _ c: SIMD2<Float>, _ d: SIMD2<Float>) {
                    let x = a6(a, b, c, d)
                    o[(j) &* plane] = x.0[0]; o[(6 &+ j) &* plane] = x.1[0]; o[(12 &+ j) &* plane] = x.2[0]
                    o[(18 &+ j) &* plane] = x.3[0]; o[(24 &+ j) &* plane] = x.4[0]; o[(30 &+ j) &* plane] = x.5[0]
                }
                column(0, e0.0, e1.0, e2.0, e3.0); column(1, e0.1, e1.1, e2.1, e3.1)
                column(2, e0.2, e1.2, e2.2, e3.2); column(3, e0.3, e1.3, e2.3, e3.3)
                column(4, e0.4, e1.4, e2.4, e3.4); column(5, e0.5, e1.5, e2.5, e3.5)
                t &+= 1
            }
        }
    }

    /// G^T applied to six values: (m0/4 - (m1+m2)/6 + (m3+m4)/24, (m2-m1)/6 + (m3-m4)/12, (m3+m4-m1-m2)/6 + m5).
    @inline(__always)
    static func gt3<V: SIMD>(_ m0: V, _ m1: V, _ m2: V, _ m3: V, _ m4: V, _ m5: V) -> (V, V, V) where V.Scalar == Float {
        let p12 = m1 + m2, p34 = m3 + m4, q12 = m2 - m1, q34 = m3 - m4
        let sixth: V.Scalar = 1.0 / 6, quarter: V.Scalar = 0.25, twentyFourth: V.Scalar = 1.0 / 24, twelfth: V.Scalar = 1.0 / 12
        return (quarter * m0 - sixth * p12 + twentyFourth * p34,
                sixth * q12 + twelfth * q34,
                sixth * (p34 - p12) + m5)
    }

    /// dw (Cout,Cin,3,3) += G^T M G for M (36, Cout, Cin) (the 4x4-tile variant's transformBack). Eight input
    /// channels at a time (M's rows are contiguous in ci), the rest one by one.
    static func transformBack4(_ dw: UnsafeMutablePointer<Float>, _ mm: UnsafePointer<Float>, cout: Int, cin: Int) {
        let plane = cout * cin
        @inline(__always) func filters<V: SIMD>(_ m: UnsafePointer<Float>, _ load: (UnsafePointer<Float>) -> V,
                                                _ add: (Int, V) -> Void) where V.Scalar == Float {
            @inline(__always) func x(_ i: Int, _ j: Int) -> V { load(m + (6 &* i &+ j) &* plane) }
            // t = M G (6x3): each row i of M
            @inline(__always) func rowT(_ i: Int) -> (V, V, V) { gt3(x(i, 0), x(i, 1), x(i, 2), x(i, 3), x(i, 4), x(i, 5)) }
            let r0 = rowT(0), r1 = rowT(1), r2 = rowT(2), r3 = rowT(3), r4 = rowT(4), r5 = rowT(5)
            // dW = G^T t (3x3): each column kj of t
            let k0 = gt3(r0.0, r1.0, r2.0, r3.0, r4.0, r5.0)
            let k1 = gt3(r0.1, r1.1, r2.1, r3.1, r4.1, r5.1)
            let k2 = gt3(r0.2, r1.2, r2.2, r3.2, r4.2, r5.2)
            add(0, k0.0); add(3, k0.1); add(6, k0.2)
            add(1, k1.0); add(4, k1.1); add(7, k1.2)
            add(2, k2.0); add(5, k2.1); add(8, k2.2)
        }
        KernelParallel.forRanges(cout, costPerItem: cin * 160) { range in
            for co in range {
                var ci = 0
                while ci &+ 8 <= cin {
                    let g = dw + (co &* cin &+ ci) &* 9
                    filters(mm + (co &* cin &+ ci), { UnsafeRawPointer($0).loadUnaligned(as: SIMD8<Float>.self) }) { k, v in
                        for l in 0..<8 { g[l &* 9 &+ k] += v[l] }
                    }
                    ci &+= 8
                }
                while ci < cin {
                    let g = dw + (co &* cin &+ ci) &* 9
                    filters(mm + (co &* cin &+ ci), { SIMD2<Float>(repeating: $0.pointee) }) { k, v in g[k] += v[0] }
                    ci &+= 1
                }
            }
        }
    }

    /// Tiles per chunk and chunks per image for shape s, with at least one item per worker.
    static func chunking(_ s: Conv2dShape, workers: Int, tiles size: Tiles = .two) -> (perChunk: Int, chunks: Int) {
        let side = size.side
        let tiles = ((s.ho + side - 1) / side) * ((s.wo + side - 1) / side)
        let maxPerChunk = max(8, chunkFloats / (size.products * max(s.cin, s.cout)))
        var chunks = (tiles + maxPerChunk - 1) / maxPerChunk
        chunks = max(chunks, (workers + s.n - 1) / s.n)
        chunks = min(chunks, max(1, tiles / 8))
        let perChunk = (tiles + chunks - 1) / chunks
        return (perChunk, (tiles + perChunk - 1) / perChunk)
    }

    /// dw (Cout,Cin,3,3) += dL/dW of y = conv3x3pad1(x (N,Cin,H,W), w), from dy (N,Cout,H,W), with the tiles of
    /// `tiles(s)` unless given.
    public static func weightGradient(_ dw: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                      _ x: UnsafePointer<Float>, _ s: Conv2dShape, tiles size: Tiles? = nil) {
        precondition(s.kh == 3 && s.kw == 3 && s.pad == 1, "Winograd dW needs a 3x3 kernel with padding 1, got \(s)")
        if s.n == 0 || s.cout == 0 || s.cin == 0 { return }
        let size = size ?? tiles(s)
        let side = size.side, products = size.products
        let tiles = ((s.ho + side - 1) / side) * ((s.wo + side - 1) / side)
        let (perChunk, chunks) = chunking(s, workers: ConvKernels.workers, tiles: size)
        let items = s.n * chunks
        let workers = max(1, min(ConvKernels.workers, items))
        let xStride = s.cin * s.h * s.w, yStride = s.cout * s.p
        let mCount = products * s.cout * s.cin
        // V and D rows have leadingDimension(tiles:) columns (the input transforms write whole groups of tiles);
        // the sgemms read only the chunk's tiles.
        let ldMax = WinogradKernels.leadingDimension(tiles: perChunk)
        let vCount = products * s.cin * ldMax, dCount = products * s.cout * ldMax
        // Worker w's sums in m + w * mCount; a worker without items zeroes its M.
        StoragePool.shared.with(count: workers * mCount) { m in
            func work(_ w: Int) {
                StoragePool.shared.with(count: vCount) { v in
                    StoragePool.shared.with(count: dCount) { d in
                        let mw = m + w * mCount
                        var first = true
                        for item in stride(from: w, to: items, by: workers) {
                            let n = item / chunks, t0 = (item % chunks) * perChunk, t1 = min(tiles, t0 + perChunk)
                            let ld = WinogradKernels.leadingDimension(tiles: t1 - t0)
                            switch size {
                            case .two:
                                WinogradKernels.transformInput(v, x + n * xStride, s, tiles: t0, t1, ld: ld)
                                transformGradient(d, dy + n * yStride, s, tiles: t0, t1, ld: ld)
                            case .four:
                                WinogradF43Kernels.transformInput(v, x + n * xStride, s, tiles: t0, t1, ld: ld)
                                transformGradient4(d, dy + n * yStride, s, tiles: t0, t1, ld: ld)
                            }
                            for xi in 0..<products {
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
            switch size {
            case .two: transformBack(dw, m, cout: s.cout, cin: s.cin)
            case .four: transformBack4(dw, m, cout: s.cout, cin: s.cin)
            }
        }
    }
}
