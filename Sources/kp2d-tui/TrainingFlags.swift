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

    // .unconditional on numeric options: `--steps -1` reaches validation (a clear "must be at least 1") instead
    // of ArgumentParser's "missing value" (it reads a leading minus as another option).
    @Option(parsing: .unconditional, help: "Stop after this many steps in total.")
    var steps: Int?

    @Option(parsing: .unconditional, help: "Stop after this many epochs (paper preset default: 50, as official; fast: until quit).")
    var epochs: Int?

    @Option(parsing: .unconditional, help: "Stop (and save) after this many minutes of training in total (pauses excluded; with --steps/--epochs, whichever comes first).")
    var minutes: Double?

    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Images per batch.")
    var batchSize: Int?

    @Option(help: "Training image size HxW, multiples of 8 (e.g. 128x192).")
    var size: String?

    @Option(parsing: .unconditional, help: "Initial learning rate (halved every 40 epochs, as official).")
    var lr: Float?

    @Option(help: "Random seed (model init, data order, augmentation).")
    var seed: UInt64?

    @Option(parsing: .unconditional, help: "Keypoint location loss weight.") var alpha: Float?
    @Option(parsing: .unconditional, help: "Descriptor loss weight (the loss doubles it).") var beta: Float?
    @Option(parsing: .unconditional, help: "Score loss weight.") var lambda: Float?
    @Option(parsing: .unconditional, help: "IO-Net loss weight.") var gamma: Float?

    @Option(help: "KeypointNet widths: reduced, half, paper, or seven numbers c1,c2,c3,c4,c5,d1,descriptor (default: the preset's).")
    var widths: String?

    @Option(help: "Dropout2d(0.2) in KeypointNet while training: on (official with_drop) or off (default: the preset's).")
    var dropout: String?

    @Option(parsing: .unconditional, help: "Linear learning-rate warm-up over the first N steps (default: the preset's).")
    var warmup: Int?

    @Option(name: .customLong("crop-min-scale"), parsing: .unconditional, help: "Train on random crops (training aspect ratio) whose side is a uniform fraction in [S, 1] of the largest one, instead of whole photos (default: the preset's).")
    var cropMinScale: Double?

    @Option(name: .customLong("crop-texture"), parsing: .unconditional, help: "Texture-aware crops (not official; in no preset): draw K random crops (scale range --crop-min-scale, default 0.5) and train on the one with the most textured 8x8 cells at the training size. 1: plain random crops.")
    var cropTexture: Int?

    @Option(name: .customLong("io-points"), parsing: .unconditional, help: "Lowest-score cells per image that go to the IO-Net (official and default: 300; sizes below 128x192 need fewer).")
    var ioPoints: Int?

    @Option(name: .customLong("noise-sigma"), parsing: .unconditional, help: "Standard deviation of the Gaussian noise added (with probability 0.5) to each training image, in [0,1] units (official and default: 0.05; 0: no noise).")
    var noiseSigma: Double?

    @Option(name: .customLong("blur-kernels"), help: "Gaussian blur kernel sizes, one drawn per training image, comma-separated (official and default: 0,1,3,5; 0 or 1: no blur).")
    var blurKernels: String?

    @Option(name: .customLong("max-angle"), parsing: .unconditional, help: "Largest rotation of the training homographies, in degrees (official and default: 45).")
    var maxAngle: Double?

    @Option(name: .customLong("patch-ratio"), parsing: .unconditional, help: "Side of the training homographies' patch as a fraction of the frame: the source shows the target magnified 1/R times (official and default: 0.7; 1: no zoom).")
    var patchRatio: Double?

    @Flag(name: .customLong("color-jitter"), help: "Apply brightness/contrast/saturation/hue jitter (the official code samples it but applies a no-op, so it is off by default).")
    var colorJitter = false

    @Option(help: "Initial KeypointNet weights (.safetensors with the official keys; the widths come from the file). Not with --resume.")
    var weights: String?

    @Option(help: "Checkpoint file (.safetensors). Default: runs/<preset>/checkpoint.safetensors (runs/<preset>-2/... if that run exists).")
    var checkpoint: String?

    @Option(name: .customLong("checkpoint-every"), parsing: .unconditional, help: "Also save every N steps (0: only at the end and on Ctrl-C).")
    var checkpointEvery: Int = 500

    @Option(help: "Resume from this checkpoint.")
    var resume: String?

    @Option(help: "JSON-lines metrics log. Default: beside the checkpoint, metrics.jsonl (when resuming: beside the resumed checkpoint).")
    var log: String?

    @Flag(help: "Start a new run over an existing checkpoint and log (without it a fresh run refuses to replace them; the old log is replaced when the first new step is written). With --resume: let --checkpoint replace another existing file.")
    var overwrite = false

    @Option(name: .customLong("dump-gradients"), help: .hidden)
    var dumpGradients: String?

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
                                  ("--weights", weights != nil), ("--widths", widths != nil), ("--dropout", dropout != nil),
                                  ("--warmup", warmup != nil), ("--crop-min-scale", cropMinScale != nil),
                                  ("--crop-texture", cropTexture != nil),
                                  ("--io-points", ioPoints != nil), ("--noise-sigma", noiseSigma != nil), ("--blur-kernels", blurKernels != nil),
                                  ("--max-angle", maxAngle != nil), ("--patch-ratio", patchRatio != nil)] where given {
                throw ValidationError("\(flag) cannot change when resuming: the checkpoint fixes the model, data order and batch shape; start a new run instead")
            }
            o.resumePath = resume
            o.checkpointPath = checkpoint ?? resume
            o.exportPath = nil
            // The log beside the checkpoint being resumed (a copy of a run resumed elsewhere must not write
            // into the original run's log), or the one given.
            o.logPath = RunFiles.resumedLogPath(resume: resume, given: log, stored: o.logPath)
            o.steps = steps
            o.epochs = epochs
            if steps == nil && epochs == nil { o.steps = state.options.steps; o.epochs = state.options.epochs }
            o.minutes = minutes ?? (steps == nil && epochs == nil ? state.options.minutes : nil)
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
            if let widths { o.model = try TrainingFlags.parseWidths(widths, flags: o.model) }
            if let dropout {
                switch dropout.lowercased() {
                case "on": o.model.withDrop = true
                case "off": o.model.withDrop = false
                default: throw ValidationError("--dropout \(dropout): use on or off")
                }
            }
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
            if let warmup { o.warmupSteps = warmup }
            if let cropMinScale { o.augmentation.cropMinScale = cropMinScale }
            if let cropTexture { o.augmentation.cropTextureCandidates = cropTexture }
            if let ioPoints { o.ioPoints = ioPoints }
            if let maxAngle { o.augmentation.homography.maxAngle = maxAngle * Double.pi / 180 }
            if let patchRatio { o.augmentation.homography.patchRatio = patchRatio }
            if let noiseSigma {
                o.augmentation.photometric.noiseSigma = noiseSigma
                if noiseSigma == 0 { o.augmentation.photometric.noiseProbability = 0 }
            }
            if let blurKernels {
                let kernels = blurKernels.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard !kernels.isEmpty, kernels.allSatisfy({ $0 != nil }) else {
                    throw ValidationError("--blur-kernels \(blurKernels): write kernel sizes separated by commas, e.g. 0,1,3 (official 0,1,3,5)")
                }
                o.augmentation.photometric.blurKernels = kernels.map { $0! }
            }
            if steps != nil || epochs != nil || minutes != nil { o.steps = steps; o.epochs = epochs }
            o.minutes = minutes
            // Default run folder: runs/<preset>, or the first of runs/<preset>-2, -3, ... that holds no run
            // (a second `kp2d-tui` keeps the first run's files); an explicit --checkpoint is used as given.
            o.checkpointPath = checkpoint ?? RunFiles.freeRunFolder(base: "runs/\(p.rawValue)", overwrite: overwrite) + "/checkpoint.safetensors"
            let dir = (o.checkpointPath! as NSString).deletingLastPathComponent
            o.logPath = log ?? (dir.isEmpty ? "metrics.jsonl" : dir + "/metrics.jsonl")
        }
        if let data { o.dataPath = data }
        o.checkpointEvery = checkpointEvery
        do { try o.validate() } catch { throw CommandFailure("\(error)") }
        return o
    }

    /// Build the trainer; with --weights the KeypointNet starts from the file (before the thread starts).
    func makeTrainer(_ o: TrainingOptions, coordinator: RunCoordinator = LocalRun()) throws -> Trainer {
        try RunFiles.checkDistinct(o)
        try RunFiles.refuseExistingRun(o, overwrite: overwrite)
        let trainer = try Trainer(options: o, coordinator: coordinator)
        trainer.gradientDumpFolder = dumpGradients
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

    /// "half" / "paper" / "reduced" or "c1,c2,c3,c4,c5,d1,descriptor"; the flags (cross, upsample, dropout,
    /// colour) are kept from `flags`.
    static func parseWidths(_ text: String, flags: KeypointNetConfig) throws -> KeypointNetConfig {
        var c: KeypointNetConfig
        if let named = KeypointNetConfig.preset(named: text) {
            c = named
        } else {
            let n = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard n.count == 7, n.allSatisfy({ $0 != nil }) else {
                throw ValidationError("--widths \(text): use reduced, half, paper or seven numbers c1,c2,c3,c4,c5,d1,descriptor (e.g. 8,16,32,64,64,128,64)")
            }
            let w = n.map { $0! }
            c = KeypointNetConfig(c1: w[0], c2: w[1], c3: w[2], c4: w[3], c5: w[4], d1: w[5], descriptorDim: w[6])
        }
        c.doCross = flags.doCross; c.doUpsample = flags.doUpsample; c.withDrop = flags.withDrop; c.useColor = flags.useColor
        if let p = c.problem { throw ValidationError("--widths \(text): \(p)") }
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
