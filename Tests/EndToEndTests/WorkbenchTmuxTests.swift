import Foundation
import ProcessSupport
import XCTest

/// The real `kp2d-tui` workbench driven inside tmux (a private server, `tmux -L kp2d-e2e-<pid>`): training on
/// the bundled sample data, pause / single step / a weight change, the HPatches browser evaluating the live
/// model, a resize, and quitting through the save prompt with exit status 0 and a restored terminal.
/// Plus the non-terminal paths: no TTY fails fast, --once prints a frame and writes nothing, --headless, snapshot.
final class WorkbenchTmuxTests: TmuxTestCase {
    override var workDirTag: String { "wb" }

    func testWorkbenchInTmux() throws {
        let bin = try Binary.path()
        let t = try startTmux()
        let ck = workDir + "/run/checkpoint.safetensors"
        // No --data / --hpatches: the workbench finds the bundled sample data beside the executable.
        let script = "cd \(q(workDir)) && TERM=xterm-256color \(q(bin)) --preset fast --checkpoint \(q(ck)); "
            + "echo EXIT=$? > exit.txt; stty -a > stty.txt; echo SHELL-BACK; sleep 600"
        try t.newSession(width: 200, height: 60, command: "sh -c \(q(script))")

        // Training starts at once: the loss charts show numbers and the step counter moves.
        var screen = try t.waitFor("loss charts with numbers", timeout: 120) { $0.range(of: #"total -?[0-9.]+(e-?[0-9]+)? ema"#, options: .regularExpression) != nil }
        XCTAssertTrue(screen.contains("RUNNING"), screen)
        XCTAssertTrue(screen.contains("L_loc") && screen.contains("L_desc") && screen.contains("L_IO"), screen)
        // The held-out validation chart sits beside the total loss (the bundled sample-data/hpatches is the set).
        XCTAssertTrue(screen.contains(" Validation "), screen)

        // Pause: the counter stops.
        try t.send("Space")
        screen = try t.waitFor("PAUSED", timeout: 60) { $0.contains("PAUSED") }
        let paused = try XCTUnwrap(Self.step(screen), screen)
        Thread.sleep(forTimeInterval: 2.5)
        screen = try t.capture()
        XCTAssertEqual(Self.step(screen), paused, "the step counter moved while paused:\n\(screen)")

        // n: exactly one step.
        try t.send("n")
        screen = try t.waitFor("step \(paused + 1)", timeout: 60) { Self.step($0) == paused + 1 }
        Thread.sleep(forTimeInterval: 2)
        screen = try t.capture()
        XCTAssertEqual(Self.step(screen), paused + 1, "n must train exactly one step:\n\(screen)")
        XCTAssertTrue(screen.contains("PAUSED"), screen)

        // + raises the selected weight (alpha, 1 -> 1.1): the trainer applies it, the status shows it and the
        // charts get a change marker.
        try t.send("+")
        screen = try t.waitFor("alpha 1.1 in the status line", timeout: 60) { $0.contains("α1.1") }
        XCTAssertTrue(screen.contains("alpha 1.1"), "the controls pane does not show the new weight:\n\(screen)")
        // One more step puts the change inside the charts' x range: a marker at the change step.
        try t.send("n")
        screen = try t.waitFor("step \(paused + 2)", timeout: 60) { Self.step($0) == paused + 2 }
        screen = try t.waitFor("a change marker on the charts", timeout: 10) { $0.contains("┊") }

        // HPatches browser: sequences of the sample data; evaluate the live weights; move between pairs.
        try t.send("Tab")
        screen = try t.waitFor("the HPatches browser", timeout: 30) { $0.contains("Sequences (6") }
        try t.send("r")
        screen = try t.waitFor("the evaluation to finish", timeout: 360) { $0.contains("30 pairs in") }
        XCTAssertNotNil(screen.range(of: #"Rep [0-9.]+ +LocErr"#, options: .regularExpression), "no pair metrics:\n\(screen)")
        XCTAssertTrue(screen.contains("pair 1/5"), screen)
        try t.send("Right")
        screen = try t.waitFor("pair 2/5", timeout: 30) { $0.contains("pair 2/5") }
        XCTAssertNotNil(screen.range(of: #"Rep [0-9.]+ +LocErr"#, options: .regularExpression), "no pair metrics:\n\(screen)")
        try t.send("Down")
        screen = try t.waitFor("the next sequence, pair 1/5", timeout: 30) { $0.contains("pair 1/5") }

        // Resize: re-laid out at the new size, state kept (still the browser, still paused).
        try t.resize(width: 120, height: 40)
        screen = try t.waitFor("a 120x40 layout", timeout: 30) { s in
            let lines = s.split(separator: "\n", omittingEmptySubsequences: false)
            guard let first = lines.first else { return false }
            return first.count <= 120 && first.hasSuffix("PAUSED") && s.contains("Sequences (6")
        }
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertLessThanOrEqual(lines.map { $0.count }.max() ?? 0, 120, screen)

        // Ctrl-C asks too (the terminal is raw: it arrives as a key); n cancels and the workbench stays.
        try t.send("C-c")
        screen = try t.waitFor("the save prompt after Ctrl-C", timeout: 30) { $0.contains("save+quit") }
        try t.send("n")
        screen = try t.waitFor("the prompt to close", timeout: 30) { !$0.contains("save+quit") && $0.contains("Sequences (6") }

        // Quit: unsaved steps, so it asks; s saves, then quits with status 0 and restores the terminal.
        try t.send("q")
        screen = try t.waitFor("the save prompt", timeout: 30) { $0.contains("save+quit") }
        try t.send("s")
        let exitFile = workDir + "/exit.txt"
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: exitFile) && Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        Thread.sleep(forTimeInterval: 0.5)
        let lastScreen = (try? t.capture()) ?? ""
        let exit = (try? String(contentsOfFile: exitFile, encoding: .utf8)) ?? "(no exit file; the screen:\n\(lastScreen))"
        XCTAssertEqual(exit.trimmingCharacters(in: .whitespacesAndNewlines), "EXIT=0")
        screen = try t.waitFor("the shell after exit", timeout: 30) { $0.contains("SHELL-BACK") }
        XCTAssertFalse(screen.contains("1 Training"), "the workbench screen is still shown (alternate screen not left):\n\(screen)")
        let stty = try String(contentsOfFile: workDir + "/stty.txt", encoding: .utf8)
        XCTAssertTrue(stty.contains(" icanon") && stty.contains(" echo ") && !stty.contains("-icanon"),
                      "terminal modes not restored:\n\(stty)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: ck), "no checkpoint saved at \(ck)")

        // The finished run renders from its files.
        let snap = try Binary.run(["snapshot", "--run", workDir + "/run", "--width", "120", "--height", "40"], cwd: workDir, timeout: 120)
        XCTAssertEqual(snap.status, 0, snap.stderr)
        XCTAssertEqual(WorkbenchTmuxTests.step(snap.stdout), paused + 2, snap.stdout)
        XCTAssertTrue(snap.stdout.contains("α1.1") || snap.stdout.contains("┊"), snap.stdout)
    }

    func testNoTerminalFailsFastWithAHint() throws {
        let start = Date()
        let r = try Binary.run([], cwd: workDir, timeout: 60)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertLessThan(Date().timeIntervalSince(start), 30, "kp2d-tui without a terminal must fail at once")
        let message = r.messages.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(message.split(separator: "\n").count, 1, message)
        XCTAssertTrue(message.contains("--headless") && message.contains("--once"), message)
    }

    func testOnceRendersOneFrameAndWritesNothing() throws {
        let r = try Binary.run(["--once", "--width", "120", "--height", "40", "--batch-size", "2"], cwd: workDir, timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
        var lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        XCTAssertEqual(lines.count, 40, r.stdout)
        XCTAssertTrue(lines.allSatisfy { $0.count <= 120 }, r.stdout)
        XCTAssertNotNil(r.stdout.range(of: #"step [1-9][0-9]* · epoch"#, options: .regularExpression), r.stdout)
        XCTAssertTrue(r.stdout.contains("total ") && r.stdout.contains("Match statistics"), r.stdout)
        let written = try FileManager.default.contentsOfDirectory(atPath: workDir)
        XCTAssertEqual(written, [], "--once must not write a checkpoint or log")
    }

    func testHeadlessTrainsAndSaves() throws {
        let ck = workDir + "/h/checkpoint.safetensors"
        let r = try Binary.run(["--headless", "--steps", "2", "--batch-size", "2", "--checkpoint", ck, "--progress-every", "1"], cwd: workDir, timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("step 2/2"), r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: ck), r.stderr)
        let snap = try Binary.run(["snapshot", "--log", workDir + "/h/metrics.jsonl", "--checkpoint", ck, "--width", "100", "--height", "30"],
                                  cwd: workDir, timeout: 60)
        XCTAssertEqual(snap.status, 0, snap.stderr)
        XCTAssertNotNil(WorkbenchTmuxTests.step(snap.stdout).map { XCTAssertEqual($0, 2, snap.stdout) }, snap.stdout)
        XCTAssertTrue(snap.stdout.contains("saved at step 2") || snap.stdout.contains("(saved"), snap.stdout)
        // The pair preview the trainer persisted beside the checkpoint, drawn by snapshot.
        let wide = try Binary.run(["snapshot", "--run", workDir + "/h", "--width", "160", "--height", "50"], cwd: workDir, timeout: 60)
        XCTAssertEqual(wide.status, 0, wide.stderr)
        XCTAssertTrue(wide.stdout.contains("Pair preview (step 2)"), wide.stdout)
        XCTAssertFalse(wide.stdout.contains("no training pair yet"), wide.stdout)
        // A damaged preview: the screen without it and one warning line; named with --preview: an error.
        try Data("{".utf8).write(to: URL(fileURLWithPath: workDir + "/h/checkpoint.preview.json"))
        let damaged = try Binary.run(["snapshot", "--run", workDir + "/h", "--width", "160", "--height", "50"], cwd: workDir, timeout: 60)
        XCTAssertEqual(damaged.status, 0, damaged.stderr)
        XCTAssertTrue(damaged.stderr.contains("checkpoint.preview.json: not a training preview"), damaged.stderr)
        XCTAssertTrue(damaged.stdout.contains("no training pair yet"), damaged.stdout)
        let named = try Binary.run(["snapshot", "--run", workDir + "/h", "--preview", workDir + "/h/checkpoint.preview.json"], cwd: workDir, timeout: 60)
        XCTAssertNotEqual(named.status, 0)
        XCTAssertEqual(named.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count, 1, named.stderr)

        // --weights: start from the exported KeypointNet weights (widths from the file); a bad file is one clear line.
        let export = workDir + "/h/checkpoint.keypointnet.safetensors"
        XCTAssertTrue(FileManager.default.fileExists(atPath: export))
        var w = try Binary.run(["--headless", "--steps", "1", "--batch-size", "2", "--weights", export, "--checkpoint", workDir + "/w/ck.safetensors"],
                               cwd: workDir, timeout: 300)
        XCTAssertEqual(w.status, 0, w.stderr)
        XCTAssertTrue(w.stderr.contains("initial weights \(export)"), w.stderr)
        w = try Binary.run(["--headless", "--steps", "1", "--weights", workDir + "/h/metrics.jsonl"], cwd: workDir, timeout: 60)
        XCTAssertNotEqual(w.status, 0)
        XCTAssertTrue(w.messages.contains("metrics.jsonl") && w.messages.split(separator: "\n").count == 1, w.stderr)
    }
}
