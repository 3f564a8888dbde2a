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
        let run: RecordedRun
        if let runDir, let checkpoint {
            run = try RecordedRun.load(log: (runDir as NSString).appendingPathComponent("metrics.jsonl"), checkpoint: checkpoint, name: runDir)
        } else if let runDir { run = try RecordedRun.load(runDirectory: runDir) }
        else { run = try RecordedRun.load(log: log!, checkpoint: checkpoint) }
        let size = screen.frameSize
        print(renderOnce(run.snapshot(), width: size.width, height: size.height,
                         options: WorkbenchOptions(themeName: screen.theme, ascii: screen.ascii, compareRun: try screen.comparisonRun())))
    }
}
