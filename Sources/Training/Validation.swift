import Datasets
import Evaluation
import Foundation
import KP2D
import TensorEngine

// Validation while training: the number that matters (held-out HPatches metrics), not the per-step losses on a
// few images. A ValidationMonitor evaluates a copy of the live weights (taken between steps, as the browser
// does) on a held-out HPatches-format set on a thread of its own, every `every` steps; by default the interval
// adapts so that evaluation costs at most `budget` (5%) of the wall time. Each evaluation is one
// `"kind":"validation"` line of the metrics log (LogEntry), which `snapshot` reads back; runs made before that
// kept them in validation.jsonl beside the log, which is still read (ValidationLog).

/// One held-out evaluation of the weights after `step` steps.
public struct ValidationRecord: Sendable, Codable, Equatable {
    public var step: Int
    public var repeatability: Double
    public var localizationError: Double
    public var c1: Double, c3: Double, c5: Double
    public var matchingScore: Double
    public var pairs: Int
    /// Wall seconds of the evaluation (copy, detection, metrics).
    public var seconds: Double

    public init(step: Int, summary s: HPatchesSummary, seconds: Double) {
        self.step = step; repeatability = s.repeatability; localizationError = s.localizationError
        c1 = s.c1; c3 = s.c3; c5 = s.c5; matchingScore = s.matchingScore; pairs = s.pairs; self.seconds = seconds
    }
}

/// What the workbench draws as the validation chart.
public protocol ValidationSource: AnyObject {
    var validationRecords: [ValidationRecord] { get }
    /// One line: what is being evaluated, on which set, when next.
    var validationStatus: String { get }
}

public final class ValidationMonitor: ValidationSource, @unchecked Sendable {
    public let dataset: HPatchesDataset
    public let settings: HPatchesEvalSettings
    /// Fixed interval in steps, or nil: adaptive (evaluation at most `budget` of the wall time).
    public let every: Int?
    public let budget: Double
    /// The run's metrics log (read for a resumed run's earlier evaluations; written through the trainer).
    public let logPath: String?
    private let config: KeypointNetConfig
    private let lock = NSLock()
    private var records: [ValidationRecord] = []
    private var status = "validation: waiting for the first step"
    private var stopped = false
    private var thread: Thread?
    /// Called on the validation thread after each evaluation.
    public var onRecord: ((ValidationRecord) -> Void)?

    public init(dataset: HPatchesDataset, settings: HPatchesEvalSettings, config: KeypointNetConfig, every: Int? = nil,
                budget: Double = 0.05, logPath: String?) {
        self.dataset = dataset; self.settings = settings; self.config = config; self.every = every
        self.budget = budget; self.logPath = logPath
        if let logPath { records = ValidationLog.records(ofRun: logPath) }   // a resumed run keeps its curve
    }

    public var validationRecords: [ValidationRecord] { lock.lock(); defer { lock.unlock() }; return records }
    public var validationStatus: String { lock.lock(); defer { lock.unlock() }; return status }

    /// The next step to evaluate after one at `step` that took `seconds`, at `stepsPerSecond`.
    public static func nextStep(after step: Int, seconds: Double, stepsPerSecond: Double, every: Int?, budget: Double) -> Int {
        if let every { return step + max(1, every) }
        // Evaluation time e costs e / (e + T) of the wall time if T seconds of training follow: T = e (1 - b) / b.
        let trainSeconds = seconds * (1 - budget) / max(budget, 1e-3)
        return step + max(50, Int((trainSeconds * max(stepsPerSecond, 0.1)).rounded(.up)))
    }

    /// Evaluate on a background thread whenever the trainer passes the next validation step, until it ends.
    public func start(trainer: Trainer) {
        lock.lock(); threadRunning = true; lock.unlock()
        thread = NamedThread.start("kp2d.validation") { [weak self] in
            self?.loop(trainer)
            self?.lock.lock(); self?.threadRunning = false; self?.lock.unlock()
        }
    }

    /// Stop after the current pair and wait (at most `timeout` s) for the thread: no evaluation outlives the run.
    public func stop(timeout: Double = 30) {
        lock.lock(); stopped = true; lock.unlock()
        let end = Date().addingTimeInterval(timeout)
        while running, Date() < end { Thread.sleep(forTimeInterval: 0.02) }
    }

    /// One held-out evaluation of a whole-model state dict (`Trainer.copyModelState`): the record of `step`.
    public static func evaluate(state: [String: StoredTensor], step: Int, dataset: HPatchesDataset, settings: HPatchesEvalSettings,
                                config: KeypointNetConfig, started: Date = Date(), shouldStop: @escaping () -> Bool = { false }) throws -> ValidationRecord {
        var rng = SeededRandom(seed: 0)
        let net = KeypointNet(config: config, rng: &rng)
        try net.loadStateDict(state, prefix: "keypoint_net.", strict: true, source: "the live model")
        let report = try HPatchesEvaluation.run(dataset: dataset, settings: settings, detect: { KeypointNetDetector.detect(net, $0) },
                                                shouldStop: shouldStop)
        return ValidationRecord(step: step, summary: report.all, seconds: Date().timeIntervalSince(started))
    }

    private var running: Bool { lock.lock(); defer { lock.unlock() }; return threadRunning }
    private var threadRunning = false
    private var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }

    private func set(_ s: String) { lock.lock(); status = s; lock.unlock() }

    private func loop(_ trainer: Trainer) {
        var next = (validationRecords.last?.step).map { $0 + (every ?? 50) } ?? 0
        while true {
            lock.lock(); let stop = stopped; lock.unlock()
            if stop || trainer.isFinished { return }
            let status = trainer.snapshot().status
            guard status.step >= next, status.step > 0 || next == 0 else { Thread.sleep(forTimeInterval: 0.25); continue }
            do {
                let start = Date()
                // The step the copy belongs to comes with it (the trainer may have moved on since).
                let copy = try trainer.copyModelState()
                let step = copy.step
                set("validation: evaluating step \(step) on \(dataset.root)" + "…")
                let record = try ValidationMonitor.evaluate(state: copy.state, step: step, dataset: dataset, settings: settings,
                                                            config: config, started: start,
                                                            shouldStop: { [weak self] in self?.isStopped ?? true })
                if isStopped { return }
                let seconds = record.seconds
                var note = ""
                do { try trainer.appendToLog(.validation(record)) } catch {
                    trainer.postFromLoader("warning: validation record not logged: \(error)")
                    note = " (not logged)"
                }
                next = ValidationMonitor.nextStep(after: step, seconds: seconds, stepsPerSecond: trainer.snapshot().status.stepsPerSecond,
                                                  every: every, budget: budget)
                lock.lock(); records.append(record); lock.unlock()
                onRecord?(record)
                set(String(format: "validation: step %d, %d pairs in %.0f s; next at step %d", step, record.pairs, seconds, next) + note)
            } catch {
                set("validation failed: \(error)")
                return
            }
        }
    }
}

/// Validation records of a run: `"kind":"validation"` lines of its metrics log, and (runs made before those
/// existed) validation.jsonl beside it, one ValidationRecord per line.
public enum ValidationLog {
    /// The legacy validation log beside a metrics log.
    public static func path(besideLog log: String) -> String {
        ((log as NSString).deletingLastPathComponent as NSString).appendingPathComponent("validation.jsonl")
    }

    /// The run's validation records: the metrics log's and a legacy validation.jsonl's, by step (the log's
    /// record wins where both have a step). A metrics log that cannot be read gives the legacy file's alone.
    public static func records(ofRun metricsLog: String) -> [ValidationRecord] {
        let inLog = (try? MetricsLog.readAll(metricsLog, warn: { _ in }).validation) ?? []
        return merged(inLog, legacy: read(path(besideLog: metricsLog)))
    }

    static func merged(_ log: [ValidationRecord], legacy: [ValidationRecord]) -> [ValidationRecord] {
        guard !legacy.isEmpty else { return log }
        let steps = Set(log.map(\.step))
        return (legacy.filter { !steps.contains($0.step) } + log).sorted { $0.step < $1.step }
    }

    /// Append to a legacy-format file (tests that make old runs).
    public static func append(_ r: ValidationRecord, to path: String) throws {
        let data = try TrainingCheckpoint.jsonEncoder().encode(r) + Data("\n".utf8)
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: data) else { throw ValidationLogError.cannotWrite(path) }
            return
        }
        guard let h = FileHandle(forWritingAtPath: path) else { throw ValidationLogError.cannotWrite(path) }
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: data)
    }

    /// The records of a validation log; lines that do not parse (a torn last line) are skipped.
    public static func read(_ path: String) -> [ValidationRecord] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        let decoder = TrainingCheckpoint.jsonDecoder()
        return text.split(separator: "\n").compactMap { try? decoder.decode(ValidationRecord.self, from: Data($0.utf8)) }
    }
}

public enum ValidationLogError: Error, CustomStringConvertible {
    case cannotWrite(String)
    public var description: String {
        switch self { case let .cannotWrite(p): return "\(p): cannot write the validation log; check the folder's permissions and free space" }
    }
}

/// Validation records read from a finished run's files (`snapshot`).
public final class StoredValidation: ValidationSource {
    public let validationRecords: [ValidationRecord]
    public let validationStatus: String
    public init(records: [ValidationRecord], status: String) { validationRecords = records; validationStatus = status }
}
