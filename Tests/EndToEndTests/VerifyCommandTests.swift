import Foundation
import ProcessSupport
import XCTest

/// `kp2d-tui verify` as a user runs it: every reference fixture passes, and bad input fails clearly.
final class VerifyCommandTests: XCTestCase {
    func testEveryFixturePasses() throws {
        guard let dir = Binary.fixturesDir else {
            throw XCTSkip("FIXTURES NOT FOUND: ../shared/fixtures is missing and KP2D_FIXTURES is unset; the fixture checks did not run")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".safetensors") }.sorted()
        XCTAssertFalse(files.isEmpty)
        let r = try Binary.run(["verify", "--quiet"] + files.map { "\(dir)/\($0)" })
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("\(files.count) passed, 0 failed"), r.stdout)
    }

    func testMissingFileFailsWithItsName() throws {
        let r = try Binary.run(["verify", "/nonexistent/op.relu.safetensors"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.contains("/nonexistent/op.relu.safetensors"), r.stdout)
        XCTAssertTrue(r.stdout.contains("0 passed, 1 failed"), r.stdout)
    }

    func testTruncatedFileIsReportedAsCorrupt() throws {
        guard let dir = Binary.fixturesDir else { throw XCTSkip("FIXTURES NOT FOUND") }
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/op.relu.safetensors"))
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("trunc-\(getpid()).safetensors")
        try data.prefix(data.count / 2).write(to: tmp)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let r = try Binary.run(["verify", tmp.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.contains("not a valid safetensors file"), r.stdout)
    }
}
