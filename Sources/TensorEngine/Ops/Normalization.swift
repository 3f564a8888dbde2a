// Parameter-free normalisations; kernels in Kernels/NormKernels.swift.

extension Graph {
    /// Instance norm without affine: per (n,c) over the H*W positions, biased variance, eps.
    /// x (N,C,...) -> same shape.
    public func instanceNorm(_ x: Variable, eps: Float = 1e-5) -> Variable {
        precondition(x.shape.count >= 3, "instanceNorm: expected (N,C,...) with spatial dimensions, got \(x.shape)")
        let rows = x.shape[0] * x.shape[1], len = x.count / Swift.max(rows, 1)
        let y = output(x.shape, from: x)
        let mean = Tensor(shape: [rows]), invStd = Tensor(shape: [rows])
        NormKernels.instanceNormForward(y.value.data, mean.data, invStd.data, x.value.data, rows: rows, len: len, eps: eps)
        record(y) { dy in
            NormKernels.instanceNormBackward(dy.data, mean.data, invStd.data, x.value.data, x.gradient().data, rows: rows, len: len)
        }
        return y
    }

    /// x / ||x||_2 over axis 1 (channels) of (N,C,...) with no epsilon.
    public func l2Normalize(_ x: Variable) -> Variable {
        precondition(x.shape.count >= 2, "l2Normalize: expected (N,C,...), got \(x.shape)")
        let outer = x.shape[0], c = x.shape[1], inner = x.shape.dropFirst(2).reduce(1, *)
        let y = output(x.shape, from: x)
        let norm = Tensor(shape: [outer * inner])
        NormKernels.l2NormalizeForward(y.value.data, norm.data, x.value.data, outer: outer, c: c, inner: inner)
        record(y) { dy in
            NormKernels.l2NormalizeBackward(dy.data, y.value.data, norm.data, x.gradient().data, outer: outer, c: c, inner: inner)
        }
        return y
    }
}
