import Foundation
import ProcessSupport
import XCTest

/// `kp2d-tui train --headless` end to end: errors, a short run with checkpoint/export/log, resume, Ctrl-C.
final class TrainCommandTests: TempDirTestCase {
    /// A folder of textured binary PPM images, every second one in a subfolder (the folder is searched recursively).
    func makeData(count: Int) throws -> String { try texturedImages(count, tag: "train", nested: { $0 % 2 == 1 }) }

    func testErrorsAreOneClearLine() throws {
        let empty = try tempDir("empty")
        var r = try Binary.run(["train", "--headless", empty, "--steps", "1"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("no PNG, JPEG or PPM images found"), r.stderr)
        let data = try makeData(count: 1)
        r = try Binary.run(["train", "--headless", data, "--size", "100x190"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("multiples of 8"), r.stderr)
        r = try Binary.run(["train", "--headless", data, "--preset", "huge"])
        XCTAssertTrue(r.stderr.contains("unknown preset"), r.stderr)
        // Without --headless the workbench needs a terminal; without one the error says what to do.
        r = try Binary.run(["train", data, "--steps", "1", "--checkpoint", data + "/ck.safetensors"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--headless"), r.stderr)
    }

    func testShortRunWritesCheckpointExportAndLogThenResumes() throws {
        let data = try makeData(count: 3)
        let ck = data + "/out/ck.safetensors", log = data + "/out/log.jsonl"
        var r = try Binary.run(["train", "--headless", data, "--steps", "2", "--batch-size", "1", "--progress-every", "1",
                                "--checkpoint", ck, "--log", log, "--seed", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("step 1/2"), r.stderr)
        XCTAssertTrue(r.stderr.contains("step 2/2"), r.stderr)
        XCTAssertTrue(r.stderr.contains("3 images"), r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: ck))
        XCTAssertTrue(FileManager.default.fileExists(atPath: data + "/out/ck.keypointnet.safetensors"))
        var lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines[0].contains("\"step\":1") && lines[0].contains("\"loc\""), String(lines[0]))

        r = try Binary.run(["train", "--headless", "--resume", ck, "--steps", "3", "--progress-every", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("resumed at step 2"), r.stderr)
        XCTAssertTrue(r.stderr.contains("step 3/3"), r.stderr)
        XCTAssertFalse(r.stderr.contains("step 1/"), r.stderr)
        lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 3, "the resumed run appends to the same log")

        r = try Binary.run(["train", "--headless", "--resume", ck, "--size", "128x256"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("cannot change when resuming"), r.stderr)
    }

    func testInterruptWritesAFinalCheckpointAndExitsCleanly() throws {
        let data = try makeData(count: 2)
        let ck = data + "/out/ck.safetensors"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try Binary.path())
        p.arguments = ["train", "--headless", data, "--batch-size", "1", "--progress-every", "1", "--checkpoint", ck]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        final class Sink: @unchecked Sendable {
            let lock = NSLock(); var text = ""
            func add(_ d: Data) { lock.lock(); text += String(decoding: d, as: UTF8.self); lock.unlock() }
            var value: String { lock.lock(); defer { lock.unlock() }; return text }
        }
        let sink = Sink()
        err.fileHandleForReading.readabilityHandler = { h in sink.add(h.availableData) }
        try p.run()
        let deadline = Date().addingTimeInterval(300)
        while !sink.value.contains("step 1 ") && Date() < deadline && p.isRunning { usleep(50_000) }
        XCTAssertTrue(sink.value.contains("step 1 "), sink.value)
        p.interrupt()
        while p.isRunning && Date() < deadline { usleep(50_000) }
        if p.isRunning { p.terminate() }
        err.fileHandleForReading.readabilityHandler = nil
        XCTAssertEqual(p.terminationStatus, 0, sink.value)
        XCTAssertTrue(sink.value.contains("saved step"), sink.value)
        XCTAssertTrue(FileManager.default.fileExists(atPath: ck))
    }
}

/// `train` is another name of the default `workbench` command: one set of options, one code path.
final class TrainAliasTests: XCTestCase {
    func testTrainAndWorkbenchShareTheirOptions() throws {
        let train = try Binary.run(["train", "--help"]), workbench = try Binary.run(["workbench", "--help"])
        XCTAssertEqual(train.status, 0); XCTAssertEqual(workbench.status, 0)
        func options(_ help: String) -> [String] {
            help.split(separator: "\n").compactMap { line -> String? in
                let t = line.trimmingCharacters(in: .whitespaces)
                return t.hasPrefix("--") ? String(t.split(separator: " ")[0]) : nil
            }
        }
        XCTAssertEqual(options(train.stdout), options(workbench.stdout))
        for flag in ["--headless", "--theme", "--ascii", "--progress-every", "--width", "--height", "--once"] {
            XCTAssertTrue(options(train.stdout).contains { $0.hasPrefix(flag) }, "\(flag) missing from `train --help`")
        }
    }
}

/// `snapshot --compare-run`: a second run's curves from its metrics log (the on-disk format: one JSON object per step).
final class CompareRunTests: XCTestCase {
    func writeRun(_ steps: Int, loss: Double) throws -> String {
        let dir = NSTemporaryDirectory() + "kp2d-e2e-cmp-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var text = ""
        for s in 1...steps {
            let l = loss + 0.5 / Double(s)
            text += #"{"epoch":0,"lr":0.001,"skipped":false,"step":\#(s),"stepsPerSecond":5,"terms":{"consistency":0.001,"desc":0.2,"flags":[],"io":0.1,"ioInliers":20,"loc":\#(l),"recall":0.1,"total":\#(l + 0.5),"usp":0.01},"time":\#(Double(s) * 0.2),"weights":{"alpha":1,"beta":2,"gamma":1,"lambda":1}}"# + "\n"
        }
        try text.write(toFile: dir + "/metrics.jsonl", atomically: true, encoding: .utf8)
        return dir
    }

    func testSnapshotOverlaysTheOtherRun() throws {
        let a = try writeRun(40, loss: 2), b = try writeRun(90, loss: 3)
        defer { try? FileManager.default.removeItem(atPath: a); try? FileManager.default.removeItem(atPath: b) }
        let plain = try Binary.run(["snapshot", "--run", a, "--width", "150", "--height", "45"])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        let r = try Binary.run(["snapshot", "--run", a, "--compare-run", b, "--width", "150", "--height", "45"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("faint: \(b) (90 steps)"), r.stdout)
        XCTAssertNotEqual(r.stdout, plain.stdout)
        let missing = try Binary.run(["snapshot", "--run", a, "--compare-run", a + "/nope"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("--compare-run") && missing.stderr.contains("nope"), missing.stderr)
    }
}
