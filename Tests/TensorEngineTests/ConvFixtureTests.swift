import XCTest
import Verification

/// One test per reference fixture of the convolutional core: `FixtureRunner` must pass every tensor.
final class ConvFixtureTests: XCTestCase {
    func run(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        guard let path = FixtureLocator.path(name, anchor: #filePath) else {
            throw XCTSkip("fixtures not found: \(name).safetensors is neither in $KP2D_FIXTURES nor in ../shared/fixtures")
        }
        let (report, error) = FixtureRunner.run(path: path)
        guard let report else { return XCTFail("\(name): \(error ?? "no report")", file: file, line: line) }
        for r in report.results where !r.passed {
            print("FAIL \(name) \(r.name): max_abs \(r.maxAbsError) max_rel \(r.maxRelError) \(r.note)")
        }
        for e in report.errors { print("FAIL \(name): \(e)") }
        XCTAssertTrue(report.passed, "\(name): \(report.results.filter { !$0.passed }.map(\.name)) \(report.errors)", file: file, line: line)
    }

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
}
