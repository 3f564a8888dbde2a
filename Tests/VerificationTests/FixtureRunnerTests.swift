import TestSupport
import Verification
import XCTest

/// Every reference fixture (official PyTorch values) through the same runner as `kp2d-tui verify`: each tensor
/// must pass its tolerance, and each file must check at least the tensors named here.
final class FixtureRunnerTests: XCTestCase {
    /// Run fixture `name`; fail per tensor out of tolerance; returns the report's results.
    @discardableResult
    func run(_ name: String, atLeast minimum: Int = 1, file: StaticString = #filePath, line: UInt = #line) throws -> [CheckResult] {
        let path = try requireFixture(name)
        let (report, error) = FixtureRunner.run(path: path)
        guard let report else { XCTFail("\(name): \(error ?? "no report")", file: file, line: line); return [] }
        for r in report.results where !r.passed {
            XCTFail("\(name) \(r.name): max_abs \(r.maxAbsError) max_rel \(r.maxRelError) \(r.note)", file: file, line: line)
        }
        for e in report.errors { XCTFail("\(name): \(e)", file: file, line: line) }
        XCTAssertTrue(report.passed, "\(name) failed", file: file, line: line)
        XCTAssertGreaterThanOrEqual(report.results.count, minimum, "\(name): too few tensors checked", file: file, line: line)
        return report.results
    }

    // Engine ops
    func testConv2d3x3Bias() throws { try run("op.conv2d_3x3_bias") }
    func testConv2d3x3NoBias() throws { try run("op.conv2d_3x3_nobias") }
    func testConv2d1x1() throws { try run("op.conv2d_1x1") }
    func testConv2d1x1NoBias() throws { try run("op.conv2d_1x1_nobias") }
    func testBatchNorm2dTrain() throws { try run("op.batchnorm2d_train") }
    func testBatchNorm2dTrainMomentum09() throws { try run("op.batchnorm2d_train_m0.9") }
    func testBatchNorm2dEval() throws { try run("op.batchnorm2d_eval") }
    func testReLU() throws { try run("op.relu") }
    func testLeakyReLU() throws { try run("op.leaky_relu") }
    func testSigmoid() throws { try run("op.sigmoid") }
    func testTanh() throws { try run("op.tanh") }
    func testMaxPool2d() throws { try run("op.maxpool2d") }
    func testPixelShuffle() throws { try run("op.pixel_shuffle") }
    func testGridSampleNearest() throws { try run("op.grid_sample_nearest") }
    func testInstanceNorm() throws { try run("op.instance_norm") }
    func testL2Normalize() throws { try run("op.l2_normalize") }
    func testTripletMarginLoss() throws { try run("op.triplet_margin_loss") }
    func testMSELoss() throws { try run("op.mse_loss") }
    func testDescriptorDistance() throws { try run("op.descriptor_distance") }
    func testGridSampleBilinearChecksBothGradients() throws {
        let names = try run("op.grid_sample_bilinear").map { $0.name }
        XCTAssertEqual(Set(names), ["out.y", "grad.in.input", "grad.in.grid"])
    }

    // Optimizer: 3 steps x 2 parameters + 4 moments
    func testAdam() throws { try run("op.adam", atLeast: 10) }

    // Model and training step
    func testKeypointNetTrain() throws { try run("keypointnet.train") }
    func testKeypointNetEval() throws { try run("keypointnet.eval") }
    func testKeypointNetFullEval() throws { try run("keypointnet.full_eval") }
    func testKP2DTrainStep() throws { try run("kp2d.train_step") }

    // Evaluation and geometry
    func testEvalMetrics() throws { try run("eval.metrics", atLeast: 14) }
    func testHomographyDLT() throws { try run("homography.dlt") }
}
