import Foundation
import ProcessSupport
import XCTest

/// `kp2d-tui inspect` in tmux: the HPatches browser alone on a weights file, evaluated at once; training keys
/// refused; p writes the pair as a PNG; q quits with status 0; the weights file is unchanged byte for byte.
final class InspectTmuxTests: TmuxTestCase {
    override var workDirTag: String { "inspect" }

    func testInspectBrowsesWithoutTrainingAndLeavesTheWeightsAlone() throws {
        let bin = try Binary.path()
        // Weights: one real training step, exported.
        let ck = workDir + "/run/checkpoint.safetensors"
        let train = try Binary.run(["--headless", "--steps", "1", "--batch-size", "2", "--checkpoint", ck], cwd: workDir, timeout: 300)
        XCTAssertEqual(train.status, 0, train.stderr)
        let weights = workDir + "/run/checkpoint.keypointnet.safetensors"
        let before = try Data(contentsOf: URL(fileURLWithPath: weights))
        let listing = try FileManager.default.contentsOfDirectory(atPath: workDir + "/run").sorted()

        let t = try startTmux()
        let pics = workDir + "/pics"
        let script = "cd \(q(workDir)) && TERM=xterm-256color \(q(bin)) inspect --weights \(q(weights)) --pictures \(q(pics)); "
            + "echo EXIT=$? > exit.txt; echo SHELL-BACK; sleep 600"
        try t.newSession(width: 200, height: 60, command: "sh -c \(q(script))")
        var screen = try t.waitFor("the browser evaluated", timeout: 300) { $0.contains("30 pairs in") }
        XCTAssertTrue(screen.contains("INSPECT (read-only)"), screen)
        XCTAssertFalse(screen.contains("1 Training"), "no training view:\n\(screen)")
        XCTAssertTrue(screen.contains("evaluated at 240x320 top-300 official (x: size)"), screen)
        XCTAssertNotNil(screen.range(of: #"Rep [0-9.]+ +LocErr"#, options: .regularExpression), screen)

        // Training keys are refused, and say so.
        try t.send("Space")
        screen = try t.waitFor("the read-only message", timeout: 30) { $0.contains("nothing trains, nothing is saved") }

        // p: the pair on screen as a PNG.
        try t.send("p")
        screen = try t.waitFor("the picture message", timeout: 30) { $0.contains("saved") && $0.contains(pics) }
        let pngs = try FileManager.default.contentsOfDirectory(atPath: pics).filter { $0.hasSuffix("_240x320.png") }
        XCTAssertEqual(pngs.count, 1, "\(pngs)")
        let png = try Data(contentsOf: URL(fileURLWithPath: pics + "/" + pngs[0]))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        // PNG IHDR: width at bytes 16...19, height at 20...23 (big-endian): two 320-wide images and the gap.
        let width = png[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = png[20..<24].reduce(0) { $0 << 8 | Int($1) }
        XCTAssertEqual(width, 320 + 8 + 320)
        XCTAssertGreaterThan(height, 240)

        // x: the other official size.
        try t.send("x")
        screen = try t.waitFor("480x640", timeout: 30) { $0.contains("evaluated at 480x640 top-1000 official") }

        // q quits at once (nothing is unsaved).
        try t.send("q")
        XCTAssertEqual(waitForExitFile(timeout: 60), "EXIT=0")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: weights)), before, "the weights file changed")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: workDir + "/run").sorted(), listing, "inspect wrote into the run folder")
    }

    func testInspectErrorsAreOneLine() throws {
        let r = try Binary.run(["inspect", "--weights", workDir + "/missing.safetensors"], cwd: workDir, timeout: 60)
        XCTAssertNotEqual(r.status, 0)
        let msg = r.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(msg.split(separator: "\n").count, 1, msg)
        XCTAssertTrue(msg.contains("interactive terminal") || msg.contains("missing.safetensors"), msg)
    }
}
