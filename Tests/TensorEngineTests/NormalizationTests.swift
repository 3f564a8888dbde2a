import TestSupport
import XCTest
import TensorEngine

/// instanceNorm and l2Normalize (Ops/Normalization.swift).
final class NormalizationTests: XCTestCase {
    func testInstanceNorm() {
        let x = randn([2, 3, 5, 2], seed: 21, scale: 2, offset: 0.5)
        checkOp([x], { g, v in g.instanceNorm(v[0]) }, { xs in
            var out: [Double] = []
            for r in 0..<6 {
                let row = Array(xs[0][(r * 10)..<(r * 10 + 10)])
                let m = row.reduce(0, +) / 10
                let v = row.map { ($0 - m) * ($0 - m) }.reduce(0, +) / 10   // biased
                out += row.map { ($0 - m) / (v + 1e-5).squareRoot() }
            }
            return out
        }, ownH: 1e-3)
    }

    func testInstanceNormOfConstantRowIsZero() {
        let y = Graph().instanceNorm(Variable(Tensor(shape: [1, 1, 4, 1], repeating: 3)))
        XCTAssertEqual(y.value.array, [0, 0, 0, 0])
    }

    func testL2Normalize() {
        let x = randn([2, 4, 3, 2], seed: 22)
        checkOp([x], { g, v in g.l2Normalize(v[0]) }, { xs in
            var out = xs[0]
            for n in 0..<2 { for j in 0..<6 {
                let norm = (0..<4).map { xs[0][(n * 4 + $0) * 6 + j] }.map { $0 * $0 }.reduce(0, +).squareRoot()
                for c in 0..<4 { out[(n * 4 + c) * 6 + j] /= norm }
            } }
            return out
        }, ownH: 1e-3)
        // Also on (N,C) descriptors.
        checkOp([randn([5, 3], seed: 23)], { g, v in g.l2Normalize(v[0]) }, { xs in
            (0..<5).flatMap { r -> [Double] in
                let row = Array(xs[0][(r * 3)..<(r * 3 + 3)])
                let n = row.map { $0 * $0 }.reduce(0, +).squareRoot()
                return row.map { $0 / n }
            }
        }, ownH: 1e-3)
    }

    func testL2NormalizeHasNoEpsilon() {
        let y = Graph().l2Normalize(Variable(Tensor(shape: [1, 2], values: [0, 0])))
        XCTAssertTrue(y.value.array.allSatisfy { $0.isNaN })
    }
}
