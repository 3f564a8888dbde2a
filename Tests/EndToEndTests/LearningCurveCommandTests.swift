import Foundation
import XCTest

/// `kp2d-tui learning-curve` end to end: the rows, and the files a run with --checkpoint leaves.
final class LearningCurveCommandTests: TempDirTestCase {
    /// Three textured PPM images (120x90).
    func makeData() throws -> String {
        let dir = try tempDir("lc-data")
        let w = 120, h = 90
        for i in 0..<3 {
            var bytes = [UInt8]("P6\n\(w) \(h)\n255\n".utf8)
            for y in 0..<h { for x in 0..<w { for c in 0..<3 {
                let v = 0.5 + 0.3 * sin(Double(x) * 0.3 + Double(i + c)) * cos(Double(y) * 0.23 - Double(c)) + (((x / 15) + (y / 15)) % 2 == 0 ? 0.15 : -0.15)
                bytes.append(UInt8(max(0, min(255, v * 255))))
            } } }
            FileManager.default.createFile(atPath: dir + "/img\(i).ppm", contents: Data(bytes))
        }
        return dir
    }

    /// With --checkpoint the per-step log goes beside it, as `train --headless` writes it (the help says so);
    /// --log still chooses another file; without --checkpoint nothing is written.
    func testCheckpointRunWritesTheStepLogBesideIt() throws {
        let data = try makeData()
        let out = try tempDir("lc-out")
        // One sequence of the bundled mini set (5 pairs) keeps the evaluations short.
        let heldout = try tempDir("lc-heldout")
        let seq = try FileManager.default.contentsOfDirectory(atPath: Binary.repoRoot + "/sample-data/hpatches").sorted().first { $0.hasPrefix("v_") }
        try FileManager.default.createSymbolicLink(atPath: heldout + "/" + XCTUnwrap(seq),
                                                   withDestinationPath: Binary.repoRoot + "/sample-data/hpatches/" + XCTUnwrap(seq))
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
