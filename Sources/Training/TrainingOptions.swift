import Datasets
import Foundation
import KP2D
import TensorEngine

// Everything needed to start (or resume) a training run; shared by `kp2d-tui train --headless` and the
// workbench. Presets:
//   paper  the official configuration: 240x320, batch 8, full widths (32,64,128,256,256,512,256),
//          Adam lr 1e-3, loss weights keypoint 1 / descriptor 1 / score 1 (LossWeights.official: the official
//          base_config.py today; it was descriptor 2.0 before commit 4d15567), lr x0.5 every 40 epochs, 50 epochs.
//   fast   a configuration that shows learning within a minute on 2 cores: 128x192 (the smallest common
//          size with >= 300 cells for the IO-Net's 300 points: 16x24 = 384), batch 4, widths
//          (8,16,32,64,64,128,64) (KeypointNetConfig.reduced) WITHOUT dropout (the official with_drop puts
//          Dropout2d(0.2) with independent source/target masks at every stage; off, the descriptor recall rises
//          at once instead of after ~3000 steps: docs/training.md), lr 1e-3, loss weights 1/2/1 (descriptor 2,
//          LossWeights.official2020), no end
//          (until quit / Ctrl-C) unless steps or epochs are given, and a constant learning rate: the official
//          schedule counts COCO epochs (~15k steps each), while an epoch of the 8 bundled images is 2 steps,
//          so halving every 40 of them would cut the rate 16-fold within 320 steps and stall the run
//          (measured: recall ~0.02 with the decay, ~0.07 without, after 400 steps).

public enum TrainingPreset: String, Sendable, Codable, CaseIterable {
    case fast, paper

    public var summary: String {
        switch self {
        case .fast: return "128x192, batch 4, widths (8,16,32,64,64,128,64), no dropout, descriptor weight 2, lr 1e-3 constant"
        case .paper: return "240x320, batch 8, widths (32,64,128,256,256,512,256), dropout, descriptor weight 1, lr 1e-3, 50 epochs (official)"
        }
    }
}

public enum TrainingOptionsError: Error, CustomStringConvertible, Equatable {
    case invalid(String)
    public var description: String { switch self { case let .invalid(s): return s } }
}

public struct TrainingOptions: Sendable, Codable, Equatable {
    public var dataPath: String
    public var preset: TrainingPreset
    public var height: Int
    public var width: Int
    public var batchSize: Int
    /// The initial (undecayed) learning rate of both parameter groups.
    public var learningRate: Float
    public var model: KeypointNetConfig
    public var lossWeights: LossWeights
    public var seed: UInt64
    /// Stop after this many steps in total (counting steps of a resumed run), if set.
    public var steps: Int?
    /// Stop after this many epochs, if set (and `steps` is not).
    public var epochs: Int?
    /// Stop (and save) once the run has trained this many minutes in total (the trainer's clock: pauses
    /// excluded, a resumed run's earlier time included), if set. Combines with steps/epochs: whichever comes first.
    public var minutes: Double?
    /// Official schedule: lr = initial * decay^min(epoch / decayEpochs, maxDecays).
    public var lrDecayEpochs: Int = 40
    public var lrDecay: Float = 0.5
    public var lrMaxDecays: Int = 4
    /// Linear learning-rate warm-up: step s (0-based) uses lr * min(1, (s + 1) / warmupSteps). nil or 0: none
    /// (the official code has none).
    public var warmupSteps: Int?
    /// Full checkpoint (model, optimizer, run state). nil: no checkpoints.
    public var checkpointPath: String?
    /// Also save every N steps (0: only on quit / at the end).
    public var checkpointEvery: Int = 0
    /// Weights-only KeypointNet export written with every checkpoint (default: derived from checkpointPath).
    public var exportPath: String?
    public var resumePath: String?
    /// JSON-lines metrics log, one record per step (appended by a resumed run). nil: no log.
    public var logPath: String?
    public var augmentation: AugmentationConfig
    /// Lowest-score cells per image that go to the IO-Net (`--io-points`, not official). nil: the official 300.
    public var ioPoints: Int?
    /// Batches prepared ahead by the loader thread.
    public var prefetch: Int = 3
    /// Start paused (the workbench may want to show the first batch before training).
    public var startPaused: Bool = false

    public init(preset: TrainingPreset, dataPath: String) {
        self.dataPath = dataPath
        self.preset = preset
        self.seed = 42
        self.lossWeights = .official
        self.learningRate = 1e-3
        switch preset {
        case .paper:
            height = 240; width = 320; batchSize = 8; model = .paper
            epochs = 50   // official arch.epochs
        case .fast:
            height = 128; width = 192; batchSize = 4; model = .reduced
            model.withDrop = false   // dropout off: learning starts at once (docs/training.md, experiments)
            lossWeights = .official2020  // descriptor weight 2 (4 x L_desc): kept from before, see the experiments
            lrDecayEpochs = 0   // constant lr (see the preset notes above)
        }
        augmentation = AugmentationConfig(height: height, width: width)
    }

    /// The weights-only export path: explicit, or "<checkpoint stem>.keypointnet.safetensors".
    public var resolvedExportPath: String? {
        if let e = exportPath { return e }
        guard let c = checkpointPath else { return nil }
        let stem = c.hasSuffix(".safetensors") ? String(c.dropLast(".safetensors".count)) : c
        return stem + ".keypointnet.safetensors"
    }

    /// The IO-Net's points per image: `ioPoints`, or the official 300.
    public var effectiveIOPoints: Int { ioPoints ?? KP2DLoss.ioPointCount }

    /// Keep the augmentation size in step with height/width.
    public mutating func setSize(height: Int, width: Int) {
        self.height = height; self.width = width
        augmentation.height = height; augmentation.width = width
    }

    /// The warm-up factor of 0-based step `step`: min(1, (step + 1) / warmupSteps), 1 without warm-up.
    public func warmupFactor(step: Int) -> Float {
        guard let w = warmupSteps, w > 0 else { return 1 }
        return min(1, Float(step + 1) / Float(w))
    }

    /// The learning rate at an epoch under the official schedule.
    public func learningRate(epoch: Int, initial: Float? = nil) -> Float {
        let base = initial ?? learningRate
        guard lrDecayEpochs > 0 else { return base }
        let exponent = min(epoch / lrDecayEpochs, lrMaxDecays)
        return base * pow(lrDecay, Float(exponent))
    }

    /// A lower bound of the memory one training step needs (nil on overflow): per pixel of every batch
    /// element, both images' activations and gradients, about 2 x 4 bytes x (3 + 16 c1). Measured peak RSS
    /// (`/usr/bin/time -f %M kp2d-tui train --headless --steps 3 ...`): c1 = 8 (fast), 128x192 batch 4:
    /// 219 MB, 256x384 batch 4: 608 MB (1.3 KB per pixel, this bound 1.0 KB); c1 = 32 (paper), 240x320
    /// batch 2: 995 MB (5.8 KB per pixel, this bound 4.1 KB). It only refuses sizes no machine could hold.
    public var stepBytesLowerBound: Int? {
        MemoryLimit.product([batchSize, height, width, 2 * 4, model.c1 >= 0 && model.c1 < 1 << 30 ? 3 + 16 * model.c1 : Int.max])
    }

    /// A clear one-line error for every option that cannot work.
    public func validate() throws {
        func bad(_ s: String) -> TrainingOptionsError { .invalid(s) }
        guard height > 0, width > 0, height % 8 == 0, width % 8 == 0 else {
            throw bad("image size \(height)x\(width): height and width must be positive multiples of 8 (e.g. --size 128x192)")
        }
        guard batchSize >= 1 else { throw bad("--batch-size \(batchSize): must be at least 1") }
        // Bound the size by memory before anything is allocated (and before h*w can overflow).
        do {
            try MemoryLimit.check(bytes: stepBytesLowerBound, what: "a training step at \(height)x\(width) with batch \(batchSize)",
                                  fix: "use a smaller --size or --batch-size")
        } catch { throw bad("\(error)") }
        if let k = ioPoints, k < 1 { throw bad("--io-points \(k): must be at least 1") }
        let cells = (height / 8) * (width / 8)
        guard cells >= effectiveIOPoints else {
            if ioPoints == nil {
                throw bad("image size \(height)x\(width) has \(cells) cells; the IO-Net needs at least \(KP2DLoss.ioPointCount) (e.g. 128x192 or larger, or fewer IO points with --io-points \(cells * 3 / 4))")
            }
            throw bad("--io-points \(effectiveIOPoints): image size \(height)x\(width) has only \(cells) cells; use --io-points \(cells * 3 / 4) or less, or a larger --size")
        }
        let maxAngle = augmentation.homography.maxAngle
        guard maxAngle.isFinite, maxAngle >= 0, maxAngle <= Double.pi / 2 + 1e-9 else {
            throw bad("--max-angle \(maxAngle * 180 / Double.pi): must be 0...90 degrees (official 45)")
        }
        let patchRatio = augmentation.homography.patchRatio
        guard patchRatio.isFinite, patchRatio >= 0.3, patchRatio <= 1 else {
            throw bad("--patch-ratio \(patchRatio): must be 0.3...1 (official 0.7; 1: no zoom)")
        }
        let p = augmentation.photometric
        guard p.noiseSigma.isFinite, p.noiseSigma >= 0 else { throw bad("--noise-sigma \(p.noiseSigma): must be a number >= 0 (official 0.05; 0: no noise)") }
        for k in p.blurKernels where k < 0 || (k > 1 && k % 2 == 0) || k > 31 {
            throw bad("--blur-kernels: kernel \(k) must be 0 or 1 (no blur) or odd up to 31 (official 0,1,3,5)")
        }
        guard learningRate > 0, learningRate.isFinite else { throw bad("--lr \(String(format: "%g", Double(learningRate))): must be a positive number") }
        if let s = steps, s < 1 { throw bad("--steps \(s): must be at least 1") }
        if let e = epochs, e < 1 { throw bad("--epochs \(e): must be at least 1") }
        if let w = warmupSteps, w < 0 { throw bad("--warmup \(w): must be 0 (none) or a number of steps") }
        if let s = augmentation.cropMinScale, !(s > 0 && s <= 1) { throw bad("--crop-min-scale \(s): must be in (0, 1]") }
        if let k = augmentation.cropTextureCandidates, !(1...64).contains(k) {
            throw bad("--crop-texture \(k): must be 1...64 candidate crops (1: plain random crops)")
        }
        if let m = minutes, !(m > 0 && m.isFinite) { throw bad("--minutes \(String(format: "%g", m)): must be a positive number") }
        guard checkpointEvery >= 0 else { throw bad("--checkpoint-every \(checkpointEvery): must be 0 (only at the end) or positive") }
        if checkpointEvery > 0 && checkpointPath == nil { throw bad("--checkpoint-every needs --checkpoint PATH") }
        for (name, v) in [("alpha", lossWeights.alpha), ("beta", lossWeights.beta), ("lambda", lossWeights.lambda), ("gamma", lossWeights.gamma)] {
            guard v.isFinite, v >= 0 else { throw bad("loss weight \(name) = \(v): must be a finite number >= 0") }
        }
        guard prefetch >= 0, prefetch <= 64 else { throw bad("prefetch \(prefetch): must be 0...64 batches") }
        if let p = model.problem { throw bad("model widths \(model.widthsDescription): \(p)") }
        guard model.useColor else { throw bad("training uses colour images: the model must take 3 channels") }
    }

    /// On disk the loss weights keep the key "weights".
    enum CodingKeys: String, CodingKey {
        case dataPath, preset, height, width, batchSize, learningRate, model, lossWeights = "weights", seed, steps, epochs, lrDecayEpochs, lrDecay, lrMaxDecays, checkpointPath, checkpointEvery, exportPath, resumePath, logPath, augmentation, prefetch, startPaused,
             minutes, warmupSteps, ioPoints
    }
}

extension TrainingOptions {
    /// "1 minute", "2.5 minutes".
    public static func minutesText(_ m: Double) -> String {
        let n = m == m.rounded() ? String(Int(m)) : String(format: "%g", m)
        return n + (m == 1 ? " minute" : " minutes")
    }
}
