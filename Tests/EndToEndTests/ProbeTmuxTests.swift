import Foundation
import ProcessSupport
import XCTest

/// The workbench with the fixed probe batch on (its default): the legend and the probe values appear, and the
/// probe's records (step 0 first) land in the run's metrics log beside the steps.
final class ProbeTmuxTests: TmuxTestCase {
    override var workDirTag: String { "probe" }

    func testWorkbenchDrawsAndLogsTheProbe() throws {
        let bin = try Binary.path()
        let t = try startTmux()
        let ck = workDir + "/run/checkpoint.safetensors"
        // Validation off (it is slow and not what this test is about); the probe every 2 steps, 4 pairs.
        let script = "cd \(q(workDir)) && TERM=xterm-256color \(q(bin)) --checkpoint \(q(ck)) --steps 6 --batch-size 1 "
            + "--validate-every 0 --probe-every 2 --probe-pairs 4; echo EXIT=$? > exit.txt; sleep 600"
        try t.newSession(width: 200, height: 60, command: "sh -c \(q(script))")
        let screen = try t.waitFor("the probe's values in the chart titles", timeout: 180) {
            $0.contains("FINISHED") && $0.range(of: #"total -?[0-9.]+ ema -?[0-9.]+ probe -?[0-9.]+"#, options: .regularExpression) != nil
        }
        XCTAssertTrue(screen.contains("probe: 4 fixed pairs, eval mode"), screen)
        XCTAssertTrue(screen.range(of: #"L_loc -?[0-9.]+ ema -?[0-9.]+ probe -?[0-9.]+"#, options: .regularExpression) != nil, screen)
        try t.send("q")
        XCTAssertEqual(waitForExitFile(timeout: 60), "EXIT=0")
        let lines = try String(contentsOfFile: workDir + "/run/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let objects = try lines.map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(objects.filter { $0["kind"] == nil }.compactMap { $0["step"] as? Int }, Array(1...6))
        let probes = objects.filter { $0["kind"] as? String == "probe" }
        XCTAssertEqual(probes.first?["step"] as? Int, 0, "the first probe is the untrained weights")
        XCTAssertTrue(probes.allSatisfy { $0["pairs"] as? Int == 4 })
        XCTAssertGreaterThanOrEqual(probes.count, 2)
    }
}
