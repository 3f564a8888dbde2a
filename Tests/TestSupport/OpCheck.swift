import XCTest
import TensorEngine

// tinygrad-style op checking: one line compares an op's forward and every input gradient with a plain
// Double reference implementation of the forward:
//
//   checkOp([randn([3, 4]), randn([3, 4])], { g, v in g.mul(v[0], v[1]) }, { x in zip(x[0], x[1]).map(*) })
//
// 1. forward: our Float output vs reference(inputs) elementwise;
// 2. gradients vs the reference: the gradient of L = sum(y * gout) for a random gout, computed by central
//    differences of the Double reference (h = 1e-6, accurate to ~1e-9), vs our backward;
// 3. gradients vs our own forward: central differences of the Float op itself (step ownH * max(1, |x|),
//    loose 2% tolerance because of float32 rounding), so backward matches the forward that ships.

/// Deterministic normal test data.
public func randn(_ shape: [Int], seed: UInt64 = 1, scale: Float = 1, offset: Float = 0) -> Tensor {
    var rng = SeededRandom(seed: seed)
    let t = Tensor(shape: shape)
    for i in 0..<t.count { t.data[i] = Float(rng.normal()) * scale + offset }
    return t
}

/// Uniform test data in [lo, hi).
public func uniform(_ shape: [Int], _ lo: Float, _ hi: Float, seed: UInt64 = 1) -> Tensor {
    var rng = SeededRandom(seed: seed)
    let t = Tensor(shape: shape)
    for i in 0..<t.count { t.data[i] = Float(rng.uniform(Double(lo), Double(hi))) }
    return t
}

/// max |a-b| / (atol + rtol * max|b|) <= 1, with a message naming the worst element.
public func assertClose(_ actual: [Float], _ expected: [Double], atol: Double, rtol: Double, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("\(what): \(actual.count) values, expected \(expected.count)", file: file, line: line); return
    }
    for i in 0..<actual.count {
        let a = Double(actual[i]), e = expected[i]
        if a.isNaN && e.isNaN { continue }
        if a == e { continue }   // also equal infinities
        if !(abs(a - e) <= atol + rtol * abs(e)) {
            XCTFail("\(what)[\(i)]: got \(a), expected \(e) (atol \(atol), rtol \(rtol))", file: file, line: line)
            return
        }
    }
}

/// Check forward and all gradients of `op` against `reference` (see the top of this file).
/// `grads`: which inputs get a gradient (default all). `fdOwn`: also compare with finite differences of our op.
public func checkOp(_ inputs: [Tensor],
             _ op: (Graph, [Variable]) -> Variable,
             _ reference: ([[Double]]) -> [Double],
             grads: [Bool]? = nil, atol: Double = 1e-5, rtol: Double = 1e-4,
             gradAtol: Double = 1e-4, gradRtol: Double = 1e-3, fdOwn: Bool = true, ownH: Float = 1e-2,
             file: StaticString = #filePath, line: UInt = #line) {
    let wants = grads ?? Array(repeating: true, count: inputs.count)
    let g = Graph()
    let vars = zip(inputs, wants).map { Variable($0.0.copy(), requiresGrad: $0.1) }
    let y = op(g, vars)
    let xs = inputs.map { $0.array.map(Double.init) }
    let refY = reference(xs)
    assertClose(y.value.array, refY, atol: atol, rtol: rtol, "forward", file: file, line: line)

    let gout = randn(y.shape, seed: 99)
    g.backward(y, seed: gout)
    let go = gout.array.map(Double.init)

    func refLoss(_ x: [[Double]]) -> Double { zip(reference(x), go).reduce(0) { $0 + $1.0 * $1.1 } }
    func ownLoss() -> Double {
        let y = op(Graph(recording: false), vars)
        return zip(y.value.array, go).reduce(0) { $0 + Double($1.0) * $1.1 }
    }
    for (k, v) in vars.enumerated() where wants[k] {
        let analytic = v.grad?.array ?? [Float](repeating: 0, count: v.count)
        var numeric = [Double](repeating: 0, count: v.count)
        var x = xs
        let h = 1e-6
        for i in 0..<v.count {
            let x0 = x[k][i]
            x[k][i] = x0 + h; let lp = refLoss(x)
            x[k][i] = x0 - h; let lm = refLoss(x)
            x[k][i] = x0
            numeric[i] = (lp - lm) / (2 * h)
        }
        assertClose(analytic, numeric, atol: gradAtol, rtol: gradRtol, "gradient of input \(k) vs reference", file: file, line: line)
        if fdOwn {
            var own = [Double](repeating: 0, count: v.count)
            let p = v.value.data
            for i in 0..<v.count {
                let x0 = p[i]
                let step = ownH * max(1, abs(x0))
                p[i] = x0 + step; let lp = ownLoss()
                p[i] = x0 - step; let lm = ownLoss()
                p[i] = x0
                own[i] = (lp - lm) / Double(2 * step)
            }
            let scale = max(1, numeric.map { abs($0) }.max() ?? 1)
            assertClose(analytic, own, atol: 2e-2 * scale, rtol: 2e-2, "gradient of input \(k) vs finite differences of our op",
                        file: file, line: line)
        }
    }
}
