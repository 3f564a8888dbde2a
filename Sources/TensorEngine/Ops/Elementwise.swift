// Elementwise functions with PyTorch's derivative conventions at the edges.

extension Graph {
    /// sqrt(x); d/dx = 1/(2 sqrt(x)), infinite at 0 (as PyTorch: grad / (2 * result)).
    public func sqrt(_ x: Variable) -> Variable {
        let y = output(x.shape, from: x)
        let n = x.count, px = x.value.data, py = y.value.data
        for i in 0..<n { py[i] = px[i].squareRoot() }
        record(y) { dy in
            let gx = x.gradient().data, pdy = dy.data
            for i in 0..<n { gx[i] += pdy[i] / (2 * py[i]) }
        }
        return y
    }

    /// x * x
    public func square(_ x: Variable) -> Variable {
        let y = output(x.shape, from: x)
        let n = x.count, px = x.value.data, py = y.value.data
        for i in 0..<n { py[i] = px[i] * px[i] }
        record(y) { dy in
            let gx = x.gradient().data, pdy = dy.data
            for i in 0..<n { gx[i] += 2 * px[i] * pdy[i] }
        }
        return y
    }

    /// a / b (same size, or either a one-element scalar). d/da = 1/b, d/db = -a/b^2.
    public func div(_ a: Variable, _ b: Variable) -> Variable {
        let y = output(binaryShape(a, b, "div"), from: a, b)
        let n = y.count, pa = a.value.data, pb = b.value.data, py = y.value.data
        let sa = a.count == 1 && n > 1, sb = b.count == 1 && n > 1
        for i in 0..<n { py[i] = pa[sa ? 0 : i] / pb[sb ? 0 : i] }
        recordBinary(y, a, b, sa, sb,
                     da: { dy, i in dy / pb[sb ? 0 : i] },
                     db: { dy, i in let bv = pb[sb ? 0 : i]; return -dy * pa[sa ? 0 : i] / (bv * bv) })
        return y
    }

    /// min(max(x, lo), hi); the gradient passes where lo <= x <= hi (inclusive, as PyTorch).
    public func clamp(_ x: Variable, min lo: Float, max hi: Float) -> Variable {
        precondition(lo <= hi, "clamp: min \(lo) > max \(hi)")
        let y = output(x.shape, from: x)
        let n = x.count, px = x.value.data, py = y.value.data
        for i in 0..<n { py[i] = Swift.min(Swift.max(px[i], lo), hi) }
        record(y) { dy in
            let gx = x.gradient().data, pdy = dy.data
            for i in 0..<n where px[i] >= lo && px[i] <= hi { gx[i] += pdy[i] }
        }
        return y
    }
}
