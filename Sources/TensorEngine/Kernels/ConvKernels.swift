import Foundation

// 2-D convolution (cross-correlation, stride 1, zero padding), forward and backward.
//
// Fast path: the output rows of each image are processed in chunks. A chunk's input patches are
// unrolled into a column matrix col (K, rows*Wo) with K = Cin*kH*kW (im2col), and the chunk of the
// output is one sgemm: y[n][:, chunk] (Cout, cols) = W (Cout, K) @ col (K, cols). Chunking keeps the
// column buffer cache-sized and reused (StoragePool scratch), so nothing is allocated in steady state.
// Backward recomputes the columns (saving them would cost Cin*k*k times the input's memory per
// layer): dW (Cout, K) += dy[:, chunk] @ col^T and dcol = W^T @ dy[:, chunk], which col2im adds
// into dx. 1x1 convolutions without padding need no im2col: x[n] is already the (Cin, H*W) matrix.
// 3x3 pad-1 layers go elsewhere where it pays: the forward to WinogradF43Kernels (Cin, Cout >= 32 and at least
// WinogradF43Kernels.minTiles 4x4 tiles per image), else WinogradKernels (Cin, Cout >= 64) or
// DirectConvKernels (Cin <= 32), dx to the same three, dW to WinogradWeightGradientKernels (Cin, Cout >= 32).
//
// Threading: large problems with small weight matrices (perCoreMaxWeights) run one worker per
// core, each with its own column buffer, calling
// single-threaded sgemm on whole chunks (im2col and sgemm of a chunk stay on one core, and there
// is no per-call BLAS thread hand-off). Forward workers pull (image, chunk) items as they go;
// backward deals whole images round-robin (col2im of neighbouring chunks overlaps) and gives each
// worker but the first a private dW that is summed afterwards in a fixed order, so results do not
// depend on timing.
// Small problems, and layers with many weights, use one multi-threaded sgemm per chunk instead.
//
// The naive twins are plain loops with Double accumulators; tests compare the two.
//
// Argument order (docs/kernels.md): outputs first, then dy, then the forward's read-only inputs:
// forward(y, x, w, b, s), backward(dx, dw, db, dy, x, w, s), im2col(col, xn, ...), col2imAdd(dxn, dcol, ...).

/// Geometry of a stride-1 convolution. x (n,cin,h,w), weight (cout,cin,kh,kw) -> y (n,cout,ho,wo).
public struct Conv2dShape: Equatable, Sendable, CustomStringConvertible {
    public var n, cin, h, w, cout, kh, kw, pad: Int

    public init(n: Int, cin: Int, h: Int, w: Int, cout: Int, kh: Int, kw: Int, pad: Int) {
        self.n = n; self.cin = cin; self.h = h; self.w = w
        self.cout = cout; self.kh = kh; self.kw = kw; self.pad = pad
    }

    public var ho: Int { h + 2 * pad - kh + 1 }
    public var wo: Int { w + 2 * pad - kw + 1 }
    /// Rows of the column matrix: Cin*kH*kW.
    public var k: Int { cin * kh * kw }
    /// Output positions per image.
    public var p: Int { ho * wo }
    /// True when x[n] is already the column matrix (1x1 kernel, no padding).
    public var isPointwise: Bool { kh == 1 && kw == 1 && pad == 0 }
    /// Multiply-adds x 2 of one pass (forward, or one of the two backward products).
    public var flops: Double { 2 * Double(n) * Double(cout) * Double(k) * Double(p) }

    public var description: String { "conv \(kh)x\(kw) pad \(pad) (\(n),\(cin),\(h),\(w)) -> (\(n),\(cout),\(ho),\(wo))" }
}

/// What `forward` applies to each chunk of the output right after its sgemm, while the chunk is in
/// cache: y = act(scale[co] * y + shift[co]) (scale 1 and shift 0 when nil; act identity unless
/// leakySlope is set). A bias is `shift`; an eval-mode BatchNorm folded into the conv is
/// scale = gamma / sqrt(var + eps), shift = beta - mean * scale.
public struct ConvEpilogue {
    public var scale: UnsafePointer<Float>?
    public var shift: UnsafePointer<Float>?
    public var leakySlope: Float?

    public init(scale: UnsafePointer<Float>? = nil, shift: UnsafePointer<Float>? = nil, leakySlope: Float? = nil) {
        self.scale = scale; self.shift = shift; self.leakySlope = leakySlope
    }

    var isIdentity: Bool { scale == nil && shift == nil && leakySlope == nil }

    /// Apply to `count` values of channel co at p.
    @inline(__always)
    func apply(_ p: UnsafeMutablePointer<Float>, count: Int, channel co: Int) {
        let a = scale?[co] ?? 1, b = shift?[co] ?? 0
        let a8 = SIMD8<Float>(repeating: a), b8 = SIMD8<Float>(repeating: b)
        var i = 0
        if let slope = leakySlope {
            let s8 = SIMD8<Float>(repeating: slope), zero = SIMD8<Float>(repeating: 0)
            while i + 8 <= count {
                let raw = UnsafeMutableRawPointer(p + i)
                let t = raw.loadUnaligned(as: SIMD8<Float>.self) * a8 + b8
                raw.storeBytes(of: t.replacing(with: t * s8, where: t .<= zero), as: SIMD8<Float>.self)
                i += 8
            }
            while i < count { let t = p[i] * a + b; p[i] = t > 0 ? t : t * slope; i += 1 }
        } else {
            while i + 8 <= count {
                let raw = UnsafeMutableRawPointer(p + i)
                raw.storeBytes(of: raw.loadUnaligned(as: SIMD8<Float>.self) * a8 + b8, as: SIMD8<Float>.self)
                i += 8
            }
            while i < count { p[i] = p[i] * a + b; i += 1 }
        }
    }

    /// Apply to output rows r0..<r0+rows of image yn (Cout,Ho,Wo), channels `channels`.
    @inline(__always)
    func apply(_ yn: UnsafeMutablePointer<Float>, _ s: Conv2dShape, rowStart r0: Int, rows: Int, channels: Range<Int>) {
        for co in channels { apply(yn + co * s.p + r0 * s.wo, count: rows * s.wo, channel: co) }
    }
}

public enum ConvKernels {
    /// Target size (floats) of one chunk's column matrix: 2^20 floats = 4 MiB per worker.
    nonisolated(unsafe) public static var columnChunkFloats = 1 << 20
    /// Problems below this many flops per pass run on one thread of control (multi-threaded sgemm).
    nonisolated(unsafe) public static var parallelMinFlops: Double = 5e7
    /// Number of workers for the per-core path (KernelParallel.threads unless set, e.g. by tests).
    nonisolated(unsafe) public static var workers: Int = KernelParallel.threads
    /// Layers with at most this many weights (Cout*Cin*kH*kW) use the per-core path; larger ones
    /// (whose sgemms are big enough for OpenBLAS's own threading, and whose weight matrix would
    /// otherwise be packed once per worker) use multi-threaded sgemm. On the shared 2-core build
    /// machine the per-core path was consistently ahead for 3->32 and usually for 32->32; from
    /// 128->128 up the two were within the measurement noise. Tune with `bench --conv-per-core-max-weights`.
    nonisolated(unsafe) public static var perCoreMaxWeights = 65536

    /// True when `s` runs on the one-worker-per-core path.
    static func usesPerCoreWorkers(_ s: Conv2dShape, items: Int) -> Bool {
        workers > 1 && s.flops >= parallelMinFlops && s.cout * s.k <= perCoreMaxWeights && items >= workers
    }

    /// Output rows per chunk for this shape: at most columnChunkFloats column entries, with the
    /// rows spread evenly over the chunks (30 rows in chunks of at most 22 -> 15 + 15).
    /// `budget` defaults to columnChunkFloats (the per-worker size); the single-buffer path passes
    /// columnChunkFloats * workers, so both paths hold about the same column memory in total.
    public static func rowsPerChunk(_ s: Conv2dShape, budget: Int = columnChunkFloats) -> Int {
        let maxRows = max(1, min(s.ho, budget / max(1, s.k * s.wo)))
        let chunks = (s.ho + maxRows - 1) / maxRows
        return (s.ho + chunks - 1) / chunks
    }

    // MARK: im2col / col2im over a band of output rows of one image

    /// col (K, rows*Wo) <- patches of image xn (Cin,H,W) for output rows r0..<r0+rows.
    public static func im2col(_ col: UnsafeMutablePointer<Float>, _ xn: UnsafePointer<Float>,
                              _ s: Conv2dShape, rowStart r0: Int, rows: Int) {
        KernelParallel.forRanges(s.k, costPerItem: rows * s.wo) { range in
            im2col(col, xn, s, rowStart: r0, rows: rows, kRange: range)
        }
    }

    /// `im2col` on the calling thread only.
    public static func im2colSerial(_ col: UnsafeMutablePointer<Float>, _ xn: UnsafePointer<Float>,
                                    _ s: Conv2dShape, rowStart r0: Int, rows: Int) {
        im2col(col, xn, s, rowStart: r0, rows: rows, kRange: 0..<s.k)
    }

    /// The rows `kRange` of the column matrix.
    static func im2col(_ col: UnsafeMutablePointer<Float>, _ xn: UnsafePointer<Float>,
                       _ s: Conv2dShape, rowStart r0: Int, rows: Int, kRange: Range<Int>) {
        let cols = rows * s.wo, kk = s.kh * s.kw
        for k in kRange {
            let c = k / kk, ki = (k / s.kw) % s.kh, kj = k % s.kw
            let src = xn + c * s.h * s.w
            let dst = col + k * cols
            let owLo = max(0, s.pad - kj), owHi = min(s.wo, s.w + s.pad - kj)
            for r in 0..<rows {
                let ih = r0 + r + ki - s.pad
                let d = dst + r * s.wo
                if ih < 0 || ih >= s.h || owLo >= owHi { d.update(repeating: 0, count: s.wo); continue }
                if owLo > 0 { d.update(repeating: 0, count: owLo) }
                (d + owLo).update(from: src + ih * s.w + owLo + kj - s.pad, count: owHi - owLo)
                if owHi < s.wo { (d + owHi).update(repeating: 0, count: s.wo - owHi) }
            }
        }
    }

    /// dxn (Cin,H,W) += col2im(dcol (K, rows*Wo)) for output rows r0..<r0+rows. Parallel over channels.
    public static func col2imAdd(_ dxn: UnsafeMutablePointer<Float>, _ dcol: UnsafePointer<Float>,
                                 _ s: Conv2dShape, rowStart r0: Int, rows: Int) {
        KernelParallel.forRanges(s.cin, costPerItem: s.kh * s.kw * rows * s.wo) { range in
            col2imAdd(dxn, dcol, s, rowStart: r0, rows: rows, channels: range)
        }
    }

    /// The channels `channels` of col2imAdd, on the calling thread.
    static func col2imAdd(_ dxn: UnsafeMutablePointer<Float>, _ dcol: UnsafePointer<Float>,
                          _ s: Conv2dShape, rowStart r0: Int, rows: Int, channels: Range<Int>) {
        let cols = rows * s.wo
        for c in channels {
            let dst = dxn + c * s.h * s.w
            for ki in 0..<s.kh {
                for kj in 0..<s.kw {
                    let src = dcol + ((c * s.kh + ki) * s.kw + kj) * cols
                    let owLo = max(0, s.pad - kj), owHi = min(s.wo, s.w + s.pad - kj)
                    if owLo >= owHi { continue }
                    for r in 0..<rows {
                        let ih = r0 + r + ki - s.pad
                        if ih < 0 || ih >= s.h { continue }
                        let d = dst + ih * s.w + kj - s.pad, sr = src + r * s.wo
                        for ow in owLo..<owHi { d[ow] += sr[ow] }
                    }
                }
            }
        }
    }

    // MARK: forward / backward (fast)

    /// y (N,Cout,Ho,Wo) = conv(x (N,Cin,H,W), w (Cout,Cin,kH,kW)) + b (Cout). Overwrites y.
    public static func forward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                               _ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>?, _ s: Conv2dShape) {
        forward(y, x, w, s, epilogue: ConvEpilogue(shift: b))
    }

    /// Inference: y = leakyReLU(scale[co] * conv(x, w) + shift[co], slope), in one pass over the output
    /// (an eval-mode BatchNorm folded into the convolution, then its activation). Overwrites y.
    public static func forwardAffineLeakyReLU(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                                              _ w: UnsafePointer<Float>, _ scale: UnsafePointer<Float>,
                                              _ shift: UnsafePointer<Float>, _ s: Conv2dShape, slope: Float) {
        forward(y, x, w, s, epilogue: ConvEpilogue(scale: scale, shift: shift, leakySlope: slope))
    }

    /// Forward-only convolution (inference) with weights that stay the same from call to call: where a Winograd
    /// kernel applies (the same choice as `forward`), it runs with its transformed weights U cached with the weight
    /// tensor's storage (remade when the weights' version changes); otherwise `forward`. Overwrites y.
    public static func forwardCachingTransformedWeights(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                                                        _ w: Tensor, _ s: Conv2dShape, epilogue e: ConvEpilogue) {
        if WinogradKernels.cachesInferenceWeights {
            if WinogradF43Kernels.applies(s) {
                let u = WinogradF43Kernels.cachedTransformedWeights(w)
                WinogradF43Kernels.forward(y, x, w.data, s, epilogue: e, transformedWeights: u.pointer)
                return
            }
            if WinogradKernels.applies(s) {
                let u = WinogradKernels.cachedTransformedWeights(w)
                WinogradKernels.forward(y, x, w.data, s, epilogue: e, transformedWeights: u.pointer)
                return
            }
        }
        forward(y, x, w.data, s, epilogue: e)
    }

    /// y = epilogue(conv(x, w)), the epilogue applied chunk by chunk right after each sgemm.
    public static func forward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                               _ w: UnsafePointer<Float>, _ s: Conv2dShape, epilogue e: ConvEpilogue) {
        if WinogradF43Kernels.applies(s) { WinogradF43Kernels.forward(y, x, w, s, epilogue: e); return }
        if WinogradKernels.applies(s) { WinogradKernels.forward(y, x, w, s, epilogue: e); return }
        if DirectConvKernels.applies(s) { DirectConvKernels.forward(y, x, w, s, epilogue: e); return }
        let fused = !e.isIdentity
        let xStride = s.cin * s.h * s.w, yStride = s.cout * s.p
        let perCoreChunk = rowsPerChunk(s)
        let perCore = !s.isPointwise && usesPerCoreWorkers(s, items: s.n * ((s.ho + perCoreChunk - 1) / perCoreChunk))
        let chunk = perCore ? perCoreChunk : rowsPerChunk(s, budget: columnChunkFloats * workers)
        let chunks = (s.ho + chunk - 1) / chunk
        let t = workers
        if s.isPointwise {
            for n in 0..<s.n {
                MatmulKernels.sgemm(c: y + n * yStride, ldc: s.p, transA: false, transB: false, m: s.cout, n: s.p, k: s.cin, alpha: 1, a: w, lda: s.cin, b: x + n * xStride, ldb: s.p, beta: 0)
                if fused {
                    KernelParallel.forRanges(s.cout, costPerItem: s.p) { e.apply(y + n * yStride, s, rowStart: 0, rows: s.ho, channels: $0) }
                }
            }
        } else if perCore {
            // One worker per core pulling (image, chunk) items, single-threaded sgemm.
            let items = KernelWorkCounter(count: s.n * chunks)
            KernelParallel.withSingleThreadedBLAS {
                KernelParallel.perform(workers: t) { _ in
                    StoragePool.shared.with(count: s.k * chunk * s.wo) { col in
                        while let item = items.take() {
                            let n = item / chunks, r0 = (item % chunks) * chunk
                            let rows = min(chunk, s.ho - r0), cols = rows * s.wo
                            im2colSerial(col, x + n * xStride, s, rowStart: r0, rows: rows)
                            MatmulKernels.sgemm(c: y + n * yStride + r0 * s.wo, ldc: s.p, transA: false, transB: false, m: s.cout, n: cols, k: s.k, alpha: 1, a: w, lda: s.k, b: col, ldb: cols, beta: 0)
                            if fused { e.apply(y + n * yStride, s, rowStart: r0, rows: rows, channels: 0..<s.cout) }
                        }
                    }
                }
            }
        } else {
            StoragePool.shared.with(count: s.k * chunk * s.wo) { col in
                for n in 0..<s.n {
                    for r0 in stride(from: 0, to: s.ho, by: chunk) {
                        let rows = min(chunk, s.ho - r0), cols = rows * s.wo
                        im2col(col, x + n * xStride, s, rowStart: r0, rows: rows)
                        MatmulKernels.sgemm(c: y + n * yStride + r0 * s.wo, ldc: s.p, transA: false, transB: false, m: s.cout, n: cols, k: s.k, alpha: 1, a: w, lda: s.k, b: col, ldb: cols, beta: 0)
                        if fused {
                            KernelParallel.forRanges(s.cout, costPerItem: cols) {
                                e.apply(y + n * yStride, s, rowStart: r0, rows: rows, channels: $0)
                            }
                        }
                    }
                }
            }
        }
    }

    /// dx (N,Cin,H,W) += dL/dx of a 3x3 pad-1 stride-1 convolution, computed as what it is: the 3x3 pad-1
    /// convolution of dy (N,Cout,H,W) with the flipped, transposed filters w'[ci][co] = rot180(w[co][ci]) (Cout
    /// input channels, Cin output channels). `accumulatingForward(dx, dy, w', t)` is the caller's forward kernel
    /// for shape t, adding into dx. Shared by the Winograd and direct kernels' `inputGradient`.
    static func inputGradientAsConvolution(
        _ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ s: Conv2dShape,
        accumulatingForward: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, Conv2dShape) -> Void
    ) {
        let t = Conv2dShape(n: s.n, cin: s.cout, h: s.ho, w: s.wo, cout: s.cin, kh: 3, kw: 3, pad: 1)
        StoragePool.shared.with(count: s.cout * s.cin * 9) { wt in
            for co in 0..<s.cout {
                for ci in 0..<s.cin {
                    let src = w + (co * s.cin + ci) * 9, dst = wt + (ci * s.cout + co) * 9
                    for k in 0..<9 { dst[k] = src[8 - k] }
                }
            }
            accumulatingForward(dx, dy, UnsafePointer(wt), t)
        }
    }

    /// Backward of `forward`, adding into whichever gradients are given:
    /// dx (N,Cin,H,W) += dL/dx, dw (Cout,Cin,kH,kW) += dL/dw, db (Cout) += dL/db, from dy (N,Cout,Ho,Wo).
    public static func backward(_ dx: UnsafeMutablePointer<Float>?, _ dw: UnsafeMutablePointer<Float>?,
                                _ db: UnsafeMutablePointer<Float>?, _ dy: UnsafePointer<Float>,
                                _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ s: Conv2dShape) {
        if let db { biasGradient(db, dy, s) }
        if dx == nil && dw == nil { return }
        if let dw, WinogradWeightGradientKernels.applies(s) {
            WinogradWeightGradientKernels.weightGradient(dw, dy, x, s)
            if dx != nil { backward(dx, nil, nil, dy, x, w, s) }
            return
        }
        if let dw, DirectConvKernels.appliesToWeights(s) {
            DirectConvKernels.weightGradient(dw, dy, x, s)
            if dx != nil { backward(dx, nil, nil, dy, x, w, s) }
            return
        }
        if let dx, WinogradF43Kernels.applies(s) {
            WinogradF43Kernels.inputGradient(dx, dy, w, s)
            if dw != nil { backward(nil, dw, nil, dy, x, w, s) }
            return
        }
        if let dx, WinogradKernels.applies(s) {
            WinogradKernels.inputGradient(dx, dy, w, s)
            if dw != nil { backward(nil, dw, nil, dy, x, w, s) }
            return
        }
        if let dx, DirectConvKernels.appliesTransposed(s) {
            DirectConvKernels.inputGradient(dx, dy, w, s)
            if dw != nil { backward(nil, dw, nil, dy, x, w, s) }
            return
        }
        let xStride = s.cin * s.h * s.w, yStride = s.cout * s.p
        if s.isPointwise {
            for n in 0..<s.n {
                let xn = x + n * xStride, dyn = dy + n * yStride
                if let dw { MatmulKernels.sgemm(c: dw, ldc: s.cin, transA: false, transB: true, m: s.cout, n: s.cin, k: s.p, alpha: 1, a: dyn, lda: s.p, b: xn, ldb: s.p, beta: 1) }
                if let dx { MatmulKernels.sgemm(c: dx + n * xStride, ldc: s.p, transA: true, transB: false, m: s.cin, n: s.p, k: s.cout, alpha: 1, a: w, lda: s.cin, b: dyn, ldb: s.p, beta: 1) }
            }
            return
        }
        let perCore = usesPerCoreWorkers(s, items: s.n)
        let chunk = perCore ? rowsPerChunk(s) : rowsPerChunk(s, budget: columnChunkFloats * workers)
        let colCount = s.k * chunk * s.wo
        let wCount = s.cout * s.k

        /// All chunks of image n on the calling thread, dW into dwTarget.
        func image(_ dwTarget: UnsafeMutablePointer<Float>?, _ col: UnsafeMutablePointer<Float>, _ n: Int, serial: Bool) {
            let xn = x + n * xStride, dyn = dy + n * yStride
            for r0 in stride(from: 0, to: s.ho, by: chunk) {
                let rows = min(chunk, s.ho - r0), cols = rows * s.wo
                let dyChunk = dyn + r0 * s.wo
                if let dwTarget {
                    if serial { im2colSerial(col, xn, s, rowStart: r0, rows: rows) } else { im2col(col, xn, s, rowStart: r0, rows: rows) }
                    MatmulKernels.sgemm(c: dwTarget, ldc: s.k, transA: false, transB: true, m: s.cout, n: s.k, k: cols, alpha: 1, a: dyChunk, lda: s.p, b: col, ldb: cols, beta: 1)
                }
                if let dx {
                    MatmulKernels.sgemm(c: col, ldc: cols, transA: true, transB: false, m: s.k, n: cols, k: s.cout, alpha: 1, a: w, lda: s.k, b: dyChunk, ldb: s.p, beta: 0)
                    if serial { col2imAdd(dx + n * xStride, col, s, rowStart: r0, rows: rows, channels: 0..<s.cin) }
                    else { col2imAdd(dx + n * xStride, col, s, rowStart: r0, rows: rows) }
                }
            }
        }

        let t = workers
        // Images done by the per-core workers (whole rounds of t); the rest run on the calling thread.
        let done = perCore ? s.n - s.n % t : 0
        if perCore {
            // One worker per core over whole images; workers > 0 accumulate dW privately.
            StoragePool.shared.with(count: dw == nil ? 1 : (t - 1) * wCount) { partials in
                if dw != nil { partials.update(repeating: 0, count: (t - 1) * wCount) }
                KernelParallel.withSingleThreadedBLAS {
                    KernelParallel.perform(workers: t) { worker in
                        let target = dw.map { worker == 0 ? $0 : partials + (worker - 1) * wCount }
                        StoragePool.shared.with(count: colCount) { col in
                            for n in stride(from: worker, to: done, by: t) { image(target, col, n, serial: true) }
                        }
                    }
                }
                if let dw {
                    for worker in 1..<t {
                        let p = partials + (worker - 1) * wCount
                        for i in 0..<wCount { dw[i] += p[i] }
                    }
                }
            }
        }
        if done < s.n {
            StoragePool.shared.with(count: colCount) { col in
                for n in done..<s.n { image(dw, col, n, serial: false) }
            }
        }
    }

    /// db[co] += sum over n and positions of dy[n, co, :]
    static func biasGradient(_ db: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ s: Conv2dShape) {
        let p = s.p
        KernelParallel.forRanges(s.cout, costPerItem: s.n * p) { range in
            for co in range {
                var total: Double = 0
                for n in 0..<s.n { total += KernelSums.sum(dy + (n * s.cout + co) * p, p) }
                db[co] += Float(total)
            }
        }
    }

    // MARK: naive twins (plain loops, Double accumulation)

    /// Same contract as `forward`.
    public static func forwardNaive(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                                    _ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>?, _ s: Conv2dShape) {
        for n in 0..<s.n {
            for co in 0..<s.cout {
                for oh in 0..<s.ho {
                    for ow in 0..<s.wo {
                        var acc = Double(b?[co] ?? 0)
                        for ci in 0..<s.cin {
                            for ki in 0..<s.kh {
                                let ih = oh + ki - s.pad
                                if ih < 0 || ih >= s.h { continue }
                                for kj in 0..<s.kw {
                                    let iw = ow + kj - s.pad
                                    if iw < 0 || iw >= s.w { continue }
                                    acc += Double(x[((n * s.cin + ci) * s.h + ih) * s.w + iw])
                                        * Double(w[((co * s.cin + ci) * s.kh + ki) * s.kw + kj])
                                }
                            }
                        }
                        y[((n * s.cout + co) * s.ho + oh) * s.wo + ow] = Float(acc)
                    }
                }
            }
        }
    }

    /// Same contract as `backward`.
    public static func backwardNaive(_ dx: UnsafeMutablePointer<Float>?, _ dw: UnsafeMutablePointer<Float>?,
                                     _ db: UnsafeMutablePointer<Float>?, _ dy: UnsafePointer<Float>,
                                     _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ s: Conv2dShape) {
        func dyAt(_ n: Int, _ co: Int, _ oh: Int, _ ow: Int) -> Double { Double(dy[((n * s.cout + co) * s.ho + oh) * s.wo + ow]) }
        if let db {
            for co in 0..<s.cout {
                var acc: Double = 0
                for n in 0..<s.n { for oh in 0..<s.ho { for ow in 0..<s.wo { acc += dyAt(n, co, oh, ow) } } }
                db[co] += Float(acc)
            }
        }
        if let dw {
            for co in 0..<s.cout { for ci in 0..<s.cin { for ki in 0..<s.kh { for kj in 0..<s.kw {
                var acc: Double = 0
                for n in 0..<s.n {
                    for oh in 0..<s.ho {
                        let ih = oh + ki - s.pad
                        if ih < 0 || ih >= s.h { continue }
                        for ow in 0..<s.wo {
                            let iw = ow + kj - s.pad
                            if iw < 0 || iw >= s.w { continue }
                            acc += dyAt(n, co, oh, ow) * Double(x[((n * s.cin + ci) * s.h + ih) * s.w + iw])
                        }
                    }
                }
                dw[((co * s.cin + ci) * s.kh + ki) * s.kw + kj] += Float(acc)
            } } } }
        }
        if let dx {
            for n in 0..<s.n { for ci in 0..<s.cin { for ih in 0..<s.h { for iw in 0..<s.w {
                var acc: Double = 0
                for co in 0..<s.cout {
                    for ki in 0..<s.kh {
                        let oh = ih - ki + s.pad
                        if oh < 0 || oh >= s.ho { continue }
                        for kj in 0..<s.kw {
                            let ow = iw - kj + s.pad
                            if ow < 0 || ow >= s.wo { continue }
                            acc += dyAt(n, co, oh, ow) * Double(w[((co * s.cin + ci) * s.kh + ki) * s.kw + kj])
                        }
                    }
                }
                dx[((n * s.cin + ci) * s.h + ih) * s.w + iw] += Float(acc)
            } } } }
        }
    }
}
