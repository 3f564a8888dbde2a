import Foundation
import ProcessSupport
import XCTest

/// The fixed probe batch end to end: `--probe-every` in a headless run, its records in the metrics log beside
/// the step records, a resume that keeps them, `snapshot` drawing them, bad values refused.
final class ProbeCommandTests: TempDirTestCase {
    private func records(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], String($0))
        }
    }

    func testHeadlessProbeLogsResumesAndSnapshotDrawsIt() throws {
        let dir = try tempDir("probe")
        let data = Binary.repoRoot + "/sample-data/train"
        let ck = dir + "/run/checkpoint.safetensors", log = dir + "/run/metrics.jsonl"
        var r = try Binary.run(["train", "--headless", data, "--steps", "6", "--batch-size", "1", "--probe-every", "2",
                                "--probe-pairs", "2", "--checkpoint", ck, "--progress-every", "3"], cwd: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("probe: 2 fixed training pairs, eval mode, every 2 steps"), r.stderr)
        XCTAssertTrue(r.stderr.contains("probe at step 0 (2 pairs, eval mode"), r.stderr)
        var all = try records(log)
        var steps = all.filter { $0["kind"] == nil }.compactMap { $0["step"] as? Int }
        var probes = all.filter { $0["kind"] as? String == "probe" }
        XCTAssertEqual(steps, Array(1...6))
        XCTAssertGreaterThanOrEqual(probes.count, 1)
        XCTAssertEqual(probes.first?["step"] as? Int, 0)
        let firstProbes = probes.compactMap { $0["step"] as? Int }
        for p in probes {
            XCTAssertEqual(p["pairs"] as? Int, 2)
            let terms = try XCTUnwrap(p["terms"] as? [String: Any])
            for k in ["loc", "desc", "usp", "consistency", "io", "total", "recall"] { XCTAssertNotNil(terms[k], "probe record without \(k)") }
        }

        // Resume: the earlier probe records stay, new ones follow; the step records continue at 7.
        r = try Binary.run(["train", "--headless", "--resume", ck, "--steps", "9", "--probe-every", "2", "--probe-pairs", "2"], cwd: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        all = try records(log)
        steps = all.filter { $0["kind"] == nil }.compactMap { $0["step"] as? Int }
        probes = all.filter { $0["kind"] as? String == "probe" }
        XCTAssertEqual(steps, Array(1...9))
        let probeSteps = probes.compactMap { $0["step"] as? Int }
        XCTAssertEqual(Array(probeSteps.prefix(firstProbes.count)), firstProbes)
        XCTAssertGreaterThan(probeSteps.count, firstProbes.count, "the resumed run probes too")
        XCTAssertTrue(probeSteps.dropFirst(firstProbes.count).allSatisfy { $0 >= 6 && $0 <= 9 }, "\(probeSteps)")

        // snapshot draws the probe from the log.
        let snap = try Binary.run(["snapshot", "--run", dir + "/run", "--width", "160", "--height", "50"], cwd: dir)
        XCTAssertEqual(snap.status, 0, snap.stderr)
        XCTAssertTrue(snap.stdout.contains("probe: 2 fixed pairs, eval mode"), snap.stdout)
        XCTAssertTrue(snap.stdout.contains(" probe "), snap.stdout)

        // Without --probe-* a headless run logs no probe (scripts keep their timing and their log).
        r = try Binary.run(["train", "--headless", data, "--steps", "1", "--batch-size", "1", "--checkpoint", dir + "/plain/ck.safetensors"], cwd: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(try String(contentsOfFile: dir + "/plain/metrics.jsonl", encoding: .utf8).contains("\"kind\""))
    }

    func testBadProbeOptionsAreOneClearLine() throws {
        let dir = try tempDir("probe-bad")
        for (args, message) in [(["--probe-pairs=-1"], "--probe-pairs -1: must be 0 (no probe) to 256"),
                                (["--probe-pairs", "1000"], "--probe-pairs 1000: must be 0 (no probe) to 256"),
                                (["--probe-every=-2"], "--probe-every must be >= 0")] {
            let r = try Binary.run(["train", "--headless", Binary.repoRoot + "/sample-data/train", "--steps", "1"] + args, cwd: dir)
            XCTAssertNotEqual(r.status, 0)
            XCTAssertTrue(r.stderr.contains(message), r.stderr)
        }
    }
}
