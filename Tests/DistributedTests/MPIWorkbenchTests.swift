import Foundation
import XCTest

/// `mpirun --stdin none -np 2 kp2d-tui` in tmux: the workbench on rank 0 steers both ranks (pause, single
/// step, a loss weight), the paused rank 1 sleeps instead of spinning, and quitting ends both ranks with
/// bit-identical parameters. Skips without mpirun or tmux.
final class MPIWorkbenchTests: XCTestCase {
    var socket = ""
    var tmuxPath = ""
    var workDir = ""

    override func tearDown() {
        if !tmuxPath.isEmpty { _ = try? tmux(["kill-server"]) }
        if !workDir.isEmpty { try? FileManager.default.removeItem(atPath: workDir) }
    }

    func testWorkbenchOnRankZeroSteersBothRanksAndThePausedRankSleeps() throws {
        let bin = try MPIRunTests.binary(), mpirun = try MPIRunTests.mpirun()
        guard let t = ["/usr/bin/tmux", "/usr/local/bin/tmux"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("tmux is not installed (scripts/setup installs it)")
        }
        tmuxPath = t
        socket = "kp2d-mpi-\(getpid())"
        workDir = NSTemporaryDirectory() + "kp2d-mpi-wb-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
        let data = MPIRunTests.repoRoot + "/sample-data/train"
        let script = "cd \(q(workDir)) && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 TERM=xterm-256color && "
            + "\(q(mpirun)) --stdin none --oversubscribe -np 2 \(q(bin)) --data \(q(data)) --batch-size 1 --checkpoint \(q(workDir + "/ck.safetensors")) 2> err.txt; "
            + "echo EXIT=$? > exit.txt; sleep 600"
        try tmux(["new-session", "-d", "-s", "wb", "-x", "200", "-y", "60", "sh -c \(q(script))"])

        var screen = try waitFor("training on 2 ranks", timeout: 120) { $0.contains("global batch 2") && (Self.step($0) ?? 0) >= 2 }
        try tmux(["send-keys", "-t", "wb", "Space"])
        screen = try waitFor("PAUSED", timeout: 60) { $0.contains("PAUSED") }
        let paused = try XCTUnwrap(Self.step(screen), screen)

        // Rank 1 waits for rank 0's next step: it must sleep, not spin in a collective.
        let rank1 = try XCTUnwrap(rankPid(1), "rank 1's process not found")
        let before = cpuTicks(rank1)
        Thread.sleep(forTimeInterval: 3)
        let used = Double(cpuTicks(rank1) - before) / Double(sysconf(Int32(_SC_CLK_TCK)))
        XCTAssertLessThan(used, 0.3, "paused rank 1 used \(used) CPU-seconds in 3 s")
        XCTAssertEqual(Self.step(try capture()), paused, "the step counter moved while paused")

        // n: one step on both ranks; +: alpha 1.1 reaches rank 1 with the next step.
        try tmux(["send-keys", "-t", "wb", "n"])
        _ = try waitFor("step \(paused + 1)", timeout: 60) { Self.step($0) == paused + 1 }
        try tmux(["send-keys", "-t", "wb", "+"])
        _ = try waitFor("alpha 1.1", timeout: 60) { $0.contains("α1.1") }
        try tmux(["send-keys", "-t", "wb", "n"])
        _ = try waitFor("step \(paused + 2)", timeout: 60) { Self.step($0) == paused + 2 }

        // Quit with a save: both ranks end, rank 0 saved, parameters identical.
        try tmux(["send-keys", "-t", "wb", "q"])
        _ = try waitFor("the save prompt", timeout: 30) { $0.contains("save+quit") }
        try tmux(["send-keys", "-t", "wb", "s"])
        let exitFile = workDir + "/exit.txt"
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: exitFile) && Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        Thread.sleep(forTimeInterval: 0.3)
        let err = (try? String(contentsOfFile: workDir + "/err.txt", encoding: .utf8)) ?? ""
        XCTAssertEqual((try? String(contentsOfFile: exitFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines), "EXIT=0", err)
        XCTAssertTrue(err.contains("rank 1 of 2: loss weights set to alpha 1.1") && err.contains("at step \(paused + 1) (from rank 0)"), err)
        XCTAssertTrue(err.contains("rank 1 of 2: parameters bit-identical on all 2 ranks at step \(paused + 2)"), err)
        // Step records only: the workbench's validation and probe records share the log (lines with "kind").
        let log = try String(contentsOfFile: workDir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").filter { !$0.contains("\"kind\"") }
        XCTAssertEqual(log.count, paused + 2)
        XCTAssertTrue(FileManager.default.fileExists(atPath: workDir + "/ck.safetensors"))
    }

    // MARK: helpers

    private func q(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    static func step(_ screen: String) -> Int? {
        guard let r = screen.range(of: #"step [0-9]+(/[0-9]+)? · epoch"#, options: .regularExpression) else { return nil }
        return Int(screen[r].split(separator: " ")[1].split(separator: "/")[0])
    }

    /// The kp2d-tui process of `rank` in this test's job (its checkpoint path names our work folder).
    func rankPid(_ rank: Int) -> Int32? {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry),
                  let env = FileManager.default.contents(atPath: "/proc/\(entry)/environ"),
                  let cmd = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            let c = String(decoding: cmd, as: UTF8.self)
            if c.contains("kp2d-tui"), c.contains(workDir),
               env.split(separator: 0).contains(where: { String(decoding: $0, as: UTF8.self) == "OMPI_COMM_WORLD_RANK=\(rank)" }) { return pid }
        }
        return nil
    }

    /// utime + stime of a process, in clock ticks.
    func cpuTicks(_ pid: Int32) -> Int {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return 0 }
        let f = stat.split(separator: ")").last!.split(separator: " ")
        return (Int(f[11]) ?? 0) + (Int(f[12]) ?? 0)   // fields 14 and 15 of stat
    }

    func capture() throws -> String { try tmux(["capture-pane", "-p", "-t", "wb"]) }

    func waitFor(_ what: String, timeout: Double, _ condition: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var screen = ""
        while Date() < deadline {
            screen = try capture()
            if condition(screen) { return screen }
            Thread.sleep(forTimeInterval: 0.25)
        }
        let err = (try? String(contentsOfFile: workDir + "/err.txt", encoding: .utf8)) ?? ""
        throw NSError(domain: "MPIWorkbenchTests", code: 1, userInfo: [NSLocalizedDescriptionKey: "timed out waiting for \(what); screen:\n\(screen)\nstderr:\n\(err)"])
    }

    /// tmux on a private server (posix_spawn; output through a file: the server daemon keeps pipes open).
    @discardableResult
    func tmux(_ args: [String]) throws -> String {
        let outPath = NSTemporaryDirectory() + "kp2d-mpi-tmux-\(UUID().uuidString.prefix(8)).out"
        defer { try? FileManager.default.removeItem(atPath: outPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([tmuxPath, "-L", socket, "-f", "/dev/null"] + args).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, tmuxPath, &actions, nil, argv + [nil], environ)
        guard rc == 0 else { throw NSError(domain: "tmux", code: Int(rc)) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    }
}
