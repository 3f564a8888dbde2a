// One loss chart: raw values faded, the bias-corrected EMA on top, best value, NaN/inf markers and
// parameter-change markers. `rasterize` is pure (tested on its own); `draw` puts the result into a cell grid.

public enum FitMode: String, Sendable, CaseIterable {
    /// The y range covers every finite raw value.
    case all
    /// The y range covers the smoothed curve (early spikes no longer squash it); raw values are clipped.
    case smoothed
}

public struct ChartOptions: Equatable, Sendable {
    public var smoothing: Double = 0.9
    public var logScale = false
    public var fit: FitMode = .smoothed
    /// Show only the last `window` steps (nil: the whole run).
    public var window: Int? = nil
    public init(smoothing: Double = 0.9, logScale: Bool = false, fit: FitMode = .smoothed, window: Int? = nil) {
        self.smoothing = smoothing; self.logScale = logScale; self.fit = fit; self.window = window
    }
}

/// Another run's smoothed curve drawn faintly behind this one (`--compare-run`), with its change markers.
public struct ChartOverlay: Sendable {
    public var steps: [Int]
    public var values: [Double]
    public var changeSteps: [Int]
    public init(steps: [Int], values: [Double], changeSteps: [Int]) {
        self.steps = steps; self.values = values; self.changeSteps = changeSteps
    }
}

/// The fixed probe batch's values of this chart's loss (eval mode, the same pairs every time), drawn as a line of
/// its own over the training curve.
public struct ChartProbe: Sendable {
    public var steps: [Int]
    public var values: [Double]
    public init(steps: [Int], values: [Double]) { self.steps = steps; self.values = values }
}

/// What a chart shows, computed without a terminal.
public struct ChartRaster: Sendable {
    public var raw: BrailleCanvas
    public var smooth: BrailleCanvas
    /// The overlaid run's smoothed curve (empty without an overlay).
    public var overlay: BrailleCanvas
    /// Cell columns of the overlaid run's parameter changes.
    public var overlayChangeColumns: [Int] = []
    public var scale: Series.Scale
    /// Y range in scaled units (log10 when `scale` is .log).
    public var yMin: Double, yMax: Double
    public var xMin: Int, xMax: Int
    /// Per plot cell column: non-finite values that fell into it (NaN, +inf, -inf counts).
    public var nonFiniteColumns: [(column: Int, nan: Int, posInf: Int, negInf: Int)]
    /// Cell columns of parameter changes.
    public var changeColumns: [Int]
    /// The best (lowest) smoothed value, its step, and its cell position.
    public var best: (value: Double, step: Int, cellX: Int, cellY: Int)?
    public var latestRaw: Double?
    public var latestSmooth: Double?
    public var nonFiniteCount: Int
    /// The probe series (empty without a probe) and its latest value in the window.
    public var probe = BrailleCanvas(widthCells: 0, heightCells: 0)
    public var latestProbe: Double? = nil
}

public enum LossChart {
    /// Rasterise `values` at `steps` into a plot of widthCells x heightCells cells. `ema` is the smoothed
    /// series (Series.ema of all values with options.smoothing); computed here if nil.
    /// `overlay` is another run's smoothed curve: in the y range, drawn on its own canvas; with the whole run shown
    /// the x range covers both runs.
    public static func rasterize(steps: [Int], values: [Double], ema: [Double]? = nil, changeSteps: [Int], options: ChartOptions,
                                 widthCells: Int, heightCells: Int, overlay: ChartOverlay? = nil, probe: ChartProbe? = nil) -> ChartRaster {
        var raw = BrailleCanvas(widthCells: widthCells, heightCells: heightCells)
        var smooth = BrailleCanvas(widthCells: widthCells, heightCells: heightCells)
        var other = BrailleCanvas(widthCells: widthCells, heightCells: heightCells)
        let n = min(steps.count, values.count)
        var result = ChartRaster(raw: raw, smooth: smooth, overlay: other, scale: .linear, yMin: 0, yMax: 1, xMin: 0, xMax: 0,
                                 nonFiniteColumns: [], changeColumns: [], best: nil, latestRaw: nil, latestSmooth: nil,
                                 nonFiniteCount: 0)
        guard n > 0, widthCells > 0, heightCells > 0 else { return result }
        let emaAll: [Double] = (ema.map { $0.count >= n } ?? false) ? ema! : Series.ema(Array(values[0..<n]), smoothing: options.smoothing)

        // Visible window [start, n): the first step >= last - window (binary search; steps increase).
        let lastStep = steps[n - 1]
        var start = 0
        if let w = options.window {
            var lo = 0, hi = n - 1
            while lo < hi { let mid = (lo + hi) / 2; if steps[mid] < lastStep - w { lo = mid + 1 } else { hi = mid } }
            start = lo
        }
        let count = n - start

        return steps.withUnsafeBufferPointer { sp in
            values.withUnsafeBufferPointer { vp in
                emaAll.withUnsafeBufferPointer { ep in
                    let S = sp.baseAddress! + start, V = vp.baseAddress! + start, E = ep.baseAddress! + start
                    result.latestRaw = V[count - 1]
                    result.latestSmooth = E[count - 1].isFinite ? E[count - 1] : nil
                    var nonFinite = 0
                    for i in 0..<count where !V[i].isFinite { nonFinite += 1 }
                    result.nonFiniteCount = nonFinite

                    // Scale.
                    var scale = Series.Scale.linear
                    if options.logScale { scale = Series.logScaleKind(for: Array(UnsafeBufferPointer(start: V, count: count))) }
                    result.scale = scale
                    let linear = scale == .linear
                    @inline(__always) func f(_ v: Double) -> Double { linear ? v : Series.forward(v, scale) }

                    // X range: the window of this run; the whole run also spans the overlaid run.
                    var x0 = Double(S[0]), x1 = Double(S[count - 1])
                    let o = overlay.map { o in (steps: o.steps, values: o.values, n: Swift.min(o.steps.count, o.values.count)) }
                    if let o, o.n > 0, options.window == nil {
                        x0 = Swift.min(x0, Double(o.steps[0])); x1 = Swift.max(x1, Double(o.steps[o.n - 1]))
                    }
                    // ... and the probe's first evaluation (step 0: the untrained weights, before the first step).
                    let pr = probe.map { p in (steps: p.steps, values: p.values, n: Swift.min(p.steps.count, p.values.count)) }
                    if let pr, pr.n > 0, options.window == nil { x0 = Swift.min(x0, Double(pr.steps[0])) }

                    // Y range.
                    var lo = Double.infinity, hi = -Double.infinity
                    let fitSource = options.fit == .all ? V : E
                    for i in 0..<count { let v = f(fitSource[i]); if v.isFinite { lo = min(lo, v); hi = max(hi, v) } }
                    if let o {
                        for i in 0..<o.n where Double(o.steps[i]) >= x0 && Double(o.steps[i]) <= x1 {
                            let v = f(o.values[i]); if v.isFinite { lo = min(lo, v); hi = max(hi, v) }
                        }
                    }
                    // The probe points in the window belong to the range too (a few dozen points, no spikes to fear).
                    if let pr {
                        for i in 0..<pr.n where Double(pr.steps[i]) >= x0 && Double(pr.steps[i]) <= x1 {
                            let v = f(pr.values[i]); if v.isFinite { lo = min(lo, v); hi = max(hi, v) }
                        }
                    }
                    if options.fit == .smoothed && !lo.isFinite {
                        for i in 0..<count { let v = f(V[i]); if v.isFinite { lo = min(lo, v); hi = max(hi, v) } }
                    }
                    if !lo.isFinite { lo = 0; hi = 1 }
                    if hi - lo < 1e-12 { let pad = max(abs(hi) * 0.05, 1e-6); lo -= pad; hi += pad }
                    else { let pad = (hi - lo) * 0.05; lo -= pad; hi += pad }
                    result.yMin = lo; result.yMax = hi

                    result.xMin = Int(x0); result.xMax = Int(x1)
                    let cols = raw.widthDots, rows = raw.heightDots
                    let span = hi - lo
                    @inline(__always) func dotY(_ v: Double) -> Int {
                        let t = (v - lo) / span
                        return min(rows - 1, max(0, Int(((1 - t) * Double(rows - 1)).rounded())))
                    }

                    // Raw: per dot column a vertical run min..max, joined to the previous column's last value.
                    let rawBuckets = Series.bucketize(count: count, x: { Double(S[$0]) }, y: { f(V[$0]) }, x0: x0, x1: x1, columns: cols)
                    var prev: (x: Int, y: Int)? = nil
                    var nonFiniteByCell: [Int: (Int, Int, Int)] = [:]
                    for (c, b) in rawBuckets.enumerated() {
                        if b.nonFinite > 0 {
                            let cell = c / 2
                            let old = nonFiniteByCell[cell] ?? (0, 0, 0)
                            nonFiniteByCell[cell] = (old.0 + b.nan, old.1 + b.posInf, old.2 + b.negInf)
                        }
                        guard b.hasFinite else { continue }
                        if let p = prev { raw.line(p.x, p.y, c, dotY(b.first)) }
                        raw.vline(c, dotY(b.min), dotY(b.max))
                        prev = (c, dotY(b.last))
                    }
                    result.nonFiniteColumns = nonFiniteByCell.keys.sorted().map { k in
                        let v = nonFiniteByCell[k]!; return (k, v.0, v.1, v.2)
                    }

                    // Smoothed: same, on its own canvas (coloured on top of the raw one).
                    let emaBuckets = Series.bucketize(count: count, x: { Double(S[$0]) }, y: { f(E[$0]) }, x0: x0, x1: x1, columns: cols)
                    prev = nil
                    for (c, b) in emaBuckets.enumerated() where b.hasFinite {
                        if let p = prev { smooth.line(p.x, p.y, c, dotY(b.first)) }
                        smooth.vline(c, dotY(b.min), dotY(b.max))
                        prev = (c, dotY(b.last))
                    }

                    // The overlaid run's smoothed curve and its parameter changes.
                    if let o, let ov = overlay {
                        let buckets = Series.bucketize(count: o.n, x: { Double(o.steps[$0]) }, y: { f(o.values[$0]) }, x0: x0, x1: x1, columns: cols)
                        prev = nil
                        for (c, b) in buckets.enumerated() where b.hasFinite {
                            if let p = prev { other.line(p.x, p.y, c, dotY(b.first)) }
                            other.vline(c, dotY(b.min), dotY(b.max))
                            prev = (c, dotY(b.last))
                        }
                        result.overlayChangeColumns = ov.changeSteps.compactMap { s in
                            Series.column(of: Double(s), x0: x0, x1: x1, columns: cols).map { $0 / 2 }
                        }
                    }

                    // The probe: its points joined by straight lines (one evaluation every few dozen steps).
                    var probeCanvas = BrailleCanvas(widthCells: widthCells, heightCells: heightCells)
                    if let pr {
                        prev = nil
                        for i in 0..<pr.n {
                            let v = f(pr.values[i])
                            guard v.isFinite, let c = Series.column(of: Double(pr.steps[i]), x0: x0, x1: x1, columns: cols) else { continue }
                            if let p = prev { probeCanvas.line(p.x, p.y, c, dotY(v)) } else { probeCanvas.set(c, dotY(v)) }
                            prev = (c, dotY(v))
                            result.latestProbe = pr.values[i]
                        }
                    }
                    result.probe = probeCanvas

                    // Best (lowest) smoothed value in the window.
                    var bestIndex = -1
                    for i in 0..<count where E[i].isFinite && (bestIndex < 0 || E[i] < E[bestIndex]) { bestIndex = i }
                    if bestIndex >= 0, let c = Series.column(of: Double(S[bestIndex]), x0: x0, x1: x1, columns: cols) {
                        let y = f(E[bestIndex])
                        if y.isFinite { result.best = (E[bestIndex], S[bestIndex], c / 2, dotY(y) / 4) }
                    }

                    // Parameter changes inside the window.
                    result.changeColumns = changeSteps.compactMap { s in
                        Series.column(of: Double(s), x0: x0, x1: x1, columns: cols).map { $0 / 2 }
                    }
                    result.raw = raw; result.smooth = smooth; result.overlay = other
                    return result
                }
            }
        }
    }

    /// Draw a chart with its frame into `rect` of the grid.
    public static func draw(into grid: inout CellGrid, rect: Rect, title: String, role: ThemeRole,
                            steps: [Int], values: [Double], ema: [Double]? = nil, changeSteps: [Int], options: ChartOptions,
                            theme: Theme, glyphs: Glyphs, focused: Bool, overlay: ChartOverlay? = nil, probe: ChartProbe? = nil) {
        guard rect.width >= 12, rect.height >= 4 else { return }
        let color = theme.style(role)
        Frame.draw(into: &grid, rect: rect, theme: theme, glyphs: glyphs, focused: focused)
        let inner = rect.inset(1)
        let labelWidth = 9
        let (plotAndAxis, _) = inner.splitBottom(0)
        let (plotRows, axisRow) = plotAndAxis.splitBottom(inner.height >= 5 ? 1 : 0)
        let (labels, plot) = plotRows.splitLeft(inner.width >= 30 ? labelWidth : 0)
        let r = rasterize(steps: steps, values: values, ema: ema, changeSteps: changeSteps, options: options,
                          widthCells: plot.width, heightCells: plot.height, overlay: overlay, probe: probe)

        // Title on the top border: name, latest raw and smoothed, best, flags.
        var x = rect.x + 2
        x = grid.put(x, rect.y, " \(title) ", color.adding(.bold), maxWidth: rect.maxX - 2 - x)
        var info = ""
        if let v = r.latestRaw { info += Series.format(v) }
        if let s = r.latestSmooth { info += " ema " + Series.format(s) }
        x = grid.put(x, rect.y, info + " ", theme.style(.text), maxWidth: rect.maxX - 2 - x)
        if let p = r.latestProbe {
            x = grid.put(x, rect.y, "probe " + Series.format(p) + " ", theme.style(.probe), maxWidth: rect.maxX - 2 - x)
        }
        if let b = r.best {
            x = grid.put(x, rect.y, String(glyphs.best) + Series.format(b.value) + "@" + Series.formatSteps(b.step) + " ",
                         theme.style(.ema_best), maxWidth: rect.maxX - 2 - x)
        }
        var flags: [String] = []
        if options.logScale { if case .symlog = r.scale { flags.append("symlog") } else { flags.append("log") } }
        if options.fit == .all { flags.append("fit:all") }
        if !flags.isEmpty { x = grid.put(x, rect.y, "[" + flags.joined(separator: ",") + "] ", theme.style(.dim), maxWidth: rect.maxX - 2 - x) }
        if r.nonFiniteCount > 0 {
            grid.put(x, rect.y, "\(glyphs.nanMarker)\(r.nonFiniteCount) non-finite ", theme.style(.nan), maxWidth: rect.maxX - 2 - x)
        }
        if steps.isEmpty {
            grid.put(plot.x + 1, plot.y + plot.height / 2, "waiting for the first step" + glyphs.ellipsis, theme.style(.dim), maxWidth: plot.width - 1)
            return
        }

        // The overlaid run first (faint), its change markers as dim dots, then this run's markers and data on top.
        let faint = theme.style(.dim)
        for c in r.overlayChangeColumns {
            for cy in stride(from: 0, to: plot.height, by: 2) { grid.set(plot.x + c, plot.y + cy, glyphs.changeMarker, faint) }
        }
        for cy in 0..<plot.height {
            for cx in 0..<plot.width {
                let ob = r.overlay.cellBits(cx, cy)
                if ob != 0 { grid.set(plot.x + cx, plot.y + cy, BrailleCanvas.glyph(bits: ob, ascii: !glyphs.unicode), faint) }
            }
        }
        // Parameter-change markers behind the data.
        let markerStyle = theme.style(.marker)
        for c in r.changeColumns {
            for cy in 0..<plot.height { grid.set(plot.x + c, plot.y + cy, glyphs.changeMarker, markerStyle) }
        }
        // Dots: smoothed colour wins where both canvases have dots.
        let rawStyle = theme.style(.raw)
        for cy in 0..<plot.height {
            for cx in 0..<plot.width {
                let rb = r.raw.cellBits(cx, cy), sb = r.smooth.cellBits(cx, cy)
                if rb | sb == 0 { continue }
                let ch = BrailleCanvas.glyph(bits: rb | sb, ascii: !glyphs.unicode)
                grid.set(plot.x + cx, plot.y + cy, glyphs.unicode ? ch : (sb != 0 ? BrailleCanvas.glyph(bits: sb, ascii: true) : ch),
                         sb != 0 ? color : rawStyle)
            }
        }
        // The probe on top of the training curves: the line to read across the batch noise.
        let probeStyle = theme.style(.probe)
        for cy in 0..<plot.height where r.probe.heightCells == plot.height && r.probe.widthCells == plot.width {
            for cx in 0..<plot.width {
                let pb = r.probe.cellBits(cx, cy)
                if pb != 0 { grid.set(plot.x + cx, plot.y + cy, BrailleCanvas.glyph(bits: pb, ascii: !glyphs.unicode), probeStyle) }
            }
        }
        // Non-finite markers on the top row (-inf at the bottom).
        let nanStyle = theme.style(.nan)
        for m in r.nonFiniteColumns {
            if m.nan + m.posInf > 0 { grid.set(plot.x + m.column, plot.y, glyphs.nanMarker, nanStyle) }
            if m.negInf > 0 { grid.set(plot.x + m.column, plot.maxY - 1, glyphs.down, nanStyle) }
        }
        if let b = r.best { grid.set(plot.x + b.cellX, plot.y + b.cellY, glyphs.best, theme.style(.ema_best)) }

        // Y labels: top, middle, bottom.
        if labels.width > 0 {
            let dim = theme.style(.dim)
            let rowsToLabel = plot.height >= 3 ? [0, plot.height / 2, plot.height - 1] : [0, plot.height - 1]
            for cy in Set(rowsToLabel) {
                // Top and bottom rows show the range's ends, the middle row its centre.
                let t = cy == 0 ? 1 : (cy == plot.height - 1 ? 0 : 1 - (Double(cy) + 0.5) / Double(plot.height))
                let v = Series.inverse(r.yMin + t * (r.yMax - r.yMin), r.scale)
                let s = Series.format(v, digits: 3)
                grid.put(labels.x + max(0, labels.width - 1 - s.count), labels.y + cy, s, dim, maxWidth: labels.width - 1)
            }
        }
        // X labels: first, middle, last step.
        if axisRow.height > 0 {
            let dim = theme.style(.dim)
            let a = Series.formatSteps(r.xMin), b = Series.formatSteps(r.xMax)
            let m = Series.formatSteps((r.xMin + r.xMax) / 2)
            grid.put(plot.x, axisRow.y, a, dim)
            if r.xMax - r.xMin >= 2 && plot.width > a.count + b.count + m.count + 4 {
                grid.put(plot.x + (plot.width - m.count) / 2, axisRow.y, m, dim)
            }
            if r.xMax > r.xMin { grid.put(plot.maxX - b.count, axisRow.y, b, dim) }
        }
    }
}
