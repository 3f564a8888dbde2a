import Foundation
import ProcessSupport
import TensorEngine
import Training
import XCTest

/// `mpirun --oversubscribe -np 2 kp2d-tui train --headless ...` on localhost (the proof of issue 10).
/// Skips when mpirun or the built binary is missing. Tiny runs: fast preset, batch 1 per rank.
final class MPIRunTests: TempDirTestCase {
    // MARK: running the binary under mpirun

    static func mpirun() throws -> String {
        try Binary.program("mpirun", install: "install Open MPI (apt-get install openmpi-bin libopenmpi-dev; scripts/setup does) to run the MPI tests")
    }

    struct Run { var status: Int32; var stderr: String; var seconds: Double }

    /// Start `mpirun -np ranks kp2d-tui args` (or the binary alone with ranks == 0).
    func start(ranks: Int, _ args: [String], sink: OutputSink) throws -> Process {
        let p = Process()
        if ranks > 0 {
            p.executableURL = URL(fileURLWithPath: try Self.mpirun())
            p.arguments = ["--oversubscribe", "-np", "\(ranks)", try Binary.path()] + args
        } else {
            p.executableURL = URL(fileURLWithPath: try Binary.path())
            p.arguments = args
        }
        p.currentDirectoryURL = URL(fileURLWithPath: Binary.repoRoot)
        var env = ProcessInfo.processInfo.environment
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"; env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        // No MPI variables of an outer launcher (the test itself might run under one).
        for k in env.keys where k.hasPrefix("OMPI_COMM_WORLD") || k.hasPrefix("PMI") { env[k] = nil }
        p.environment = env
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        p.standardInput = FileHandle.nullDevice
        pipe.fileHandleForReading.readabilityHandler = { h in sink.append(h.availableData) }
        try p.run()
        return p
    }

    func run(ranks: Int, _ args: [String], timeout: Double = 300) throws -> Run {
        let sink = OutputSink()
        let t0 = Date()
        let p = try start(ranks: ranks, args, sink: sink)
        while p.isRunning && Date().timeIntervalSince(t0) < timeout { usleep(20_000) }
        if p.isRunning { p.terminate(); XCTFail("timed out after \(timeout) s: \(args)\n\(sink.text)") }
        p.waitUntilExit()
        usleep(100_000)
        return Run(status: p.terminationStatus, stderr: sink.text, seconds: Date().timeIntervalSince(t0))
    }

    var data: String { Binary.repoRoot + "/sample-data/train" }

    func tempDir() throws -> String { try tempDir("mpi") }

    func trainArgs(_ dir: String, steps: Int?, extra: [String] = []) -> [String] {
        ["train", "--headless", "--data", data, "--batch-size", "1", "--checkpoint", dir + "/ck.safetensors",
         "--progress-every", "1"] + (steps.map { ["--steps", "\($0)"] } ?? []) + extra
    }

    struct LogLine: Decodable { var step: Int; var ranks: Int?; var globalBatch: Int?; var terms: Terms
        struct Terms: Decodable { var total: Float; var loc: Float } }

    func readLog(_ path: String) throws -> (lines: [String], records: [LogLine]) {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        return (lines, try lines.map { try JSONDecoder().decode(LogLine.self, from: Data($0.utf8)) })
    }

    func tensors(_ path: String) throws -> [String: [Float]] {
        let f = try SafeTensors.read(path)
        return f.tensors.mapValues { $0.floats }
    }

    // MARK: the proofs

    func testTwoRanksAverageTheGradientStayBitIdenticalAndLogGlobalSteps() throws {
        let dir = try tempDir()
        let r = try run(ranks: 2, trainArgs(dir, steps: 3, extra: ["--dump-gradients", dir + "/grads"]))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("2 ranks (MPI) x batch 1 = global batch 2"), r.stderr)

        // Both ranks report the same parameter checksum after the last step.
        let sums = r.stderr.split(separator: "\n").filter { $0.contains("parameters bit-identical on all 2 ranks at step 3") }
        XCTAssertEqual(sums.count, 2, r.stderr)
        XCTAssertTrue(sums.contains { $0.hasPrefix("rank 1 of 2: ") }, r.stderr)
        let checksums = Set(sums.map { $0.split(separator: "(").last! })
        XCTAssertEqual(checksums.count, 1, "different checksums: \(sums)")
        XCTAssertFalse(r.stderr.contains("differ"), r.stderr)

        // Every step: the averaged gradient is the same bits on both ranks and equals (g0 + g1) / 2 of
        // the gradients each rank computed alone on its own shard.
        for step in 1...3 {
            let l0 = try tensors("\(dir)/grads/step\(step).rank0.local.safetensors")
            let l1 = try tensors("\(dir)/grads/step\(step).rank1.local.safetensors")
            let a0 = try tensors("\(dir)/grads/step\(step).rank0.averaged.safetensors")
            let a1 = try tensors("\(dir)/grads/step\(step).rank1.averaged.safetensors")
            XCTAssertEqual(Set(a0.keys), Set(a1.keys))
            XCTAssertGreaterThan(a0.count, 20)
            var differentShards = false
            for (name, avg) in a0 {
                XCTAssertEqual(avg.map(\.bitPattern), a1[name]!.map(\.bitPattern), "step \(step) \(name): ranks differ")
                let g0 = l0[name] ?? [Float](repeating: 0, count: avg.count), g1 = l1[name] ?? [Float](repeating: 0, count: avg.count)
                let mean = zip(g0, g1).map { ($0 + $1) * 0.5 }
                XCTAssertEqual(avg.map(\.bitPattern), mean.map(\.bitPattern), "step \(step) \(name): not the mean")
                if g0 != g1 { differentShards = true }
            }
            XCTAssertTrue(differentShards, "step \(step): both ranks computed the same gradient (same data?)")
        }

        // The log (rank 0 only) has one line per global step, with the global batch.
        let log = try readLog(dir + "/metrics.jsonl")
        XCTAssertEqual(log.records.map(\.step), [1, 2, 3])
        XCTAssertEqual(log.records.map(\.globalBatch), [2, 2, 2])
        XCTAssertEqual(log.records.map(\.ranks), [2, 2, 2])
        let state = try TrainingCheckpoint.readState(path: dir + "/ck.safetensors")
        XCTAssertEqual(state.step, 3)
    }

    func testTwoRankRunResumesExactlyOnTwoRanksAndContinuesOnOne() throws {
        let straight = try tempDir(), split = try tempDir()
        // 2 ranks, 5 steps in one go versus 3 steps + resume to 5: the same curve bit for bit (the data
        // order is a pure function of seed, step, rank and N; the start state comes from rank 0).
        XCTAssertEqual(try run(ranks: 2, trainArgs(straight, steps: 5)).status, 0)
        let first = try run(ranks: 2, trainArgs(split, steps: 3))
        XCTAssertEqual(first.status, 0, first.stderr)
        try FileManager.default.copyItem(atPath: split + "/ck.safetensors", toPath: split + "/ck3.safetensors")
        try FileManager.default.copyItem(atPath: split + "/metrics.jsonl", toPath: split + "/metrics3.jsonl")
        let resumed = try run(ranks: 2, ["train", "--headless", "--data", data, "--resume", split + "/ck.safetensors", "--steps", "5"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let a = try readLog(straight + "/metrics.jsonl"), b = try readLog(split + "/metrics.jsonl")
        XCTAssertEqual(b.records.map(\.step), [1, 2, 3, 4, 5])
        XCTAssertEqual(a.records.map(\.terms.total), b.records.map(\.terms.total), "2-rank resume diverged:\n\(a.lines)\n\(b.lines)")
        XCTAssertEqual(try tensors(straight + "/ck.keypointnet.safetensors"), try tensors(split + "/ck.keypointnet.safetensors"))

        // The 3-step 2-rank checkpoint resumed by ONE process: the same run goes on (steps 4.., the
        // first three log lines kept byte for byte, Adam's step count continues, the same parameters).
        let one = try run(ranks: 0, ["train", "--headless", "--data", data, "--resume", split + "/ck3.safetensors",
                                    "--log", split + "/metrics3.jsonl", "--steps", "5"])
        XCTAssertEqual(one.status, 0, one.stderr)
        XCTAssertTrue(one.stderr.contains("resumed at step 3"), one.stderr)
        let c = try readLog(split + "/metrics3.jsonl")
        XCTAssertEqual(c.records.map(\.step), [1, 2, 3, 4, 5])
        XCTAssertEqual(Array(c.lines.prefix(3)), Array(b.lines.prefix(3)))
        XCTAssertEqual(c.records.suffix(2).map(\.globalBatch), [nil, nil])
        let state = try TrainingCheckpoint.readState(path: split + "/ck3.safetensors")
        XCTAssertEqual(state.step, 5)
        let opt = try SafeTensors.read(split + "/ck3.safetensors").tensors.filter { $0.key.hasSuffix("step") && $0.key.hasPrefix("optimizer") }
        XCTAssertFalse(opt.isEmpty)
    }

    func testKillingOneRankStopsTheOtherWithAMessageNamingIt() throws {
        let dir = try tempDir()
        let sink = OutputSink()
        let t0 = Date()
        let p = try start(ranks: 2, trainArgs(dir, steps: nil, extra: ["--checkpoint-every", "0"]), sink: sink)
        defer { if p.isRunning { p.terminate() } }
        // Wait for a few global steps, then SIGKILL rank 1.
        while Date().timeIntervalSince(t0) < 120, !sink.text.contains("step 3 ") { usleep(50_000) }
        XCTAssertTrue(sink.text.contains("step 3 "), sink.text)
        let launcher = p.processIdentifier
        guard let rank1 = mpiRankPid(1, { _, parent in parent == launcher }) else {
            throw XCTSkip("could not find rank 1's process below mpirun \(launcher)")
        }
        kill(rank1, SIGKILL)
        let killed = Date()
        while p.isRunning && Date().timeIntervalSince(killed) < 30 { usleep(20_000) }
        XCTAssertFalse(p.isRunning, "the job still runs 30 s after rank 1 was killed")
        p.waitUntilExit()
        usleep(200_000)
        let text = sink.text
        XCTAssertNotEqual(p.terminationStatus, 0, text)
        XCTAssertLessThan(Date().timeIntervalSince(killed), 15, "took too long to stop")
        XCTAssertTrue(text.contains("rank 1 (pid \(rank1)"), "no message naming the dead rank:\n\(text)")
        // Rank 0 saved the last completed step, and no partial file is left.
        let state = try TrainingCheckpoint.readState(path: dir + "/ck.safetensors")
        XCTAssertGreaterThanOrEqual(state.step, 3)
        XCTAssertTrue(text.contains("saved step \(state.step) to"), text)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
        _ = try SafeTensors.read(dir + "/ck.keypointnet.safetensors")

        // The emergency checkpoint is exactly step S (taken while rank 0 was inside step S+1): resumed, step
        // S+1 is the step of a run that never stopped, bit for bit.
        let s = state.step, straight = try tempDir()
        XCTAssertEqual(try run(ranks: 2, trainArgs(straight, steps: s + 1)).status, 0)
        let resumed = try run(ranks: 2, ["train", "--headless", "--data", data, "--resume", dir + "/ck.safetensors", "--steps", "\(s + 1)"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let a = try readLog(straight + "/metrics.jsonl").records.last!, b = try readLog(dir + "/metrics.jsonl").records.last!
        XCTAssertEqual(a.step, s + 1); XCTAssertEqual(b.step, s + 1)
        XCTAssertEqual(a.terms.total, b.terms.total, "the resumed step differs from the uninterrupted run's")
        XCTAssertEqual(try tensors(straight + "/ck.keypointnet.safetensors"), try tensors(dir + "/ck.keypointnet.safetensors"))
    }

    func testARankThatFailsStopsEveryRankNamingIt() throws {
        // Two images, one unreadable: with 2 ranks each shard holds one image, so exactly one rank fails.
        let dir = try tempDir(), images = try tempDir()
        let good = try FileManager.default.contentsOfDirectory(atPath: data).sorted().first!
        try FileManager.default.copyItem(atPath: data + "/" + good, toPath: images + "/good.jpg")
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: images + "/bad.jpg"))
        let r = try run(ranks: 2, ["train", "--headless", "--data", images, "--batch-size", "1", "--steps", "3",
                                   "--checkpoint", dir + "/ck.safetensors"], timeout: 120)
        XCTAssertNotEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("none of the 1 images could be decoded"), r.stderr)
        let failed = r.stderr.contains("rank 1 failed at step 1") ? 1 : 0
        XCTAssertTrue(r.stderr.contains("rank \(failed) failed at step 1 (its error is printed above by that rank); every rank stops"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/ck.safetensors"), "nothing trained, nothing to save")
    }

    func testRanksWithDifferentDataOrOptionsRefuseToStart() throws {
        // mpirun's MPMD form gives each rank its own arguments: rank 1 sees one image fewer, then another batch.
        let dir = try tempDir(), fewer = try tempDir()
        for f in try FileManager.default.contentsOfDirectory(atPath: data).sorted().dropFirst() {
            try FileManager.default.copyItem(atPath: data + "/" + f, toPath: fewer + "/" + f)
        }
        let bin = try Binary.path()
        func mpmd(_ second: [String]) throws -> Run {
            let common = ["train", "--headless", "--steps", "2", "--checkpoint", dir + "/ck.safetensors"]
            return try run(ranks: 1, common + ["--data", data, "--batch-size", "1", ":", "-np", "1", bin] + common + second, timeout: 120)
        }
        var r = try mpmd(["--data", fewer, "--batch-size", "1"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("rank 1 finds 7 images in \(fewer), rank 0 finds 8"), r.stderr)
        r = try mpmd(["--data", data, "--batch-size", "2"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("rank 1 has --batch-size 2, rank 0 has 1"), r.stderr)
    }
}
