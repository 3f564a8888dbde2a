// Elementwise arithmetic and whole-tensor reductions (kernels: ArithmeticKernels).
// Binary ops take two tensors of the same element count, or one operand with a single element
// (broadcast as a scalar), as PyTorch does for a 0-d tensor.

extension Graph {
    func binaryShape(_ a: Variable, _ b: Variable, _ op: String) -> [Int] {
        if a.count == b.count { return a.shape }
        if b.count == 1 { return a.shape }
        if a.count == 1 { return b.shape }
        preconditionFailure("\(op): shapes \(a.shape) and \(b.shape) do not match (same size or a scalar)")
    }

    /// Whether a and b are broadcast scalars for an output of n elements.
    func broadcasts(_ a: Variable, _ b: Variable, _ n: Int) -> (a: Bool, b: Bool) {
        (a.count == 1 && n > 1, b.count == 1 && n > 1)
    }

    /// a + b
    public func add(_ a: Variable, _ b: Variable) -> Variable {
        let y = output(binaryShape(a, b, "add"), from: a, b)
        let n = y.count, (sa, sb) = broadcasts(a, b, n)
        ArithmeticKernels.addForward(y.value.data, a.value.data, b.value.data, count: n, aScalar: sa, bScalar: sb)
        record(y) { dy in
            ArithmeticKernels.addBackward(a.requiresGrad ? a.gradient().data : nil, b.requiresGrad ? b.gradient().data : nil,
                                          dy.data, count: n, aScalar: sa, bScalar: sb)
        }
        return y
    }

    /// a - b
    public func sub(_ a: Variable, _ b: Variable) -> Variable {
        let y = output(binaryShape(a, b, "sub"), from: a, b)
        let n = y.count, (sa, sb) = broadcasts(a, b, n)
        ArithmeticKernels.subForward(y.value.data, a.value.data, b.value.data, count: n, aScalar: sa, bScalar: sb)
        record(y) { dy in
            ArithmeticKernels.subBackward(a.requiresGrad ? a.gradient().data : nil, b.requiresGrad ? b.gradient().data : nil,
                                          dy.data, count: n, aScalar: sa, bScalar: sb)
        }
        return y
    }

    /// a * b (elementwise)
    public func mul(_ a: Variable, _ b: Variable) -> Variable {
        let y = output(binaryShape(a, b, "mul"), from: a, b)
        let n = y.count, (sa, sb) = broadcasts(a, b, n)
        ArithmeticKernels.mulForward(y.value.data, a.value.data, b.value.data, count: n, aScalar: sa, bScalar: sb)
        record(y) { dy in
            ArithmeticKernels.mulBackward(a.requiresGrad ? a.gradient().data : nil, b.requiresGrad ? b.gradient().data : nil,
                                          dy.data, a.value.data, b.value.data, count: n, aScalar: sa, bScalar: sb)
        }
        return y
    }

    /// x * c for a constant c
    public func scale(_ x: Variable, _ c: Float) -> Variable {
        let y = output(x.shape, from: x)
        let n = x.count
        ArithmeticKernels.scaleForward(y.value.data, x.value.data, count: n, c: c)
        record(y) { dy in ArithmeticKernels.scaleBackward(x.gradient().data, dy.data, count: n, c: c) }
        return y
    }

    /// x + c for a constant c
    public func addScalar(_ x: Variable, _ c: Float) -> Variable {
        let y = output(x.shape, from: x)
        let n = x.count
        ArithmeticKernels.addScalarForward(y.value.data, x.value.data, count: n, c: c)
        record(y) { dy in ArithmeticKernels.addScalarBackward(x.gradient().data, dy.data, count: n) }
        return y
    }

    /// Sum of all elements, a 0-d tensor (accumulated in Double).
    public func sum(_ x: Variable) -> Variable {
        let y = output([], from: x)
        let n = x.count
        ArithmeticKernels.sumForward(y.value.data, x.value.data, count: n)
        record(y) { dy in ArithmeticKernels.sumBackward(x.gradient().data, dy.data, count: n) }
        return y
    }

    /// Mean of all elements, a 0-d tensor (accumulated in Double).
    public func mean(_ x: Variable) -> Variable {
        precondition(x.count > 0, "mean of an empty tensor")
        let y = output([], from: x)
        let n = x.count
        ArithmeticKernels.meanForward(y.value.data, x.value.data, count: n)
        record(y) { dy in ArithmeticKernels.meanBackward(x.gradient().data, dy.data, count: n) }
        return y
    }

    /// The same values under another shape; the gradient flows back unchanged.
    public func reshape(_ x: Variable, _ shape: [Int]) -> Variable {
        let y = output(x.value.reshaped(shape).copy(), from: [x])
        record(y) { dy in x.gradient().add(dy) }
        return y
    }
}
