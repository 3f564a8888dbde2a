import Foundation
import ProcessSupport
import TestSupport
import XCTest

/// Kill a training run (SIGKILL, SIGTERM, SIGHUP, at random) at random moments while it saves a checkpoint
/// after every step, resume it, and repeat. After every kill:
///   * the checkpoint loads (the next iteration resumes from it; the last one trains one more step);
///   * the log holds steps 1...K with no duplicate and no gap, K >= the checkpoint's step (a torn last line is
///     allowed after SIGKILL only, and the resume sets it aside);
///   * SIGTERM/SIGHUP exit 0 with the checkpoint at the log's last step;
///   * no temporary file of an interrupted save survives the next start.
/// KP2D_FAULT_ITERATIONS (default 4) sets the number of kills, KP2D_FAULT_SEED the random moments
/// (docs/reliability.md: how to run it for hours).
final class FaultInjectionTests: XCTestCase {
    func checkpointStep(_ path: String) throws -> Int {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let n = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as! [String: Any]
        let meta = header["__metadata__"] as! [String: String]
        let run = try JSONSerialization.jsonObject(with: Data(meta["kp2d_training_run"]!.utf8)) as! [String: Any]
        return run["step"] as! Int
    }

    /// Steps of the log's whole lines, and whether a torn (undecodable) last line follows them.
    func logSteps(_ path: String) -> (steps: [Int], torn: Bool) {
        guard let d = FileManager.default.contents(atPath: path) else { return ([], false) }
        var steps: [Int] = [], torn = false
        let lines = d.split(separator: 0x0A, omittingEmptySubsequences: false)
        for (i, l) in lines.enumerated() where !l.isEmpty {
            if let o = try? JSONSerialization.jsonObject(with: Data(l)) as? [String: Any], let s = o["step"] as? Int { steps.append(s) }
            else if i == lines.count - 1 { torn = true }
            else { XCTFail("\(path): bad line \(i + 1) in the middle of the log") }
        }
        return (steps, torn)
    }

    func temporaries(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.contains(".tmp-") }.sorted()
    }

    func testKillsAroundSavesNeverLoseTheRun() throws {
        let env = ProcessInfo.processInfo.environment
        let iterations = Int(env["KP2D_FAULT_ITERATIONS"] ?? "") ?? 4
        let seed = UInt64(env["KP2D_FAULT_SEED"] ?? "") ?? UInt64(Date().timeIntervalSince1970)
        var rng = TestRNG(state: seed)   // splitmix64
        let dir = NSTemporaryDirectory() + "kp2d-e2e-fault-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ck = dir + "/ck.safetensors", log = dir + "/metrics.jsonl"
        let signals: [(Int32, String)] = [(SIGKILL, "SIGKILL"), (SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP")]
        var leftover: [String] = []
        var kills: [String] = []
        var tempsSeen = 0   // temporaries a kill left behind (each must be gone after the next start)
        for i in 0..<iterations {
            let resuming = FileManager.default.fileExists(atPath: ck)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: try Binary.path())
            p.arguments = ["train", "--headless", "--progress-every", "1000", "--checkpoint-every", "1"]
                + (resuming ? ["--resume", ck] : ["--checkpoint", ck, "--batch-size", "1", "--seed", "\(seed % 1000)"])
            let errPath = dir + "/stderr-\(i)"
            FileManager.default.createFile(atPath: errPath, contents: nil)
            p.standardError = FileHandle(forWritingAtPath: errPath)
            p.standardOutput = FileHandle.nullDevice
            p.standardInput = FileHandle.nullDevice
            try p.run()
            // Let it start and save a few times, then kill it at a random moment (every step saves).
            let deadline = Date().addingTimeInterval(300)
            while p.isRunning && Date() < deadline {
                if (String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self)).contains("saved step") { break }
                usleep(20_000)
            }
            usleep(UInt32(rng.uniform(0, 2.5) * 1e6))
            // The first three kills use each signal once (in a seeded order), later ones are random.
            let (sig, name) = signals[i < 3 ? (i + Int(seed % 3)) % 3 : Int(rng.next() % 3)]
            // Every other kill waits for a save in progress (its temporary file appears) and strikes then.
            var during = false
            if i % 2 == 1 {
                let until = Date().addingTimeInterval(5)
                while Date() < until && p.isRunning {
                    if !temporaries(dir).isEmpty { during = true; break }
                    usleep(300)
                }
            }
            kills.append(name + (during ? " mid-save" : ""))
            kill(p.processIdentifier, sig)
            let exitDeadline = Date().addingTimeInterval(300)
            while p.isRunning && Date() < exitDeadline { usleep(20_000) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            p.waitUntilExit()
            let stderr = String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self)
            let context = "seed \(seed), kill \(i + 1) (\(name)): \(stderr.suffix(600))"

            // The temporaries left by the previous kill are gone after this start.
            for t in leftover { XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/" + t), "stale \(t) survived; \(context)") }
            leftover = temporaries(dir)
            tempsSeen += leftover.count

            XCTAssertTrue(FileManager.default.fileExists(atPath: ck), context)
            let step = try checkpointStep(ck)
            let (steps, torn) = logSteps(log)
            XCTAssertEqual(steps, Array(stride(from: 1, through: steps.count, by: 1)), "gap or duplicate; \(context)")
            XCTAssertGreaterThanOrEqual(steps.last ?? 0, step, "the log lacks steps up to the checkpoint; \(context)")
            if sig == SIGKILL {
                XCTAssertEqual(p.terminationReason, .uncaughtSignal, context)
            } else {
                XCTAssertEqual(p.terminationStatus, 0, context)
                XCTAssertFalse(torn, context)
                XCTAssertEqual(steps.last, step, "SIGTERM/SIGHUP save the last step; \(context)")
                XCTAssertEqual(leftover, [], "no temporary after a clean stop; \(context)")
            }
        }
        // The last checkpoint loads and trains on; nothing temporary stays.
        let step = try checkpointStep(ck)
        let r = try Binary.run(["train", "--headless", "--resume", ck, "--steps", "\(step + 1)", "--progress-every", "1000"])
        XCTAssertEqual(r.status, 0, "seed \(seed), kills \(kills): \(r.stderr)")
        XCTAssertEqual(logSteps(log).steps, Array(1...(step + 1)), "seed \(seed), kills \(kills)")
        XCTAssertEqual(temporaries(dir), [], "seed \(seed), kills \(kills)")
        print("fault injection: \(iterations) kills (\(kills.joined(separator: ", "))), seed \(seed), final step \(step + 1), \(tempsSeen) temporaries left by kills and removed at the next start")
    }
}
