import ArgumentParser
import Dispatch
import Foundation
import KP2D
import Training
import TUI

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train KeyPointNet + IO-Net with the official self-supervised KP2D loss.",
        discussion: """
        Opens the workbench unless --headless. Presets: fast (\(TrainingPreset.fast.summary)); paper (\(TrainingPreset.paper.summary)).
        Every step appends one JSON line to --log. Ctrl-C writes a final checkpoint and exits; press it twice \
        to exit at once. --resume continues a checkpoint's run (same model, optimizer state, step count and \
        data order); the size, batch, preset and seed then come from the checkpoint.
        """)

    @Flag(help: "Train without the workbench, printing progress to stderr.")
    var headless = false

    @Option(help: "Workbench colour theme (default, light, mono, colorblind, or a themes/NAME.theme file).")
    var theme = "default"

    @Flag(help: "Workbench in ASCII only: no braille, block or box glyphs.")
    var ascii = false

    @Argument(help: "Folder of training images (PNG/JPEG/PPM, searched recursively; a COCO train2017 folder works). Default: the bundled sample-data/train.")
    var data: String?

    @Option(help: "fast or paper.")
    var preset: String = TrainingPreset.fast.rawValue

    @Option(help: "Stop after this many steps in total.")
    var steps: Int?

    @Option(help: "Stop after this many epochs (paper preset default: 50, as official; fast: until Ctrl-C).")
    var epochs: Int?

    @Option(name: .customLong("batch-size"), help: "Images per batch.")
    var batchSize: Int?

    @Option(help: "Training image size HxW, multiples of 8 (e.g. 128x192).")
    var size: String?

    @Option(help: "Initial learning rate (halved every 40 epochs, as official).")
    var lr: Float?

    @Option(help: "Random seed (model init, data order, augmentation).")
    var seed: UInt64?

    @Option(help: "Keypoint location loss weight.") var alpha: Float?
    @Option(help: "Descriptor loss weight (the loss doubles it).") var beta: Float?
    @Option(help: "Score loss weight.") var lambda: Float?
    @Option(help: "IO-Net loss weight.") var gamma: Float?

    @Flag(name: .customLong("color-jitter"), help: "Apply brightness/contrast/saturation/hue jitter (the official code samples it but applies a no-op, so it is off by default).")
    var colorJitter = false

    @Option(help: "Checkpoint file (.safetensors). Default: runs/<preset>/checkpoint.safetensors.")
    var checkpoint: String?

    @Option(name: .customLong("checkpoint-every"), help: "Also save every N steps (0: only at the end and on Ctrl-C).")
    var checkpointEvery: Int = 500

    @Option(help: "Resume from this checkpoint.")
    var resume: String?

    @Option(help: "JSON-lines metrics log. Default: beside the checkpoint, metrics.jsonl.")
    var log: String?

    @Option(name: .customLong("progress-every"), help: "Print a progress line every N steps.")
    var progressEvery: Int = 10

    func run() throws {
        if !headless { try runWorkbench(); return }
        let options = try makeOptions()
        let trainer = try Trainer(options: options)
        let total = trainer.totalSteps
        let err = FileHandle.standardError
        func say(_ s: String) { err.write(Data((s + "\n").utf8)) }

        say("kp2d-tui train: \(options.preset.rawValue) preset, \(options.height)x\(options.width), batch \(options.batchSize), widths \(options.model.widthsDescription), lr \(options.learningRate), seed \(options.seed)")
        say("data: \(trainer.folder.count) images in \(trainer.folder.root) (\(trainer.loader.stepsPerEpoch) steps per epoch)")
        say("checkpoint: \(options.checkpointPath ?? "none")\(options.resolvedExportPath.map { ", weights export: \($0)" } ?? ""); log: \(options.logPath ?? "none")")
        if options.resumePath != nil { say(trainer.snapshot().status.message) }
        let every = max(progressEvery, 1)
        trainer.onStep = { [unowned trainer] r in
            guard r.step % every == 0 || r.step == total || r.skipped else { return }
            let st = trainer.snapshot().status
            let t = r.terms
            let of = total.map { "/\($0)" } ?? ""
            say(String(format: "step %d%@ epoch %d  loss %.4f (loc %.3f desc %.4f usp %.4f cons %.4f io %.4f)  recall %.3f  inliers %d  lr %.2e  %.2f steps/s  data wait %.0f ms%@",
                       r.step, of, r.epoch, t.total, t.loc, t.desc, t.usp, t.consistency, t.io, t.recall, t.ioInliers,
                       r.lr, r.stepsPerSecond, st.dataWait * 1000, r.skipped ? "  SKIPPED" : ""))
        }
        trainer.onMessage = { m in if !m.hasPrefix("step ") { say(m) } }

        // Ctrl-C: ask the trainer to save and stop; a second Ctrl-C exits at once.
        signal(SIGINT, SIG_IGN)
        let interrupts = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        let count = InterruptCounter()
        interrupts.setEventHandler {
            if count.increment() == 1 {
                say("interrupted: finishing the step and writing a final checkpoint (Ctrl-C again to exit now)")
                trainer.send(.save)
                trainer.send(.quit)
            } else {
                Foundation.exit(130)
            }
        }
        interrupts.resume()

        if let w = weightOverridesOnResume(options) { trainer.send(.setWeights(w)) }
        if resume != nil, let lr { trainer.send(.setLearningRate(lr)) }
        trainer.start()
        trainer.waitUntilFinished()
        interrupts.cancel()
        if case let .failed(reason) = trainer.snapshot().status.state {
            say("error: \(reason)")
            throw ExitCode(1)
        }
    }

    /// The workbench on the real trainer: it sends the commands (quit asks first when steps are unsaved).
    func runWorkbench() throws {
        let options = try makeOptions()
        let trainer = try Trainer(options: options)
        if let w = weightOverridesOnResume(options) { trainer.send(.setWeights(w)) }
        if resume != nil, let lr { trainer.send(.setLearningRate(lr)) }
        trainer.start()
        let wb = Workbench(options: WorkbenchOptions(themeName: theme, ascii: ascii))
        do {
            try wb.run(source: trainer, send: trainer.send)
        } catch {
            trainer.send(.quit)
            trainer.waitUntilFinished()
            throw ValidationError("the workbench needs an interactive terminal (\(error)); use `kp2d-tui train --headless` to train without it")
        }
        trainer.waitUntilFinished()
        let status = trainer.snapshot().status
        if case let .failed(reason) = status.state {
            FileHandle.standardError.write(Data("error: \(reason)\n".utf8))
            throw ExitCode(1)
        }
        print("stopped at step \(status.step)" + (status.lastSavedStep.map { ", last checkpoint at step \($0): \(status.checkpointPath)" } ?? ""))
    }

    /// Options from the preset and flags, or from the checkpoint when resuming.
    func makeOptions() throws -> TrainingOptions {
        var o: TrainingOptions
        if let resume {
            let state = try TrainingCheckpoint.readState(path: resume)
            o = state.options
            for (flag, given) in [("--preset", preset != TrainingPreset.fast.rawValue && preset != o.preset.rawValue),
                                  ("--size", size != nil), ("--batch-size", batchSize != nil), ("--seed", seed != nil)] where given {
                throw ValidationError("\(flag) cannot change when resuming: the checkpoint fixes the model, data order and batch shape; start a new run instead")
            }
            o.resumePath = resume
            o.checkpointPath = checkpoint ?? resume
            o.exportPath = nil
            o.logPath = log ?? o.logPath
            o.steps = steps
            o.epochs = epochs
            if steps == nil && epochs == nil { o.steps = state.options.steps; o.epochs = state.options.epochs }
            if let data { o.dataPath = data }
        } else {
            guard let p = TrainingPreset(rawValue: preset) else {
                throw ValidationError("unknown preset '\(preset)'; use one of: \(TrainingPreset.allCases.map { $0.rawValue }.joined(separator: ", "))")
            }
            o = TrainingOptions(preset: p, dataPath: try data ?? TrainCommand.defaultDataFolder())
            if let size {
                let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
                guard parts.count == 2 else { throw ValidationError("--size \(size): write it as HxW, e.g. 128x192") }
                o.setSize(height: parts[0], width: parts[1])
            }
            if let batchSize { o.batchSize = batchSize }
            if let lr { o.learningRate = lr }
            if let seed { o.seed = seed }
            if let alpha { o.weights.alpha = alpha }
            if let beta { o.weights.beta = beta }
            if let lambda { o.weights.lambda = lambda }
            if let gamma { o.weights.gamma = gamma }
            o.augmentation.photometric.colorJitter = colorJitter
            if steps != nil || epochs != nil { o.steps = steps; o.epochs = epochs }
            o.checkpointPath = checkpoint ?? "runs/\(p.rawValue)/checkpoint.safetensors"
            let dir = (o.checkpointPath! as NSString).deletingLastPathComponent
            o.logPath = log ?? (dir.isEmpty ? "metrics.jsonl" : dir + "/metrics.jsonl")
        }
        if let data { o.dataPath = data }
        o.checkpointEvery = checkpointEvery
        do { try o.validate() } catch { throw ValidationError("\(error)") }
        return o
    }

    /// Loss weights given on the command line of a resumed run (applied as a recorded change).
    func weightOverridesOnResume(_ o: TrainingOptions) -> LossWeights? {
        guard resume != nil, alpha != nil || beta != nil || lambda != nil || gamma != nil else { return nil }
        var w = o.weights
        if let alpha { w.alpha = alpha }
        if let beta { w.beta = beta }
        if let lambda { w.lambda = lambda }
        if let gamma { w.gamma = gamma }
        return w
    }

    /// sample-data/train in the current folder, or in the repository that holds this executable.
    static func defaultDataFolder() throws -> String {
        var candidates = [FileManager.default.currentDirectoryPath + "/sample-data/train"]
        if let exe = Bundle.main.executablePath ?? CommandLine.arguments.first {
            var url = URL(fileURLWithPath: exe).resolvingSymlinksInPath()
            for _ in 0..<6 {
                url.deleteLastPathComponent()
                candidates.append(url.appendingPathComponent("sample-data/train").path)
            }
        }
        for c in candidates {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: c, isDirectory: &isDir), isDir.boolValue { return c }
        }
        throw ValidationError("no training data given and no sample-data/train found (looked in the current folder and beside the executable); pass a folder of images, e.g. `kp2d-tui train --headless ~/coco/train2017`")
    }
}

/// Counts SIGINTs (the handler runs on a dispatch queue).
final class InterruptCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func increment() -> Int { lock.lock(); defer { lock.unlock() }; n += 1; return n }
}
