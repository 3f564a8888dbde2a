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

        --compare B.safetensors evaluates both models on every pair (A first, then B) and compares them: the list \
        shows each sequence's metric for A and B and Δ = A − B, worst regressed first (o picks the metric, O \
        reverses); the pair view shows A's pair above B's, each with its numbers. Both files are only read.
        """)

    @Option(help: "KeypointNet weights (.safetensors with the official keys, e.g. a run's checkpoint.keypointnet.safetensors).")
    var weights: String

    @Option(help: ArgumentHelp("Second weights file (model B) to compare with --weights (model A): both are evaluated on every pair.",
                               valueName: "B.safetensors"))
    var compare: String?

    @Option(help: "HPatches-format folder (default: sample-data/hpatches if present).")
    var hpatches: String?

    @Option(help: "Folder for the PNGs of the picture key (p).")
    var pictures = "kp2d-pictures"

    @Option(help: "Colour theme (default, light, mono, colorblind, or a themes/NAME.theme file).")
    var theme = "default"

    @Flag(help: "ASCII only: no braille, block or box glyphs.")
    var ascii = false

    /// The network in `path` (a checkpoint or exported KeypointNet weights), or a one-line error naming the file.
    static func load(_ path: String) throws -> KeypointNet {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CommandFailure("\(path): no such weights file; pass a .safetensors file with KeypointNet weights (e.g. runs/fast/checkpoint.keypointnet.safetensors)")
        }
        do { return try KeypointNetWeights.load(path) } catch {
            let text = "\(error)"
            throw CommandFailure(text.contains(path) ? text : "\(path): \(text)")
        }
    }

    func run() throws {
        // The files first (a wrong path is the likelier mistake, and this check needs no terminal).
        let net = try InspectCommand.load(weights)
        let other = try compare.map(InspectCommand.load)
        guard let root = hpatches ?? TrainingFlags.sampleFolderIfPresent("hpatches") else {
            throw CommandFailure("no HPatches folder: pass --hpatches DIR (hpatches-sequences-release)")
        }
        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
            throw CommandFailure("inspect needs an interactive terminal (stdin and stdout are not a TTY): use `kp2d-tui eval --hpatches DIR --weights \(weights)` for the numbers")
        }
        let dataset: HPatchesDataset
        do { dataset = try HPatchesDataset(root: root) } catch { throw CommandFailure("\(error)") }
        // One evaluation runs at a time per source (its worker thread), so each network is never shared; with
        // --compare the gate makes B wait until A is done.
        let a = EvaluatorHPatchesSource(dataset: dataset, settings: .official240, otherSizes: [(480, 640, 1000, "official")],
                                        gate: NSLock(), makeDetector: { { KeypointNetDetector.detect(net, $0) } })
        var browser: HPatchesBrowserSource = a
        var snap = TrainerSnapshot()
        snap.version = 1
        snap.status.state = .paused
        snap.status.dataDescription = "weights \(weights)"
        if let other, let compare {
            let b = a.sibling(makeDetector: { { KeypointNetDetector.detect(other, $0) } })
            browser = HPatchesComparisonSource(primary: a, label: weights, baseline: b, baselineLabel: compare)
            snap.status.dataDescription = "A \(weights) vs B \(compare)"
        }
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
