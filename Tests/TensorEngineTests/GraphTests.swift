import XCTest
import TensorEngine

/// The backward tape (Graph.swift).
final class GraphTests: XCTestCase {
    func testGradientAccumulatesWhenAVariableIsUsedTwice() {
        // L = sum(x * w + x) -> dL/dx = w + 1
        let g = Graph()
        let x = Variable(Tensor(shape: [3], values: [1, 2, 3]), requiresGrad: true)
        let w = Variable(Tensor(shape: [3], values: [4, 5, 6]), requiresGrad: true)
        g.backward(g.sum(g.add(g.mul(x, w), x)))
        XCTAssertEqual(x.grad?.array, [5, 6, 7])
        XCTAssertEqual(w.grad?.array, [1, 2, 3])
    }

    func testGradientsAccumulateAcrossBackwardCallsUntilZeroed() {
        let x = Variable(Tensor(shape: [2], values: [1, 2]), requiresGrad: true)
        for _ in 0..<2 {
            let g = Graph()
            g.backward(g.sum(g.scale(x, 3)))
        }
        XCTAssertEqual(x.grad?.array, [6, 6])
        x.zeroGrad()
        XCTAssertEqual(x.grad?.array, [0, 0])
    }

    func testNoGradRecordsNothingAndRestoresRecording() {
        let g = Graph()
        let x = Variable(Tensor(shape: [2], values: [1, 2]), requiresGrad: true)
        let y = g.noGrad { g.scale(x, 2) }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertEqual(g.count, 0)
        XCTAssertTrue(g.isRecording)
        XCTAssertEqual(y.value.array, [2, 4])
        // And after an error thrown inside.
        struct Boom: Error {}
        XCTAssertThrowsError(try g.noGrad { throw Boom() })
        XCTAssertTrue(g.isRecording)
        let z = g.scale(x, 2)
        XCTAssertTrue(z.requiresGrad)
        XCTAssertEqual(g.count, 1)
    }

    func testTwoBackwardsOnOneTapeAddEachLossOnce() {
        // Two losses sharing x * 2, backpropagated one after the other without reset.
        let g = Graph()
        let x = Variable(Tensor(shape: [2], values: [1, 2]), requiresGrad: true)
        let h = g.scale(x, 2)
        let l1 = g.sum(h), l2 = g.sum(g.square(h))
        g.backward(l1)
        XCTAssertEqual(x.grad?.array, [2, 2])
        g.backward(l2)   // d l2/dx = 2 * h * 2 = 8x
        XCTAssertEqual(x.grad?.array, [2 + 8, 2 + 16])
        XCTAssertNil(h.grad, "op outputs do not keep gradients after backward")
    }

    func testOpsOnConstantsRecordNothing() {
        let g = Graph()
        let c = Variable(Tensor(shape: [2], values: [1, 2]))
        let y = g.mul(c, c)
        XCTAssertFalse(y.requiresGrad)
        XCTAssertEqual(g.count, 0)
    }

    func testResetForgetsTheTape() {
        let g = Graph()
        let x = Variable(Tensor(shape: [2], values: [1, 2]), requiresGrad: true)
        _ = g.sum(g.scale(x, 2))
        XCTAssertEqual(g.count, 2)
        g.reset()
        XCTAssertEqual(g.count, 0)
        // A new step on the same graph only backpropagates the new ops.
        g.backward(g.sum(g.scale(x, 5)))
        XCTAssertEqual(x.grad?.array, [5, 5])
    }

    func testBackwardWithSeedAndSeveralOutputs() {
        let g = Graph()
        let x = Variable(Tensor(shape: [2], values: [1, 2]), requiresGrad: true)
        let a = g.scale(x, 2), b = g.square(x)
        a.gradient().add(Tensor(shape: [2], values: [1, 1]))
        b.gradient().add(Tensor(shape: [2], values: [1, 0]))
        g.backwardFromSeeded()
        XCTAssertEqual(x.grad?.array, [2 + 2, 2])
    }
}
