import Foundation
import TensorEngine
import Training
import TUI

/// `kp2d-tui bench --only render`: layout + rasterisation of one 200x60 frame with 20k steps of history.
public struct RenderBenchSection: BenchSection {
    public init() {}
    public var name: String { "render" }
    public var abstract: String { "workbench frame time at 200x60 (256 colours, 20k steps of history), no terminal" }

    public func run(_ context: BenchContext) throws -> BenchReport {
        let r = benchRender(width: 200, height: 60, frames: Swift.max(30, context.options.repeats * 6))
        let budget = 1000 / Workbench.framesPerSecond
        return BenchReport(section: name, rows: [BenchRow([
            ("size", .text("\(r.width)x\(r.height)")), ("history_steps", .number(Double(r.historySteps), format: "%.0f")),
            ("ms_per_frame", .number(r.millisecondsPerFrame, format: "%.2f")),
            ("changed_cells", .number(r.changedCellsPerFrame, format: "%.0f")),
            ("frame_budget_share", .ratio(r.millisecondsPerFrame / budget)),
        ])], summary: [("ms_per_frame", .number(r.millisecondsPerFrame, format: "%.2f"))],
        notes: ["frame_budget_share = ms per frame / (1000 / \(Int(Workbench.framesPerSecond)) fps): the UI thread's busy share at full frame rate"])
    }
}

/// `kp2d-tui bench --only uitrain`: training steps/s of the real trainer headless versus with the workbench
/// rendering frames of it (offscreen, into its cell grid, at its frame rate, on this thread).
public struct WorkbenchTrainingBenchSection: BenchSection {
    public var dataPath: String?
    public var steps: Int
    public var warmupSteps: Int
    public init(dataPath: String?, steps: Int = 24, warmupSteps: Int = 2) {
        self.dataPath = dataPath; self.steps = steps; self.warmupSteps = warmupSteps
    }
    public var name: String { "uitrain" }
    public var abstract: String { "training steps/s (fast preset, sample data) headless vs with the workbench rendering 200x60 frames (goal: within 5%)" }

    public struct Run: Sendable {
        public var stepsPerSecond: Double
        public var frames: Int
        /// Share of the wall time this thread spent updating and rendering (the UI's own CPU cost).
        public var uiBusyShare: Double
    }

    /// Train `warmupSteps + steps` steps of the fast preset on `dataPath` (nothing written); the rate is
    /// measured over the last `steps` (wall clock). With `ui`, this thread renders frames meanwhile as the
    /// workbench loop does (a frame when the snapshot changed, at most 12 per second, 30 ms key polls).
    public static func measure(dataPath: String, steps: Int, warmupSteps: Int, ui: Bool) throws -> Run {
        var o = TrainingOptions(preset: .fast, dataPath: dataPath)
        o.checkpointPath = nil; o.logPath = nil; o.exportPath = nil
        o.steps = warmupSteps + steps
        let trainer = try Trainer(options: o)
        let wb = Workbench(options: WorkbenchOptions(colorMode: .c256))
        trainer.start()
        var t0: Double? = nil
        var frames = 0, lastVersion = -1, lastFrame = 0.0, busy = 0.0
        let begin = ProcessInfo.processInfo.systemUptime
        while !trainer.isFinished {
            let snap = trainer.latest()
            let now = ProcessInfo.processInfo.systemUptime
            if t0 == nil && snap.status.step >= warmupSteps { t0 = now }
            if ui {
                wb.update(snapshot: snap, send: { _ in })
                if snap.version != lastVersion && now - lastFrame >= 1 / Workbench.framesPerSecond {
                    _ = wb.render(snapshot: snap, width: 200, height: 60)
                    frames += 1; lastFrame = now; lastVersion = snap.version
                }
                busy += ProcessInfo.processInfo.systemUptime - now
                Thread.sleep(forTimeInterval: 0.03)
            } else {
                Thread.sleep(forTimeInterval: 0.005)
            }
        }
        let t1 = ProcessInfo.processInfo.systemUptime
        if case let .failed(reason) = trainer.snapshot().status.state { throw WorkbenchBenchError.trainingFailed(reason) }
        return Run(stepsPerSecond: Double(steps) / max(t1 - (t0 ?? t1), 1e-9), frames: frames,
                   uiBusyShare: busy / max(t1 - begin, 1e-9))
    }

    public func run(_ context: BenchContext) throws -> BenchReport {
        guard let dataPath else {
            return BenchReport(section: name, notes: ["skipped: no sample-data/train found (run from the repository)"])
        }
        // Alternate headless and UI runs so that load from other processes affects both alike; compare the
        // best run of each (the least disturbed by other processes).
        var headless: [Double] = [], ui: [Double] = [], frames = 0, busy: [Double] = []
        for _ in 0..<Swift.max(1, Swift.min(context.options.repeats, 3)) {
            headless.append(try Self.measure(dataPath: dataPath, steps: steps, warmupSteps: warmupSteps, ui: false).stepsPerSecond)
            let r = try Self.measure(dataPath: dataPath, steps: steps, warmupSteps: warmupSteps, ui: true)
            ui.append(r.stepsPerSecond); frames += r.frames; busy.append(r.uiBusyShare)
        }
        let h = headless.max()!, u = ui.max()!
        let row = BenchRow([
            ("steps", .number(Double(steps), format: "%.0f")), ("runs", .number(Double(headless.count), format: "%.0f")),
            ("headless_steps_s", .number(h, format: "%.3f")), ("ui_steps_s", .number(u, format: "%.3f")),
            ("ui_over_headless", .ratio(u / h)), ("ui_frames", .number(Double(frames), format: "%.0f")),
            ("ui_thread_busy", .ratio(busy.reduce(0, +) / Double(busy.count))),
        ])
        return BenchReport(section: name, rows: [row], summary: [("ui_over_headless", .ratio(u / h))],
                           notes: ["best of \(headless.count) alternating runs each; fast preset on \(dataPath); \(warmupSteps) warm-up steps not timed; goal: ui_over_headless >= 0.95",
                                   "UI frames are laid out and rasterised offscreen (no ncurses copy); ui_thread_busy = share of the wall time the UI thread spent updating and rendering"])
    }
}

public enum WorkbenchBenchError: Error, CustomStringConvertible {
    case trainingFailed(String)
    public var description: String {
        switch self { case let .trainingFailed(r): return "bench uitrain: training failed: \(r)" }
    }
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
