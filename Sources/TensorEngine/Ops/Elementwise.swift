// Elementwise functions with PyTorch's derivative conventions at the edges (kernels: ElementwiseKernels).

extension Graph {
    /// sqrt(x); d/dx = 1/(2 sqrt(x)), infinite at 0 (as PyTorch: grad / (2 * result)).
    public func sqrt(_ x: Variable) -> Variable {
        let y = output(x.shape, from: x)
        let n = x.count
        ElementwiseKernels.sqrtForward(y.value.data, x.value.data, count: n)
        record(y) { dy in ElementwiseKernels.sqrtBackward(x.gradient().data, dy.data, y.value.data, count: n) }
        return y
    }

    /// x * x
    public func square(_ x: Variable) -> Variable {
        let y = output(x.shape, from: x)
        let n = x.count
        ElementwiseKernels.squareForward(y.value.data, x.value.data, count: n)
        record(y) { dy in ElementwiseKernels.squareBackward(x.gradient().data, dy.data, x.value.data, count: n) }
        return y
    }

    /// a / b (same size, or either a one-element scalar). d/da = 1/b, d/db = -a/b^2.
    public func div(_ a: Variable, _ b: Variable) -> Variable {
        let y = output(binaryShape(a, b, "div"), from: a, b)
        let n = y.count, (sa, sb) = broadcasts(a, b, n)
        ElementwiseKernels.divForward(y.value.data, a.value.data, b.value.data, count: n, aScalar: sa, bScalar: sb)
        record(y) { dy in
            ElementwiseKernels.divBackward(a.requiresGrad ? a.gradient().data : nil, b.requiresGrad ? b.gradient().data : nil,
                                           dy.data, a.value.data, b.value.data, count: n, aScalar: sa, bScalar: sb)
        }
        return y
    }

    /// min(max(x, lo), hi); the gradient passes where lo <= x <= hi (inclusive, as PyTorch).
    public func clamp(_ x: Variable, min lo: Float, max hi: Float) -> Variable {
        precondition(lo <= hi, "clamp: min \(lo) > max \(hi)")
        let y = output(x.shape, from: x)
        let n = x.count
        ElementwiseKernels.clampForward(y.value.data, x.value.data, count: n, lo: lo, hi: hi)
        record(y) { dy in ElementwiseKernels.clampBackward(x.gradient().data, dy.data, x.value.data, count: n, lo: lo, hi: hi) }
        return y
    }
}
