import ArgumentParser
import Foundation
import KP2D
import Training
import TUI

/// Render the workbench screen of a run from its files (metrics log, checkpoint) as plain text.
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Print the workbench screen of a finished or ongoing run as plain text (for logs and bug reports).",
        discussion: """
        The screen is rebuilt from the run's files: the history from the JSON-lines metrics log (one line per \
        step, as written by training), the parameter-change markers from the checkpoint's recorded changes, or, \
        without a checkpoint, from the steps where the log's loss weights or learning rate changed (the \
        schedule's halving every 40 epochs then shows as a marker too). The checkpoint also gives the preset, \
        the planned steps and the last saved step. There is no training-pair preview (it is not saved).
          kp2d-tui snapshot --run runs/fast          (runs/fast/metrics.jsonl + checkpoint.safetensors)
          kp2d-tui snapshot --log m.jsonl --checkpoint ck.safetensors --width 120 --height 40
        For a live frame of a new run use `kp2d-tui --once`.
        """)

    @Option(name: .customLong("run"), help: "Run folder holding metrics.jsonl (and checkpoint.safetensors, if saved).")
    var runDir: String?

    @Option(help: "Metrics log (JSON lines) to render instead of --run.")
    var log: String?

    @Option(help: "Checkpoint of the run (default with --run: DIR/checkpoint.safetensors, else the checkpoint found in DIR).")
    var checkpoint: String?

    @OptionGroup var screen: ScreenFlags

    func validate() throws {
        guard (runDir == nil) != (log == nil) else { throw ValidationError("give either --run DIR or --log FILE.jsonl") }
    }

    func run() throws {
        let logPath = log ?? (runDir! as NSString).appendingPathComponent("metrics.jsonl")
        guard FileManager.default.fileExists(atPath: logPath) else {
            throw CommandFailure("\(logPath): no metrics log; pass --log FILE.jsonl (training writes one beside its checkpoint)")
        }
        var ckpt = checkpoint
        if ckpt == nil, let runDir {
            // checkpoint.safetensors, else the one checkpoint (a file with a run state) in the folder.
            let p = (runDir as NSString).appendingPathComponent("checkpoint.safetensors")
            if FileManager.default.fileExists(atPath: p) { ckpt = p } else {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: runDir)) ?? []
                ckpt = names.sorted().filter { $0.hasSuffix(".safetensors") }.map { (runDir as NSString).appendingPathComponent($0) }
                    .first { (try? TrainingCheckpoint.readState(path: $0)) != nil }
            }
        }
        let history = try MetricsLog.read(logPath)
        let state = try ckpt.map { try TrainingCheckpoint.readState(path: $0) }
        let snap = SnapshotCommand.rebuild(history: history, checkpoint: state, checkpointPath: ckpt, logPath: logPath)
        let size = screen.frameSize
        print(renderOnce(snap, width: size.width, height: size.height,
                         options: WorkbenchOptions(themeName: screen.theme, ascii: screen.ascii)))
    }

    /// A TrainerSnapshot from a run's log (and checkpoint state, if any).
    static func rebuild(history: [StepRecord], checkpoint: CheckpointRunState?, checkpointPath: String?, logPath: String) -> TrainerSnapshot {
        var snap = TrainerSnapshot()
        snap.version = 1
        snap.history = history
        if let c = checkpoint {
            snap.changes = c.changes.filter { $0.step <= (history.last?.step ?? 0) }
        } else {
            var changes: [ParameterChange] = []
            for (a, b) in zip(history, history.dropFirst()) where a.lossWeights != b.lossWeights || a.lr != b.lr {
                let what = a.lossWeights != b.lossWeights
                    ? "weights a=\(b.lossWeights.alpha) b=\(b.lossWeights.beta) l=\(b.lossWeights.lambda) g=\(b.lossWeights.gamma)" : "lr \(b.lr)"
                changes.append(ParameterChange(step: a.step, lossWeights: b.lossWeights, lr: b.lr, description: what))
            }
            snap.changes = changes
        }
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
