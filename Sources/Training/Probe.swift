import Datasets
import Foundation
import KP2D
import TensorEngine

// The fixed probe batch: K training pairs drawn once (a fixed seed, independent of --seed) and evaluated again
// and again in eval mode (BatchNorm running statistics, no dropout, no tape) with the live weights, giving the
// losses and recall of the same data every time: the per-step curves without batch noise.
//
// Why training pairs and not the held-out set: the probe shows the training losses themselves (L_loc, L_desc,
// L_score, L_IO, total), which need the training pipeline's pairs (an image, its augmented warp and the
// homography at the training size); the held-out set already has its own curve (validation: Rep, C3,
// MScore). Every run has training data; not every run has a held-out set.
//
// Nothing of the run is touched: the monitor copies the whole model between two steps
// (Trainer.copyModelState), loads the copy into a model of its own and evaluates it on its own thread, so the
// weights, BatchNorm statistics, Adam state, dropout and batch streams of the run are exactly what they would
// be without it. Each evaluation is one `"kind":"probe"` line of the metrics log.

/// One evaluation of the probe batch with the weights after `step` steps.
public struct ProbeRecord: Sendable, Codable, Equatable {
    public var step: Int
    public var pairs: Int
    /// Loss terms (total with the loss weights below), descriptor recall and IO inliers of the whole probe batch.
    public var terms: LossTerms
    /// The loss weights the total was formed with (the run's, at `step`).
    public var lossWeights: LossWeights
    /// Wall seconds of the evaluation (copy, forward, loss).
    public var seconds: Double

    public init(step: Int, pairs: Int, terms: LossTerms, lossWeights: LossWeights, seconds: Double) {
        self.step = step; self.pairs = pairs; self.terms = terms; self.lossWeights = lossWeights; self.seconds = seconds
    }

    /// The score term as it enters the total: L_usp + 2 * L_consistency (as StepRecord.scoreLoss).
    public var scoreLoss: Float { terms.usp + 2 * terms.consistency }

    enum CodingKeys: String, CodingKey { case step, pairs, terms, lossWeights = "weights", seconds }
}

/// What the workbench draws as the probe series.
public protocol ProbeSource: AnyObject {
    var probeRecords: [ProbeRecord] { get }
    /// One line: how many pairs, when next.
    var probeStatus: String { get }
}

public enum ProbeBatch {
    /// The seed the probe pairs are drawn with: fixed, so that runs with different --seed (and --compare-run)
    /// see the same pairs on the same data.
    public static let seed: UInt64 = 0x9B0B_E5EE_D000_0001
    public static let defaultPairs = 8

    /// K pairs from `folder` made by the training pipeline (`augmentation`: size, photometric and homography
    /// augmentation) from `seed`: the images of the first K places of a seeded shuffle (repeating when the folder
    /// has fewer), each with its seeded augmentation. Unreadable files are skipped as the loader skips them.
    public static func make(folder: ImageFolder, augmentation: AugmentationConfig, pairs: Int, seed: UInt64 = ProbeBatch.seed) throws -> TrainingBatch {
        precondition(pairs >= 1, "probe batch: at least one pair")
        let loader = BatchLoader(folder: folder, augmentation: augmentation, batchSize: pairs, seed: seed, prefetch: 1, warn: { _ in })
        return try loader.makeBatch(step: 0)
    }

    /// The eval-mode losses of `batch` on `model` (nothing recorded, nothing changed in the model).
    public static func evaluate(_ model: KP2DModel, _ batch: TrainingBatch, lossWeights: LossWeights) -> LossTerms {
        let g = Graph(recording: false)
        let e = model.loss(image: batch.image, imageAug: batch.imageAug, homography: batch.homography,
                           lossWeights: lossWeights, graph: g, mode: .eval)
        let terms = e.terms
        g.reset()
        return terms
    }
}

public final class ProbeMonitor: ProbeSource, @unchecked Sendable {
    public let batch: TrainingBatch
    public var pairs: Int { batch.paths.count }
    /// Fixed interval in steps, or nil: adaptive (at most `budget` of the wall time, at least every `minimumEvery` steps).
    public let every: Int?
    public let budget: Double
    public static let defaultBudget = 0.02
    public static let minimumEvery = 10
    private let model: KP2DModel
    private let lock = NSLock()
    private var records: [ProbeRecord]
    private var status: String
    private var stopped = false
    private var threadRunning = false
    /// Called on the probe thread after each evaluation.
    public var onRecord: ((ProbeRecord) -> Void)?

    /// `previous`: the records of a resumed run (its log's, up to the resumed step). `ioPoints`: the run's
    /// IO-Net points per image (TrainingOptions.effectiveIOPoints).
    public init(batch: TrainingBatch, config: KeypointNetConfig, every: Int? = nil, budget: Double = ProbeMonitor.defaultBudget,
                previous: [ProbeRecord] = [], ioPoints: Int = KP2DLoss.ioPointCount) {
        self.batch = batch; self.every = every; self.budget = budget; records = previous
        var rng = SeededRandom(seed: 0)
        model = KP2DModel(config: config, rng: &rng)
        model.ioPoints = ioPoints
        status = "probe: \(batch.paths.count) fixed pairs, waiting for the first step"
    }

    public var probeRecords: [ProbeRecord] { lock.lock(); defer { lock.unlock() }; return records }
    public var probeStatus: String { lock.lock(); defer { lock.unlock() }; return status }

    /// The next step to evaluate after one at `step` that took `seconds`, at `stepsPerSecond`.
    public static func nextStep(after step: Int, seconds: Double, stepsPerSecond: Double, every: Int?, budget: Double) -> Int {
        if let every { return step + max(1, every) }
        let trainSeconds = seconds * (1 - budget) / max(budget, 1e-3)
        return step + max(minimumEvery, Int((trainSeconds * max(stepsPerSecond, 0.1)).rounded(.up)))
    }

    /// Evaluate `state` (a whole-model state dict) on the probe batch: the record of step `step`.
    public func evaluate(state: [String: StoredTensor], step: Int, lossWeights: LossWeights, started: Date = Date()) throws -> ProbeRecord {
        try model.loadStateDict(state, strict: true, source: "the live model")
        let terms = ProbeBatch.evaluate(model, batch, lossWeights: lossWeights)
        return ProbeRecord(step: step, pairs: pairs, terms: terms, lossWeights: lossWeights, seconds: Date().timeIntervalSince(started))
    }

    /// Start evaluating. A run without probe records gets its first one from the weights as they are now, copied
    /// here: call this before `trainer.start()` and that is step 0, the untrained (or loaded) weights.
    public func start(trainer: Trainer) {
        lock.lock(); threadRunning = true; lock.unlock()
        let initial = probeRecords.isEmpty ? (try? trainer.copyModelState(), Date()) : nil
        NamedThread.start("kp2d.probe", stackSize: 16 << 20) { [weak self] in
            self?.loop(trainer, initial: initial.flatMap { c in c.0.map { ($0, c.1) } })
            self?.lock.lock(); self?.threadRunning = false; self?.lock.unlock()
        }
    }

    /// Stop and wait (at most `timeout` s) for the thread.
    public func stop(timeout: Double = 30) {
        lock.lock(); stopped = true; lock.unlock()
        let end = Date().addingTimeInterval(timeout)
        while running, Date() < end { Thread.sleep(forTimeInterval: 0.02) }
    }

    private var running: Bool { lock.lock(); defer { lock.unlock() }; return threadRunning }
    private var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }
    private func set(_ s: String) { lock.lock(); status = s; lock.unlock() }

    private func loop(_ trainer: Trainer, initial: ((step: Int, lossWeights: LossWeights, state: [String: StoredTensor]), Date)?) {
        var next = (probeRecords.last?.step).map { $0 + (every ?? ProbeMonitor.minimumEvery) } ?? 0
        var logFailed = false
        var pending = initial
        var last = false
        while !last {
            // Once the run has ended (or stop() was called), a probe that is due is still taken, of the final
            // weights, and then the loop ends: a short or resumed run that finishes between two polls used to end
            // without the probe it was due.
            let ending = isStopped || trainer.isFinished
            let st = trainer.snapshot().status
            guard pending != nil || st.step >= next else {
                if ending { return }
                Thread.sleep(forTimeInterval: 0.1)
                continue
            }
            last = ending && pending == nil
            do {
                let start = pending?.1 ?? Date()
                let copy = try pending?.0 ?? trainer.copyModelState()
                pending = nil
                let record = try evaluate(state: copy.state, step: copy.step, lossWeights: copy.lossWeights, started: start)
                var note = ""
                do { try trainer.appendToLog(.probe(record)) } catch {
                    if !logFailed { trainer.postFromLoader("warning: probe record not logged: \(error)") }
                    logFailed = true
                    note = " (not logged)"
                }
                next = ProbeMonitor.nextStep(after: record.step, seconds: record.seconds,
                                             stepsPerSecond: trainer.snapshot().status.stepsPerSecond, every: every, budget: budget)
                lock.lock(); records.append(record); lock.unlock()
                onRecord?(record)
                set(String(format: "probe: %d fixed pairs, eval mode; step %d in %.1f s; next at step %d", pairs, record.step, record.seconds, next) + note)
            } catch {
                set("probe failed: \(error)")
                return
            }
        }
    }
}

/// Probe records read from a finished run's log (`snapshot`).
public final class StoredProbe: ProbeSource {
    public let probeRecords: [ProbeRecord]
    public let probeStatus: String
    public init(records: [ProbeRecord], status: String) { probeRecords = records; probeStatus = status }
}
