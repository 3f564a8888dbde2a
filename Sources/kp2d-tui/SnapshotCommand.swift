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
        the planned steps and the last saved step. The training-pair preview is the one the trainer persisted \
        beside the checkpoint (<checkpoint>.preview.json, written at every save and every 10 s of training).
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

    @Option(help: "Training-pair preview to draw (default: <checkpoint>.preview.json beside the checkpoint, if present).")
    var preview: String?

    @OptionGroup var screen: ScreenFlags

    func validate() throws {
        guard (runDir == nil) != (log == nil) else { throw ValidationError("give either --run DIR or --log FILE.jsonl") }
    }

    func run() throws {
        let run: RecordedRun
        if let runDir, let checkpoint {
            run = try RecordedRun.load(log: (runDir as NSString).appendingPathComponent("metrics.jsonl"), checkpoint: checkpoint, name: runDir)
        } else if let runDir { run = try RecordedRun.load(runDirectory: runDir) }
        else { run = try RecordedRun.load(log: log!, checkpoint: checkpoint) }
        var snap = run.snapshot()
        // The last training pair, persisted beside the checkpoint by the trainer (PreviewFile).
        let previewPath = preview ?? run.checkpointPath.map { PreviewFile.path(forCheckpoint: $0) }
            ?? runDir.map { PreviewFile.path(forCheckpoint: ($0 as NSString).appendingPathComponent("checkpoint.safetensors")) }
        if let previewPath, FileManager.default.fileExists(atPath: previewPath) {
            do { (snap.preview, snap.recentStats) = try PreviewFile.read(previewPath) } catch {
                // Asked for by name: an error; found beside the checkpoint: the screen without it.
                if preview != nil { throw CommandFailure("\(error)") }
                FileHandle.standardError.write(Data("warning: \(error)\n".utf8))
            }
        } else if let p = preview {
            throw CommandFailure("--preview \(p): no such file; training writes <checkpoint>.preview.json beside its checkpoint")
        }
        let size = screen.frameSize
        let validation = run.validation.isEmpty ? nil
            : StoredValidation(records: run.validation, status: "validation: \(run.validation.count) evaluations from \(run.logPath)")
        let probe = run.probes.isEmpty ? nil
            : StoredProbe(records: run.probes, status: "probe: \(run.probes.last!.pairs) fixed pairs, \(run.probes.count) evaluations from \(run.logPath)")
        print(renderOnce(snap, width: size.width, height: size.height,
                         options: WorkbenchOptions(themeName: screen.theme, ascii: screen.ascii, compareRun: try screen.comparisonRun()),
                         validation: validation, probe: probe))
    }
}
