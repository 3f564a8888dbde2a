import KP2D
import Verification
import XCTest

/// Runs the three KeypointNet reference fixtures (official PyTorch values) through FixtureRunner.
final class KeypointNetFixtureTests: XCTestCase {
    private func run(_ name: String) throws {
        guard let path = FixtureLocator.path(name, anchor: #filePath) else {
            throw XCTSkip("fixtures not found: \(name).safetensors (set KP2D_FIXTURES to the fixtures folder)")
        }
        let (report, error) = FixtureRunner.run(path: path)
        guard let report else { return XCTFail("\(name): \(error ?? "could not load")") }
        for r in report.results where !r.passed {
            print(String(format: "FAIL %@ %@ max_abs %.3e max_rel %.3e %@", name, r.name, r.maxAbsError, r.maxRelError, r.note))
        }
        for e in report.errors { print("ERROR \(name): \(e)") }
        let worst = report.results.filter { $0.passed && $0.note.hasPrefix("via") }.map { "\($0.name): \($0.note)" }
        if !worst.isEmpty { print("\(name) passed via fallback: \(worst.joined(separator: "; "))") }
        print("\(name): \(report.results.filter { $0.passed }.count)/\(report.results.count) tensors pass")
        XCTAssertTrue(report.passed, "\(name): \(report.results.filter { !$0.passed }.map { $0.name }) \(report.errors)")
    }

    func testTrainFixture() throws { try run("keypointnet.train") }
    func testEvalFixture() throws { try run("keypointnet.eval") }
    func testFullEvalFixture() throws { try run("keypointnet.full_eval") }
}
