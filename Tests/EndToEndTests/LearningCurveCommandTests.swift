import Foundation
import ProcessSupport
import XCTest

/// `kp2d-tui learning-curve` end to end: the rows, and the files a run with --checkpoint leaves.
final class LearningCurveCommandTests: TempDirTestCase {
    /// Three textured PPM images (120x90).
    func makeData() throws -> String { try texturedImages(3, tag: "lc-data") }

    /// One sequence of the bundled mini set (5 pairs) keeps the evaluations short.
    func oneSequenceHeldout() throws -> String {
        let heldout = try tempDir("lc-heldout")
        let seq = try FileManager.default.contentsOfDirectory(atPath: Binary.repoRoot + "/sample-data/hpatches").sorted().first { $0.hasPrefix("v_") }
        try FileManager.default.createSymbolicLink(atPath: heldout + "/" + XCTUnwrap(seq),
                                                   withDestinationPath: Binary.repoRoot + "/sample-data/hpatches/" + XCTUnwrap(seq))
        return heldout
    }

    /// SIGTERM mid-run: the step finishes, the checkpoint is written at that step, a last row evaluates it, exit 0.
    func testSigtermSavesAndEndsWithARow() throws {
        let data = try makeData()
        let heldout = try oneSequenceHeldout()
        let out = try tempDir("lc-term")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try Binary.path())
        p.arguments = ["learning-curve", "--data", data, "--heldout", heldout, "--steps", "100000", "--eval-every", "100000",
                       "--batch-size", "1", "--no-training-size", "--checkpoint", out + "/ck.safetensors", "--checkpoint-every", "0",
                       "--out", out + "/rows.jsonl"]
        p.currentDirectoryURL = URL(fileURLWithPath: out)
        p.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let log = out + "/metrics.jsonl"
        let deadline = Date().addingTimeInterval(300)
        func steps() -> Int { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").count }
        while steps() < 2 && p.isRunning && Date() < deadline { usleep(50_000) }
        XCTAssertTrue(p.isRunning, "learning-curve ended before the signal")
        kill(p.processIdentifier, SIGTERM)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .exit, stderr)
        XCTAssertEqual(p.terminationStatus, 0, stderr)
        XCTAssertTrue(stderr.contains("received SIGTERM"), stderr)
        let n = steps()
        XCTAssertTrue(stderr.contains("saved step \(n) to"), stderr)
        let rows = try String(contentsOfFile: out + "/rows.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.count, 2, "\(rows)")
        XCTAssertTrue(rows.last?.contains("\"step\":\(n),") ?? false, String(rows.last ?? ""))
    }

    /// With --checkpoint the per-step log goes beside it, as `train --headless` writes it (the help says so);
    /// --log still chooses another file; without --checkpoint nothing is written.
    func testCheckpointRunWritesTheStepLogBesideIt() throws {
        let data = try makeData()
        let out = try tempDir("lc-out")
        let heldout = try oneSequenceHeldout()
        let common = ["learning-curve", "--data", data, "--heldout", heldout, "--steps", "2", "--eval-every", "2",
                      "--batch-size", "1", "--no-training-size", "--json"]
        var r = try Binary.run(common + ["--checkpoint", out + "/a/ck.safetensors"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout.split(separator: "\n").count, 2, r.stdout)   // rows at step 0 and 2
        let log = try String(contentsOfFile: out + "/a/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(log.count, 2)
        XCTAssertTrue(log[1].contains("\"step\":2") && log[1].contains("\"loc\""), String(log[1]))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/a/ck.safetensors"))

        r = try Binary.run(common + ["--checkpoint", out + "/b/ck.safetensors", "--log", out + "/b-log.jsonl"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/b/metrics.jsonl"))
        XCTAssertEqual(try String(contentsOfFile: out + "/b-log.jsonl", encoding: .utf8).split(separator: "\n").count, 2)

        let before = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        r = try Binary.run(common, cwd: out)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).sorted(), before)
    }
}
