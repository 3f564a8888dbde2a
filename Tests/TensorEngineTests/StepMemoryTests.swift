import XCTest
import TensorEngine

/// Graph.backwardReleasingTape: the same gradients as backward, and activations freed as the tape is consumed.
final class GraphReleaseTests: XCTestCase {
    /// y = sum(leakyReLU(x * w) * 3) with the intermediate tensors reachable only through the tape.
    private func build(_ g: Graph, _ x: Variable, _ w: Variable) -> (loss: Variable, intermediate: Tensor) {
        let h = g.mul(x, w)
        let a = g.leakyReLU(h)
        return (g.sum(g.scale(a, 3)), h.value)
    }

    func testSameGradientsAndTapeEmptied() {
        let x = Variable(Tensor(shape: [4], values: [1, -2, 3, -4]), requiresGrad: true)
        let w = Variable(Tensor(shape: [4], values: [0.5, 0.5, -1, 2]), requiresGrad: true)
        let g1 = Graph()
        g1.backward(build(g1, x, w).loss)
        let (gx, gw) = (x.grad!.array, w.grad!.array)
        x.zeroGrad(); w.zeroGrad()
        let g2 = Graph()
        g2.backwardReleasingTape(build(g2, x, w).loss)
        XCTAssertEqual(x.grad!.array, gx)
        XCTAssertEqual(w.grad!.array, gw)
        XCTAssertEqual(g2.count, 0, "the tape is consumed")
        XCTAssertEqual(g1.count, 4, "plain backward keeps the tape")
    }

    func testActivationsAreFreedDuringBackward() {
        let x = Variable(Tensor(shape: [3], values: [1, 2, 3]), requiresGrad: true)
        let w = Variable(Tensor(shape: [3], values: [2, -1, 1]), requiresGrad: true)
        weak var kept: Tensor?, released: Tensor?
        let g1 = Graph(), g2 = Graph()
        do {
            let (l1, h1) = build(g1, x, w)
            let (l2, h2) = build(g2, x, w)
            kept = h1; released = h2
            g1.backward(l1)
            g2.backwardReleasingTape(l2)
        }
        XCTAssertNotNil(kept, "backward keeps the activations until reset")
        XCTAssertNil(released, "backwardReleasingTape frees them")
        g1.reset()
        XCTAssertNil(kept)
    }
}

/// dropout2dInPlace: the values, draws and gradient of dropout2d, written into the input's storage.
final class DropoutInPlaceTests: XCTestCase {
    func testSameValuesDrawsAndGradientAsDropout2d() {
        var data = [Float](); for i in 0..<(3 * 4 * 5) { data.append(Float(i % 7) - 3) }
        let seed = Tensor(shape: [3, 4, 5], values: data.map { $0 * 0.5 + 1 })
        func run(_ inPlace: Bool) -> (y: [Float], dx: [Float], sharesStorage: Bool) {
            let x = Variable(Tensor(shape: [3, 4, 5], values: data), requiresGrad: true)
            let g = Graph()
            let h = g.scale(x, 2)          // an op output, as in KeypointNet
            var rng = SeededRandom(seed: 11)
            let y = inPlace ? g.dropout2dInPlace(h, p: 0.5, training: true, rng: &rng)
                            : g.dropout2d(h, p: 0.5, training: true, rng: &rng)
            let values = y.value.array
            g.backward(y, seed: seed)
            return (values, x.grad!.array, y.value.storage === h.value.storage)
        }
        let (a, b) = (run(false), run(true))
        XCTAssertEqual(b.y, a.y)
        XCTAssertEqual(b.dx, a.dx)
        XCTAssertTrue(a.y.contains(0) && a.y.contains { $0 != 0 }, "some channels dropped, some kept")
        XCTAssertFalse(a.sharesStorage)
        XCTAssertTrue(b.sharesStorage, "in place: no second tensor")
    }
}
