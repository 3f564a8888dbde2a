// Losses and the descriptor distance matrix; kernels in Kernels/LossKernels.swift.

extension Graph {
    /// mean((a-b)^2), a 0-d tensor; gradients for both.
    public func mseLoss(_ a: Variable, _ b: Variable) -> Variable {
        precondition(a.count == b.count && a.count > 0, "mseLoss: shapes \(a.shape) and \(b.shape) differ")
        let y = output([], from: a, b)
        let n = a.count, pa = a.value.data, pb = b.value.data
        LossKernels.mseForward(y.value.data, pa, pb, n: n)
        record(y) { dy in
            LossKernels.mseBackward(a.requiresGrad ? a.gradient().data : nil, b.requiresGrad ? b.gradient().data : nil,
                                    dy.data, pa, pb, n: n)
        }
        return y
    }

    /// mean_i max(0, ||a_i-p_i+eps|| - ||a_i-n_i+eps|| + margin); a, p, n are (N,D); 0-d result.
    public func tripletMarginLoss(anchor: Variable, positive: Variable, negative: Variable,
                                  margin: Float = 0.2, eps: Float = 1e-6) -> Variable {
        precondition(anchor.shape.count == 2 && positive.shape == anchor.shape && negative.shape == anchor.shape && anchor.shape[0] > 0,
                     "tripletMarginLoss: anchor/positive/negative must share one (N,D) shape, got \(anchor.shape), \(positive.shape), \(negative.shape)")
        let rows = anchor.shape[0], d = anchor.shape[1]
        let y = output([], from: anchor, positive, negative)
        let dPos = Tensor(shape: [rows]), dNeg = Tensor(shape: [rows])
        let pa = anchor.value.data, pp = positive.value.data, pn = negative.value.data
        LossKernels.tripletForward(y.value.data, dPos.data, dNeg.data, pa, pp, pn, rows: rows, d: d, margin: margin, eps: eps)
        record(y) { dy in
            LossKernels.tripletBackward(anchor.requiresGrad ? anchor.gradient().data : nil,
                                        positive.requiresGrad ? positive.gradient().data : nil,
                                        negative.requiresGrad ? negative.gradient().data : nil,
                                        dy.data, dPos.data, dNeg.data, pa, pp, pn,
                                        rows: rows, d: d, margin: margin, eps: eps)
        }
        return y
    }

    /// sqrt(2 - 2*clamp(a^T b, -1, 1)) for unit columns a (D,N), b (D,M) -> (N,M).
    /// Gradient as PyTorch: zero where a^T b lies outside [-1, 1]; where the distance is exactly 0 (and
    /// a^T b = 1) the sqrt derivative is infinite, so the gradient there is -inf/NaN as in PyTorch.
    public func descriptorDistance(_ a: Variable, _ b: Variable) -> Variable {
        precondition(a.shape.count == 2 && b.shape.count == 2 && a.shape[0] == b.shape[0],
                     "descriptorDistance: expected a (D,N) and b (D,M), got \(a.shape) and \(b.shape)")
        let d = a.shape[0], n = a.shape[1], m = b.shape[1]
        let y = output([n, m], from: a, b)
        let s = Tensor(shape: [n, m])
        let pa = a.value.data, pb = b.value.data
        MatmulKernels.matmulForward(s.data, pa, pb, m: n, n: m, k: d, transA: true, transB: false)
        LossKernels.descriptorDistanceForward(y.value.data, s.data, count: n * m)
        record(y) { dy in
            let ds = Tensor(shape: [n, m])   // zero-filled; the kernel adds into it
            LossKernels.descriptorDistanceBackward(ds.data, dy.data, y.value.data, s.data, count: n * m)
            MatmulKernels.matmulBackward(a.requiresGrad ? a.gradient().data : nil, b.requiresGrad ? b.gradient().data : nil,
                                         ds.data, pa, pb, m: n, n: m, k: d, transA: true, transB: false)
        }
        return y
    }
}
