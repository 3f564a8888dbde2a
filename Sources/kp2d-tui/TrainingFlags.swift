import ArgumentParser
import Evaluation
import Foundation
import KP2D
import TensorEngine
import Training

/// The training options shared by `kp2d-tui` (the workbench), `kp2d-tui train` and `kp2d-tui bench`-like
/// callers: one `@OptionGroup`, one `makeOptions()`.
struct TrainingFlags: ParsableArguments {
    @Option(help: "Folder of training images (PNG/JPEG/PPM, searched recursively; a COCO train2017 folder works). Default: the bundled sample-data/train.")
    var data: String?

    @Option(help: "fast or paper.")
    var preset: String = TrainingPreset.fast.rawValue

    @Option(help: "Stop after this many steps in total.")
    var steps: Int?

    @Option(help: "Stop after this many epochs (paper preset default: 50, as official; fast: until quit).")
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

    @Option(help: "Initial KeypointNet weights (.safetensors with the official keys; the widths come from the file). Not with --resume.")
    var weights: String?

    @Option(help: "Checkpoint file (.safetensors). Default: runs/<preset>/checkpoint.safetensors.")
    var checkpoint: String?

    @Option(name: .customLong("checkpoint-every"), help: "Also save every N steps (0: only at the end and on Ctrl-C).")
    var checkpointEvery: Int = 500

    @Option(help: "Resume from this checkpoint.")
    var resume: String?

    @Option(help: "JSON-lines metrics log. Default: beside the checkpoint, metrics.jsonl.")
    var log: String?

    /// Options from the preset and flags, or from the checkpoint when resuming. `dataOverride` is a
    /// positional data folder (`train DIR`), which wins over --data.
    func makeOptions(dataOverride: String? = nil) throws -> TrainingOptions {
        let data = dataOverride ?? self.data
        var o: TrainingOptions
        if let resume {
            let state = try TrainingCheckpoint.readState(path: resume)
            o = state.options
            for (flag, given) in [("--preset", preset != TrainingPreset.fast.rawValue && preset != o.preset.rawValue),
                                  ("--size", size != nil), ("--batch-size", batchSize != nil), ("--seed", seed != nil),
                                  ("--weights", weights != nil)] where given {
                throw ValidationError("\(flag) cannot change when resuming: the checkpoint fixes the model, data order and batch shape; start a new run instead")
            }
            o.resumePath = resume
            o.checkpointPath = checkpoint ?? resume
            o.exportPath = nil
            o.logPath = log ?? o.logPath
            o.steps = steps
            o.epochs = epochs
            if steps == nil && epochs == nil { o.steps = state.options.steps; o.epochs = state.options.epochs }
        } else {
            guard let p = TrainingPreset(rawValue: preset) else {
                throw ValidationError("unknown preset '\(preset)'; use one of: \(TrainingPreset.allCases.map { $0.rawValue }.joined(separator: ", "))")
            }
            o = TrainingOptions(preset: p, dataPath: try data ?? TrainingFlags.sampleFolder("train"))
            if let size {
                let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
                guard parts.count == 2 else { throw ValidationError("--size \(size): write it as HxW, e.g. 128x192") }
                o.setSize(height: parts[0], width: parts[1])
            }
            if let batchSize { o.batchSize = batchSize }
            if let lr { o.learningRate = lr }
            if let seed { o.seed = seed }
            if let alpha { o.lossWeights.alpha = alpha }
            if let beta { o.lossWeights.beta = beta }
            if let lambda { o.lossWeights.lambda = lambda }
            if let gamma { o.lossWeights.gamma = gamma }
            if let weights {
                // The widths (and colour input) come from the file; doCross / upsampling / dropout from the preset.
                let file = try SafeTensors.read(weights)
                o.model = try KeypointNetWeights.inferConfig(KeypointNetWeights.keypointNetTensors(file), metadata: file.metadata,
                                                            flags: o.model, path: weights)
            }
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

    /// Build the trainer; with --weights the KeypointNet starts from the file (before the thread starts).
    func makeTrainer(_ o: TrainingOptions) throws -> Trainer {
        let trainer = try Trainer(options: o)
        if let weights, o.resumePath == nil {
            let file = try SafeTensors.read(weights)
            try trainer.model.keypointNet.loadStateDict(KeypointNetWeights.keypointNetTensors(file), strict: true, source: weights)
        }
        return trainer
    }

    /// Loss weights given on the command line of a resumed run (applied as a recorded change).
    func weightOverridesOnResume(_ o: TrainingOptions) -> LossWeights? {
        guard resume != nil, alpha != nil || beta != nil || lambda != nil || gamma != nil else { return nil }
        var w = o.lossWeights
        if let alpha { w.alpha = alpha }
        if let beta { w.beta = beta }
        if let lambda { w.lambda = lambda }
        if let gamma { w.gamma = gamma }
        return w
    }

    /// Commands a resumed run applies at its start (loss weights and lr given on the command line).
    func resumeCommands(_ o: TrainingOptions) -> [TrainerCommand] {
        var c: [TrainerCommand] = []
        if let w = weightOverridesOnResume(o) { c.append(.setLossWeights(w)) }
        if resume != nil, let lr { c.append(.setLearningRate(lr)) }
        return c
    }

    /// sample-data/NAME in the current folder, or in the repository that holds this executable.
    static func sampleFolderIfPresent(_ name: String) -> String? {
        var candidates = [FileManager.default.currentDirectoryPath + "/sample-data/" + name]
        if let exe = Bundle.main.executablePath ?? CommandLine.arguments.first {
            var url = URL(fileURLWithPath: exe).resolvingSymlinksInPath()
            for _ in 0..<6 {
                url.deleteLastPathComponent()
                candidates.append(url.appendingPathComponent("sample-data/" + name).path)
            }
        }
        for c in candidates {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: c, isDirectory: &isDir), isDir.boolValue { return c }
        }
        return nil
    }

    static func sampleFolder(_ name: String) throws -> String {
        if let p = sampleFolderIfPresent(name) { return p }
        throw ValidationError("no training data given and no sample-data/\(name) found (looked in the current folder and beside the executable); pass a folder of images, e.g. `kp2d-tui --data ~/coco/train2017`")
    }
}
