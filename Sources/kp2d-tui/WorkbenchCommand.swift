import ArgumentParser
import Datasets
import Distributed
import Evaluation
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
        `kp2d-tui train` is the same command. Presets: fast (\(TrainingPreset.fast.summary)); paper \
        (\(TrainingPreset.paper.summary)). Every step appends one JSON line to --log. --resume continues a \
        checkpoint's run (same model, optimizer state, step count and data order); the size, batch, preset and \
        seed then come from the checkpoint. With --headless, Ctrl-C writes a final checkpoint and exits; press it \
        twice to exit at once.

        Opens the workbench and starts training at once: live loss charts, the current training pair, match \
        statistics and the five live parameters (press ? for the keys). Tab shows the HPatches browser on \
        --hpatches (default: the bundled sample-data/hpatches), evaluated with a copy of the live model's weights \
        taken between steps; r re-evaluates while training continues, x switches its size between the official \
        240x320 and the training size. b pins a copy of the current weights as a baseline: the browser then shows \
        the live model (A) against the pin (B) per sequence, worst regressed first (b again re-pins, B clears). \
        p saves the pair on screen as a PNG figure in <checkpoint folder>/pictures. \
        q or Ctrl-C quits (asking before discarding unsaved steps); the trainer finishes its step and save first.
        --headless trains without the UI (as `kp2d-tui train --headless`). --once trains until --once-steps steps \
        and a training-pair preview exist, prints the screen as text at --width x --height and exits without \
        writing a checkpoint or log. `kp2d-tui snapshot --run DIR` renders a finished or ongoing run from its files.
        """,
        aliases: ["train"])

    @Argument(help: "Folder of training images (same as --data).")
    var dataFolder: String?

    @OptionGroup var training: TrainingFlags

    @Option(help: "HPatches-format folder for the browser (default: sample-data/hpatches if present).")
    var hpatches: String?

    @OptionGroup var ui: UIFlags

    @OptionGroup var validation: ValidationFlags

    @Flag(help: "Train until --once-steps steps exist, print the screen as plain text and exit (saves nothing).")
    var once = false

    @Option(name: .customLong("once-steps"), help: "Steps to train before the --once frame.")
    var onceSteps = 1

    func validate() throws {
        guard onceSteps >= 1 else { throw ValidationError("--once-steps must be >= 1") }
        if ui.headless && once { throw ValidationError("--headless and --once exclude each other") }
    }

    func run() throws {
        if ui.headless {
            try HeadlessTraining.run(training, dataOverride: dataFolder, progressEvery: ui.progressEvery, validation: validation)
            return
        }
        if once { try runOnce(); return }
        try WorkbenchCommand.interactive(training, dataOverride: dataFolder, hpatches: hpatches, screen: ui.screen, validation: validation)
    }

    /// The interactive workbench on a real trainer.
    static func interactive(_ training: TrainingFlags, dataOverride: String?, hpatches: String?, screen: ScreenFlags,
                            validation: ValidationFlags) throws {
        // Under mpirun only rank 0 opens the workbench; the other ranks train headless (no validation).
        if Launcher.isActive {
            let rank: Int
            do { rank = try Communicator.start()?.rank ?? 0 } catch { throw CommandFailure("\(error)") }
            if rank != 0 {
                try HeadlessTraining.run(training, dataOverride: dataOverride, progressEvery: 10, validation: validation)
                return
            }
            return try interactiveRank0(training, dataOverride: dataOverride, hpatches: hpatches, screen: screen, validation: validation)
        }
        // Fail fast (before loading data) when there is no terminal: CI and pipes must not hang.
        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
            throw CommandFailure("the workbench needs an interactive terminal (stdin and stdout are not a TTY): use `kp2d-tui --headless` to train without it or `kp2d-tui --once` for a text snapshot")
        }
        let o = try training.makeOptions(dataOverride: dataOverride)
        let trainer = try training.makeTrainer(o)
        let browser = try makeBrowser(trainer: trainer, hpatches: hpatches)
        let monitor = try validation.makeMonitor(o, byDefault: true)
        let probe = try validation.makeProbe(trainer, byDefault: true)
        for c in training.resumeCommands(o) { trainer.send(c) }
        probe?.start(trainer: trainer)   // before the trainer: its first record is step 0
        trainer.start()
        monitor?.start(trainer: trainer)
        defer { monitor?.stop(); probe?.stop() }
        // The picture key writes beside the run: <checkpoint folder>/pictures.
        let pictures = o.checkpointPath.map { (($0 as NSString).deletingLastPathComponent as NSString).appendingPathComponent("pictures") }
        let wb = Workbench(options: WorkbenchOptions(themeName: screen.theme, ascii: screen.ascii, compareRun: try screen.comparisonRun(),
                                                     picturesDirectory: pictures ?? "kp2d-pictures"),
                           hpatches: browser)
        wb.validation = monitor
        wb.probe = probe
        // SIGTERM / SIGHUP (and a SIGINT from outside: in the UI Ctrl-C is a key) save and stop, as Ctrl-C does
        // headless; the UI closes and the trainer finishes its step and save.
        let signals = StopSignals { _ in trainer.send(.save); trainer.send(.quit) }
        wb.stopRequested = { signals.received != nil }
        defer { signals.cancel() }
        do { try wb.run(source: trainer, send: trainer.send) } catch { trainer.send(.quit); trainer.waitUntilFinished(); throw error }
        if let name = signals.received { stderrLine("received \(name): finishing the step and writing a final checkpoint") }
        // The UI sent .quit (after the save, if asked): let the trainer finish its step (and final save).
        trainer.waitUntilFinished()
        let status = trainer.snapshot().status
        if case let .failed(reason) = status.state {
            stderrLine("error: \(reason)")
            throw ExitCode(1)
        }
        for n in trainer.startNotices { stderrLine(n) }
        print("stopped at step \(status.step)" + (status.lastSavedStep.map { ", last checkpoint at step \($0): \(status.checkpointPath)" } ?? ""))
    }

    /// The HPatches browser on --hpatches (or the sample data), evaluating a copy of the live weights (model A);
    /// b pins a copy of the weights as it is then (model B) and the browser compares the two.
    static func makeBrowser(trainer: Trainer, hpatches: String?) throws -> HPatchesBrowserSource? {
        guard let root = hpatches ?? TrainingFlags.sampleFolderIfPresent("hpatches") else { return nil }
        let dataset = try HPatchesDataset(root: root)
        let config = trainer.options.model
        // x switches to the training size (e.g. 128x192 for the fast preset) and back.
        let o = trainer.options
        func network(_ state: [String: StoredTensor], _ what: String) throws -> KeypointNet {
            var rng = SeededRandom(seed: 0)
            let net = KeypointNet(config: config, rng: &rng)
            try net.loadStateDict(state, strict: true, source: what)
            return net
        }
        // The live model and the pin evaluate one after the other (one gate), never both at once.
        let live = EvaluatorHPatchesSource(dataset: dataset, settings: .official240,
                                           otherSizes: [(o.height, o.width, 300, "training size")], gate: NSLock(), makeDetector: { [weak trainer] in
            guard let trainer else { throw CommandFailure("the training run has ended") }
            let net = try network(try trainer.copyKeypointNetState(), "the live model")
            return { KeypointNetDetector.detect(net, $0) }
        })
        return HPatchesComparisonSource(primary: live, label: "live model", pinner: { [weak trainer] in
            guard let trainer else { throw CommandFailure("the training run has ended") }
            let copy = try trainer.copyKeypointNetStateAndStep()
            let net = try network(copy.state, "the pinned weights")
            // Fixed weights: the same network serves every evaluation of the pin (one at a time, on its worker).
            return (live.sibling(makeDetector: { { KeypointNetDetector.detect(net, $0) } }), "pinned at step \(copy.step)")
        })
    }

    /// --once: train a few steps without writing anything, print one frame.
    func runOnce() throws {
        var o = try training.makeOptions(dataOverride: dataFolder)
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
        let size = ui.screen.frameSize
        print(renderOnce(trainer.snapshot(), width: size.width, height: size.height,
                         options: WorkbenchOptions(themeName: ui.screen.theme, ascii: ui.screen.ascii, compareRun: try ui.screen.comparisonRun())))
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
