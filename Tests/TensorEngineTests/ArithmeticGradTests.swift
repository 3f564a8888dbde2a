import TestSupport
import XCTest
import TensorEngine

/// Forward and gradients of the ops in Ops/Arithmetic.swift, including the scalar broadcast.
final class ArithmeticGradTests: XCTestCase {
    let a = randn([3, 4], seed: 1), b = randn([3, 4], seed: 2), s = randn([], seed: 3)

    func testAdd() {
        checkOp([a, b], { g, v in g.add(v[0], v[1]) }, { x in zip(x[0], x[1]).map(+) })
        checkOp([a, s], { g, v in g.add(v[0], v[1]) }, { x in x[0].map { $0 + x[1][0] } })
        checkOp([s, b], { g, v in g.add(v[0], v[1]) }, { x in x[1].map { x[0][0] + $0 } })
    }

    func testSub() {
        checkOp([a, b], { g, v in g.sub(v[0], v[1]) }, { x in zip(x[0], x[1]).map(-) })
        checkOp([a, s], { g, v in g.sub(v[0], v[1]) }, { x in x[0].map { $0 - x[1][0] } })
        checkOp([s, b], { g, v in g.sub(v[0], v[1]) }, { x in x[1].map { x[0][0] - $0 } })
    }

    func testMul() {
        checkOp([a, b], { g, v in g.mul(v[0], v[1]) }, { x in zip(x[0], x[1]).map(*) })
        checkOp([a, s], { g, v in g.mul(v[0], v[1]) }, { x in x[0].map { $0 * x[1][0] } })
        checkOp([s, b], { g, v in g.mul(v[0], v[1]) }, { x in x[1].map { x[0][0] * $0 } })
    }

    func testMulSameVariableTwice() {
        // x * x: both operand gradients land in the same variable.
        checkOp([a], { g, v in g.mul(v[0], v[0]) }, { x in x[0].map { $0 * $0 } })
    }

    func testScaleAndAddScalar() {
        checkOp([a], { g, v in g.scale(v[0], -2.5) }, { x in x[0].map { $0 * -2.5 } })
        checkOp([a], { g, v in g.addScalar(v[0], 0.75) }, { x in x[0].map { $0 + 0.75 } })
    }

    func testSumAndMean() {
        checkOp([a], { g, v in g.sum(v[0]) }, { x in [x[0].reduce(0, +)] })
        checkOp([a], { g, v in g.mean(v[0]) }, { x in [x[0].reduce(0, +) / Double(x[0].count)] })
    }

    func testReshape() {
        checkOp([a], { g, v in g.reshape(v[0], [2, 6]) }, { x in x[0] })
        let g = Graph()
        let x = Variable(a.copy(), requiresGrad: true)
        let y = g.reshape(x, [12])
        XCTAssertEqual(y.shape, [12])
        // The result is a copy: writing into it leaves x alone.
        y.value.data[0] = 1234
        XCTAssertEqual(x.value.data[0], a.data[0])
    }

    func testGradientOnlyToInputsThatRequireIt() {
        checkOp([a, b], { g, v in g.mul(v[0], v[1]) }, { x in zip(x[0], x[1]).map(*) }, grads: [false, true])
        let g = Graph()
        let x = Variable(a.copy(), requiresGrad: false), w = Variable(b.copy(), requiresGrad: true)
        g.backward(g.sum(g.mul(x, w)))
        XCTAssertNil(x.grad)
        XCTAssertEqual(w.grad?.array ?? [], a.array)
    }
}
