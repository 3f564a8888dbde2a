import TestSupport
import XCTest
import TensorEngine

/// mseLoss, tripletMarginLoss and descriptorDistance (Ops/Losses.swift).
final class LossTests: XCTestCase {
    func testMSE() {
        checkOp([randn([3, 7], seed: 41), randn([3, 7], seed: 42)], { g, v in g.mseLoss(v[0], v[1]) }, { (x: [[Double]]) -> [Double] in
            var s = 0.0
            for i in 0..<21 { let d = x[0][i] - x[1][i]; s += d * d }
            return [s / 21]
        })
    }

    /// PyTorch's triplet loss: eps on the difference vector, hinge at 0, mean over rows.
    func refTriplet(_ x: [[Double]], rows: Int, d: Int, margin: Double = 0.2, eps: Double = 1e-6) -> [Double] {
        var total = 0.0
        for r in 0..<rows {
            var sp = 0.0, sn = 0.0
            for k in 0..<d {
                let i = r * d + k
                sp += pow(x[0][i] - x[1][i] + eps, 2)
                sn += pow(x[0][i] - x[2][i] + eps, 2)
            }
            total += max(0, sp.squareRoot() - sn.squareRoot() + margin)
        }
        return [total / Double(rows)]
    }

    func testTripletMarginLoss() {
        let (rows, d) = (9, 4)
        let a = randn([rows, d], seed: 43, scale: 0.3), p = randn([rows, d], seed: 44, scale: 0.3), n = randn([rows, d], seed: 45, scale: 0.3)
        let g = Graph()
        let loss = g.tripletMarginLoss(anchor: Variable(a), positive: Variable(p), negative: Variable(n))
        let active = (0..<rows).filter { r in
            let one = refTriplet([Array(a.array[(r * d)..<(r * d + d)]).map(Double.init),
                                  Array(p.array[(r * d)..<(r * d + d)]).map(Double.init),
                                  Array(n.array[(r * d)..<(r * d + d)]).map(Double.init)], rows: 1, d: d)
            return one[0] > 0
        }.count
        XCTAssertTrue(active > 0 && active < rows, "the case should mix active and inactive triplets, got \(active)/\(rows)")
        XCTAssertGreaterThan(loss.value.scalar, 0)
        checkOp([a, p, n], { g, v in g.tripletMarginLoss(anchor: v[0], positive: v[1], negative: v[2]) },
                { x in self.refTriplet(x, rows: rows, d: d) }, ownH: 1e-3)
    }

    func testTripletEpsIsAddedToTheDifference() {
        // a == p: the positive distance is ||eps * 1|| = eps * sqrt(d), not 0 and not eps.
        let d = 4
        let a = Tensor(shape: [1, d], repeating: 0.5), n = Tensor(shape: [1, d], repeating: 0.5)
        let y = Graph().tripletMarginLoss(anchor: Variable(a), positive: Variable(a.copy()), negative: Variable(n), margin: 0, eps: 0.25)
        // both distances are 0.25 * 2 = 0.5, so the loss is exactly the margin 0.
        XCTAssertEqual(y.value.scalar, 0, accuracy: 1e-7)
        let y2 = Graph().tripletMarginLoss(anchor: Variable(a), positive: Variable(a.copy()),
                                           negative: Variable(Tensor(shape: [1, d], repeating: 0.5 + 0.25)), margin: 1, eps: 0.25)
        // positive distance 0.5; negative difference is -0.25 + 0.25 = 0, distance 0.
        XCTAssertEqual(y2.value.scalar, 1.5, accuracy: 1e-6)
    }

    /// Unit columns of a random (D,N) matrix.
    func unitColumns(_ d: Int, _ n: Int, seed: UInt64) -> Tensor {
        let t = randn([d, n], seed: seed)
        for j in 0..<n {
            var s: Float = 0
            for i in 0..<d { s += t[i, j] * t[i, j] }
            for i in 0..<d { t[i, j] /= s.squareRoot() }
        }
        return t
    }

    func refDistance(_ x: [[Double]], d: Int, n: Int, m: Int) -> [Double] {
        var out: [Double] = []
        for i in 0..<n { for j in 0..<m {
            var s = 0.0
            for k in 0..<d { s += x[0][k * n + i] * x[1][k * m + j] }
            out.append((2 - 2 * min(max(s, -1), 1)).squareRoot())
        } }
        return out
    }

    func testDescriptorDistance() {
        let (d, n, m) = (6, 4, 5)
        checkOp([unitColumns(d, n, seed: 46), unitColumns(d, m, seed: 47)], { g, v in g.descriptorDistance(v[0], v[1]) },
                { x in self.refDistance(x, d: d, n: n, m: m) }, ownH: 1e-3)
    }

    func testDescriptorDistanceClampKillsGradientOutsideRange() {
        // Columns longer than 1: a^T b = 1.44 > 1 is clamped, so distance 0 and no gradient; a^T b = -1.44 likewise.
        let a = Variable(Tensor(shape: [1, 1], values: [1.2]), requiresGrad: true)
        let b = Variable(Tensor(shape: [1, 2], values: [1.2, -1.2]), requiresGrad: true)
        let g = Graph()
        let y = g.descriptorDistance(a, b)
        XCTAssertEqual(y.value.array, [0, 2])
        g.backward(y, seed: Tensor(shape: [1, 2], repeating: 1))
        XCTAssertEqual(a.grad?.array, [0])
        XCTAssertEqual(b.grad?.array, [0, 0])
    }

    func testDescriptorDistanceAtZeroFollowsPyTorch() {
        // Identical unit columns: a^T b = 1 exactly, distance 0, the sqrt derivative is infinite:
        // PyTorch gives a gradient of -inf * b (NaN where the product is 0 * inf).
        let a = Variable(Tensor(shape: [2, 1], values: [1, 0]), requiresGrad: true)
        let b = Variable(Tensor(shape: [2, 1], values: [1, 0]), requiresGrad: true)
        let g = Graph()
        let y = g.descriptorDistance(a, b)
        XCTAssertEqual(y.value.array, [0])
        g.backward(y, seed: Tensor(shape: [1, 1], repeating: 1))
        XCTAssertEqual(a.grad?[flat: 0], -.infinity)
        XCTAssertTrue(a.grad?[flat: 1].isNaN ?? false)
    }
}
