// Elementwise arithmetic and whole-tensor reductions.
// Binary ops take two tensors of the same element count, or one operand with a single element
// (broadcast as a scalar), as PyTorch does for a 0-d tensor.

extension Graph {
    func binaryShape(_ a: Variable, _ b: Variable, _ op: String) -> [Int] {
        if a.count == b.count { return a.shape }
        if b.count == 1 { return a.shape }
        if a.count == 1 { return b.shape }
        preconditionFailure("\(op): shapes \(a.shape) and \(b.shape) do not match (same size or a scalar)")
    }

    /// a + b
    public func add(_ a: Variable, _ b: Variable) -> Variable {
        let y = output(binaryShape(a, b, "add"), from: a, b)
        let n = y.count, pa = a.value.data, pb = b.value.data, py = y.value.data
        let sa = a.count == 1 && n > 1, sb = b.count == 1 && n > 1
        for i in 0..<n { py[i] = pa[sa ? 0 : i] + pb[sb ? 0 : i] }
        recordBinary(y, a, b, sa, sb, da: { dy, _ in dy }, db: { dy, _ in dy })
        return y
    }

    /// a - b
    public func sub(_ a: Variable, _ b: Variable) -> Variable {
        let y = output(binaryShape(a, b, "sub"), from: a, b)
        let n = y.count, pa = a.value.data, pb = b.value.data, py = y.value.data
        let sa = a.count == 1 && n > 1, sb = b.count == 1 && n > 1
        for i in 0..<n { py[i] = pa[sa ? 0 : i] - pb[sb ? 0 : i] }
        recordBinary(y, a, b, sa, sb, da: { dy, _ in dy }, db: { dy, _ in -dy })
        return y
    }

    /// a * b (elementwise)
    public func mul(_ a: Variable, _ b: Variable) -> Variable {
        let y = output(binaryShape(a, b, "mul"), from: a, b)
        let n = y.count, pa = a.value.data, pb = b.value.data, py = y.value.data
        let sa = a.count == 1 && n > 1, sb = b.count == 1 && n > 1
        for i in 0..<n { py[i] = pa[sa ? 0 : i] * pb[sb ? 0 : i] }
        recordBinary(y, a, b, sa, sb,
                     da: { dy, i in dy * pb[sb ? 0 : i] },
                     db: { dy, i in dy * pa[sa ? 0 : i] })
        return y
    }

    /// Shared backward of the binary ops: d(input)[i] += f(dy[i], i), summed when that input was broadcast.
    func recordBinary(_ y: Variable, _ a: Variable, _ b: Variable, _ sa: Bool, _ sb: Bool,
                              da: @escaping (Float, Int) -> Float, db: @escaping (Float, Int) -> Float) {
        record(y) { dy in
            let n = dy.count, pdy = dy.data
            if a.requiresGrad {
                let ga = a.gradient().data
                if sa { var s: Float = 0; for i in 0..<n { s += da(pdy[i], i) }; ga[0] += s }
                else { for i in 0..<n { ga[i] += da(pdy[i], i) } }
            }
            if b.requiresGrad {
                let gb = b.gradient().data
                if sb { var s: Float = 0; for i in 0..<n { s += db(pdy[i], i) }; gb[0] += s }
                else { for i in 0..<n { gb[i] += db(pdy[i], i) } }
            }
        }
    }

    /// x * c for a constant c
    public func scale(_ x: Variable, _ c: Float) -> Variable {
        let y = output(x.shape, from: x)
        let n = x.count, px = x.value.data, py = y.value.data
        for i in 0..<n { py[i] = px[i] * c }
        record(y) { dy in
            let gx = x.gradient().data, pdy = dy.data
            for i in 0..<n { gx[i] += pdy[i] * c }
        }
        return y
    }

    /// x + c for a constant c
    public func addScalar(_ x: Variable, _ c: Float) -> Variable {
        let y = output(x.shape, from: x)
        let n = x.count, px = x.value.data, py = y.value.data
        for i in 0..<n { py[i] = px[i] + c }
        record(y) { dy in
            let gx = x.gradient().data, pdy = dy.data
            for i in 0..<n { gx[i] += pdy[i] }
        }
        return y
    }

    /// Sum of all elements, a 0-d tensor (accumulated in Double).
    public func sum(_ x: Variable) -> Variable {
        let y = output([], from: x)
        let n = x.count, px = x.value.data
        var s: Double = 0
        for i in 0..<n { s += Double(px[i]) }
        y.value.data[0] = Float(s)
        record(y) { dy in
            let gx = x.gradient().data, d = dy.data[0]
            for i in 0..<n { gx[i] += d }
        }
        return y
    }

    /// Mean of all elements, a 0-d tensor (accumulated in Double).
    public func mean(_ x: Variable) -> Variable {
        precondition(x.count > 0, "mean of an empty tensor")
        let y = output([], from: x)
        let n = x.count, px = x.value.data
        var s: Double = 0
        for i in 0..<n { s += Double(px[i]) }
        y.value.data[0] = Float(s / Double(n))
        record(y) { dy in
            let gx = x.gradient().data, d = dy.data[0] / Float(n)
            for i in 0..<n { gx[i] += d }
        }
        return y
    }

    /// The same values under another shape; the gradient flows back unchanged.
    public func reshape(_ x: Variable, _ shape: [Int]) -> Variable {
        let y = output(x.value.reshaped(shape).copy(), from: [x])
        record(y) { dy in x.gradient().add(dy) }
        return y
    }
}
