import Foundation
import ProcessSupport
import XCTest

/// `mpirun --stdin none -np 2 kp2d-tui` in tmux: the workbench on rank 0 steers both ranks (pause, single
/// step, a loss weight), the paused rank 1 sleeps instead of spinning, and quitting ends both ranks with
/// bit-identical parameters. Skips without mpirun or tmux.
final class MPIWorkbenchTests: TmuxTestCase {
    override var workDirTag: String { "mpiwb" }

    func testWorkbenchOnRankZeroSteersBothRanksAndThePausedRankSleeps() throws {
        let bin = try Binary.path(), mpirun = try MPIRunTests.mpirun()
        let t = try startTmux()
        let data = Binary.repoRoot + "/sample-data/train"
        let script = "cd \(q(workDir)) && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 TERM=xterm-256color && "
            + "\(q(mpirun)) --stdin none --oversubscribe -np 2 \(q(bin)) --data \(q(data)) --batch-size 1 --checkpoint \(q(workDir + "/ck.safetensors")) 2> err.txt; "
            + "echo EXIT=$? > exit.txt; sleep 600"
        try t.newSession(width: 200, height: 60, command: "sh -c \(q(script))")

        var screen = try waitFor("training on 2 ranks", timeout: 120) { $0.contains("global batch 2") && (Self.step($0) ?? 0) >= 2 }
        try t.send("Space")
        screen = try waitFor("PAUSED", timeout: 60) { $0.contains("PAUSED") }
        let paused = try XCTUnwrap(Self.step(screen), screen)

        // Rank 1 waits for rank 0's next step: it must sleep, not spin in a collective.
        let rank1 = try XCTUnwrap(mpiRankPid(1) { commandLine, _ in commandLine.contains(workDir) }, "rank 1's process not found")
        let before = cpuTicks(rank1)
        Thread.sleep(forTimeInterval: 3)
        let used = Double(cpuTicks(rank1) - before) / Double(sysconf(Int32(_SC_CLK_TCK)))
        XCTAssertLessThan(used, 0.3, "paused rank 1 used \(used) CPU-seconds in 3 s")
        XCTAssertEqual(Self.step(try t.capture()), paused, "the step counter moved while paused")

        // n: one step on both ranks; +: alpha 1.1 reaches rank 1 with the next step.
        try t.send("n")
        _ = try waitFor("step \(paused + 1)", timeout: 60) { Self.step($0) == paused + 1 }
        try t.send("+")
        _ = try waitFor("alpha 1.1", timeout: 60) { $0.contains("α1.1") }
        try t.send("n")
        _ = try waitFor("step \(paused + 2)", timeout: 60) { Self.step($0) == paused + 2 }

        // Quit with a save: both ranks end, rank 0 saved, parameters identical.
        try t.send("q")
        _ = try waitFor("the save prompt", timeout: 30) { $0.contains("save+quit") }
        try t.send("s")
        let exit = waitForExitFile(timeout: 120)
        let err = (try? String(contentsOfFile: workDir + "/err.txt", encoding: .utf8)) ?? ""
        XCTAssertEqual(exit, "EXIT=0", err)
        XCTAssertTrue(err.contains("rank 1 of 2: loss weights set to alpha 1.1") && err.contains("at step \(paused + 1) (from rank 0)"), err)
        XCTAssertTrue(err.contains("rank 1 of 2: parameters bit-identical on all 2 ranks at step \(paused + 2)"), err)
        // Step records only: the workbench's validation and probe records share the log (lines with "kind").
        let log = try String(contentsOfFile: workDir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").filter { !$0.contains("\"kind\"") }
        XCTAssertEqual(log.count, paused + 2)
        XCTAssertTrue(FileManager.default.fileExists(atPath: workDir + "/ck.safetensors"))
    }

    // MARK: helpers

    /// Tmux.waitFor on this test's server, with the ranks' stderr in the failure message.
    func waitFor(_ what: String, timeout: Double, _ condition: (String) -> Bool) throws -> String {
        do {
            return try XCTUnwrap(tmux).waitFor(what, timeout: timeout, condition)
        } catch let error as TmuxError {
            let err = (try? String(contentsOfFile: workDir + "/err.txt", encoding: .utf8)) ?? ""
            throw TmuxError(message: error.message + "\nstderr:\n" + err)
        }
    }

    /// utime + stime of a process, in clock ticks.
    func cpuTicks(_ pid: Int32) -> Int {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return 0 }
        let f = stat.split(separator: ")").last!.split(separator: " ")
        return (Int(f[11]) ?? 0) + (Int(f[12]) ?? 0)   // fields 14 and 15 of stat
    }
}
