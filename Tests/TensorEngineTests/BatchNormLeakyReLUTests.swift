import XCTest
@testable import TensorEngine

/// The fused batchNormLeakyReLU against its naive twin, leakyReLU(batchNorm2d(...)): outputs, running
/// statistics and all gradients must agree bit for bit (values compared with ==, sign of zero aside).
final class BatchNormLeakyReLUTests: XCTestCase {
    private func random(_ shape: [Int], _ rng: inout SeededRandom, zeros: Bool = false) -> Tensor {
        let t = Tensor(shape: shape)
        for i in 0..<t.count { t.data[i] = zeros && i % 7 == 0 ? 0 : Float(rng.normal()) }
        return t
    }

    private struct Run { var y: [Float]; var dx: [Float]; var dw: [Float]; var db: [Float]; var rm: [Float]; var rv: [Float] }

    private func run(fused: Bool, training: Bool, shape: [Int], seed: UInt64) -> Run {
        var rng = SeededRandom(seed: seed)
        let c = shape[1]
        let x = Variable(random(shape, &rng, zeros: true), requiresGrad: true)
        let weight = Variable(random([c], &rng), requiresGrad: true)
        let bias = Variable(random([c], &rng), requiresGrad: true)
        let runningMean = random([c], &rng)
        let runningVar = Tensor(shape: [c])
        for i in 0..<c { runningVar.data[i] = Float(rng.uniform(0.5, 2)) }
        let seedGrad = random(shape, &rng, zeros: true)
        let g = Graph()
        let y = fused
            ? g.batchNormLeakyReLU(x, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                                   training: training, momentum: 0.1, slope: 0.01)
            : g.leakyReLU(g.batchNorm2d(x, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                                        training: training, momentum: 0.1), slope: 0.01)
        g.backward(y, seed: seedGrad)
        return Run(y: y.value.array, dx: x.grad!.array, dw: weight.grad!.array, db: bias.grad!.array,
                   rm: runningMean.array, rv: runningVar.array)
    }

    func testFusedMatchesComposite() {
        // hw = 37*41 = 1517: several 1024-blocks, a tail that is not a multiple of 8.
        for shape in [[2, 3, 37, 41], [1, 5, 4, 4], [3, 2, 1, 9]] {
            for training in [true, false] {
                let a = run(fused: true, training: training, shape: shape, seed: 7)
                let b = run(fused: false, training: training, shape: shape, seed: 7)
                let what = "shape \(shape) training \(training)"
                XCTAssertEqual(a.y, b.y, "y, \(what)")
                XCTAssertEqual(a.dx, b.dx, "dx, \(what)")
                XCTAssertEqual(a.dw, b.dw, "dweight, \(what)")
                XCTAssertEqual(a.db, b.db, "dbias, \(what)")
                XCTAssertEqual(a.rm, b.rm, "running mean, \(what)")
                XCTAssertEqual(a.rv, b.rv, "running var, \(what)")
                XCTAssertTrue(a.dx.contains { $0 != 0 } && a.y.contains { $0 < 0 } && a.y.contains { $0 > 0 })
            }
        }
    }
}
