import Foundation

// The weight gradient of a 3x3 stride-1 pad-1 convolution with few output channels, without columns.
//
//   dW[co][ci][ki][kj] += sum over images n, pixels (r, c) of dy[n][co][r][c] * x[n][ci][r+ki-1][c+kj-1]
//
// im2col computes it as one sgemm per chunk, dy (Cout x pixels) times the column matrix transposed: with
// Cout = 8 or 16 (the `fast` preset's first layers) OpenBLAS spends most of the time packing the column matrix
// (`sgemm_incopy`), and the im2col copy before it writes Cin*9 floats per pixel; that sgemm was a fifth of a
// `fast` training step's CPU samples (docs/perf.md, Round 7).
//
// Here the input planes are copied once into zero-bordered planes P (N, Cin, H+2, Wq+2), Wq = W rounded up to 16,
// by the forward kernel's `fillBand` (the padding becomes real zeros, so the inner loop has no edge tests; dy is copied into rows of Wq floats only
// when W is not a multiple of 16). A work item is one input channel and a pair of output channels over all
// images; its 18 SIMD16 accumulators (2 output channels x 9 taps) take, per 16 pixels of a row, 2 loads of dy,
// 9 unaligned loads of P and 18 multiply-adds:
//
//   for n, r, c in steps of 16:  g_o = dy[n][co0+o][r][c ..< c+16]     x_k = P[n][ci][r+ki][c+kj ..< c+kj+16]
//                                acc[o][k] += g_o * x_k                 (o < 2, k = 3 ki + kj)
//
// and the 16 lanes of each accumulator are summed into dW at the end. Products and sums are separate roundings;
// the order (16 partial sums per tap) differs from im2col's, so tests compare with the naive twin
// (ConvKernels.backwardNaive) within float tolerance. Items are spread over the workers; nothing is shared but
// reads, and each item writes its own 18 entries of dW.

extension DirectConvKernels {
    /// True when `weightGradient` takes shape `s`: 3x3, padding 1, at most `maxInputChannels` output channels
    /// (more output channels give im2col's sgemm enough rows, or Winograd takes it).
    public static func appliesToWeights(_ s: Conv2dShape) -> Bool {
        enabled && s.kh == 3 && s.kw == 3 && s.pad == 1 && s.cout <= maxInputChannels
    }

    /// dw (Cout,Cin,3,3) += dL/dw of y = conv3x3pad1(x, w), from x (N,Cin,H,W) and dy (N,Cout,H,W).
    public static func weightGradient(_ dw: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                                      _ s: Conv2dShape) {
        precondition(s.kh == 3 && s.kw == 3 && s.pad == 1, "direct weight gradient needs a 3x3 kernel with padding 1, got \(s)")
        if s.n == 0 || s.cout == 0 || s.cin == 0 || s.h == 0 || s.w == 0 { return }
        let wq = (s.w + 15) / 16 * 16
        let rowLength = wq + 2, imageCount = s.cin * (s.h + 2) * rowLength   // one image's bordered planes
        let copiesDy = s.w % 16 != 0
        let dyRow = copiesDy ? wq : s.w, dyPlane = s.h * dyRow
        let pCount = s.n * imageCount, dyCount = copiesDy ? s.n * s.cout * dyPlane : 0
        StoragePool.shared.with(count: pCount + dyCount) { buffer in
            let planes = buffer, dyCopy = buffer + pCount
            KernelParallel.forRanges(s.n, costPerItem: imageCount) { range in
                for n in range {   // the forward kernel's band buffer, one band of all rows per image
                    fillBand(planes + n * imageCount, x + n * s.cin * s.h * s.w, s, rowStart: 0, rows: s.h, wp: rowLength)
                }
            }
            if copiesDy {
                KernelParallel.forRanges(s.n * s.cout, costPerItem: dyPlane) { range in
                    for plane in range {
                        let src = dy + plane * s.h * s.w, dst = dyCopy + plane * dyPlane
                        for r in 0..<s.h {
                            (dst + r * dyRow).update(from: src + r * s.w, count: s.w)
                            (dst + r * dyRow + s.w).update(repeating: 0, count: dyRow - s.w)
                        }
                    }
                }
            }
            let g: UnsafePointer<Float> = copiesDy ? UnsafePointer(dyCopy) : dy
            let pairs = (s.cout + 1) / 2
            KernelParallel.forRanges(pairs * s.cin, costPerItem: 18 * s.n * s.h * wq) { range in
                for item in range {
                    let co0 = item / s.cin * 2, ci = item % s.cin
                    let two = co0 + 1 < s.cout
                    let (a, b) = tapSums(g, dyRow: dyRow, dyPlane: dyPlane, planes: UnsafePointer(planes), rowLength: rowLength,
                                         s, co0: co0, ci: ci, secondChannel: two)
                    let w0 = dw + (co0 * s.cin + ci) * 9
                    a.add(into: w0)
                    if two { b.add(into: w0 + s.cin * 9) }
                }
            }
        }
    }

    /// The 9 taps' 16-lane partial sums of one output channel.
    struct TapAccumulators {
        var k0 = SIMD16<Float>(), k1 = SIMD16<Float>(), k2 = SIMD16<Float>()
        var k3 = SIMD16<Float>(), k4 = SIMD16<Float>(), k5 = SIMD16<Float>()
        var k6 = SIMD16<Float>(), k7 = SIMD16<Float>(), k8 = SIMD16<Float>()

        /// dw[k] += the lanes of tap k.
        func add(into dw: UnsafeMutablePointer<Float>) {
            dw[0] += k0.sum(); dw[1] += k1.sum(); dw[2] += k2.sum()
            dw[3] += k3.sum(); dw[4] += k4.sum(); dw[5] += k5.sum()
            dw[6] += k6.sum(); dw[7] += k7.sum(); dw[8] += k8.sum()
        }
    }

    /// Both output channels' tap sums for input channel ci over every image and pixel (without `secondChannel`,
    /// an odd Cout's last item, the second repeats the first and the caller drops it).
    @inline(__always)
    static func tapSums(_ g: UnsafePointer<Float>, dyRow: Int, dyPlane: Int, planes: UnsafePointer<Float>,
                        rowLength pw: Int, _ s: Conv2dShape, co0: Int, ci: Int,
                        secondChannel: Bool) -> (TapAccumulators, TapAccumulators) {
        var a = TapAccumulators(), b = TapAccumulators()
        let wq = dyRow, plane = (s.h + 2) * pw   // dy rows are whole multiples of 16 (copied when W is not)
        let load = load16
        for n in 0..<s.n {
            let p = planes + (n * s.cin + ci) * plane
            let g0 = g + (n * s.cout + co0) * dyPlane
            let g1 = secondChannel ? g0 + dyPlane : g0
            for r in 0..<s.h {
                let x0 = p + r * pw, x1 = x0 + pw, x2 = x1 + pw
                let d0 = g0 + r * dyRow, d1 = g1 + r * dyRow
                var c = 0
                while c < wq {
                    let u = load(d0 + c), v = load(d1 + c)
                    var t = load(x0 + c); a.k0 += u * t; b.k0 += v * t
                    t = load(x0 + c + 1); a.k1 += u * t; b.k1 += v * t
                    t = load(x0 + c + 2); a.k2 += u * t; b.k2 += v * t
                    t = load(x1 + c); a.k3 += u * t; b.k3 += v * t
                    t = load(x1 + c + 1); a.k4 += u * t; b.k4 += v * t
                    t = load(x1 + c + 2); a.k5 += u * t; b.k5 += v * t
                    t = load(x2 + c); a.k6 += u * t; b.k6 += v * t
                    t = load(x2 + c + 1); a.k7 += u * t; b.k7 += v * t
                    t = load(x2 + c + 2); a.k8 += u * t; b.k8 += v * t
                    c += 16
                }
            }
        }
        return (a, b)
    }
}
