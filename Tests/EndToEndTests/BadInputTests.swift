import Foundation
import ProcessSupport
import XCTest

/// Issue 13, crashes, silent wrong results and unclear messages: each bad input ends with one clear line
/// naming the file or flag and the fix, and a non-zero exit.
final class BadInputTests: TempDirTestCase {

    func sampleJPEG() throws -> String {
        let dir = Binary.repoRoot + "/sample-data/train"
        let name = try FileManager.default.contentsOfDirectory(atPath: dir).sorted().first { $0.hasSuffix(".jpg") }
        return dir + "/" + (try XCTUnwrap(name))
    }

    func firstLine(_ s: String) -> String { String(s.split(separator: "\n").first ?? "") }

    func assertFails(_ args: [String], _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try Binary.run(args)
        XCTAssertNotEqual(r.status, 0, "\(args) exited 0", file: file, line: line)
        XCTAssertTrue(firstLine(r.stderr).contains(expected), "\(args): \(r.stderr)", file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Fatal error") || r.stderr.contains("backtrace"), r.stderr, file: file, line: line)
    }

    /// A one-step run: its checkpoint and weights export.
    func trainedRun() throws -> (dir: String, ck: String, weights: String) {
        let dir = try tempDir("run")
        let r = try Binary.run(["train", "--headless", "--steps", "1", "--batch-size", "1", "--checkpoint", dir + "/ck.safetensors"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return (dir, dir + "/ck.safetensors", dir + "/ck.keypointnet.safetensors")
    }

    // 8. Sizes are bounded by memory (and overflow) before anything is allocated.
    func testHugeSizesAreOneLineErrors() throws {
        let dir = try tempDir("sizes")
        try assertFails(["train", "--headless", "--size", "100000x100000"], "more than this machine's")
        try assertFails(["train", "--headless", "--size", "9223372036854775800x8"], "integer overflow")
        try assertFails(["train", "--headless", "--batch-size", "100000000"], "with batch 100000000 needs at least")
        try assertFails(["eval", "--hpatches", "sample-data/hpatches", "--weights", "x", "--size", "100000x100000"], "--size 100000x100000 needs at least")
        try assertFails(["detect", "--weights", "x", "x.png", "--size", "100000x100000"], "--size 100000x100000 needs at least")
        try assertFails(["make-sequences", "x.png", "--out", dir, "--size", "100000x100000"], "--size 100000x100000 needs at least")
        try assertFails(["snapshot", "--run", dir, "--width", "100000"], "--width 100000: at most")
        try assertFails(["bench", "--sgemm-size", "1000000"], "--sgemm-size 1000000 needs at least")
    }

    // A flag check inside a subcommand's run() shows that subcommand's usage, not the root's.
    func testFlagErrorsAfterParsingShowTheSubcommandsUsage() throws {
        let r = try Binary.run(["eval", "--hpatches", "sample-data/hpatches", "--weights", "x", "--top-k", "0"])
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertEqual(firstLine(r.stderr), "Error: --top-k must be positive")
        XCTAssertTrue(r.stderr.contains("Usage: kp2d-tui eval --hpatches"), r.stderr)
        XCTAssertTrue(r.stderr.contains("See 'kp2d-tui eval --help'"), r.stderr)
        XCTAssertFalse(r.stderr.contains("kp2d-tui <subcommand>"), r.stderr)
    }

    /// A negative number after a numeric training flag is a value to validate, not a "missing value" (ArgumentParser
    /// reads a leading minus as another option unless the option parses unconditionally).
    func testNegativeNumbersReachValidation() throws {
        for (flags, message) in [(["--steps", "-1"], "--steps -1: must be at least 1"),
                                 (["--minutes", "-1"], "--minutes -1: must be a positive number"),
                                 (["--epochs", "-2"], "--epochs -2: must be at least 1"),
                                 (["--batch-size", "-1"], "--batch-size -1: must be at least 1"),
                                 (["--warmup", "-5"], "--warmup -5: must be 0"),
                                 (["--io-points", "-3"], "--io-points -3: must be at least 1"),
                                 (["--checkpoint-every", "-1"], "--checkpoint-every -1: must be 0"),
                                 (["--patch-ratio", "-0.7"], "--patch-ratio -0.7: must be 0.3...1")] {
            let r = try Binary.run(["train", "--headless"] + flags)
            XCTAssertNotEqual(r.status, 0, "\(flags)")
            XCTAssertTrue(firstLine(r.stderr).contains(message), "\(flags): \(r.stderr)")
        }
    }

    /// Rewrite the run state JSON inside a checkpoint's safetensors header.
    func editRunState(_ src: String, to dst: String, _ edit: (inout [String: Any]) -> Void) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: src))
        let n = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        var header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as! [String: Any]
        var meta = header["__metadata__"] as! [String: String]
        var run = try JSONSerialization.jsonObject(with: Data(meta["kp2d_training_run"]!.utf8)) as! [String: Any]
        edit(&run)
        meta["kp2d_training_run"] = String(decoding: try JSONSerialization.data(withJSONObject: run), as: UTF8.self)
        header["__metadata__"] = meta
        var json = try JSONSerialization.data(withJSONObject: header)
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        for i in 0..<8 { out.append(UInt8((json.count >> (8 * i)) & 0xFF)) }
        out.append(json)
        out.append(data.subdata(in: (8 + n)..<data.count))
        try out.write(to: URL(fileURLWithPath: dst))
    }

    // 9. A checkpoint's run state is validated; 12. non-finite weights are refused with the tensor's name.
    func testBadCheckpointMetadataAndNonFiniteWeights() throws {
        let run = try trainedRun()
        let bad = run.dir + "/bad.safetensors"
        try editRunState(run.ck, to: bad) { $0["step"] = -5 }
        try assertFails(["train", "--headless", "--resume", bad], "\(bad): the checkpoint's run state cannot be read (step -5 is negative)")
        try editRunState(run.ck, to: bad) { $0["format"] = 99 }
        try assertFails(["train", "--headless", "--resume", bad], "format 99 is not 1")
        try editRunState(run.ck, to: bad) { r in var o = r["options"] as! [String: Any]; o["height"] = 100000; o["width"] = 100000; r["options"] = o }
        try assertFails(["train", "--headless", "--resume", bad], "more than this machine's")

        // One NaN in the first tensor of the weights export.
        var data = try Data(contentsOf: URL(fileURLWithPath: run.weights))
        let n = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as! [String: Any]
        let (name, entry) = header.filter { $0.key != "__metadata__" }
            .compactMap { k, v -> (String, [String: Any])? in
                guard let e = v as? [String: Any], e["dtype"] as? String == "F32" else { return nil }
                return (k, e)
            }.min { ($0.1["data_offsets"] as! [Int])[0] < ($1.1["data_offsets"] as! [Int])[0] }!
        let at = 8 + n + (entry["data_offsets"] as! [Int])[0]
        data.replaceSubrange(at..<(at + 4), with: [0x00, 0x00, 0xC0, 0x7F])   // NaN
        let nanWeights = run.dir + "/nan.safetensors"
        try data.write(to: URL(fileURLWithPath: nanWeights))
        let expected = "\(nanWeights): tensor '\(name)' holds nan at index 0"
        try assertFails(["detect", "--weights", nanWeights, try sampleJPEG()], expected)
        try assertFails(["eval", "--hpatches", "sample-data/hpatches", "--weights", nanWeights], expected)
        try assertFails(["train", "--headless", "--weights", nanWeights, "--steps", "1", "--checkpoint", run.dir + "/w/ck.safetensors"], expected)
    }

    // 10. A JPEG whose header claims 65500x65500 is refused before decompressing.
    func testHugeJPEGHeaderIsRefusedAtOnce() throws {
        let dir = try tempDir("jpeg")
        // A small real JPEG, then its SOF frame size patched to 65500x65500.
        let src = try sampleJPEG()
        let r = try Binary.run(["prepare-images", src, "--out", dir, "--max-width", "64"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let small = dir + "/" + ((src as NSString).lastPathComponent as NSString).deletingPathExtension + ".jpg"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: small)))
        let sof = (0..<(bytes.count - 9)).first { bytes[$0] == 0xFF && (bytes[$0 + 1] == 0xC0 || bytes[$0 + 1] == 0xC2) }!
        bytes[sof + 5] = 0xFF; bytes[sof + 6] = 0xDC; bytes[sof + 7] = 0xFF; bytes[sof + 8] = 0xDC
        let huge = dir + "/huge.jpg"
        try Data(bytes).write(to: URL(fileURLWithPath: huge))
        let start = Date()
        try assertFails(["prepare-images", huge, "--out", dir + "/out"], "huge.jpg: invalid JPEG: image too large: the header says 65500x65500 pixels")
        XCTAssertLessThan(Date().timeIntervalSince(start), 60, "refused from the header, not after decoding")
    }

    // 13. eval prints each reason once: beside a good sequence, and when every sequence is rejected.
    func testEvalPrintsEachRejectedSequenceOnce() throws {
        let run = try trainedRun()
        let root = try tempDir("hp")
        let fm = FileManager.default
        try fm.copyItem(atPath: Binary.repoRoot + "/sample-data/hpatches/i_skimage_coins", toPath: root + "/i_good")
        try fm.copyItem(atPath: Binary.repoRoot + "/sample-data/hpatches/i_skimage_coins", toPath: root + "/i_bad")
        try Data("P6\n320 240\n255\n".utf8).write(to: URL(fileURLWithPath: root + "/i_bad/3.ppm"))   // truncated pixels
        var r = try Binary.run(["eval", "--hpatches", root, "--weights", run.weights, "--official"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr.components(separatedBy: "i_bad/3.ppm").count - 1, 1, r.stderr)

        try fm.removeItem(atPath: root + "/i_good")
        try fm.copyItem(atPath: Binary.repoRoot + "/sample-data/hpatches/i_skimage_coins", toPath: root + "/i_nofile")
        try fm.removeItem(atPath: root + "/i_nofile/6.ppm")
        r = try Binary.run(["eval", "--hpatches", root, "--weights", run.weights])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.stderr.components(separatedBy: "i_bad/3.ppm").count - 1, 1, r.stderr)
        XCTAssertEqual(r.stderr.components(separatedBy: "i_nofile/6.ppm").count - 1, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("no usable sequences (2 rejected, each reason printed above)"), r.stderr)
    }

    // Unclear messages.
    func testMessagesNameTheFileAndTheFix() throws {
        let run = try trainedRun()
        try assertFails(["detect", "--weights", run.dir, try sampleJPEG()], "\(run.dir): cannot read (is a folder, not a .safetensors file")
        let fifo = run.dir + "/fifo"
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        try assertFails(["eval", "--hpatches", "sample-data/hpatches", "--weights", fifo], "not a regular file")
        try assertFails(["train", "--headless", "--resume", run.ck, "--log", run.ck], "--log is the same file as --checkpoint")
        try assertFails(["train", "--headless", "--checkpoint", run.dir + "/n/ck.safetensors", "--log", run.dir + "/n/ck.safetensors"],
                        "--log is the same file as --checkpoint")
        try assertFails(["train", "--headless", "--lr", "-1"], "--lr -1: must be a positive number")
        try assertFails(["train", "--headless", "--alpha", "-1"], "loss weight alpha = -1.0")
    }
}
