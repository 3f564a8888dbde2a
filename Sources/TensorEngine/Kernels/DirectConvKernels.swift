import Foundation

// Direct 3x3 stride-1 pad-1 convolution for layers with few input channels (KeyPointNet's full-resolution
// conv1a 3->32 and conv1b 32->32), where im2col copies Cin*9 values per output position and the
// column matrix (K = 27 or 288 rows) is so thin that the copy costs as much as the sgemm's arithmetic.
//
// No columns: each worker copies a band of input rows into a zero-bordered buffer P (Cin, rows+2, Wp)
// (the padding becomes real zeros, so the inner loop has no edge tests), then computes the outputs
// in register blocks of 8 output channels x 32 consecutive pixels of one row (16 SIMD16 accumulators):
//
//   for ci, ki, kj:  x0, x1 = P[ci][oh+ki][ow+kj ..< +16], [+16 ..< +32]
//                    acc[c][v] += w[co0+c][ci][ki][kj] * x_v          (c < 8, v < 2)
//
// i.e. 16 multiply-adds per 2 loads and 8 weight broadcasts. The weights are repacked once per call
// as wp[co block][ci][ki*3+kj][8] (zero rows past Cout). The epilogue (bias / folded BatchNorm,
// LeakyReLU) is applied to the accumulators before the one store of each output. Work items are
// (image, band of rows), pulled dynamically by one worker per core; nothing is shared but reads.
//
// Products and sums are separate roundings (no fused multiply-add), in the order ci, ki, kj, so the
// result is a plain float dot product of length Cin*9; tests compare with ConvKernels.forwardNaive.
//
// The input gradient of the same layer is a 3x3 pad-1 convolution of dy with the flipped, transposed
// filters (as in WinogradKernels.inputGradient): `inputGradient` runs this kernel on it, adding into dx.
//
// The SIMD16 code runs as AVX-512 when the module is compiled for such a CPU (Package.swift builds
// TensorEngine for the build machine's CPU); compiled for a baseline x86-64 it is four SSE operations
// per vector and slower than im2col + sgemm: see docs/perf.md, Round 3.

public enum DirectConvKernels {
    /// Switch for A/B runs and tests (KP2D_DIRECT_CONV=0 turns it off).
    nonisolated(unsafe) public static var enabled = ProcessInfo.processInfo.environment["KP2D_DIRECT_CONV"] != "0"
    /// Largest Cin that uses the direct kernel (more input channels make im2col's sgemm efficient).
    nonisolated(unsafe) public static var maxInputChannels = 32
    /// Output rows per work item (band); the band buffer is Cin*(rows+2)*Wp floats.
    nonisolated(unsafe) public static var bandRows = 8

    /// Output channels and pixels of one register block.
    static let channelBlock = 8
    static let pixelBlock = 32

    /// True when `forward` takes shape `s` (3x3, padding 1, few input channels).
    public static func applies(_ s: Conv2dShape) -> Bool {
        enabled && s.kh == 3 && s.kw == 3 && s.pad == 1 && s.cin <= maxInputChannels && s.cout >= 1
    }

    /// True when `inputGradient` takes shape `s`: its transposed convolution has Cout input channels.
    public static func appliesTransposed(_ s: Conv2dShape) -> Bool {
        enabled && s.kh == 3 && s.kw == 3 && s.pad == 1 && s.cout <= maxInputChannels && s.cin >= 1
    }

    /// Width of a band buffer row: one zero column left, the image row, zeros up to a whole pixel block + 1 right.
    static func paddedWidth(_ s: Conv2dShape) -> Int {
        (s.wo + pixelBlock - 1) / pixelBlock * pixelBlock + 2
    }

    /// wp (ceil(Cout/8), Cin, 9, 8) <- w (Cout, Cin, 3, 3), zeros for channels past Cout.
    static func packWeights(_ wp: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>, cout: Int, cin: Int) {
        let blocks = (cout + channelBlock - 1) / channelBlock
        for b in 0..<blocks {
            for ci in 0..<cin {
                for t in 0..<9 {
                    let dst = wp + ((b * cin + ci) * 9 + t) * channelBlock
                    for c in 0..<channelBlock {
                        let co = b * channelBlock + c
                        dst[c] = co < cout ? w[(co * cin + ci) * 9 + t] : 0
                    }
                }
            }
        }
    }

    /// p (Cin, rows+2, wp) <- input rows r0-1 ..< r0+rows+1 of image xn (Cin,H,W), shifted one column right,
    /// zero outside the image.
    static func fillBand(_ p: UnsafeMutablePointer<Float>, _ xn: UnsafePointer<Float>, _ s: Conv2dShape,
                         rowStart r0: Int, rows: Int, wp: Int) {
        for ci in 0..<s.cin {
            for r in 0..<(rows + 2) {
                let dst = p + (ci * (rows + 2) + r) * wp
                let ih = r0 - 1 + r
                if ih < 0 || ih >= s.h {
                    dst.update(repeating: 0, count: wp)
                    continue
                }
                dst[0] = 0
                (dst + 1).update(from: xn + (ci * s.h + ih) * s.w, count: s.w)
                (dst + 1 + s.w).update(repeating: 0, count: wp - 1 - s.w)
            }
        }
    }

    @inline(__always)
    static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    /// One register block: out[c * 32 + j] = sum over ci, ki, kj of wq[(ci*9 + ki*3 + kj)*8 + c] * band[ci][ki][kj + j]
    /// for c < 8, j < 32. `band` points at P[0][row][ow0] (input row oh-1, column ow0-1).
    @inline(__always)
    static func block(_ out: UnsafeMutablePointer<SIMD16<Float>>, _ band: UnsafePointer<Float>, _ wq: UnsafePointer<Float>,
                      cin: Int, rowStride: Int, channelStride: Int) {
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
        var a4 = SIMD16<Float>(), a5 = SIMD16<Float>(), a6 = SIMD16<Float>(), a7 = SIMD16<Float>()
        var b0 = SIMD16<Float>(), b1 = SIMD16<Float>(), b2 = SIMD16<Float>(), b3 = SIMD16<Float>()
        var b4 = SIMD16<Float>(), b5 = SIMD16<Float>(), b6 = SIMD16<Float>(), b7 = SIMD16<Float>()
        var xc = band, wc = wq
        for _ in 0..<cin {
            for ki in 0..<3 {
                let row = xc + ki * rowStride
                for kj in 0..<3 {
                    let x0 = load16(row + kj), x1 = load16(row + kj + 16)
                    let w = wc + (ki * 3 + kj) * 8
                    var t = SIMD16<Float>(repeating: w[0]); a0 += t * x0; b0 += t * x1
                    t = SIMD16<Float>(repeating: w[1]); a1 += t * x0; b1 += t * x1
                    t = SIMD16<Float>(repeating: w[2]); a2 += t * x0; b2 += t * x1
                    t = SIMD16<Float>(repeating: w[3]); a3 += t * x0; b3 += t * x1
                    t = SIMD16<Float>(repeating: w[4]); a4 += t * x0; b4 += t * x1
                    t = SIMD16<Float>(repeating: w[5]); a5 += t * x0; b5 += t * x1
                    t = SIMD16<Float>(repeating: w[6]); a6 += t * x0; b6 += t * x1
                    t = SIMD16<Float>(repeating: w[7]); a7 += t * x0; b7 += t * x1
                }
            }
            xc += channelStride
            wc += 9 * 8
        }
        out[0] = a0; out[1] = b0; out[2] = a1; out[3] = b1; out[4] = a2; out[5] = b2; out[6] = a3; out[7] = b3
        out[8] = a4; out[9] = b4; out[10] = a5; out[11] = b5; out[12] = a6; out[13] = b6; out[14] = a7; out[15] = b7
    }

    /// Output rows r0 ..< r0+rows of image yn (Cout,Ho,Wo) from the band buffer p (see fillBand).
    /// `acc` is the worker's scratch (written, so it comes first with the output).
    static func band(_ yn: UnsafeMutablePointer<Float>, _ acc: UnsafeMutablePointer<SIMD16<Float>>,
                     _ p: UnsafePointer<Float>, _ wp: UnsafePointer<Float>,
                     _ s: Conv2dShape, rowStart r0: Int, rows: Int, wpWidth: Int,
                     epilogue e: ConvEpilogue, accumulate: Bool) {
        let blocks = (s.cout + channelBlock - 1) / channelBlock
        let channelStride = (rows + 2) * wpWidth
        let slope = e.leakySlope
        for r in 0..<rows {
            let oh = r0 + r
            var ow0 = 0
            while ow0 < s.wo {
                let valid = min(pixelBlock, s.wo - ow0)
                for b in 0..<blocks {
                    block(acc, p + r * wpWidth + ow0, wp + b * s.cin * 9 * channelBlock, cin: s.cin, rowStride: wpWidth, channelStride: channelStride)
                    let channels = min(channelBlock, s.cout - b * channelBlock)
                    for c in 0..<channels {
                        let co = b * channelBlock + c
                        let dst = yn + co * s.p + oh * s.wo + ow0
                        for v in 0..<2 {
                            var t = acc[2 * c + v]
                            let n = min(16, valid - 16 * v)
                            if n <= 0 { break }
                            if accumulate {
                                if n == 16 {
                                    let raw = UnsafeMutableRawPointer(dst + 16 * v)
                                    raw.storeBytes(of: raw.loadUnaligned(as: SIMD16<Float>.self) + t, as: SIMD16<Float>.self)
                                } else {
                                    for j in 0..<n { dst[16 * v + j] += t[j] }
                                }
                                continue
                            }
                            if let scale = e.scale { t *= SIMD16<Float>(repeating: scale[co]) }
                            if let shift = e.shift { t += SIMD16<Float>(repeating: shift[co]) }
                            if let slope { t = t.replacing(with: t * slope, where: t .<= 0) }
                            if n == 16 {
                                UnsafeMutableRawPointer(dst + 16 * v).storeBytes(of: t, as: SIMD16<Float>.self)
                            } else {
                                for j in 0..<n { dst[16 * v + j] = t[j] }
                            }
                        }
                    }
                }
                ow0 += pixelBlock
            }
        }
    }

    /// y (N,Cout,H,W) = epilogue(conv3x3pad1(x (N,Cin,H,W), w (Cout,Cin,3,3))) for a shape where `applies(s)`.
    /// Overwrites y, or adds conv(x, w) into it (epilogue ignored) when `accumulate`.
    public static func forward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                               _ s: Conv2dShape, epilogue e: ConvEpilogue, accumulate: Bool = false) {
        precondition(s.kh == 3 && s.kw == 3 && s.pad == 1, "direct conv needs a 3x3 kernel with padding 1, got \(s)")
        if s.n == 0 || s.cout == 0 { return }
        let blocks = (s.cout + channelBlock - 1) / channelBlock
        let wpWidth = paddedWidth(s)
        let rowsPerBand = max(1, min(bandRows, s.ho))
        let bands = (s.ho + rowsPerBand - 1) / rowsPerBand
        let xStride = s.cin * s.h * s.w, yStride = s.cout * s.p
        // Band buffer, then the 16 accumulators at a 64-byte boundary (pool buffers are 64-byte aligned).
        let bandCount = (s.cin * (rowsPerBand + 2) * wpWidth + 15) / 16 * 16
        let items = KernelWorkCounter(count: s.n * bands)
        let workers = max(1, min(ConvKernels.workers, s.n * bands))
        StoragePool.shared.with(count: blocks * s.cin * 9 * channelBlock) { wp in
            packWeights(wp, w, cout: s.cout, cin: s.cin)
            // One range per worker; each pulls (image, band) items until none are left.
            KernelParallel.forRanges(workers, costPerItem: 1 << 20) { range in
                for _ in range {
                    StoragePool.shared.with(count: bandCount + 16 * 16) { scratch in
                        let acc = UnsafeMutableRawPointer(scratch + bandCount).bindMemory(to: SIMD16<Float>.self, capacity: 16)
                        while let item = items.take() {
                            let n = item / bands, r0 = (item % bands) * rowsPerBand
                            let rows = min(rowsPerBand, s.ho - r0)
                            fillBand(scratch, x + n * xStride, s, rowStart: r0, rows: rows, wp: wpWidth)
                            band(y + n * yStride, acc, scratch, wp, s, rowStart: r0, rows: rows, wpWidth: wpWidth,
                                 epilogue: e, accumulate: accumulate)
                        }
                    }
                }
            }
        }
    }

    /// dx (N,Cin,H,W) += dL/dx of y = conv3x3pad1(x, w), from dy (N,Cout,H,W): the 3x3 pad-1 convolution of dy
    /// with w'[ci][co] = rot180(w[co][ci]) (Cout input channels, Cin output channels).
    public static func inputGradient(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                                     _ s: Conv2dShape) {
        precondition(s.kh == 3 && s.kw == 3 && s.pad == 1, "direct conv needs a 3x3 kernel with padding 1, got \(s)")
        ConvKernels.inputGradientAsConvolution(dx, dy, w, s) { forward($0, $1, $2, $3, epilogue: ConvEpilogue(), accumulate: true) }
    }
}
