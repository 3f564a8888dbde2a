import XCTest
import Verification
import TensorEngine

/// The tolerance rules of the fixture README section 1.4.
final class ComparisonTests: XCTestCase {
    func testElementwiseRuleIsAllclose() {
        let rule = ToleranceRule(abs: 1e-5, rel: 1e-4)
        XCTAssertTrue(Comparison.compare(name: "a", actual: [1.0, 100.0], expected: [1.00001, 100.009], rule: rule).passed)
        XCTAssertFalse(Comparison.compare(name: "a", actual: [1.0, 100.0], expected: [1.0, 100.02], rule: rule).passed)
    }

    func testRelL2FallbackOnlyWhenGiven() {
        // One element badly off (a rerouted max-pool gradient), the rest exact: rel-L2 = 0.01.
        var e = [Float](repeating: 1, count: 10_000)
        var a = e
        a[0] = 2
        e[0] = 1
        let strict = ToleranceRule(abs: 1e-5, rel: 1e-4)
        XCTAssertFalse(Comparison.compare(name: "g", actual: a, expected: e, rule: strict).passed)
        let loose = ToleranceRule(abs: 1e-5, rel: 1e-4, maxRelL2: 0.02)
        let r = Comparison.compare(name: "g", actual: a, expected: e, rule: loose)
        XCTAssertTrue(r.passed)
        XCTAssertTrue(r.note.contains("fallback"))
    }

    func testNonFiniteAndCountMismatchFail() {
        let rule = ToleranceRule(abs: 1, rel: 1, maxRelL2: 1)
        XCTAssertFalse(Comparison.compare(name: "n", actual: [.nan], expected: [0], rule: rule).passed)
        XCTAssertFalse(Comparison.compare(name: "n", actual: [0, 0], expected: [0], rule: rule).passed)
    }

    func testUnknownKindIsReportedNotSkipped() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kp2d-verif-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("x.safetensors").path
        let meta = #"{"kind": "op.does_not_exist", "version": 1, "config": {}, "tolerance": {"abs": 1e-5, "rel": 1e-4}, "notes": ""}"#
        try SafeTensors.write([("out.y", .f32(shape: [1], values: [0]))], metadata: ["kp2d_fixture": meta], to: path)
        let (report, error) = FixtureRunner.run(path: path)
        XCTAssertNil(error)
        XCTAssertEqual(report?.passed, false)
        XCTAssertTrue(report?.errors.first?.contains("unknown fixture kind 'op.does_not_exist'") ?? false)
    }

    func testNotAFixtureGivesClearError() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("plain-\(getpid()).safetensors").path
        try SafeTensors.write([("w", .f32(shape: [2], values: [1, 2]))], to: path)
        let (report, error) = FixtureRunner.run(path: path)
        XCTAssertNil(report)
        XCTAssertTrue(error?.contains("not a KP2D fixture") ?? false, error ?? "")
    }
}
