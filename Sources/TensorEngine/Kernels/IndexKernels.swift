// Copies between layouts, forward/backward pairs side by side: outputs first, read-only inputs as
// UnsafePointer. Backward ADDS into dx (scatter-add for repeated indices).
// A tensor seen around one axis is (outer, size, inner): outer = product of the dims before the axis,
// inner = product of the dims after it.

public enum IndexKernels {
    /// y[i] = x[idx[i]] for i in 0..<k
    public static func gatherForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ idx: UnsafePointer<Int>, k: Int) {
        for i in 0..<k { y[i] = x[idx[i]] }
    }
    public static func gatherBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ idx: UnsafePointer<Int>, k: Int) {
        for i in 0..<k { dx[idx[i]] += dy[i] }
    }

    /// y (outer, k, inner) = x (outer, size, inner) at idx[0..<k] along the middle axis.
    public static func indexSelectForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ idx: UnsafePointer<Int>,
                                          k: Int, outer: Int, size: Int, inner: Int) {
        for o in 0..<outer {
            for r in 0..<k {
                (y + (o * k + r) * inner).update(from: x + (o * size + idx[r]) * inner, count: inner)
            }
        }
    }
    public static func indexSelectBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ idx: UnsafePointer<Int>,
                                           k: Int, outer: Int, size: Int, inner: Int) {
        for o in 0..<outer {
            for r in 0..<k {
                let s = dy + (o * k + r) * inner, d = dx + (o * size + idx[r]) * inner
                for i in 0..<inner { d[i] += s[i] }
            }
        }
    }

    /// Strides (in elements) of a contiguous row-major tensor.
    public static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
        return s
    }

    /// y = x.permute(order), contiguous. `srcStrides[d]` = stride in x of output dimension d.
    /// Calls body(outputFlatIndex, inputFlatIndex) for every element, in output order.
    @inline(__always)
    static func forEachPermuted(_ outShape: [Int], _ srcStrides: [Int], _ body: (Int, Int) -> Void) {
        let rank = outShape.count
        let total = outShape.reduce(1, *)
        if total == 0 { return }
        var idx = [Int](repeating: 0, count: rank)
        var src = 0
        for o in 0..<total {
            body(o, src)
            var d = rank - 1
            while d >= 0 {
                idx[d] += 1
                src += srcStrides[d]
                if idx[d] < outShape[d] { break }
                src -= srcStrides[d] * outShape[d]
                idx[d] = 0
                d -= 1
            }
        }
    }

    public static func permuteForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, outShape: [Int], srcStrides: [Int]) {
        forEachPermuted(outShape, srcStrides) { o, s in y[o] = x[s] }
    }
    public static func permuteBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, outShape: [Int], srcStrides: [Int]) {
        forEachPermuted(outShape, srcStrides) { o, s in dx[s] += dy[o] }
    }

    /// y (outer, len, inner) = x (outer, size, inner)[:, start..<start+len, :]
    public static func sliceForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                                    outer: Int, size: Int, inner: Int, start: Int, len: Int) {
        for o in 0..<outer {
            (y + o * len * inner).update(from: x + (o * size + start) * inner, count: len * inner)
        }
    }
    public static func sliceBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                     outer: Int, size: Int, inner: Int, start: Int, len: Int) {
        for o in 0..<outer {
            let s = dy + o * len * inner, d = dx + (o * size + start) * inner
            for i in 0..<(len * inner) { d[i] += s[i] }
        }
    }

    /// Minimum over the middle axis of (outer, size, inner); the first index wins ties, NaN wins over numbers
    /// (as torch.min). y and argmin are (outer, inner).
    public static func minForward(_ y: UnsafeMutablePointer<Float>, _ argmin: UnsafeMutablePointer<Int>, _ x: UnsafePointer<Float>,
                                  outer: Int, size: Int, inner: Int) {
        for o in 0..<outer {
            for j in 0..<inner {
                var best = x[o * size * inner + j], bi = 0
                if !best.isNaN {
                    for r in 1..<Swift.max(size, 1) {
                        let v = x[(o * size + r) * inner + j]
                        if v.isNaN { best = v; bi = r; break }
                        if v < best { best = v; bi = r }
                    }
                }
                y[o * inner + j] = best
                argmin[o * inner + j] = bi
            }
        }
    }
    public static func minBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ argmin: UnsafePointer<Int>,
                                   outer: Int, size: Int, inner: Int) {
        for o in 0..<outer {
            for j in 0..<inner {
                dx[(o * size + argmin[o * inner + j]) * inner + j] += dy[o * inner + j]
            }
        }
    }
}
