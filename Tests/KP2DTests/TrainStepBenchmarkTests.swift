import XCTest
@testable import KP2D
import TensorEngine

/// The training-step benchmark: a small case always; the paper cases (full widths, 240x320, batch 8
/// and 2) only with KP2D_BENCH=1 (they take tens of seconds per step on this machine).
final class TrainStepBenchmarkTests: XCTestCase {
    func testSmallCaseRunsAndReportsFiniteTimings() {
        var config = KeypointNetConfig()
        (config.c1, config.c2, config.c3, config.c4, config.c5, config.d1, config.descriptorDim) = (8, 16, 32, 64, 64, 128, 64)
        config.withDrop = false
        let small = TrainStepBenchmark.Case(name: "small b2 128x192", config: config, batch: 2, height: 128, width: 192)
        let r = TrainStepBenchmark.run(small, steps: 2, warmup: 1)
        print(r.summary)
        XCTAssertTrue(r.secondsPerStep.isFinite && r.secondsPerStep > 0)
        XCTAssertTrue(r.lastTerms.total.isFinite)
        XCTAssertTrue(r.lastTerms.loc > 0 && r.lastTerms.desc > 0)
        XCTAssertEqual(r.steps, 2)
    }

    func testSyntheticPairIsAWarpOfTheTarget() {
        var rng = SeededRandom(seed: 4)
        let (image, aug, hom) = TrainStepBenchmark.syntheticPair(batch: 2, height: 64, width: 96, rng: &rng)
        XCTAssertEqual(image.shape, [2, 3, 64, 96])
        XCTAssertEqual(aug.shape, image.shape)
        XCTAssertEqual(hom.shape, [2, 3, 3])
        XCTAssertTrue(image.array.allSatisfy { $0 >= 0 && $0 <= 1 })
        // Source pixel (48, 32) samples the target bilinearly at H applied to its normalised position.
        let sx: Float = 48, sy: Float = 32
        let xn = sx / (95 / 2) - 1, yn = sy / (63 / 2) - 1
        let w = hom[0, 2, 0] * xn + hom[0, 2, 1] * yn + hom[0, 2, 2]
        let u = (hom[0, 0, 0] * xn + hom[0, 0, 1] * yn + hom[0, 0, 2]) / w
        let v = (hom[0, 1, 0] * xn + hom[0, 1, 1] * yn + hom[0, 1, 2]) / w
        let x = (u + 1) * 95 / 2, y = (v + 1) * 63 / 2
        let (x0, y0) = (Int(x.rounded(.down)), Int(y.rounded(.down)))
        let (fx, fy) = (x - Float(x0), y - Float(y0))
        var expected: Float = 0
        for (dy, wy) in [(0, 1 - fy), (1, fy)] {
            for (dx, wx) in [(0, 1 - fx), (1, fx)] {
                let (yy, xx) = (y0 + dy, x0 + dx)
                if yy >= 0 && yy < 64 && xx >= 0 && xx < 96 { expected += wx * wy * image[0, 0, yy, xx] }
            }
        }
        XCTAssertEqual(aug[0, 0, 32, 48], expected, accuracy: 1e-4)
    }

    func testPaperCases() throws {
        guard ProcessInfo.processInfo.environment["KP2D_BENCH"] == "1" else {
            throw XCTSkip("set KP2D_BENCH=1 to time the paper training step (batch 8 and 2, 240x320)")
        }
        for c in [TrainStepBenchmark.Case.paperBatch2, TrainStepBenchmark.Case.paper] {
            let r = TrainStepBenchmark.run(c, steps: 2, warmup: 1)
            print(r.summary)
            XCTAssertTrue(r.lastTerms.total.isFinite)
        }
    }
}
