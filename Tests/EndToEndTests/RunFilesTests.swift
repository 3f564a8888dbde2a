import Foundation
import ProcessSupport
import XCTest

/// Issue 13, data loss: nothing a run made (checkpoint, log) is lost or half-written, whatever the user
/// types and whatever signal arrives. Each test runs the real binary and compares file bytes before/after.
final class RunFilesTests: TempDirTestCase {

    /// A folder of small textured PPM images (96x64).
    func makeData(count: Int = 2) throws -> String { try texturedImages(count, width: 96, height: 64) }

    func bytes(_ p: String) -> Data? { FileManager.default.contents(atPath: p) }
    func firstLine(_ s: String) -> String { String(s.split(separator: "\n").first ?? "") }
    func steps(ofLog p: String) -> [Int] {
        guard let d = bytes(p) else { return [] }
        return String(decoding: d, as: UTF8.self).split(separator: "\n").compactMap { line -> Int? in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return o["step"] as? Int
        }
    }

    /// Train `steps` steps headless (batch 1, small data) with extra arguments.
    @discardableResult
    func train(_ data: String, _ extra: [String]) throws -> Binary.Result {
        // A resumed run takes its batch size from the checkpoint.
        try Binary.run(["train", "--headless", data, "--progress-every", "1000"] + (extra.contains("--resume") ? [] : ["--batch-size", "1"]) + extra)
    }

    // 1. A fresh run refuses an existing run's files; nothing is truncated before the first new step.
    func testFreshRunRefusesToReplaceAnExistingRun() throws {
        let data = try makeData()
        let out = try tempDir("run")
        let ck = out + "/ck.safetensors", log = out + "/metrics.jsonl"
        XCTAssertEqual(try train(data, ["--steps", "2", "--checkpoint", ck]).status, 0)
        let (ck0, log0) = (bytes(ck), bytes(log))
        XCTAssertNotNil(ck0); XCTAssertEqual(steps(ofLog: log), [1, 2])

        var r = try train(data, ["--steps", "2", "--checkpoint", ck])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(firstLine(r.stderr).contains("exists: pass --resume \(ck) to continue that run, or --overwrite"), r.stderr)
        XCTAssertEqual(bytes(ck), ck0); XCTAssertEqual(bytes(log), log0)

        // --overwrite with a run that fails at start (no images): the old files are untouched.
        let empty = try tempDir("empty")
        r = try train(empty, ["--steps", "2", "--checkpoint", ck, "--overwrite"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(firstLine(r.stderr).contains("no PNG, JPEG or PPM images found"), r.stderr)
        XCTAssertEqual(bytes(ck), ck0); XCTAssertEqual(bytes(log), log0)

        // --overwrite that trains: a new log from step 1.
        r = try train(data, ["--steps", "1", "--checkpoint", ck, "--overwrite", "--seed", "9"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(steps(ofLog: log), [1])
        XCTAssertNotEqual(bytes(ck), ck0)
    }

    // 1b. Without --checkpoint a second run picks the next free runs/<preset>-N folder.
    func testDefaultRunFolderNeverReplacesAnEarlierRun() throws {
        let data = try makeData()
        let cwd = try tempDir("cwd")
        for _ in 0..<2 {
            let r = try Binary.run(["train", "--headless", data, "--steps", "1", "--batch-size", "1"], cwd: cwd)
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        XCTAssertEqual(steps(ofLog: cwd + "/runs/fast/metrics.jsonl"), [1])
        XCTAssertEqual(steps(ofLog: cwd + "/runs/fast-2/metrics.jsonl"), [1])
        XCTAssertTrue(FileManager.default.fileExists(atPath: cwd + "/runs/fast-2/checkpoint.safetensors"))
    }

    // 2. Resume logs beside the resumed checkpoint; later steps move to a side file, never vanish.
    func testResumeKeepsTheOriginalLogAndSetsLaterStepsAside() throws {
        let data = try makeData()
        let a = try tempDir("a"), b = try tempDir("b")
        XCTAssertEqual(try train(data, ["--steps", "2", "--checkpoint", a + "/ck.safetensors"]).status, 0)
        let older = bytes(a + "/ck.safetensors")!
        XCTAssertEqual(try train(data, ["--resume", a + "/ck.safetensors", "--steps", "4"]).status, 0)
        let log4 = bytes(a + "/metrics.jsonl")!
        XCTAssertEqual(steps(ofLog: a + "/metrics.jsonl"), [1, 2, 3, 4])

        // A copy of the step-2 checkpoint resumed in another folder writes there, not into a's log.
        FileManager.default.createFile(atPath: b + "/ck.safetensors", contents: older)
        var r = try train(data, ["--resume", b + "/ck.safetensors", "--steps", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(bytes(a + "/metrics.jsonl"), log4, "the original run's log is untouched")
        XCTAssertEqual(steps(ofLog: b + "/metrics.jsonl"), [3])

        // Resuming the older checkpoint in place: steps 3-4 go to a side file, byte for byte.
        FileManager.default.createFile(atPath: a + "/ck.safetensors", contents: older)
        r = try train(data, ["--resume", a + "/ck.safetensors", "--steps", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("moved 2 records of steps 3-4"), r.stderr)
        let side = a + "/metrics.after-step-2.jsonl"
        XCTAssertEqual(steps(ofLog: a + "/metrics.jsonl"), [1, 2, 3])
        XCTAssertEqual(steps(ofLog: side), [3, 4])
        let lines4 = String(decoding: log4, as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(String(decoding: bytes(side)!, as: UTF8.self), lines4[2...].map { $0 + "\n" }.joined())
        let kept = String(decoding: bytes(a + "/metrics.jsonl")!, as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(Array(kept[..<2]), Array(lines4[..<2]))
    }

    /// Start a headless run with stderr to a file; returns the process and the stderr path.
    func start(_ args: [String]) throws -> (Process, String) {
        let errPath = try tempDir("err") + "/stderr"
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try Binary.path())
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle(forWritingAtPath: errPath)
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return (p, errPath)
    }

    func text(_ p: String) -> String { String(decoding: bytes(p) ?? Data(), as: UTF8.self) }

    func waitFor(_ what: String, in path: String, process p: Process, timeout: Double = 300) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if text(path).contains(what) { return true }
            if !p.isRunning { return text(path).contains(what) }
            usleep(50_000)
        }
        return false
    }

    func waitExit(_ p: Process, timeout: Double = 300) {
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
    }

    // 3. SIGTERM and SIGHUP finish the step, save and exit 0, like Ctrl-C.
    func testSIGTERMAndSIGHUPSaveLikeCtrlC() throws {
        let data = try makeData()
        for (sig, name) in [(SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP")] {
            let out = try tempDir("sig")
            let ck = out + "/ck.safetensors"
            let (p, err) = try start(["train", "--headless", data, "--batch-size", "1", "--progress-every", "1",
                                      "--checkpoint", ck, "--checkpoint-every", "0"])
            XCTAssertTrue(waitFor("step 2", in: err, process: p), text(err))
            if sig == SIGTERM {
                // The run's threads carry their names at the OS level (gdb, top -H, perf).
                let task = "/proc/\(p.processIdentifier)/task"
                let names = Set(((try? FileManager.default.contentsOfDirectory(atPath: task)) ?? []).compactMap {
                    try? String(contentsOfFile: "\(task)/\($0)/comm", encoding: .utf8)
                        .trimmingCharacters(in: .whitespacesAndNewlines)
                })
                XCTAssertTrue(names.isSuperset(of: ["kp2d.trainer", "kp2d.loader", "kp2d.signals"]), "\(names)")
            }
            kill(p.processIdentifier, sig)
            waitExit(p)
            XCTAssertEqual(p.terminationStatus, 0, text(err))
            XCTAssertTrue(text(err).contains("received \(name): finishing the step and writing a final checkpoint"), text(err))
            let logSteps = steps(ofLog: out + "/metrics.jsonl")
            XCTAssertTrue(text(err).contains("saved step \(logSteps.last ?? -1) to \(ck)"), text(err))
            XCTAssertEqual(logSteps, Array(1...(logSteps.last ?? 1)))
        }
    }

    // 4. A run that cannot save does not start; a save that fails stops the run at once.
    func testUnwritableCheckpointIsRefusedAtStartAndAFailedSaveStops() throws {
        let data = try makeData()
        let out = try tempDir("ro")
        try FileManager.default.createDirectory(atPath: out + "/folder.safetensors", withIntermediateDirectories: true)
        var r = try train(data, ["--steps", "1", "--checkpoint", out + "/folder.safetensors", "--log", out + "/log.jsonl", "--overwrite"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(firstLine(r.stderr).contains("folder.safetensors: the checkpoint cannot be written (it is a folder"), r.stderr)
        FileManager.default.createFile(atPath: out + "/file", contents: Data("x".utf8))
        r = try train(data, ["--steps", "1", "--checkpoint", out + "/file/ck.safetensors", "--log", out + "/log2.jsonl"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(firstLine(r.stderr).contains("the checkpoint cannot be written"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/log2.jsonl"))

        // The folder disappears (replaced by a file) after the first save: the next save fails and stops the run.
        let run = out + "/run"
        let (p, err) = try start(["train", "--headless", data, "--batch-size", "1", "--progress-every", "1",
                                  "--checkpoint", run + "/ck.safetensors", "--log", out + "/log3.jsonl", "--checkpoint-every", "1"])
        XCTAssertTrue(waitFor("saved step 1", in: err, process: p), text(err))
        try FileManager.default.moveItem(atPath: run, toPath: out + "/moved")
        FileManager.default.createFile(atPath: run, contents: Data("not a folder".utf8))
        waitExit(p)
        XCTAssertEqual(p.terminationStatus, 1, text(err))
        let last = text(err).split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertTrue(last.hasPrefix("error: checkpoint at step ") && last.contains("failed: \(run)/ck.safetensors: cannot write")
                      && last.contains("stopped (the last checkpoint is step"), last)
        XCTAssertFalse(last.contains(".tmp-"), "the message names the target, not the temporary file: \(last)")
    }

    // 5. A failed log write (full disk) saves the checkpoint with the missing line; a torn last line is skipped.
    func testFullDiskForTheLogSavesTheCheckpointAndResumeRestoresTheLine() throws {
        guard FileManager.default.fileExists(atPath: "/dev/full") else { throw XCTSkip("no /dev/full on this system") }
        let data = try makeData()
        let out = try tempDir("full")
        let ck = out + "/ck.safetensors", log = out + "/metrics.jsonl"
        try FileManager.default.createSymbolicLink(atPath: log, withDestinationPath: "/dev/full")
        var r = try train(data, ["--steps", "3", "--checkpoint", ck, "--overwrite"])
        XCTAssertEqual(r.status, 1, r.stderr)
        let last = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertTrue(last.contains("\(log): cannot write the metrics log (No space left on device)")
                      && last.contains("checkpoint of step 1 saved to \(ck)"), last)
        try FileManager.default.removeItem(atPath: log)
        r = try train(data, ["--resume", ck, "--steps", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(steps(ofLog: log), [1, 2], "the line the full disk refused comes back from the checkpoint")

        // A torn last line: snapshot warns and reads the rest; resume sets it aside.
        let h = try XCTUnwrap(FileHandle(forWritingAtPath: log))
        h.seekToEndOfFile(); h.write(Data("{\"step\":3,\"ti".utf8)); h.closeFile()
        r = try Binary.run(["snapshot", "--run", out, "--width", "100", "--height", "30"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("\(log): skipped a torn last line"), r.stderr)
        r = try train(data, ["--resume", ck, "--steps", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(steps(ofLog: log), [1, 2, 3])
        XCTAssertEqual(text(out + "/metrics.after-step-2.jsonl"), "{\"step\":3,\"ti\n")
    }

    // 6. prepare-images never replaces an input photo.
    func testPrepareImagesRefusesToOverwriteItsInput() throws {
        let data = try makeData(count: 1)
        var r = try Binary.run(["prepare-images", data + "/img0.ppm", "--out", data, "--format", "png"])
        XCTAssertEqual(r.status, 0, r.stderr)   // img0.png beside img0.ppm: a new file
        let before = bytes(data + "/img0.png")!
        r = try Binary.run(["prepare-images", data + "/img0.png", "--out", data, "--format", "png", "--max-width", "32"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(firstLine(r.stderr).contains("img0.png: --out would overwrite the input image"), r.stderr)
        XCTAssertEqual(bytes(data + "/img0.png"), before)
        for q in ["0", "101"] {
            r = try Binary.run(["prepare-images", data + "/img0.ppm", "--out", data + "/q", "--quality", q])
            XCTAssertNotEqual(r.status, 0)
            XCTAssertTrue(firstLine(r.stderr).contains("--quality \(q): must be 1-100"), r.stderr)
        }
    }

    /// A pid no process has.
    func deadPid() -> Int32 {
        var pid: Int32 = 4_000_000
        while kill(pid, 0) == 0 || errno != ESRCH { pid -= 1 }
        return pid
    }

    // 7. Temporaries of an interrupted save are removed at the next start, with a notice.
    func testStaleTemporariesAreRemovedAtStart() throws {
        let data = try makeData()
        let out = try tempDir("tmp")
        let ck = out + "/ck.safetensors"
        XCTAssertEqual(try train(data, ["--steps", "1", "--checkpoint", ck]).status, 0)
        let stale = ck + ".tmp-\(deadPid())-\(UUID().uuidString)"
        let live = ck + ".tmp-\(getpid())-\(UUID().uuidString)"   // a running process: maybe saving right now
        let other = out + "/notes.txt.tmp-\(deadPid())-\(UUID().uuidString)"   // not one of the run's files
        for f in [stale, live, other] { FileManager.default.createFile(atPath: f, contents: Data(count: 1000)) }
        let r = try train(data, ["--resume", ck, "--steps", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("removed \(stale) ("), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale))
        XCTAssertTrue(FileManager.default.fileExists(atPath: live))
        XCTAssertTrue(FileManager.default.fileExists(atPath: other))
    }
}
