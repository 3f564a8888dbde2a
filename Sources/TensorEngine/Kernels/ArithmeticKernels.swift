// Elementwise arithmetic and whole-tensor reductions (ops in Ops/Arithmetic.swift), forward and backward
// side by side: outputs first (for a backward: the gradients it adds into, any may be nil), read-only
// inputs as UnsafePointer; backward ADDS into the gradients.
//
// Binary kernels take `count` output elements; an operand flagged `aScalar`/`bScalar` has one element,
// broadcast (PyTorch's 0-d tensor), and its gradient is the sum over all elements, accumulated in
// Float in index order. Reductions accumulate in Double.

public enum ArithmeticKernels {
    // MARK: - broadcasting helpers

    /// Element i of an operand that is either full (`scalar` false) or a broadcast scalar.
    @inline(__always)
    static func at(_ p: UnsafePointer<Float>, _ i: Int, _ scalar: Bool) -> Float { p[scalar ? 0 : i] }

    /// g[i] += f(i) for i in 0..<count, or g[0] += sum_i f(i) (in Float, in index order) for a broadcast scalar.
    @inline(__always)
    static func addGradient(_ g: UnsafeMutablePointer<Float>, scalar: Bool, count n: Int, _ f: (Int) -> Float) {
        if scalar {
            var s: Float = 0
            for i in 0..<n { s += f(i) }
            g[0] += s
        } else {
            for i in 0..<n { g[i] += f(i) }
        }
    }

    // MARK: - y = a + b

    public static func addForward(_ y: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                  count n: Int, aScalar: Bool, bScalar: Bool) {
        for i in 0..<n { y[i] = at(a, i, aScalar) + at(b, i, bScalar) }
    }

    public static func addBackward(_ da: UnsafeMutablePointer<Float>?, _ db: UnsafeMutablePointer<Float>?, _ dy: UnsafePointer<Float>,
                                   count n: Int, aScalar: Bool, bScalar: Bool) {
        if let da { addGradient(da, scalar: aScalar, count: n) { dy[$0] } }
        if let db { addGradient(db, scalar: bScalar, count: n) { dy[$0] } }
    }

    // MARK: - y = a - b

    public static func subForward(_ y: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                  count n: Int, aScalar: Bool, bScalar: Bool) {
        for i in 0..<n { y[i] = at(a, i, aScalar) - at(b, i, bScalar) }
    }

    public static func subBackward(_ da: UnsafeMutablePointer<Float>?, _ db: UnsafeMutablePointer<Float>?, _ dy: UnsafePointer<Float>,
                                   count n: Int, aScalar: Bool, bScalar: Bool) {
        if let da { addGradient(da, scalar: aScalar, count: n) { dy[$0] } }
        if let db { addGradient(db, scalar: bScalar, count: n) { -dy[$0] } }
    }

    // MARK: - y = a * b

    public static func mulForward(_ y: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                  count n: Int, aScalar: Bool, bScalar: Bool) {
        for i in 0..<n { y[i] = at(a, i, aScalar) * at(b, i, bScalar) }
    }

    /// da += dy * b, db += dy * a
    public static func mulBackward(_ da: UnsafeMutablePointer<Float>?, _ db: UnsafeMutablePointer<Float>?, _ dy: UnsafePointer<Float>,
                                   _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int, aScalar: Bool, bScalar: Bool) {
        if let da { addGradient(da, scalar: aScalar, count: n) { dy[$0] * at(b, $0, bScalar) } }
        if let db { addGradient(db, scalar: bScalar, count: n) { dy[$0] * at(a, $0, aScalar) } }
    }

    // MARK: - y = x * c, y = x + c (constant c)

    public static func scaleForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count n: Int, c: Float) {
        for i in 0..<n { y[i] = x[i] * c }
    }

    public static func scaleBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, count n: Int, c: Float) {
        for i in 0..<n { dx[i] += dy[i] * c }
    }

    public static func addScalarForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count n: Int, c: Float) {
        for i in 0..<n { y[i] = x[i] + c }
    }

    /// dx += dy
    public static func addScalarBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, count n: Int) {
        accumulate(dx, dy, count: n)
    }

    // MARK: - y += x (Tensor.add: gradients passed through unchanged, seeds)

    public static func accumulate(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] += x[i] }
    }

    // MARK: - y[0] = sum x, y[0] = mean x (accumulated in Double)

    public static func sumForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count n: Int) {
        var s: Double = 0
        for i in 0..<n { s += Double(x[i]) }
        y[0] = Float(s)
    }

    /// dx[i] += dy[0]
    public static func sumBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, count n: Int) {
        let d = dy[0]
        for i in 0..<n { dx[i] += d }
    }

    public static func meanForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count n: Int) {
        var s: Double = 0
        for i in 0..<n { s += Double(x[i]) }
        y[0] = Float(s / Double(n))
    }

    /// dx[i] += dy[0] / n
    public static func meanBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, count n: Int) {
        let d = dy[0] / Float(n)
        for i in 0..<n { dx[i] += d }
    }
}
