import ArgumentParser
import Datasets
import Foundation
import KP2D
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
    @Option(help: "Browse this HPatches-format folder with the real evaluator (detector: --weights, else the trained model's last save).")
    var hpatches: String?
    @Option(help: "KeypointNet weights for --hpatches.")
    var weights: String?

    /// The browser source: the real evaluator on --hpatches, else the fake one.
    func browser(exportPath: String?) throws -> HPatchesBrowserSource {
        guard let hpatches else { return DemoHPatches() }
        let path = weights ?? exportPath
        return EvaluatorHPatchesSource(dataset: try HPatchesDataset(root: hpatches), settings: .official240, makeDetector: {
            guard let path, FileManager.default.fileExists(atPath: path) else {
                throw ValidationError("no weights yet: press s to save the model first, or pass --weights")
            }
            let net = try KeypointNetWeights.load(path)   // the file's own config metadata
            return { KeypointNetDetector.detect(net, $0) }
        })
    }

    func run() throws {
        if bench { print(benchRender(historySteps: benchSteps)); return }
        if let train {
            var o = TrainingOptions(preset: .fast, dataPath: train)
            o.checkpointPath = NSTemporaryDirectory() + "kp2d-demo-ui/checkpoint.safetensors"
            o.logPath = NSTemporaryDirectory() + "kp2d-demo-ui/metrics.jsonl"
            let trainer = try Trainer(options: o)
            trainer.start()
            let wb = Workbench(options: WorkbenchOptions(themeName: theme, ascii: ascii), hpatches: try browser(exportPath: o.resolvedExportPath))
            do { try wb.run(source: trainer, send: trainer.send) } catch { trainer.send(.quit); throw error }
            _ = trainer.waitUntilFinished(timeout: 60)
            return
        }
        let trainer = DemoTrainer(steps: steps, rate: rate)
        let options = WorkbenchOptions(themeName: theme, ascii: ascii)
        if once { print(renderOnce(trainer.latest(), width: width, height: height, options: options, hpatches: DemoHPatches())); return }
        let wb = Workbench(options: options, hpatches: try browser(exportPath: nil))
        try wb.run(source: trainer, send: { trainer.send($0) })
    }
}
