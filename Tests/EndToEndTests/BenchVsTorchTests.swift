import Foundation
import ProcessSupport
import XCTest

/// scripts/bench-vs-torch without PyTorch says so in one line and measures nothing; `bench trainstep`
/// rows carry the peak RSS the script compares.
final class BenchVsTorchTests: XCTestCase {
    /// Runs scripts/bench-vs-torch through bash with extra environment.
    func runScript(_ args: [String], env: [String: String]) throws -> Binary.Result {
        try Binary.run(executable: "/bin/bash", ["\(Binary.repoRoot)/scripts/bench-vs-torch"] + args, env: env)
    }

    func testMissingPythonIsOneLineAndNoNumbers() throws {
        let r = try runScript(["--repeats", "1"], env: ["KP2D_TORCH_PYTHON": "/nonexistent/python3"])
        XCTAssertEqual(r.status, 3)
        XCTAssertEqual(r.stdout, "", "nothing may be printed on stdout, least of all old numbers")
        let lines = r.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("python3 not found"), r.stderr)
        XCTAssertTrue(r.stderr.contains("pip install torch==2.13.0"), r.stderr)
    }

    func testPythonWithoutTorchIsOneLine() throws {
        // /bin/false stands in for a Python that cannot import torch: `/bin/false -c 'import torch'` fails.
        let r = try runScript([], env: ["KP2D_TORCH_PYTHON": "/bin/false"])
        XCTAssertEqual(r.status, 3)
        XCTAssertEqual(r.stdout, "")
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("PyTorch is not installed for /bin/false"), r.stderr)
    }

    func testHelpNeedsNoPython() throws {
        let r = try runScript(["--help"], env: ["KP2D_TORCH_PYTHON": "/nonexistent/python3"])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.contains("--repeats N"), r.stdout)
        XCTAssertTrue(r.stdout.contains(".venv-torch"), r.stdout)
    }

    func testTrainStepRowsReportPeakRSS() throws {
        // Paper widths at a small size (160x160 has 400 cells >= the 300 IO points), one timed step.
        let r = try Binary.run(["bench", "--only", "trainstep", "--json", "--batch", "2", "--height", "160",
                                "--width", "160", "--repeats", "1", "--warmup", "0"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(r.stdout.split(separator: "\n").last(where: { $0.hasPrefix("{") }))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let sections = try XCTUnwrap(object["sections"] as? [String: Any])
        let trainstep = try XCTUnwrap(sections["trainstep"] as? [String: Any])
        let rows = try XCTUnwrap(trainstep["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.count, 1)
        let rss = try XCTUnwrap(rows[0]["peak_rss_mb"] as? Double ?? (rows[0]["peak_rss_mb"] as? Int).map(Double.init))
        // A paper-width model with Adam state alone is 5.3 M parameters x 4 copies x 4 bytes = 85 MB.
        XCTAssertGreaterThan(rss, 85)
        XCTAssertLessThan(rss, 24 * 1024)
    }
}
