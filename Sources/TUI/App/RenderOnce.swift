import Foundation
import Training

/// The screen for `snapshot` as plain text (no colours; images as the ASCII grey ramp): `kp2d-tui snapshot`,
/// `--once` and the README capture.
public func renderOnce(_ snapshot: TrainerSnapshot, width: Int, height: Int, options: WorkbenchOptions = WorkbenchOptions(),
                       hpatches: HPatchesBrowserSource? = nil, view: ViewID = .training) -> String {
    var opts = options
    opts.colorMode = ColorMode.none
    let wb = Workbench(options: opts, hpatches: hpatches)
    if view == .hpatches { wb.handle(.char("2"), snapshot: snapshot, send: { _ in }) }
    return wb.render(snapshot: snapshot, width: width, height: height).text
}

public struct RenderBenchResult: Sendable, CustomStringConvertible {
    public var width: Int, height: Int, frames: Int, historySteps: Int
    public var millisecondsPerFrame: Double
    /// Cells that differ between consecutive frames on average (what the terminal layer would redraw).
    public var changedCellsPerFrame: Double
    public var description: String {
        String(format: "render %dx%d, %d steps of history: %.2f ms/frame over %d frames (%.0f changed cells/frame)",
               width, height, historySteps, millisecondsPerFrame, frames, changedCellsPerFrame)
    }
}

/// Measure layout + rasterisation time per frame at width x height with a demo run of `historySteps` steps
/// (256 colours, Unicode; no terminal involved). `kp2d-tui bench` prints it.
public func benchRender(width: Int = 200, height: Int = 60, frames: Int = 30, historySteps: Int = 20_000) -> RenderBenchResult {
    let trainer = DemoTrainer(steps: historySteps, running: true)
    let wb = Workbench(options: WorkbenchOptions(colorMode: .c256))
    var snap = trainer.latest(advancing: false)
    var previous = wb.render(snapshot: snap, width: width, height: height)
    var changed = 0
    let start = Date()
    for _ in 0..<frames {
        trainer.advance(1)
        snap = trainer.latest(advancing: false)
        let g = wb.render(snapshot: snap, width: width, height: height)
        changed += zip(g.cells, previous.cells).reduce(0) { $0 + ($1.0 == $1.1 ? 0 : 1) }
        previous = g
    }
    let ms = Date().timeIntervalSince(start) * 1000 / Double(max(1, frames))
    return RenderBenchResult(width: width, height: height, frames: frames, historySteps: historySteps,
                             millisecondsPerFrame: ms, changedCellsPerFrame: Double(changed) / Double(max(1, frames)))
}
