import Evaluation
import KP2D
import Training

// The training view: loss charts (left), pair preview, match statistics and controls (right).

public enum TrainingView {
    /// Pane rectangles for a body rect (exposed for layout tests).
    public struct Layout: Equatable {
        public var chartsHeader: Rect
        public var charts: [ChartID: Rect]
        /// The validation chart, beside the total (when the run validates).
        public var validation: Rect? = nil
        public var preview: Rect?
        public var stats: Rect
        public var controls: Rect
    }

    public static func layout(_ body: Rect, validation: Bool = false) -> Layout {
        var l = layoutWithoutValidation(body)
        if validation, let total = l.charts[.total], total.width >= 60 {
            let (t, v) = total.splitLeft(total.width * 3 / 5)
            l.charts[.total] = t
            l.validation = v
        }
        return l
    }

    static func layoutWithoutValidation(_ body: Rect) -> Layout {
        let wide = body.width >= 140
        let statsH = 12, controlsH = 11
        if wide {
            let (left, right) = body.splitLeft(body.width * 55 / 100)
            let charts = chartRects(left)
            var preview: Rect? = nil
            var stats: Rect, controls: Rect
            if right.height >= statsH + controlsH + 8 {
                let (p, rest) = right.splitTop(right.height - statsH - controlsH)
                let (s, c) = rest.splitTop(statsH)
                preview = p; stats = s; controls = c
            } else {
                let bottomH = max(statsH, controlsH)
                let (p, rest) = right.splitBottom(min(right.height, bottomH))
                let cols = rest.columns(2)
                stats = cols[0]; controls = cols[1]
                if p.height >= 6 { preview = p } else { stats.y = right.y; stats.height = right.height; controls.y = right.y; controls.height = right.height }
            }
            return Layout(chartsHeader: charts.header, charts: charts.charts, preview: preview, stats: stats, controls: controls)
        }
        let bottomH = max(statsH, controlsH)
        if body.height < 36 {
            // Short and narrow: charts on the left, stats over controls on the right; no preview.
            let (left, right) = body.splitLeft(body.width * 58 / 100)
            let charts = chartRects(left)
            let (s, c) = right.splitTop(min(statsH, right.height / 2))
            return Layout(chartsHeader: charts.header, charts: charts.charts, preview: nil, stats: s, controls: c)
        }
        // Narrow: charts on top, the preview under them if there is room, stats and controls side by side.
        let previewH = body.height >= 46 ? (body.height - bottomH) * 2 / 5 : 0
        let (top, bottom) = body.splitBottom(bottomH)
        let (chartsArea, preview) = top.splitBottom(previewH)
        let charts = chartRects(chartsArea)
        let cols = bottom.columns(2)
        return Layout(chartsHeader: charts.header, charts: charts.charts, preview: previewH > 0 ? preview : nil,
                      stats: cols[0], controls: cols[1])
    }

    /// Total on top (a third of the height), then a 2x2 grid of the four terms.
    static func chartRects(_ area: Rect) -> (header: Rect, charts: [ChartID: Rect]) {
        let (header, rest) = area.splitTop(1)
        let (top, grid) = rest.splitTop(max(4, rest.height / 3))
        let rows = grid.rows(2)
        let r0 = rows[0].columns(2), r1 = rows[1].columns(2)
        return (header, [.total: top, .loc: r0[0], .desc: r0[1], .score: r1[0], .io: r1[1]])
    }

    public static func draw(into grid: inout CellGrid, rect: Rect, snapshot: TrainerSnapshot, state: UIState,
                            params: (lossWeights: LossWeights, lr: Float), charts: ChartData, env: RenderEnv,
                            validation: ValidationSource? = nil, probe: ProbeSource? = nil) {
        let l = layout(rect, validation: validation != nil)
        if let v = l.validation, let validation {
            ValidationChart.draw(into: &grid, rect: v, records: validation.validationRecords, status: validation.validationStatus,
                                 theme: env.theme, glyphs: env.glyphs)
        }
        charts.update(history: snapshot.history, smoothing: state.smoothing)
        drawCharts(into: &grid, layout: l, snapshot: snapshot, state: state, charts: charts, env: env,
                   probe: probe.map { ($0.probeRecords, $0.probeStatus) })
        if let p = l.preview { drawPreview(into: &grid, rect: p, snapshot: snapshot, state: state, env: env) }
        StatsPane.draw(into: &grid, rect: l.stats, pair: snapshot.preview?.stats, recent: snapshot.recentStats,
                       title: "Match statistics", env: env)
        ControlsPane.draw(into: &grid, rect: l.controls, snapshot: snapshot, state: state, params: params,
                          previewHidden: l.preview == nil, env: env)
    }

    static func drawCharts(into grid: inout CellGrid, layout l: Layout, snapshot: TrainerSnapshot, state: UIState,
                           charts: ChartData, env: RenderEnv, probe: (records: [ProbeRecord], status: String)? = nil) {
        let t = env.theme, st = snapshot.status, sep = env.glyphs.separator
        let rest = sep + "x: step" + sep + "trained " + Series.formatDuration(st.elapsed) + " (pauses excluded)" + sep
            + String(format: "%.2f steps/s", st.stepsPerSecond) + sep + "EMA " + String(UIState.smoothingLevels[state.smoothingIndex])
            + sep + (state.windowed ? "last \(UIState.windowSteps) steps" : "whole run")
        let h = l.chartsHeader
        var x = grid.put(h.x + 1, h.y, "Losses", t.style(.title), maxWidth: h.width - 1)
        if let c = charts.comparison {
            // Legend of the overlay, before the rest so that it survives a narrow pane: the faint curves are the other run.
            let steps = c.overlays[.total]?.steps.last.map { Series.formatSteps($0) } ?? "0"
            x = grid.put(x, h.y, sep + "faint: " + c.name + " (\(steps) steps)", t.style(.dim), maxWidth: h.maxX - x)
        }
        if let probe {
            // Legend of the probe line, in its colour, before the rest (it must survive a narrow pane).
            let pairs = probe.records.last?.pairs
            let text = pairs.map { "probe: \($0) fixed pairs, eval mode" } ?? "probe: waiting"
            x = grid.put(x, h.y, sep, t.style(.title), maxWidth: h.maxX - x)
            x = grid.put(x, h.y, text, t.style(.probe), maxWidth: h.maxX - x)
        }
        grid.put(x, h.y, rest, t.style(.title), maxWidth: h.maxX - x)
        let changes = snapshot.changes.map(\.step)
        let probeSteps = probe?.records.map(\.step) ?? []
        for id in ChartID.allCases {
            guard let r = l.charts[id] else { continue }
            LossChart.draw(into: &grid, rect: r, title: id.title, role: id.role, steps: charts.steps, values: charts.values[id] ?? [],
                           ema: charts.ema[id], changeSteps: changes, options: state.chartOptions(id), theme: t, glyphs: env.glyphs,
                           focused: state.focusedChart == id, overlay: charts.comparison?.overlays[id],
                           probe: probe.map { ChartProbe(steps: probeSteps, values: $0.records.map { id.value(terms: $0.terms) }) })
        }
    }

    static func drawPreview(into grid: inout CellGrid, rect: Rect, snapshot: TrainerSnapshot, state: UIState, env: RenderEnv) {
        let t = env.theme
        var title = "Pair preview"
        if let p = snapshot.preview { title += " (step \(p.step))" }
        Frame.draw(into: &grid, rect: rect, theme: t, glyphs: env.glyphs, title: title)
        let inner = rect.inset(1)
        guard let p = snapshot.preview else {
            grid.put(inner.x + 1, inner.y + inner.height / 2, "no training pair yet" + env.glyphs.ellipsis, t.style(.dim), maxWidth: inner.width - 2)
            return
        }
        let (imgArea, legendRow) = inner.splitBottom(1)
        let placed = PairView.draw(into: &grid, rect: imgArea, content: p.pair, toggles: state.toggles, env: env)
        Legend.draw(into: &grid, rect: legendRow, toggles: state.toggles, keypoints: (p.pair.sourceKeypoints.count, p.pair.targetKeypoints.count),
                    matches: p.pair.matches, limit: placed.map { PairView.markerLimit(cells: $0.source.width * $0.source.height) }, env: env)
    }
}

/// The one-line legend under a pair: what each marker means and the toggles.
enum Legend {
    static func draw(into grid: inout CellGrid, rect: Rect, toggles: OverlayToggles, keypoints: (Int, Int), matches: [Match],
                     limit: Int? = nil, env: RenderEnv) {
        let t = env.theme, g = env.glyphs
        let good = matches.filter(\.correct).count
        var x = rect.x + 1
        func item(_ glyph: String, _ role: ThemeRole, _ text: String) {
            x = grid.put(x, rect.y, glyph, t.style(role), maxWidth: rect.maxX - x)
            x = grid.put(x + 1, rect.y, text, t.style(.dim), maxWidth: rect.maxX - x - 1) + 2
        }
        item(String(g.keypoint), .keypoint, "keypoints \(keypoints.0)/\(keypoints.1) [k:\(toggles.keypoints ? "on" : "off")]")
        if let limit, max(keypoints.0, keypoints.1, matches.count) > limit { item("", .dim, "(at most \(limit) shown)") }
        item(String(g.inlier), .inlier, "correct \(good)")
        item(String(g.outlier), .outlier, "wrong \(matches.count - good) [m:\(toggles.matches.rawValue)]")
        item(String(g.gridDot), .grid, "true H grid [g:\(toggles.grid ? "on" : "off")]")
    }
}
