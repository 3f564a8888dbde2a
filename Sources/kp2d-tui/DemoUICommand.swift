import ArgumentParser
import Foundation
import Training
import TUI

/// Hidden: the workbench on a fake trainer and fake HPatches data, to try the UI without training.
struct DemoUICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-ui", abstract: "Run the workbench UI on a simulated trainer (debugging).", shouldDisplay: false)

    @Option(help: "Colour theme (default, light, mono, colorblind, or a themes/NAME.theme file).")
    var theme = "default"
    @Flag(help: "ASCII only: no braille, block or box glyphs.")
    var ascii = false
    @Option(help: "Steps already trained when the demo starts.")
    var steps = 3000
    @Option(help: "Simulated steps per second.")
    var rate = 6.0
    @Flag(help: "Print one frame as plain text and exit.")
    var once = false
    @Option(help: "Width for --once.") var width = 200
    @Option(help: "Height for --once.") var height = 60
    @Flag(help: "Print the render benchmark (ms per frame at 200x60) and exit.")
    var bench = false
    @Option(help: "Steps of history for --bench.") var benchSteps = 20_000
    @Option(help: "Train for real (fast preset, checkpoint under /tmp) on this image folder instead of simulating.")
    var train: String?

    func run() throws {
        if bench { print(benchRender(historySteps: benchSteps)); return }
        if let train {
            var o = TrainingOptions(preset: .fast, dataPath: train)
            o.checkpointPath = NSTemporaryDirectory() + "kp2d-demo-ui/checkpoint.safetensors"
            o.logPath = NSTemporaryDirectory() + "kp2d-demo-ui/metrics.jsonl"
            let trainer = try Trainer(options: o)
            trainer.start()
            let wb = Workbench(options: WorkbenchOptions(themeName: theme, ascii: ascii), hpatches: DemoHPatches())
            do { try wb.run(source: trainer, send: trainer.send) } catch { trainer.send(.quit); throw error }
            _ = trainer.waitUntilFinished(timeout: 60)
            return
        }
        let trainer = DemoTrainer(steps: steps, rate: rate)
        let options = WorkbenchOptions(themeName: theme, ascii: ascii)
        if once { print(renderOnce(trainer.latest(), width: width, height: height, options: options, hpatches: DemoHPatches())); return }
        let wb = Workbench(options: options, hpatches: DemoHPatches())
        try wb.run(source: trainer, send: { trainer.send($0) })
    }
}
