import ArgumentParser
import Foundation
import Training

/// How a screen is drawn: `workbench` (alias `train`) and `snapshot`.
struct ScreenFlags: ParsableArguments {
    @Option(help: "Colour theme (default, light, mono, colorblind, or a themes/NAME.theme file).")
    var theme = "default"

    @Flag(help: "ASCII only: no braille, block or box glyphs.")
    var ascii = false

    @Option(help: "Width of a printed frame (default: the terminal's, else 200).") var width: Int?
    @Option(help: "Height of a printed frame (default: the terminal's, else 60).") var height: Int?

    @Option(name: .customLong("compare-run"),
            help: "Overlay another run's curves, faintly, in every chart: its folder (metrics.jsonl, checkpoint) or its metrics log.")
    var compareRun: String?

    func validate() throws {
        if let width, width < 20 { throw ValidationError("--width must be >= 20") }
        if let height, height < 5 { throw ValidationError("--height must be >= 5") }
    }

    /// The --compare-run run, loaded from its files (a folder, or a metrics log with the checkpoint beside it).
    func comparisonRun() throws -> RecordedRun? {
        guard let path = compareRun else { return nil }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ValidationError("--compare-run \(path): no such run folder or metrics log")
        }
        return isDir.boolValue ? try RecordedRun.load(runDirectory: path) : try RecordedRun.load(log: path, checkpoint: nil)
    }

    /// The frame size: the flags, else the terminal's, else 200x60.
    var frameSize: (width: Int, height: Int) {
        let size = TerminalSize.current()
        return (width ?? size?.width ?? 200, height ?? size?.height ?? 60)
    }
}

/// The user-interface flags of a training run: the screen, or no screen at all.
struct UIFlags: ParsableArguments {
    @OptionGroup var screen: ScreenFlags

    @Flag(help: "Train without the workbench, printing progress to stderr (for scripts).")
    var headless = false

    @Option(name: .customLong("progress-every"), help: "Print a progress line every N steps (--headless).")
    var progressEvery: Int = 10

    func validate() throws {
        guard progressEvery >= 1 else { throw ValidationError("--progress-every must be >= 1") }
    }
}
