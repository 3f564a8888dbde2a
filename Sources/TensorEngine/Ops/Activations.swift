// Pointwise activation ops (kernels: ActivationKernels).

extension Graph {
    /// y = x > 0 ? x : slope*x; the derivative at exactly 0 is `slope` (PyTorch).
    public func leakyReLU(_ x: Variable, slope: Float = 0.01) -> Variable {
        let y = output(x.shape, from: x)
        let n = x.count
        ActivationKernels.leakyReLUForward(y.value.data, x.value.data, count: n, slope: slope)
        record(y) { dy in ActivationKernels.leakyReLUBackward(x.gradient().data, dy.data, x.value.data, count: n, slope: slope) }
        return y
    }

    /// y = max(x, 0); the derivative at exactly 0 is 0.
    public func relu(_ x: Variable) -> Variable {
        let y = output(x.shape, from: x)
        let n = x.count
        ActivationKernels.reluForward(y.value.data, x.value.data, count: n)
        record(y) { dy in ActivationKernels.reluBackward(x.gradient().data, dy.data, x.value.data, count: n) }
        return y
    }

    /// y = 1 / (1 + exp(-x))
    public func sigmoid(_ x: Variable) -> Variable {
        let y = output(x.shape, from: x)
        let n = x.count, yv = y.value
        ActivationKernels.sigmoidForward(yv.data, x.value.data, count: n)
        record(y) { dy in ActivationKernels.sigmoidBackward(x.gradient().data, dy.data, yv.data, count: n) }
        return y
    }

    /// y = tanh(x)
    public func tanh(_ x: Variable) -> Variable {
        let y = output(x.shape, from: x)
        let n = x.count, yv = y.value
        ActivationKernels.tanhForward(yv.data, x.value.data, count: n)
        record(y) { dy in ActivationKernels.tanhBackward(x.gradient().data, dy.data, yv.data, count: n) }
        return y
    }
}
