import Foundation
import ProcessSupport
import XCTest

/// Issue 13 item 3 in the workbench: SIGTERM and SIGHUP (a job scheduler, a closed SSH session) close the UI,
/// let the trainer finish its step and save, exit 0 and give the terminal back, as quitting with a save does.
final class WorkbenchSignalTests: TmuxTestCase {
    override var workDirTag: String { "wbsig" }

    func testSIGTERMAndSIGHUPSaveAndRestoreTheTerminal() throws {
        let bin = try Binary.path()
        for (sig, name) in [(SIGTERM, "term"), (SIGHUP, "hup")] {
            let dir = workDir + "/" + name
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let t = try startTmux(name)
            let ck = dir + "/run/checkpoint.safetensors"
            // The inner shell becomes kp2d-tui (exec), so pid.txt holds the workbench's pid.
            try ("echo $$ > pid.txt; exec \(q(bin)) --preset fast --batch-size 1 --checkpoint \(q(ck)) --checkpoint-every 0\n")
                .write(toFile: dir + "/inner.sh", atomically: true, encoding: .utf8)
            let script = "cd \(q(dir)) && TERM=xterm-256color sh inner.sh; echo EXIT=$? > exit.txt; stty -a > stty.txt; echo SHELL-BACK; sleep 600"
            try t.newSession(width: 160, height: 50, command: "sh -c \(q(script))")
            _ = try t.waitFor("training to run", timeout: 120) { WorkbenchTmuxTests.step($0).map { $0 >= 2 } ?? false }
            let pid = try XCTUnwrap(Int32((try String(contentsOfFile: dir + "/pid.txt", encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)))
            XCTAssertEqual(kill(pid, sig), 0)
            let deadline = Date().addingTimeInterval(120)
            while !FileManager.default.fileExists(atPath: dir + "/stty.txt") && Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
            Thread.sleep(forTimeInterval: 0.3)
            let exit = (try? String(contentsOfFile: dir + "/exit.txt", encoding: .utf8)) ?? "(no exit file)"
            XCTAssertEqual(exit.trimmingCharacters(in: .whitespacesAndNewlines), "EXIT=0", "\(name): \((try? t.capture()) ?? "")")
            let stty = (try? String(contentsOfFile: dir + "/stty.txt", encoding: .utf8)) ?? ""
            XCTAssertTrue(stty.contains(" icanon") && !stty.contains("-icanon"), "\(name): terminal modes not restored:\n\(stty)")
            let screen = try t.waitFor("the shell after exit", timeout: 30) { $0.contains("SHELL-BACK") }
            XCTAssertTrue(screen.contains("received SIG\(name.uppercased()): finishing the step and writing a final checkpoint"), screen)
            XCTAssertTrue(FileManager.default.fileExists(atPath: ck), "\(name): no checkpoint at \(ck)")
            // The checkpoint holds the last logged step.
            // The last step record (validation and probe records, lines with "kind", share the log).
            let log = try String(contentsOfFile: dir + "/run/metrics.jsonl", encoding: .utf8).split(separator: "\n").filter { !$0.contains("\"kind\"") }
            let lastStep = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(log.last!.utf8)) as? [String: Any])?["step"] as? Int)
            XCTAssertTrue(screen.contains("stopped at step \(lastStep), last checkpoint at step \(lastStep)"), screen)
            t.killServer()
            tmux = nil
        }
    }
}
