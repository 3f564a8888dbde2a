import Foundation

// Winograd F(2x2, 3x3) forward for 3x3 stride-1 pad-1 convolutions with many channels.
//
// Each 2x2 block ("tile") of the output is computed from the 4x4 input patch around it with 16
// multiplications per (Cout, Cin) pair instead of 36: with the input patch d and the filter g,
//   y = A^T [ (G g G^T) ⊙ (B^T d B) ] A
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]   A^T = [1 1 1 0; 0 1 -1 -1]
// Summed over Cin, the 16 element-wise products become 16 matrix products, one per position ξ of
// the 4x4 transformed patch:  M[ξ] (Cout, tiles) = U[ξ] (Cout, Cin) @ V[ξ] (Cin, tiles)
// with U = G g G^T (the transformed weights, once per call) and V = B^T d B (the transformed input,
// chunk by chunk). The sgemm work is 16/36 of im2col's; the transforms are a few adds per element.
// Tiles are processed in chunks (a worker's V and M stay a few MiB), one worker per core with
// single-threaded sgemm; each chunk's output goes through the epilogue (bias, folded BatchNorm,
// LeakyReLU) as it is written. The constants are exact in binary; rounding differs from direct
// convolution by a few float ulps times the channel count (tests compare with the naive twin).
//
// Used by ConvKernels.forward for 3x3, padding 1, Cin and Cout >= minChannels, and by ConvKernels.backward
// for dx (a 3x3 pad-1 convolution of dy with the flipped, transposed filters, added into dx); dW stays
// im2col + sgemm.

public enum WinogradKernels {
    /// Switch for A/B runs and tests.
    nonisolated(unsafe) public static var enabled = ProcessInfo.processInfo.environment["KP2D_WINOGRAD"] != "0"
    /// Smallest Cin and Cout that use Winograd (below, the sgemms are too thin to gain).
    nonisolated(unsafe) public static var minChannels = 64
    /// Target floats of one chunk's transformed input (and output) per worker.
    nonisolated(unsafe) public static var chunkFloats = 1 << 20

    public static func applies(_ s: Conv2dShape) -> Bool {
        enabled && s.kh == 3 && s.kw == 3 && s.pad == 1 && s.cin >= minChannels && s.cout >= minChannels
    }

    /// U (16, Cout, Cin) = G g G^T for every filter g = w[co][ci] (3x3).
    static func transformWeights(_ u: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>, cout: Int, cin: Int) {
        let plane = cout * cin
        KernelParallel.forRanges(cout, costPerItem: cin * 64) { range in
            for co in range {
                for ci in 0..<cin {
                    let g = w + (co * cin + ci) * 9
                    // t = G g (4x3)
                    var t = SIMD16<Float>()
                    for c in 0..<3 {
                        let g0 = g[c], g1 = g[3 + c], g2 = g[6 + c]
                        t[c] = g0
                        t[3 + c] = 0.5 * (g0 + g1 + g2)
                        t[6 + c] = 0.5 * (g0 - g1 + g2)
                        t[9 + c] = g2
                    }
                    // u = t G^T (4x4)
                    let o = u + co * cin + ci
                    for r in 0..<4 {
                        let a = t[3 * r], b = t[3 * r + 1], c = t[3 * r + 2]
                        o[(4 * r) * plane] = a
                        o[(4 * r + 1) * plane] = 0.5 * (a + b + c)
                        o[(4 * r + 2) * plane] = 0.5 * (a - b + c)
                        o[(4 * r + 3) * plane] = c
                    }
                }
            }
        }
    }

    /// V[ξ][ci][t - t0] = (B^T d B)[ξ] for tiles t0..<t1 of image xn (Cin,H,W); ld = t1 - t0 rounded as given.
    static func transformInput(_ v: UnsafeMutablePointer<Float>, _ xn: UnsafePointer<Float>, _ s: Conv2dShape,
                               tiles t0: Int, _ t1: Int, ld: Int) {
        let tw = (s.wo + 1) / 2, plane = s.cin * ld
        for ci in 0..<s.cin {
            let src = xn + ci * s.h * s.w
            let dst = v + ci * ld
            var t = t0
            while t < t1 {
                let ti = t / tw, tj = t % tw
                // Eight tiles of one tile row at once: their 18 input columns 2tj-1 ..< 2tj+17 of 4 rows.
                if tj + 8 <= tw && t + 8 <= t1 && 2 * ti - 1 >= 0 && 2 * ti + 2 < s.h && 2 * tj - 1 >= 0 && 2 * tj + 17 <= s.w {
                    var rowsT = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(),
                                 SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(),
                                 SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(),
                                 SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
                    withUnsafeMutableBytes(of: &rowsT) { raw in
                        let d = raw.baseAddress!.assumingMemoryBound(to: SIMD8<Float>.self)
                        for r in 0..<4 {
                            let p = src + (2 * ti - 1 + r) * s.w + 2 * tj - 1
                            let a = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
                            let b = UnsafeRawPointer(p + 2).loadUnaligned(as: SIMD16<Float>.self)
                            // column k of tile t is p[2t + k]
                            d[4 * r] = a.evenHalf; d[4 * r + 1] = a.oddHalf; d[4 * r + 2] = b.evenHalf; d[4 * r + 3] = b.oddHalf
                        }
                        // rows: B^T d, in place (d[4r + c] = row r, column c)
                        for c in 0..<4 {
                            let a0 = d[c], a1 = d[4 + c], a2 = d[8 + c], a3 = d[12 + c]
                            d[c] = a0 - a2; d[4 + c] = a1 + a2; d[8 + c] = a2 - a1; d[12 + c] = a1 - a3
                        }
                        let o = dst + (t - t0)
                        for r in 0..<4 {
                            let a0 = d[4 * r], a1 = d[4 * r + 1], a2 = d[4 * r + 2], a3 = d[4 * r + 3]
                            UnsafeMutableRawPointer(o + (4 * r) * plane).storeBytes(of: a0 - a2, as: SIMD8<Float>.self)
                            UnsafeMutableRawPointer(o + (4 * r + 1) * plane).storeBytes(of: a1 + a2, as: SIMD8<Float>.self)
                            UnsafeMutableRawPointer(o + (4 * r + 2) * plane).storeBytes(of: a2 - a1, as: SIMD8<Float>.self)
                            UnsafeMutableRawPointer(o + (4 * r + 3) * plane).storeBytes(of: a1 - a3, as: SIMD8<Float>.self)
                        }
                    }
                    t += 8
                    continue
                }
                let r0 = 2 * ti - 1, c0 = 2 * tj - 1
                var d = SIMD16<Float>(repeating: 0)
                let interior = r0 >= 0 && r0 + 3 < s.h && c0 >= 0 && c0 + 3 < s.w
                if interior {
                    for r in 0..<4 {
                        let p = src + (r0 + r) * s.w + c0
                        d[4 * r] = p[0]; d[4 * r + 1] = p[1]; d[4 * r + 2] = p[2]; d[4 * r + 3] = p[3]
                    }
                } else {
                    for r in 0..<4 {
                        let ih = r0 + r
                        if ih < 0 || ih >= s.h { continue }
                        for c in 0..<4 {
                            let iw = c0 + c
                            if iw >= 0 && iw < s.w { d[4 * r + c] = src[ih * s.w + iw] }
                        }
                    }
                }
                // rows: B^T d
                var m = SIMD16<Float>(repeating: 0)
                for c in 0..<4 {
                    let a0 = d[c], a1 = d[4 + c], a2 = d[8 + c], a3 = d[12 + c]
                    m[c] = a0 - a2; m[4 + c] = a1 + a2; m[8 + c] = a2 - a1; m[12 + c] = a1 - a3
                }
                // columns: (B^T d) B
                let o = dst + (t - t0)
                for r in 0..<4 {
                    let a0 = m[4 * r], a1 = m[4 * r + 1], a2 = m[4 * r + 2], a3 = m[4 * r + 3]
                    o[(4 * r) * plane] = a0 - a2
                    o[(4 * r + 1) * plane] = a1 + a2
                    o[(4 * r + 2) * plane] = a2 - a1
                    o[(4 * r + 3) * plane] = a1 - a3
                }
                t += 1
            }
        }
    }

    /// y tiles t0..<t1 of image yn (Cout,Ho,Wo) = A^T M A, then the epilogue; M[ξ][co][t - t0].
    static func transformOutput(_ yn: UnsafeMutablePointer<Float>, _ mm: UnsafePointer<Float>, _ s: Conv2dShape,
                                tiles t0: Int, _ t1: Int, ld: Int, epilogue e: ConvEpilogue, accumulate: Bool) {
        let tw = (s.wo + 1) / 2, plane = s.cout * ld
        let slope = e.leakySlope
        for co in 0..<s.cout {
            let src = mm + co * ld
            let dst = yn + co * s.p
            let a = e.scale?[co] ?? 1, b = e.shift?[co] ?? 0
            var t = t0
            while t < t1 {
                let ti = t / tw, tj = t % tw
                if tj + 8 <= tw && t + 8 <= t1 && 2 * ti + 1 < s.ho && 2 * (tj + 8) <= s.wo {
                    let p = src + (t - t0)
                    @inline(__always) func q(_ k: Int) -> SIMD8<Float> { UnsafeRawPointer(p + k * plane).loadUnaligned(as: SIMD8<Float>.self) }
                    // A^T q: h0c = q0c + q1c + q2c, h1c = q1c - q2c - q3c
                    let h00 = q(0) + q(4) + q(8), h01 = q(1) + q(5) + q(9), h02 = q(2) + q(6) + q(10), h03 = q(3) + q(7) + q(11)
                    let h10 = q(4) - q(8) - q(12), h11 = q(5) - q(9) - q(13), h12 = q(6) - q(10) - q(14), h13 = q(7) - q(11) - q(15)
                    var y00 = h00 + h01 + h02, y01 = h01 - h02 - h03
                    var y10 = h10 + h11 + h12, y11 = h11 - h12 - h13
                    let a8 = SIMD8<Float>(repeating: a), b8 = SIMD8<Float>(repeating: b)
                    y00 = y00 * a8 + b8; y01 = y01 * a8 + b8; y10 = y10 * a8 + b8; y11 = y11 * a8 + b8
                    if let slope {
                        y00 = y00.replacing(with: y00 * slope, where: y00 .<= 0)
                        y01 = y01.replacing(with: y01 * slope, where: y01 .<= 0)
                        y10 = y10.replacing(with: y10 * slope, where: y10 .<= 0)
                        y11 = y11.replacing(with: y11 * slope, where: y11 .<= 0)
                    }
                    let row0 = dst + 2 * ti * s.wo + 2 * tj, row1 = row0 + s.wo
                    if accumulate {
                        for k in 0..<8 {
                            row0[2 * k] += y00[k]; row0[2 * k + 1] += y01[k]
                            row1[2 * k] += y10[k]; row1[2 * k + 1] += y11[k]
                        }
                    } else {
                        for k in 0..<8 {
                            row0[2 * k] = y00[k]; row0[2 * k + 1] = y01[k]
                            row1[2 * k] = y10[k]; row1[2 * k + 1] = y11[k]
                        }
                    }
                    t += 8
                    continue
                }
                let p = src + (t - t0)
                var q = SIMD16<Float>()
                for k in 0..<16 { q[k] = p[k * plane] }
                // A^T q (2x4)
                var h = SIMD8<Float>()
                for c in 0..<4 {
                    h[c] = q[c] + q[4 + c] + q[8 + c]
                    h[4 + c] = q[4 + c] - q[8 + c] - q[12 + c]
                }
                // (A^T q) A (2x2)
                var out = SIMD4<Float>(h[0] + h[1] + h[2], h[1] - h[2] - h[3],
                                       h[4] + h[5] + h[6], h[5] - h[6] - h[7])
                out = out * a + b
                if let slope { out = out.replacing(with: out * slope, where: out .<= 0) }
                let oh = 2 * ti, ow = 2 * tj
                let row0 = dst + oh * s.wo + ow
                if accumulate {
                    row0[0] += out[0]
                    if ow + 1 < s.wo { row0[1] += out[1] }
                    if oh + 1 < s.ho { row0[s.wo] += out[2]; if ow + 1 < s.wo { row0[s.wo + 1] += out[3] } }
                } else if oh + 1 < s.ho && ow + 1 < s.wo {
                    row0[0] = out[0]; row0[1] = out[1]
                    row0[s.wo] = out[2]; row0[s.wo + 1] = out[3]
                } else {
                    row0[0] = out[0]
                    if ow + 1 < s.wo { row0[1] = out[1] }
                    if oh + 1 < s.ho { row0[s.wo] = out[2]; if ow + 1 < s.wo { row0[s.wo + 1] = out[3] } }
                }
                t += 1
            }
        }
    }

    /// dx (N,Cin,H,W) += dL/dx of y = conv3x3pad1(x, w), from dy (N,Cout,H,W). For stride 1 and padding 1 this
    /// is itself a 3x3 pad-1 convolution of dy with the flipped, transposed filters w'[ci][co] = rot180(w[co][ci]).
    public static func inputGradient(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                     _ w: UnsafePointer<Float>, _ s: Conv2dShape) {
        precondition(s.kh == 3 && s.kw == 3 && s.pad == 1, "Winograd F(2x2,3x3) needs a 3x3 kernel with padding 1, got \(s)")
        ConvKernels.inputGradientAsConvolution(dx, dy, w, s) { forward($0, $1, $2, $3, epilogue: ConvEpilogue(), accumulate: true) }
    }

    /// y = epilogue(conv3x3pad1(x, w)) for a shape where `applies(s)`. Overwrites y, or adds into it
    /// (epilogue ignored) when `accumulate`.
    public static func forward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                               _ w: UnsafePointer<Float>, _ s: Conv2dShape, epilogue e: ConvEpilogue,
                               accumulate: Bool = false) {
        precondition(s.kh == 3 && s.kw == 3 && s.pad == 1, "Winograd F(2x2,3x3) needs a 3x3 kernel with padding 1, got \(s)")
        let th = (s.ho + 1) / 2, tw = (s.wo + 1) / 2, tiles = th * tw
        var perChunk = max(8, min(tiles, chunkFloats / (16 * max(s.cin, s.cout))))
        // Enough items for every worker (a single image at H/8 is one chunk otherwise).
        let wanted = (ConvKernels.workers + s.n - 1) / s.n
        if (tiles + perChunk - 1) / perChunk < wanted { perChunk = max(8, (tiles + wanted - 1) / wanted) }
        let chunks = (tiles + perChunk - 1) / perChunk
        let xStride = s.cin * s.h * s.w, yStride = s.cout * s.p
        let uCount = 16 * s.cout * s.cin
        let vCount = 16 * s.cin * perChunk, mCount = 16 * s.cout * perChunk
        StoragePool.shared.with(count: uCount) { u in
            transformWeights(u, w, cout: s.cout, cin: s.cin)
            let items = KernelWorkCounter(count: s.n * chunks)
            let workers = min(ConvKernels.workers, s.n * chunks)
            func work() {
                StoragePool.shared.with(count: vCount) { v in
                    StoragePool.shared.with(count: mCount) { m in
                        while let item = items.take() {
                            let n = item / chunks, t0 = (item % chunks) * perChunk, t1 = min(tiles, t0 + perChunk)
                            let ld = t1 - t0
                            transformInput(v, x + n * xStride, s, tiles: t0, t1, ld: ld)
                            for xi in 0..<16 {
                                MatmulKernels.sgemm(c: m + xi * s.cout * ld, ldc: ld, transA: false, transB: false, m: s.cout, n: ld, k: s.cin, alpha: 1,
                                                    a: u + xi * s.cout * s.cin, lda: s.cin, b: v + xi * s.cin * ld, ldb: ld,
                                                    beta: 0)
                            }
                            transformOutput(y + n * yStride, m, s, tiles: t0, t1, ld: ld,
                                            epilogue: accumulate ? ConvEpilogue() : e, accumulate: accumulate)
                        }
                    }
                }
            }
            // Always single-threaded sgemm: 16 small products per chunk would pay OpenBLAS's thread hand-off
            // 16 times (and wait for a descheduled helper thread on a loaded machine).
            KernelParallel.withSingleThreadedBLAS {
                if workers > 1 {
                    KernelParallel.perform(workers: workers) { _ in work() }
                } else {
                    work()
                }
            }
        }
    }
}
