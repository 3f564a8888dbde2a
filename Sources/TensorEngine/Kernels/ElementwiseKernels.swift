// Elementwise functions with PyTorch's derivative conventions at the edges (ops in Ops/Elementwise.swift),
// forward and backward side by side: outputs first (for a backward: the gradients it adds into), read-only
// inputs as UnsafePointer; backward ADDS into the gradients. Broadcasting as in ArithmeticKernels.

public enum ElementwiseKernels {
    // MARK: - y = sqrt(x); dx += dy / (2 y) (infinite at 0, as PyTorch)

    public static func sqrtForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] = x[i].squareRoot() }
    }

    public static func sqrtBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count n: Int) {
        for i in 0..<n { dx[i] += dy[i] / (2 * y[i]) }
    }

    // MARK: - y = x * x; dx += 2 x dy

    public static func squareForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] = x[i] * x[i] }
    }

    public static func squareBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, count n: Int) {
        for i in 0..<n { dx[i] += 2 * x[i] * dy[i] }
    }

    // MARK: - y = a / b; da += dy / b, db += -dy a / b^2

    public static func divForward(_ y: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                  count n: Int, aScalar: Bool, bScalar: Bool) {
        for i in 0..<n { y[i] = ArithmeticKernels.at(a, i, aScalar) / ArithmeticKernels.at(b, i, bScalar) }
    }

    public static func divBackward(_ da: UnsafeMutablePointer<Float>?, _ db: UnsafeMutablePointer<Float>?, _ dy: UnsafePointer<Float>,
                                   _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int, aScalar: Bool, bScalar: Bool) {
        if let da {
            ArithmeticKernels.addGradient(da, scalar: aScalar, count: n) { dy[$0] / ArithmeticKernels.at(b, $0, bScalar) }
        }
        if let db {
            ArithmeticKernels.addGradient(db, scalar: bScalar, count: n) { i in
                let bv = ArithmeticKernels.at(b, i, bScalar)
                return -dy[i] * ArithmeticKernels.at(a, i, aScalar) / (bv * bv)
            }
        }
    }

    // MARK: - y = min(max(x, lo), hi); the gradient passes where lo <= x <= hi (inclusive, as PyTorch)

    public static func clampForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count n: Int, lo: Float, hi: Float) {
        for i in 0..<n { y[i] = Swift.min(Swift.max(x[i], lo), hi) }
    }

    public static func clampBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                                     count n: Int, lo: Float, hi: Float) {
        for i in 0..<n where x[i] >= lo && x[i] <= hi { dx[i] += dy[i] }
    }
}
