import XCTest
import TensorEngine
import Verification

/// One test per reference fixture of the engine ops (README 3.1), through the same runner as `kp2d-tui verify`.
final class EngineOpFixtureTests: XCTestCase {
    func run(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        guard let path = FixtureLocator.path(name, anchor: #filePath) else {
            throw XCTSkip("fixtures not found: \(name).safetensors is not in $KP2D_FIXTURES or ../shared/fixtures")
        }
        let (report, error) = FixtureRunner.run(path: path)
        guard let report else { XCTFail("\(name): \(error ?? "no report")", file: file, line: line); return }
        for r in report.results where !r.passed {
            XCTFail("\(name) \(r.name): max_abs \(r.maxAbsError) max_rel \(r.maxRelError) \(r.note)", file: file, line: line)
        }
        for e in report.errors { XCTFail("\(name): \(e)", file: file, line: line) }
        XCTAssertTrue(report.passed, "\(name) failed", file: file, line: line)
        XCTAssertFalse(report.results.isEmpty, file: file, line: line)
    }

    func testGridSampleBilinear() throws { try run("op.grid_sample_bilinear") }
    func testGridSampleNearest() throws { try run("op.grid_sample_nearest") }
    func testInstanceNorm() throws { try run("op.instance_norm") }
    func testL2Normalize() throws { try run("op.l2_normalize") }
    func testTripletMarginLoss() throws { try run("op.triplet_margin_loss") }
    func testMSELoss() throws { try run("op.mse_loss") }
    func testDescriptorDistance() throws { try run("op.descriptor_distance") }

    func testBilinearFixtureChecksBothGradients() throws {
        guard let path = FixtureLocator.path("op.grid_sample_bilinear", anchor: #filePath) else {
            throw XCTSkip("fixtures not found: op.grid_sample_bilinear.safetensors")
        }
        let names = FixtureRunner.run(path: path).report?.results.map { $0.name } ?? []
        XCTAssertEqual(Set(names), ["out.y", "grad.in.input", "grad.in.grid"])
    }
}
