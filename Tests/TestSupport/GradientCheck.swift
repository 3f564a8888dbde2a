import XCTest
import TensorEngine

// Finite-difference gradient checking for the engine's ops, shared by the op tests.
// L = sum(y * r) for a fixed random r; the analytic gradients come from the tape, the numerical
// ones from central differences through the Float kernels, evaluated in Double, with Richardson
// extrapolation ((4 D(h/2) - D(h)) / 3) so that the truncation error is O(h^4).

/// Small deterministic generator for tests that want a RandomNumberGenerator (SplitMix64), e.g. for
/// `Float.random(in:using:)` or RANSAC's sampling.
public struct TestRNG: RandomNumberGenerator {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [lo, hi) from the top 53 bits.
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * Double(next() >> 11) * 0x1.0p-53 }
}

public struct TestRandom {
    public var rng: SeededRandom
    public init(_ seed: UInt64) { rng = SeededRandom(seed: seed) }

    public mutating func tensor(_ shape: [Int], _ lo: Double = -1, _ hi: Double = 1) -> Tensor {
        let t = Tensor(shape: shape)
        for i in 0..<t.count { t.data[i] = Float(rng.uniform(lo, hi)) }
        return t
    }

    /// Values in ±[gap, 1]: away from the kinks of ReLU-like functions at 0.
    public mutating func awayFromZero(_ shape: [Int], gap: Double = 0.1) -> Tensor {
        let t = tensor(shape)
        for i in 0..<t.count {
            let v = Double(t.data[i])
            t.data[i] = Float((v < 0 ? -1.0 : 1.0) * (gap + (1 - gap) * Swift.abs(v)))
        }
        return t
    }

    /// Distinct values 0.05 apart in random order (no max-pool near-ties).
    public mutating func distinct(_ shape: [Int]) -> Tensor {
        let t = Tensor(shape: shape)
        var values = (0..<t.count).map { Float($0) * 0.05 - Float(t.count) * 0.025 }
        for i in stride(from: values.count - 1, to: 0, by: -1) { values.swapAt(i, rng.int(i + 1)) }
        for i in 0..<t.count { t.data[i] = values[i] }
        return t
    }
}

/// Checks d sum(build(g) * r) / d input against central differences for every input (at most
/// `maxPerInput` sampled elements each). Fails with the worst element when out of tolerance.
public func checkGradients(_ inputs: [Variable], h: Float = 1e-2, tolerance: Double = 2e-3, maxPerInput: Int = 120,
                    file: StaticString = #filePath, line: UInt = #line, _ build: (Graph) -> Variable) {
    let worst = gradientErrors(inputs, h: h, maxPerInput: maxPerInput, build)
    for (which, w) in worst.enumerated() {
        XCTAssert(w.error <= tolerance,
                  "input \(which) \(inputs[which].shape): gradient element \(w.index) analytic \(w.analytic) vs numeric \(w.numeric) (relative error \(w.error) > \(tolerance))",
                  file: file, line: line)
    }
}

/// Per input, the worst element: relative error |numeric - analytic| / (max|analytic| + |analytic|).
public func gradientErrors(_ inputs: [Variable], h: Float = 1e-2, maxPerInput: Int = 120,
                    _ build: (Graph) -> Variable) -> [(error: Double, index: Int, numeric: Double, analytic: Double)] {
    var result: [(error: Double, index: Int, numeric: Double, analytic: Double)] = []
    let g = Graph()
    let y = build(g)
    var rnd = TestRandom(99)
    let r = rnd.tensor(y.shape)
    for v in inputs { v.grad = nil }
    g.backward(y, seed: r)

    func loss() -> Double {
        let g2 = Graph(recording: false)
        let y2 = build(g2)
        var s: Double = 0
        for j in 0..<y2.count { s += Double(y2.value.data[j]) * Double(r.data[j]) }
        return s
    }

    for (which, v) in inputs.enumerated() {
        precondition(v.requiresGrad, "gradient check: input \(which) must require grad")
        let analytic = v.grad?.array ?? [Float](repeating: 0, count: v.count)
        let scale = max(1e-3, analytic.map { Double(Swift.abs($0)) }.max() ?? 0)
        var indices = Array(0..<v.count)
        if indices.count > maxPerInput {
            var pick = SeededRandom(seed: UInt64(which + 1))
            indices = (0..<maxPerInput).map { _ in pick.int(v.count) }
        }
        var worst = (err: 0.0, index: -1, numeric: 0.0, analytic: 0.0)
        for i in indices {
            let orig = v.value.data[i]
            func slope(_ step: Float) -> Double {
                let up = orig + step, down = orig - step
                v.value.data[i] = up
                let lu = loss()
                v.value.data[i] = down
                let ld = loss()
                v.value.data[i] = orig
                return (lu - ld) / (Double(up) - Double(down))
            }
            let numeric = (4 * slope(h / 2) - slope(h)) / 3
            let a = Double(analytic[i])
            let err = Swift.abs(numeric - a) / (scale + Swift.abs(a))
            if err > worst.err { worst = (err, i, numeric, a) }
        }
        result.append((worst.err, worst.index, worst.numeric, worst.analytic))
    }
    return result
}

/// max |a - b| / (1 + max |b|)
/// max |a - b| / (1 + max |b|); infinity where an element is NaN or infinite in one array and not the same in the
/// other (Swift's `max(m, .nan)` is m, so a NaN would otherwise pass: a kernel that leaves an output unwritten in a
/// NaN-poisoned buffer must fail).
public func relativeMaxError(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count)
    var m = 0.0, s = 0.0
    for (x, y) in zip(a, b) {
        if !x.isFinite || !y.isFinite {
            if x == y || (x.isNaN && y.isNaN) { continue }
            return .infinity
        }
        m = max(m, Double(Swift.abs(x - y))); s = max(s, Double(Swift.abs(y)))
    }
    return m / (1 + s)
}

/// One backward of a convolution through ConvKernels.backward (whatever kernel the switches pick) and through its
/// naive twin, on random x, w, dy for shape s, both adding into the same random pre-filled gradients dx0, dw0.
public struct ConvBackwardCase {
    public let x, w, dy, dx0: Tensor
    /// dx / dW from ConvKernels.backward (fast) and ConvKernels.backwardNaive, each started from dx0 / dw0.
    public let dxFast, dwFast, dxNaive, dwNaive: Tensor

    public init(_ s: Conv2dShape, seed: UInt64) {
        var rnd = TestRandom(seed)
        x = rnd.tensor([s.n, s.cin, s.h, s.w]); w = rnd.tensor([s.cout, s.cin, s.kh, s.kw])
        dy = rnd.tensor([s.n, s.cout, s.ho, s.wo])
        dx0 = rnd.tensor(x.shape)
        let dw0 = rnd.tensor(w.shape)
        (dxFast, dwFast, dxNaive, dwNaive) = (dx0.copy(), dw0.copy(), dx0.copy(), dw0.copy())
        ConvKernels.backward(dxFast.data, dwFast.data, nil, dy.data, x.data, w.data, s)
        ConvKernels.backwardNaive(dxNaive.data, dwNaive.data, nil, dy.data, x.data, w.data, s)
    }
}
