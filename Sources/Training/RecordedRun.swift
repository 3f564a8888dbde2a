import Foundation

// A run as its files record it: the metrics log (one StepRecord per step) and, if saved, the checkpoint's run
// state. `kp2d-tui snapshot` draws one; `--compare-run` overlays one on another run's charts.

public struct RecordedRun: Sendable {
    /// How the run is named on screen (its folder, or its log file).
    public var name: String
    public var logPath: String
    public var checkpointPath: String?
    public var history: [StepRecord]
    public var checkpoint: CheckpointRunState?
    /// Held-out evaluations during the run (the log's validation records, and a legacy validation.jsonl beside it), if any.
    public var validation: [ValidationRecord]
    /// Fixed probe batch evaluations during the run (the log's probe records), if any.
    public var probes: [ProbeRecord]

    public init(name: String, logPath: String, checkpointPath: String?, history: [StepRecord], checkpoint: CheckpointRunState?,
                validation: [ValidationRecord] = [], probes: [ProbeRecord] = []) {
        self.name = name; self.logPath = logPath; self.checkpointPath = checkpointPath
        self.history = history; self.checkpoint = checkpoint; self.validation = validation; self.probes = probes
    }

    /// DIR/metrics.jsonl and DIR/checkpoint.safetensors (else the one checkpoint in DIR, if any).
    public static func load(runDirectory dir: String) throws -> RecordedRun {
        let log = (dir as NSString).appendingPathComponent("metrics.jsonl")
        var ckpt: String? = (dir as NSString).appendingPathComponent("checkpoint.safetensors")
        if !FileManager.default.fileExists(atPath: ckpt!) {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            ckpt = names.sorted().filter { $0.hasSuffix(".safetensors") }.map { (dir as NSString).appendingPathComponent($0) }
                .first { (try? TrainingCheckpoint.readState(path: $0)) != nil }
        }
        return try load(log: log, checkpoint: ckpt, name: dir)
    }

    /// A log and, optionally, its checkpoint. A missing log is an error naming it.
    public static func load(log: String, checkpoint: String?, name: String? = nil) throws -> RecordedRun {
        guard FileManager.default.fileExists(atPath: log) else { throw RecordedRunError.noLog(log) }
        let contents = try MetricsLog.readAll(log)
        let state = try checkpoint.map { try TrainingCheckpoint.readState(path: $0) }
        return RecordedRun(name: name ?? log, logPath: log, checkpointPath: checkpoint, history: contents.steps, checkpoint: state,
                           validation: ValidationLog.merged(contents.validation, legacy: ValidationLog.read(ValidationLog.path(besideLog: log))),
                           probes: contents.probes)
    }

    /// The parameter changes: the checkpoint's record, else the steps where the log's loss weights or learning
    /// rate changed (a scheduled lr halving then shows too).
    public var changes: [ParameterChange] {
        if let c = checkpoint { return c.changes.filter { $0.step <= (history.last?.step ?? 0) } }
        var changes: [ParameterChange] = []
        for (a, b) in zip(history, history.dropFirst()) where a.lossWeights != b.lossWeights || a.lr != b.lr {
            let what = a.lossWeights != b.lossWeights
                ? "weights a=\(b.lossWeights.alpha) b=\(b.lossWeights.beta) l=\(b.lossWeights.lambda) g=\(b.lossWeights.gamma)" : "lr \(b.lr)"
            changes.append(ParameterChange(step: a.step, lossWeights: b.lossWeights, lr: b.lr, description: what))
        }
        return changes
    }

    /// The workbench's view of the run: history, changes and a finished status.
    public func snapshot() -> TrainerSnapshot {
        var snap = TrainerSnapshot()
        snap.version = 1
        snap.history = history
        snap.changes = changes
        var st = TrainerStatus()
        st.state = .finished
        if let last = history.last {
            st.step = last.step; st.epoch = last.epoch; st.lr = last.lr; st.lossWeights = last.lossWeights
            st.stepsPerSecond = last.stepsPerSecond; st.elapsed = last.time
        } else if let c = checkpoint {
            st.step = c.step; st.epoch = c.epoch; st.lr = c.learningRate; st.lossWeights = c.lossWeights; st.elapsed = c.elapsed
        }
        if let c = checkpoint {
            st.lastSavedStep = c.step
            st.preset = c.preset
            st.totalSteps = c.options.steps
            st.dataDescription = c.options.dataPath
            if st.step > 0, c.epoch > 0 { st.stepsPerEpoch = max(1, c.step / max(c.epoch, 1)) }
        } else {
            st.lastSavedStep = st.step   // nothing to lose: this is a picture of files
        }
        st.checkpointPath = checkpointPath ?? ""
        st.message = "snapshot of \(logPath): \(history.count) steps" + (checkpointPath.map { ", checkpoint \($0)" } ?? "")
        snap.status = st
        return snap
    }
}

public enum RecordedRunError: Error, CustomStringConvertible {
    case noLog(String)
    public var description: String {
        switch self {
        case let .noLog(p): return "\(p): no metrics log; pass --log FILE.jsonl or a run folder (training writes metrics.jsonl beside its checkpoint)"
        }
    }
}
