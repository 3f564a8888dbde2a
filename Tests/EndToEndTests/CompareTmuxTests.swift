import Foundation
import ProcessSupport
import XCTest

/// Two models compared in the HPatches browser, with the real binary in tmux: `inspect --weights A --compare B`
/// (an exported weights file against a whole checkpoint of another run) shows A, B and their differences and
/// leaves both files as they were; in the training workbench, b pins the weights and after more steps the
/// browser shows the live model against the pin.
final class CompareTmuxTests: TmuxTestCase {
    override var workDirTag: String { "compare" }

    /// One real training step of the fast preset (batch 2) into `dir`.
    func trainOneStep(_ dir: String, seed: Int) throws {
        let r = try Binary.run(["--headless", "--steps", "1", "--batch-size", "2", "--seed", "\(seed)",
                                "--checkpoint", dir + "/checkpoint.safetensors"], cwd: workDir, timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    /// Signed differences in the list or the pair rows that are not zero ("-0.031", "+1.25").
    static func nonZeroDeltas(_ screen: String) -> Int {
        let re = try! NSRegularExpression(pattern: #"[+-][0-9]+\.[0-9]{2,3}"#)
        let ns = screen as NSString
        return re.matches(in: screen, range: NSRange(location: 0, length: ns.length))
            .map { ns.substring(with: $0.range) }.filter { Double($0) != 0 }.count
    }

    func testInspectCompareShowsBothModelsAndTheirDifferences() throws {
        let bin = try Binary.path()
        try trainOneStep(workDir + "/a", seed: 1)
        try trainOneStep(workDir + "/b", seed: 2)
        // A: exported KeypointNet weights; B: the other run's whole checkpoint (optimizer state and all).
        let a = workDir + "/a/checkpoint.keypointnet.safetensors", b = workDir + "/b/checkpoint.safetensors"
        let before = try [a, b].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }

        let t = try startTmux()
        let script = "cd \(q(workDir)) && TERM=xterm-256color \(q(bin)) inspect --weights \(q(a)) --compare \(q(b)); "
            + "echo EXIT=$? > exit.txt; sleep 600"
        try t.newSession(width: 200, height: 60, command: "sh -c \(q(script))")
        var screen = try t.waitFor("both models evaluated", timeout: 600) { s in
            s.range(of: #"A: 30 pairs in"#, options: .regularExpression) != nil && s.range(of: #"B: 30 pairs in"#, options: .regularExpression) != nil
        }
        XCTAssertTrue(screen.contains("A vs B: 6 sequences, all, by ΔRep worst regressed first"), screen)
        XCTAssertTrue(screen.contains("A Rep") && screen.contains("B Rep") && screen.contains("ΔRep"), screen)
        XCTAssertTrue(screen.contains("A = \(a)"), screen)
        XCTAssertTrue(screen.contains("INSPECT (read-only)"), screen)
        // The stacked pair view: A's numbers with deltas, B's below.
        XCTAssertNotNil(screen.range(of: #"Rep [0-9.]+ \([+-][0-9.]+\)"#, options: .regularExpression), screen)
        XCTAssertGreaterThan(Self.nonZeroDeltas(screen), 0, "two different models, yet no difference:\n\(screen)")
        // o: the next metric, still A/B/Δ.
        try t.send("o")
        screen = try t.waitFor("sorted by ΔLocErr", timeout: 30) { $0.contains("by ΔLocErr worst regressed first") && $0.contains("A LocErr") }
        // b is refused here (nothing trains), and B stays.
        try t.send("b")
        screen = try t.waitFor("the read-only message", timeout: 30) { $0.contains("nothing trains, nothing is saved") }
        XCTAssertTrue(screen.contains("A vs B"), screen)

        try t.send("q")
        XCTAssertEqual(waitForExitFile(timeout: 60), "EXIT=0")
        XCTAssertEqual(try [a, b].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }, before, "inspect --compare changed a weights file")
    }

    func testPinFollowedByStepsShowsDeltas() throws {
        let bin = try Binary.path()
        let t = try startTmux()
        let ck = workDir + "/run/checkpoint.safetensors"
        let script = "cd \(q(workDir)) && TERM=xterm-256color \(q(bin)) --preset fast --validate-every 0 --checkpoint \(q(ck)); "
            + "echo EXIT=$? > exit.txt; sleep 600"
        try t.newSession(width: 200, height: 60, command: "sh -c \(q(script))")
        var screen = try t.waitFor("training", timeout: 180) { WorkbenchTmuxTests.step($0).map { $0 >= 2 } ?? false }
        // Pause, pin, and see the pin in the status line.
        try t.send("Space")
        screen = try t.waitFor("PAUSED", timeout: 60) { $0.contains("PAUSED") }
        let pinned = try XCTUnwrap(WorkbenchTmuxTests.step(screen), screen)
        try t.send("b")
        screen = try t.waitFor("the pin in the status line", timeout: 60) { $0.contains("baseline pinned at step \(pinned)") }
        // More steps: the live model moves away from the pin.
        for k in 1...3 {   // n trains one step while paused; the next n only once it is done
            try t.send("n")
            screen = try t.waitFor("step \(pinned + k)", timeout: 300) { WorkbenchTmuxTests.step($0) == pinned + k }
        }
        // The browser evaluates the live model (A) and shows it against the pin (B).
        try t.send("Tab")
        screen = try t.waitFor("the compare view", timeout: 30) { $0.contains("A vs B: 6 sequences") }
        XCTAssertTrue(screen.contains("A = live model   B = pinned at step \(pinned)"), screen)
        screen = try t.waitFor("both evaluated", timeout: 900) { $0.contains("A: 30 pairs in") && $0.contains("B: 30 pairs in") }
        XCTAssertGreaterThan(Self.nonZeroDeltas(screen), 0, "3 steps later, no difference from the pin:\n\(screen)")
        XCTAssertTrue(screen.contains("B pinned at step \(pinned)"), screen)
        // x switches both to the training size.
        try t.send("x")
        screen = try t.waitFor("both at the training size", timeout: 600) { s in
            s.contains("evaluated at 128x192") && s.contains("A: 30 pairs in") && s.contains("B: 30 pairs in")
        }
        // B clears: the plain browser again; the status line no longer names a pin.
        try t.send("B")
        // (Waited for as one condition: a capture can catch ncurses between the body's rows and the status line
        // at the bottom, which is written last, so the first capture with the new body may still show the old status.)
        screen = try t.waitFor("the plain browser and no pin in the status line", timeout: 30) {
            $0.contains("Sequences (6") && !$0.contains("A vs B") && !$0.contains("baseline pinned")
        }
        // Quit without saving.
        try t.send("q")
        screen = try t.waitFor("the quit dialog", timeout: 30) { $0.contains("Quit?") }
        try t.send("y")
        XCTAssertEqual(waitForExitFile(timeout: 120), "EXIT=0")
    }

    func testCompareWithABadFileIsOneLineNamingIt() throws {
        try trainOneStep(workDir + "/a", seed: 1)
        let a = workDir + "/a/checkpoint.keypointnet.safetensors"
        let before = try Data(contentsOf: URL(fileURLWithPath: a))
        let junk = workDir + "/junk.safetensors"
        try Data("not a safetensors file".utf8).write(to: URL(fileURLWithPath: junk))
        for (args, name) in [(["--weights", a, "--compare", workDir + "/missing.safetensors"], "missing.safetensors"),
                             (["--weights", a, "--compare", junk], junk),
                             (["--weights", junk, "--compare", a], junk),
                             (["--weights", a, "--compare", workDir + "/a/metrics.jsonl"], "metrics.jsonl")] {
            let r = try Binary.run(["inspect"] + args, cwd: workDir, timeout: 60)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            let msg = r.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            XCTAssertEqual(msg.split(separator: "\n").count, 1, msg)
            XCTAssertTrue(msg.contains(name), "the error does not name \(name): \(msg)")
            XCTAssertFalse(msg.contains("interactive terminal"), "files are checked before the terminal: \(msg)")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: a)), before)
    }
}
