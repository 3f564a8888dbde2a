import Datasets
import Evaluation
import KP2D

// What the trainer publishes (behind a lock) for the UI and scripts, and the commands it takes.
// Plain values only: a snapshot is copied out under the lock and read without it.

/// One training step's record (also one line of the JSON-lines metrics log).
public struct StepRecord: Sendable, Codable, Equatable {
    public var step: Int
    /// Training time in seconds since the run started, pauses excluded.
    public var time: Double
    public var epoch: Int
    public var terms: LossTerms
    public var lr: Float
    public var lossWeights: LossWeights
    public var stepsPerSecond: Double
    /// True if the update was skipped (non-finite loss).
    public var skipped: Bool

    public init(step: Int, time: Double, epoch: Int, terms: LossTerms, lr: Float, lossWeights: LossWeights,
                stepsPerSecond: Double, skipped: Bool) {
        self.step = step; self.time = time; self.epoch = epoch; self.terms = terms; self.lr = lr
        self.lossWeights = lossWeights; self.stepsPerSecond = stepsPerSecond; self.skipped = skipped
    }

    /// The score term as it enters the total: L_usp + 2 * L_consistency.
    public var scoreLoss: Float { terms.usp + 2 * terms.consistency }

    /// On disk the loss weights keep the key "weights".
    enum CodingKeys: String, CodingKey {
        case step, time, epoch, terms, lr, lossWeights = "weights", stepsPerSecond, skipped
    }
}

/// A change of loss weights or learning rate at a step (drawn as a vertical marker on every chart).
public struct ParameterChange: Sendable, Codable, Equatable {
    public var step: Int
    public var lossWeights: LossWeights
    public var lr: Float
    public var description: String
    public init(step: Int, lossWeights: LossWeights, lr: Float, description: String) {
        self.step = step; self.lossWeights = lossWeights; self.lr = lr; self.description = description
    }

    /// On disk the loss weights keep the key "weights".
    enum CodingKeys: String, CodingKey {
        case step, lossWeights = "weights", lr, description
    }
}

/// Match statistics of a pair (or averaged over recent steps). NaN where undefined.
public struct MatchStats: Sendable, Equatable, Codable {
    public var keypoints: Double = .nan
    public var matches: Double = .nan
    public var correctMatches: Double = .nan
    public var repeatability: Double = .nan
    public var localizationError: Double = .nan
    public var descriptorRecall: Double = .nan
    public var ioPrecision: Double = .nan
    public var ioRecall: Double = .nan
    /// Mean corner error of the homography estimated from the matches versus the true one (pixels).
    public var cornerError: Double = .nan
    public init() {}
}

/// The current training pair for the preview pane (batch element 0: source = the warped image, target = the
/// image), with its match statistics.
public struct PairPreview: Sendable {
    public var step: Int
    public var pair: JudgedPair
    public var stats: MatchStats
    public init(step: Int, pair: JudgedPair, stats: MatchStats) {
        self.step = step; self.pair = pair; self.stats = stats
    }
}

public enum TrainerState: Sendable, Equatable {
    case starting, running, paused, finished, failed(String)
}

public struct TrainerStatus: Sendable {
    public var state: TrainerState = .starting
    public var step = 0
    public var epoch = 0
    public var stepsPerEpoch = 0
    /// Planned total number of steps, if the run has an end.
    public var totalSteps: Int? = nil
    public var lr: Float = 0
    public var lossWeights = LossWeights()
    public var stepsPerSecond: Double = 0
    /// Training time in seconds, pauses excluded.
    public var elapsed: Double = 0
    public var checkpointPath: String = ""
    /// Step of the last checkpoint written, nil if none yet.
    public var lastSavedStep: Int? = nil
    public var preset: String = ""
    public var dataDescription: String = ""
    /// The latest message for the status line (warnings, "saved ...").
    public var message: String = ""
    /// Where the last step's time went (network forward, loss, backward, diagnostics).
    public var timings = StepTimings()
    /// Seconds the last step waited for its batch (0 when the loader thread keeps ahead).
    public var dataWait: Double = 0
    /// Batches the loader thread has ready.
    public var batchesReady = 0
    public init() {}

    /// Steps trained since the last save (what quitting would lose).
    public var unsavedSteps: Int { step - (lastSavedStep ?? 0) }
}

/// Everything the UI needs, copied out under the lock. `version` increases with every publication.
public struct TrainerSnapshot: Sendable {
    public var version = 0
    public var status = TrainerStatus()
    public var history: [StepRecord] = []
    public var changes: [ParameterChange] = []
    public var preview: PairPreview? = nil
    /// Match statistics averaged over recent steps.
    public var recentStats = MatchStats()
    public init() {}
}

/// Commands the UI (or a script) sends to the trainer; applied between steps.
public enum TrainerCommand: Sendable, Equatable {
    case pause, resume
    /// Train exactly one step while paused.
    case step
    case setLossWeights(LossWeights)
    case setLearningRate(Float)
    /// Write the checkpoint (and weights export) now.
    case save
    /// Stop after the current step WITHOUT saving; send `.save` first to keep the steps since the last save.
    /// (A run that reaches its planned steps/epochs saves a final checkpoint by itself.)
    case quit
}
