import Training

// The validation chart: held-out Rep, C3 and MScore against the training step, all on one 0...1 axis, one colour
// each, with the latest values in the title. Pure rasterisation (`rasterize`), then `draw` into the grid.

public enum ValidationChart {
    /// The three curves, in drawing order (later ones on top).
    public static let series: [(name: String, role: ThemeRole, value: @Sendable (ValidationRecord) -> Double)] = [
        ("Rep", .loss_loc, { $0.repeatability }),
        ("C3", .loss_desc, { $0.c3 }),
        ("MScore", .loss_total, { $0.matchingScore }),
    ]

    /// One canvas per series over [x0, x1] x [0, 1].
    public static func rasterize(_ records: [ValidationRecord], widthCells: Int, heightCells: Int,
                                 x0: Int, x1: Int) -> [BrailleCanvas] {
        series.map { s in
            var c = BrailleCanvas(widthCells: widthCells, heightCells: heightCells)
            let cols = c.widthDots, rows = c.heightDots
            var prev: (Int, Int)? = nil
            for r in records {
                let v = s.value(r)
                guard v.isFinite, let col = Series.column(of: Double(r.step), x0: Double(x0), x1: Double(x1), columns: cols) else { continue }
                let y = Swift.min(rows - 1, Swift.max(0, Int(((1 - Swift.min(1, Swift.max(0, v))) * Double(rows - 1)).rounded())))
                if let p = prev { c.line(p.0, p.1, col, y) } else { c.set(col, y) }
                prev = (col, y)
            }
            return c
        }
    }

    public static func draw(into grid: inout CellGrid, rect: Rect, records: [ValidationRecord], status: String,
                            theme: Theme, glyphs: Glyphs) {
        guard rect.width >= 12, rect.height >= 4 else { return }
        Frame.draw(into: &grid, rect: rect, theme: theme, glyphs: glyphs)
        var x = grid.put(rect.x + 2, rect.y, " Validation ", theme.style(.title).adding(.bold), maxWidth: rect.maxX - 2 - rect.x - 2)
        if let last = records.last {
            for s in series {
                x = grid.put(x, rect.y, s.name + " ", theme.style(s.role), maxWidth: rect.maxX - 2 - x)
                x = grid.put(x, rect.y, Series.format(s.value(last), digits: 3) + " ", theme.style(.text), maxWidth: rect.maxX - 2 - x)
            }
            grid.put(x, rect.y, "@" + Series.formatSteps(last.step) + " ", theme.style(.dim), maxWidth: rect.maxX - 2 - x)
        }
        let inner = rect.inset(1)
        let (plotRows, statusRow) = inner.splitBottom(1)
        let (labels, plot) = plotRows.splitLeft(inner.width >= 30 ? 5 : 0)
        guard let first = records.first, let last = records.last else {
            grid.put(plot.x + 1, plot.y + plot.height / 2, "no held-out evaluation yet", theme.style(.dim), maxWidth: plot.width - 1)
            grid.put(statusRow.x, statusRow.y, status, theme.style(.dim), maxWidth: statusRow.width)
            return
        }
        let canvases = rasterize(records, widthCells: plot.width, heightCells: plot.height, x0: first.step, x1: max(last.step, first.step + 1))
        for (c, s) in zip(canvases, series) {
            let style = theme.style(s.role)
            for cy in 0..<plot.height {
                for cx in 0..<plot.width {
                    let bits = c.cellBits(cx, cy)
                    if bits != 0 { grid.set(plot.x + cx, plot.y + cy, BrailleCanvas.glyph(bits: bits, ascii: !glyphs.unicode), style) }
                }
            }
        }
        if labels.width > 0 {
            grid.put(labels.x, plot.y, "1.0", theme.style(.dim))
            grid.put(labels.x, plot.maxY - 1, "0.0", theme.style(.dim))
        }
        grid.put(statusRow.x, statusRow.y, status, theme.style(.dim), maxWidth: statusRow.width)
    }
}
