import ArgumentParser
import Datasets
import Distributed
import Foundation
import KP2D
import TensorEngine
import Training
import TUI

/// The default command: the workbench on a real training run, with the HPatches browser evaluating the
/// live model. `kp2d-tui` alone trains on the bundled sample data.
struct WorkbenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workbench",
        abstract: "Train in the interactive workbench (the default: `kp2d-tui` alone trains on the bundled sample data).",
        discussion: """
        Opens the workbench and starts training at once: live loss charts, the current training pair, match \
        statistics and the five live parameters (press ? for the keys). Tab shows the HPatches browser on \
        --hpatches (default: the bundled sample-data/hpatches), evaluated with a copy of the live model's weights \
        taken between steps; r re-evaluates while training continues. q or Ctrl-C quits (asking before discarding \
        unsaved steps); the trainer finishes its step and save first.
        --headless trains without the UI (as `kp2d-tui train --headless`). --once trains until --once-steps steps \
        and a training-pair preview exist, prints the screen as text at --width x --height and exits without \
        writing a checkpoint or log. `kp2d-tui snapshot --run DIR` renders a finished or ongoing run from its files.
        """)

    @OptionGroup var training: TrainingFlags

    @Option(help: "HPatches-format folder for the browser (default: sample-data/hpatches if present).")
    var hpatches: String?

    @Option(help: "Colour theme (default, light, mono, colorblind, or a themes/NAME.theme file).")
    var theme = "default"

    @Flag(help: "ASCII only: no braille, block or box glyphs.")
    var ascii = false

    @Flag(help: "Train without the workbench, printing progress to stderr (for scripts).")
    var headless = false

    @Option(name: .customLong("progress-every"), help: "Print a progress line every N steps (--headless).")
    var progressEvery: Int = 10

    @Flag(help: "Train until --once-steps steps exist, print the screen as plain text and exit (saves nothing).")
    var once = false

    @Option(name: .customLong("once-steps"), help: "Steps to train before the --once frame.")
    var onceSteps = 1

    @Option(help: "Width of the --once frame (default: the terminal's, else 200).") var width: Int?
    @Option(help: "Height of the --once frame (default: the terminal's, else 60).") var height: Int?

    func validate() throws {
        guard onceSteps >= 1 else { throw ValidationError("--once-steps must be >= 1") }
        if let width, width < 20 { throw ValidationError("--width must be >= 20") }
        if let height, height < 5 { throw ValidationError("--height must be >= 5") }
        if headless && once { throw ValidationError("--headless and --once exclude each other") }
    }

    func run() throws {
        if headless { try TrainCommand.runHeadless(training, progressEvery: progressEvery); return }
        if once { try runOnce(); return }
        try WorkbenchCommand.interactive(training, hpatches: hpatches, theme: theme, ascii: ascii)
    }

    /// The interactive workbench on a real trainer (also `kp2d-tui train` without --headless).
    static func interactive(_ training: TrainingFlags, dataOverride: String? = nil, hpatches: String?, theme: String, ascii: Bool) throws {
        // Under mpirun only rank 0 opens the workbench; the other ranks train headless.
        if Launcher.isActive {
            let rank: Int
            do { rank = try Communicator.start()?.rank ?? 0 } catch { throw CommandFailure("\(error)") }
            if rank != 0 { try TrainCommand.runHeadless(training, dataOverride: dataOverride, progressEvery: 10); return }
            return try interactiveRank0(training, dataOverride: dataOverride, hpatches: hpatches, theme: theme, ascii: ascii)
        }
        // Fail fast (before loading data) when there is no terminal: CI and pipes must not hang.
        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
            throw CommandFailure("the workbench needs an interactive terminal (stdin and stdout are not a TTY): use `kp2d-tui --headless` to train without it or `kp2d-tui --once` for a text snapshot")
        }
        let o = try training.makeOptions(dataOverride: dataOverride)
        let trainer = try training.makeTrainer(o)
        let browser = try makeBrowser(trainer: trainer, hpatches: hpatches)
        for c in training.resumeCommands(o) { trainer.send(c) }
        trainer.start()
        let wb = Workbench(options: WorkbenchOptions(themeName: theme, ascii: ascii), hpatches: browser)
        do { try wb.run(source: trainer, send: trainer.send) } catch { trainer.send(.quit); trainer.waitUntilFinished(); throw error }
        // The UI sent .quit (after the save, if asked): let the trainer finish its step (and final save).
        trainer.waitUntilFinished()
        let status = trainer.snapshot().status
        if case let .failed(reason) = status.state {
            FileHandle.standardError.write(Data("error: \(reason)\n".utf8))
            throw ExitCode(1)
        }
        print("stopped at step \(status.step)" + (status.lastSavedStep.map { ", last checkpoint at step \($0): \(status.checkpointPath)" } ?? ""))
    }

    /// The HPatches browser on --hpatches (or the sample data), evaluating a copy of the live weights.
    static func makeBrowser(trainer: Trainer, hpatches: String?) throws -> HPatchesBrowserSource? {
        guard let root = hpatches ?? TrainingFlags.sampleFolderIfPresent("hpatches") else { return nil }
        let dataset = try HPatchesDataset(root: root)
        let config = trainer.options.model
        return EvaluatorHPatchesSource(dataset: dataset, settings: .official240, makeDetector: { [weak trainer] in
            guard let trainer else { throw CommandFailure("the training run has ended") }
            let state = try trainer.copyKeypointNetState()
            var rng = SeededRandom(seed: 0)
            let net = KeypointNet(config: config, rng: &rng)
            try net.loadStateDict(state, strict: true, source: "the live model")
            return { KeypointNetDetector.detect(net, $0) }
        })
    }

    /// --once: train a few steps without writing anything, print one frame.
    func runOnce() throws {
        var o = try training.makeOptions()
        o.checkpointPath = nil
        o.logPath = nil
        o.exportPath = nil
        o.checkpointEvery = 0
        let trainer = try training.makeTrainer(o)
        for c in training.resumeCommands(o) { trainer.send(c) }
        let target = trainer.snapshot().status.step + onceSteps
        trainer.start()
        while true {
            let s = trainer.snapshot()
            if case let .failed(reason) = s.status.state { throw CommandFailure("training failed: \(reason)") }
            if s.status.step >= target && s.preview != nil { break }
            if trainer.isFinished { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        trainer.send(.quit)
        trainer.waitUntilFinished()
        let size = TerminalSize.current()
        let snap = trainer.snapshot()
        print(renderOnce(snap, width: width ?? size?.width ?? 200, height: height ?? size?.height ?? 60,
                         options: WorkbenchOptions(themeName: theme, ascii: ascii)))
    }
}

/// A one-line error for the user (ArgumentParser prints "Error: <description>" and exits 1).
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// The size of the terminal on stdout, if it is one.
enum TerminalSize {
    static func current() -> (width: Int, height: Int)? {
        guard isatty(STDOUT_FILENO) != 0 else { return nil }
        var ws = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0, ws.ws_row > 0 else { return nil }
        return (Int(ws.ws_col), Int(ws.ws_row))
    }
}
