import Datasets
import Evaluation
import Foundation
import KP2D
import Synchronization
import TensorEngine

// The learning-curve benchmark (`kp2d-tui learning-curve`): train a run from its seed and, every `evalEvery`
// steps (and once before the first step), evaluate the current KeypointNet on a held-out HPatches-format set at
// each requested evaluation setting. One `LearningCurveRow` per evaluation point: the training state (step,
// training minutes, steps/s, the loss terms averaged over the steps since the previous point) and, per setting,
// the official metrics on all pairs and on the v_ (viewpoint) pairs alone.
//
// The evaluation runs on the trainer thread between two steps, on a copy of the weights in a separate network,
// so it changes nothing in the run (the batches, dropout and Adam state of step s are the same as without it)
// and its time is not counted as training time (`minutes` and `steps/s` are the trainer's own clock).

public struct LearningCurveMetrics: Sendable, Codable, Equatable {
    public var repeatability: Double
    public var localizationError: Double
    public var c1: Double, c3: Double, c5: Double
    public var matchingScore: Double
    public var pairs: Int

    public init(_ s: HPatchesSummary) {
        repeatability = s.repeatability; localizationError = s.localizationError
        c1 = s.c1; c3 = s.c3; c5 = s.c5; matchingScore = s.matchingScore; pairs = s.pairs
    }
}

public struct LearningCurveEvaluation: Sendable, Codable, Equatable {
    /// "240x320 top300" style label of the setting.
    public var setting: String
    public var all: LearningCurveMetrics
    /// The v_ pairs alone (nil if the set has none).
    public var viewpoint: LearningCurveMetrics?
    /// Seconds the evaluation took (not training time).
    public var seconds: Double
}

public struct LearningCurveRow: Sendable, Codable, Equatable {
    public var step: Int
    /// Training time in minutes (the trainer's clock: evaluations and pauses excluded).
    public var minutes: Double
    /// Steps per second over the steps since the previous row (0 for the untrained row).
    public var stepsPerSecond: Double
    /// Loss terms and recall averaged over the steps since the previous row (nil for the untrained row).
    public var loc: Double?
    public var desc: Double?
    public var recall: Double?
    public var total: Double?
    public var evaluations: [LearningCurveEvaluation]
}

public struct LearningCurveOptions: Sendable {
    /// Held-out HPatches-format folder.
    public var heldout: String
    /// Evaluate every N steps (and at step 0 and at the last step).
    public var evalEvery: Int
    /// Evaluation settings (official 240x320 top 300 and the training size, by default).
    public var settings: [HPatchesEvalSettings]
    public init(heldout: String, evalEvery: Int = 500, settings: [HPatchesEvalSettings]) {
        self.heldout = heldout; self.evalEvery = evalEvery; self.settings = settings
    }

    /// 240x320 top 300 (official) and the training size top 300, both splits, BGR as the official loader.
    public static func defaultSettings(for training: TrainingOptions) -> [HPatchesEvalSettings] {
        var s = [HPatchesEvalSettings.official240]
        if training.height != 240 || training.width != 320 {
            s.append(HPatchesEvalSettings(width: training.width, height: training.height, topK: 300))
        }
        return s
    }
}

public enum LearningCurveError: Error, CustomStringConvertible {
    case noBudget
    case badEvalEvery(Int)
    public var description: String {
        switch self {
        case .noBudget: return "learning-curve needs a budget: --steps N or --minutes M"
        case let .badEvalEvery(n): return "--eval-every \(n): must be at least 1"
        }
    }
}

public final class LearningCurve {
    public let options: LearningCurveOptions
    public let trainer: Trainer
    public let dataset: HPatchesDataset
    /// Rows so far (trainer thread while it runs).
    public private(set) var rows: [LearningCurveRow] = []
    /// Called with each row as soon as it is measured (on the trainer thread, or the caller's for step 0).
    public var onRow: ((LearningCurveRow) -> Void)?

    private var sums = (loc: 0.0, desc: 0.0, recall: 0.0, total: 0.0, n: 0)
    private var lastRowTime = 0.0
    private var lastRowStep = 0

    public init(trainer: Trainer, options: LearningCurveOptions) throws {
        guard options.evalEvery >= 1 else { throw LearningCurveError.badEvalEvery(options.evalEvery) }
        guard trainer.totalSteps != nil || trainer.options.minutes != nil else { throw LearningCurveError.noBudget }
        self.trainer = trainer
        self.options = options
        dataset = try HPatchesDataset(root: options.heldout)
    }

    /// Evaluate a KeypointNet state at every setting.
    public static func evaluate(state: [String: StoredTensor], config: KeypointNetConfig, dataset: HPatchesDataset,
                                settings: [HPatchesEvalSettings]) throws -> [LearningCurveEvaluation] {
        var rng = SeededRandom(seed: 0)
        let net = KeypointNet(config: config, rng: &rng)
        try net.loadStateDict(state, strict: true, source: "the training run")
        return try settings.map { s in
            let start = Date()
            let report = try HPatchesEvaluation.run(dataset: dataset, settings: s, detect: { KeypointNetDetector.detect(net, $0) })
            return LearningCurveEvaluation(setting: "\(s.height)x\(s.width) top\(s.topK)", all: LearningCurveMetrics(report.all),
                                           viewpoint: report.viewpoint.map(LearningCurveMetrics.init),
                                           seconds: Date().timeIntervalSince(start))
        }
    }

    private func row(step: Int, time: Double) throws -> LearningCurveRow {
        let evals = try LearningCurve.evaluate(state: Trainer.stateDict(of: trainer.model.keypointNet), config: trainer.options.model,
                                               dataset: dataset, settings: options.settings)
        let n = Double(max(sums.n, 1))
        let dt = time - lastRowTime
        let r = LearningCurveRow(step: step, minutes: time / 60,
                                 stepsPerSecond: dt > 0 ? Double(step - lastRowStep) / dt : 0,
                                 loc: sums.n > 0 ? sums.loc / n : nil, desc: sums.n > 0 ? sums.desc / n : nil,
                                 recall: sums.n > 0 ? sums.recall / n : nil, total: sums.n > 0 ? sums.total / n : nil,
                                 evaluations: evals)
        sums = (0, 0, 0, 0, 0)
        lastRowTime = time; lastRowStep = step
        rows.append(r)
        onRow?(r)
        return r
    }

    /// Evaluate the starting weights, train to the budget with a row every `evalEvery` steps and one at the
    /// end, and return the rows. Throws if an evaluation fails or the run fails.
    @discardableResult
    public func run() throws -> [LearningCurveRow] {
        let startStep = trainer.snapshot().status.step
        lastRowStep = startStep
        lastRowTime = trainer.snapshot().status.elapsed
        _ = try row(step: startStep, time: lastRowTime)
        let failure = Mutex<Error?>(nil)
        let previous = trainer.onStep
        trainer.onStep = { [unowned self] r in
            previous?(r)
            sums.loc += Double(r.terms.loc); sums.desc += Double(r.terms.desc)
            sums.recall += Double(r.terms.recall); sums.total += Double(r.terms.total); sums.n += 1
            let last = trainer.totalSteps.map { r.step >= $0 } ?? false
            let outOfTime = trainer.options.minutes.map { r.time >= $0 * 60 } ?? false
            guard r.step % options.evalEvery == 0 || last || outOfTime else { return }
            do { _ = try row(step: r.step, time: r.time) } catch {
                failure.withLock { $0 = error }
                trainer.send(.quit)
            }
        }
        trainer.start()
        trainer.waitUntilFinished()
        if let e = failure.withLock({ $0 }) { throw e }
        if case let .failed(reason) = trainer.snapshot().status.state { throw TrainerError.noAnswer("training failed: \(reason)") }
        // Stopped before the budget (a quit, Ctrl-C): one more row at the step reached, so the curve says where
        // the run ended and what its weights score there.
        let end = trainer.snapshot().status
        if end.step > lastRowStep { _ = try row(step: end.step, time: end.elapsed) }
        return rows
    }
}
