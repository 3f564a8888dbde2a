import ArgumentParser
import Datasets
import Evaluation
import Foundation
import KP2D
import TensorEngine
import Training
import TUI

/// `kp2d-tui inspect`: the HPatches browser alone on a weights file. Nothing trains and the weights file is
/// only read; the picture key (p) is the one thing that writes (PNGs in --pictures).
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Browse HPatches with trained KeypointNet weights, without training (read-only).",
        discussion: """
        Opens the workbench's HPatches browser on --hpatches (default: the bundled sample-data/hpatches) and \
        evaluates the weights at once (official 240x320, top-300; x switches to 480x640 top-1000). Keys as in \
        the browser: arrows move between sequences and pairs, o sorts, i filters, k/m/g toggle overlays, p saves \
        the pair on screen as a PNG, q quits. The weights file is never written.
        """)

    @Option(help: "KeypointNet weights (.safetensors with the official keys, e.g. a run's checkpoint.keypointnet.safetensors).")
    var weights: String

    @Option(help: "HPatches-format folder (default: sample-data/hpatches if present).")
    var hpatches: String?

    @Option(help: "Folder for the PNGs of the picture key (p).")
    var pictures = "kp2d-pictures"

    @Option(help: "Colour theme (default, light, mono, colorblind, or a themes/NAME.theme file).")
    var theme = "default"

    @Flag(help: "ASCII only: no braille, block or box glyphs.")
    var ascii = false

    func run() throws {
        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
            throw CommandFailure("inspect needs an interactive terminal (stdin and stdout are not a TTY): use `kp2d-tui eval --hpatches DIR --weights \(weights)` for the numbers")
        }
        guard FileManager.default.fileExists(atPath: weights) else {
            throw CommandFailure("\(weights): no such weights file; pass a .safetensors file with KeypointNet weights (e.g. runs/fast/checkpoint.keypointnet.safetensors)")
        }
        guard let root = hpatches ?? TrainingFlags.sampleFolderIfPresent("hpatches") else {
            throw CommandFailure("no HPatches folder: pass --hpatches DIR (hpatches-sequences-release)")
        }
        let net: KeypointNet
        do { net = try KeypointNetWeights.load(weights) } catch { throw CommandFailure("\(error)") }
        let dataset: HPatchesDataset
        do { dataset = try HPatchesDataset(root: root) } catch { throw CommandFailure("\(error)") }
        // One evaluation runs at a time (the source's worker thread), so the one network is never shared.
        let browser = EvaluatorHPatchesSource(dataset: dataset, settings: .official240,
                                              otherSizes: [(480, 640, 1000, "official")],
                                              makeDetector: { { KeypointNetDetector.detect(net, $0) } })
        var snap = TrainerSnapshot()
        snap.version = 1
        snap.status.state = .paused
        snap.status.dataDescription = "weights \(weights)"
        snap.status.message = "\(dataset.sequences.count) sequences in \(root)"
        let wb = Workbench(options: WorkbenchOptions(themeName: theme, ascii: ascii, picturesDirectory: pictures, inspect: true),
                           hpatches: browser)
        try wb.run(source: StaticSnapshot(snap), send: { _ in })
    }
}

/// A snapshot that never changes (the workbench without a trainer).
final class StaticSnapshot: SnapshotSource {
    let snapshot: TrainerSnapshot
    init(_ s: TrainerSnapshot) { snapshot = s }
    func latest() -> TrainerSnapshot { snapshot }
}
