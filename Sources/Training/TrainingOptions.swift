import Datasets
import Foundation
import KP2D

// Everything needed to start (or resume) a training run; shared by `kp2d-tui train --headless` and the
// workbench. Presets:
//   paper  the official configuration: 240x320, batch 8, full widths (32,64,128,256,256,512,256),
//          Adam lr 1e-3, loss weights 1/2/1 (descriptor 2, LossWeights.official), lr x0.5 every 40 epochs,
//          50 epochs.
//   fast   a configuration that shows learning within a minute on 2 cores: 128x192 (the smallest common
//          size with >= 300 cells for the IO-Net's 300 points: 16x24 = 384), batch 4, widths
//          (8,16,32,64,64,128,64) (KeypointNetConfig.reduced), lr 1e-3, the official loss weights, no end
//          (until quit / Ctrl-C) unless steps or epochs are given, and a constant learning rate: the official
//          schedule counts COCO epochs (~15k steps each), while an epoch of the 8 bundled images is 2 steps,
//          so halving every 40 of them would cut the rate 16-fold within 320 steps and stall the run
//          (measured: recall ~0.02 with the decay, ~0.07 without, after 400 steps).

public enum TrainingPreset: String, Sendable, Codable, CaseIterable {
    case fast, paper

    public var summary: String {
        switch self {
        case .fast: return "128x192, batch 4, widths (8,16,32,64,64,128,64), lr 1e-3 constant"
        case .paper: return "240x320, batch 8, widths (32,64,128,256,256,512,256), lr 1e-3, 50 epochs (official)"
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
    /// Official schedule: lr = initial * decay^min(epoch / decayEpochs, maxDecays).
    public var lrDecayEpochs: Int = 40
    public var lrDecay: Float = 0.5
    public var lrMaxDecays: Int = 4
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

    /// Keep the augmentation size in step with height/width.
    public mutating func setSize(height: Int, width: Int) {
        self.height = height; self.width = width
        augmentation.height = height; augmentation.width = width
    }

    /// The learning rate at an epoch under the official schedule.
    public func learningRate(epoch: Int, initial: Float? = nil) -> Float {
        let base = initial ?? learningRate
        guard lrDecayEpochs > 0 else { return base }
        let exponent = min(epoch / lrDecayEpochs, lrMaxDecays)
        return base * pow(lrDecay, Float(exponent))
    }

    /// A clear one-line error for every option that cannot work.
    public func validate() throws {
        func bad(_ s: String) -> TrainingOptionsError { .invalid(s) }
        guard height > 0, width > 0, height % 8 == 0, width % 8 == 0 else {
            throw bad("image size \(height)x\(width): height and width must be positive multiples of 8 (e.g. --size 128x192)")
        }
        guard (height / 8) * (width / 8) >= KP2DLoss.ioPointCount else {
            throw bad("image size \(height)x\(width) has \((height / 8) * (width / 8)) cells; the IO-Net needs at least \(KP2DLoss.ioPointCount) (e.g. 128x192 or larger)")
        }
        guard batchSize >= 1 else { throw bad("batch size \(batchSize): must be at least 1") }
        guard learningRate > 0, learningRate.isFinite else { throw bad("learning rate \(learningRate): must be a positive number") }
        if let s = steps, s < 1 { throw bad("--steps \(s): must be at least 1") }
        if let e = epochs, e < 1 { throw bad("--epochs \(e): must be at least 1") }
        guard checkpointEvery >= 0 else { throw bad("--checkpoint-every \(checkpointEvery): must be 0 (only at the end) or positive") }
        if checkpointEvery > 0 && checkpointPath == nil { throw bad("--checkpoint-every needs --checkpoint PATH") }
        for (name, v) in [("alpha", lossWeights.alpha), ("beta", lossWeights.beta), ("lambda", lossWeights.lambda), ("gamma", lossWeights.gamma)] {
            guard v.isFinite, v >= 0 else { throw bad("loss weight \(name) = \(v): must be a finite number >= 0") }
        }
        if let p = model.problem { throw bad("model widths \(model.widthsDescription): \(p)") }
        guard model.useColor else { throw bad("training uses colour images: the model must take 3 channels") }
    }

    /// On disk the loss weights keep the key "weights".
    enum CodingKeys: String, CodingKey {
        case dataPath, preset, height, width, batchSize, learningRate, model, lossWeights = "weights", seed, steps, epochs, lrDecayEpochs, lrDecay, lrMaxDecays, checkpointPath, checkpointEvery, exportPath, resumePath, logPath, augmentation, prefetch, startPaused
    }
}
