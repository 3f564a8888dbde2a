// Gathers, selections, axis permutations, slices and min-with-argmin; kernels in Kernels/IndexKernels.swift.

extension Graph {
    /// (outer, size, inner) around `axis`, after checking it.
    private func around(_ shape: [Int], _ axis: Int, _ op: String) -> (outer: Int, size: Int, inner: Int) {
        precondition(axis >= 0 && axis < shape.count, "\(op): axis \(axis) out of range for shape \(shape)")
        return (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    /// y[i] = x.flat[indices[i]] -> shape [indices.count]; backward scatter-adds.
    public func gather(_ x: Variable, flatIndices indices: [Int]) -> Variable {
        let n = x.count
        precondition(indices.allSatisfy { $0 >= 0 && $0 < n }, "gather: an index is outside 0..<\(n) (shape \(x.shape))")
        let y = output([indices.count], from: x)
        let k = indices.count
        indices.withUnsafeBufferPointer { IndexKernels.gatherForward(y.value.data, x.value.data, $0.baseAddress!, k: k) }
        record(y) { dy in
            indices.withUnsafeBufferPointer { IndexKernels.gatherBackward(x.gradient().data, dy.data, $0.baseAddress!, k: k) }
        }
        return y
    }

    /// Select `indices` along `axis` (like torch.index_select).
    public func indexSelect(_ x: Variable, axis: Int, indices: [Int]) -> Variable {
        let (outer, size, inner) = around(x.shape, axis, "indexSelect")
        precondition(indices.allSatisfy { $0 >= 0 && $0 < size }, "indexSelect: an index is outside 0..<\(size) on axis \(axis) of \(x.shape)")
        var shape = x.shape
        shape[axis] = indices.count
        let y = output(shape, from: x)
        let k = indices.count
        indices.withUnsafeBufferPointer {
            IndexKernels.indexSelectForward(y.value.data, x.value.data, $0.baseAddress!, k: k, outer: outer, size: size, inner: inner)
        }
        record(y) { dy in
            indices.withUnsafeBufferPointer {
                IndexKernels.indexSelectBackward(x.gradient().data, dy.data, $0.baseAddress!, k: k, outer: outer, size: size, inner: inner)
            }
        }
        return y
    }

    /// Reorder axes (like torch.permute); result is contiguous.
    public func permute(_ x: Variable, _ order: [Int]) -> Variable {
        precondition(order.sorted() == Array(0..<x.shape.count), "permute: \(order) is not a permutation of the axes of \(x.shape)")
        let inStrides = IndexKernels.strides(x.shape)
        let outShape = order.map { x.shape[$0] }, srcStrides = order.map { inStrides[$0] }
        let y = output(outShape, from: x)
        IndexKernels.permuteForward(y.value.data, x.value.data, outShape: outShape, srcStrides: srcStrides)
        record(y) { dy in
            IndexKernels.permuteBackward(x.gradient().data, dy.data, outShape: outShape, srcStrides: srcStrides)
        }
        return y
    }

    /// x[..., range, ...] along `axis` (contiguous copy).
    public func slice(_ x: Variable, axis: Int, range: Range<Int>) -> Variable {
        let (outer, size, inner) = around(x.shape, axis, "slice")
        precondition(range.lowerBound >= 0 && range.upperBound <= size, "slice: \(range) is outside 0..<\(size) on axis \(axis) of \(x.shape)")
        var shape = x.shape
        shape[axis] = range.count
        let y = output(shape, from: x)
        let start = range.lowerBound, len = range.count
        IndexKernels.sliceForward(y.value.data, x.value.data, outer: outer, size: size, inner: inner, start: start, len: len)
        record(y) { dy in
            IndexKernels.sliceBackward(x.gradient().data, dy.data, outer: outer, size: size, inner: inner, start: start, len: len)
        }
        return y
    }

    /// Minimum along `axis` with its index (first on ties), like torch.min(x, dim). Gradient goes to the argmin.
    /// The axis is removed from the shape; `indices` is row-major over the remaining axes.
    public func min(_ x: Variable, axis: Int) -> (values: Variable, indices: [Int]) {
        let (outer, size, inner) = around(x.shape, axis, "min")
        precondition(size > 0, "min: axis \(axis) of \(x.shape) is empty")
        var shape = x.shape
        shape.remove(at: axis)
        let y = output(shape, from: x)
        var argmin = [Int](repeating: 0, count: outer * inner)
        argmin.withUnsafeMutableBufferPointer {
            IndexKernels.minForward(y.value.data, $0.baseAddress!, x.value.data, outer: outer, size: size, inner: inner)
        }
        let saved = argmin
        record(y) { dy in
            saved.withUnsafeBufferPointer {
                IndexKernels.minBackward(x.gradient().data, dy.data, $0.baseAddress!, outer: outer, size: size, inner: inner)
            }
        }
        return (y, argmin)
    }
}
