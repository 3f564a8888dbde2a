import TestSupport
import XCTest
import TensorEngine

/// sqrt, square, div, clamp (Ops/Elementwise.swift), with PyTorch's conventions at the edges.
final class ElementwiseTests: XCTestCase {
    func testSqrt() {
        checkOp([uniform([3, 5], 0.5, 3)], { g, v in g.sqrt(v[0]) }, { x in x[0].map { $0.squareRoot() } })
    }

    func testSqrtAtZeroHasInfiniteGradientLikePyTorch() {
        let g = Graph()
        let x = Variable(Tensor(shape: [2], values: [0, 4]), requiresGrad: true)
        g.backward(g.sum(g.sqrt(x)))
        XCTAssertEqual(x.grad?[flat: 0], .infinity)
        XCTAssertEqual(x.grad?[flat: 1], 0.25)
    }

    func testSquare() {
        checkOp([randn([4, 3], seed: 5)], { g, v in g.square(v[0]) }, { x in x[0].map { $0 * $0 } })
    }

    func testDiv() {
        let a = randn([3, 4], seed: 6), b = uniform([3, 4], 0.5, 2, seed: 7), s = Tensor(scalar: -1.5)
        checkOp([a, b], { g, v in g.div(v[0], v[1]) }, { x in zip(x[0], x[1]).map(/) })
        checkOp([a, s], { g, v in g.div(v[0], v[1]) }, { x in x[0].map { $0 / x[1][0] } })
        checkOp([s, b], { g, v in g.div(v[0], v[1]) }, { x in x[1].map { x[0][0] / $0 } })
    }

    func testClamp() {
        // Values well inside and well outside [-0.5, 0.7]; none near the kinks.
        let x = Tensor(shape: [8], values: [-2, -0.9, -0.3, 0, 0.2, 0.5, 1.1, 3])
        checkOp([x], { g, v in g.clamp(v[0], min: -0.5, max: 0.7) }, { x in x[0].map { min(max($0, -0.5), 0.7) } },
                ownH: 1e-3)
    }

    func testClampPassesGradientAtTheBoundsInclusive() {
        let g = Graph()
        let x = Variable(Tensor(shape: [4], values: [-1, 1, -1.5, 2]), requiresGrad: true)
        g.backward(g.sum(g.clamp(x, min: -1, max: 1)))
        XCTAssertEqual(x.grad?.array, [1, 1, 0, 0])
    }
}
