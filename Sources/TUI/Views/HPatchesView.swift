import Training

// The HPatches browser: the sequence list (filtered, sorted worst first) and the selected pair.

enum HPatchesView {
    static func drawUnavailable(into grid: inout CellGrid, rect: Rect, env: RenderEnv) {
        Frame.draw(into: &grid, rect: rect, theme: env.theme, glyphs: env.glyphs, title: "HPatches")
        let lines = ["No HPatches data attached to this session.",
                     "Start kp2d-tui with the HPatches folder (hpatches-sequences-release) to browse per-pair results.",
                     "Tab or 1 returns to the training view."]
        for (i, l) in lines.enumerated() {
            grid.put(rect.x + 3, rect.y + 2 + i, l, i == 0 ? env.theme.style(.warning) : env.theme.style(.text), maxWidth: rect.width - 6)
        }
    }

    static func metric(_ v: Double, percent: Bool) -> String {
        if !v.isFinite { return v.isNaN ? "-" : Series.format(v) }
        return percent ? String(format: "%.3f", v) : String(format: "%.2f", v)
    }

    static let listColumns: [HPatchesBrowserSortKey] = [.repeatability, .localizationError, .cornerError, .c1, .c3, .c5, .matchingScore]

    static func draw(into grid: inout CellGrid, rect: Rect, list: [HPatchesBrowserSequence], pair: HPatchesBrowserPair?,
                     status: String, state: UIState, env: RenderEnv) {
        let t = env.theme
        let listW = min(rect.width / 2, 15 + 7 * listColumns.count + 3)
        let (left, right) = rect.splitLeft(listW)
        // As many metric columns as fit (the sorted one always).
        var shown = Array(listColumns.prefix(max(0, (listW - 18) / 7)))
        if state.hpatchesSort != .name, !shown.contains(state.hpatchesSort), !shown.isEmpty { shown[shown.count - 1] = state.hpatchesSort }
        let order = state.hpatchesReversed ? "best first" : "worst first"
        Frame.draw(into: &grid, rect: left, theme: t, glyphs: env.glyphs, focused: true,
                   title: "Sequences (\(list.count), \(state.hpatchesFilter.label), by \(state.hpatchesSort.label) \(order))")
        let inner = left.inset(dx: 1, dy: 1)
        // Header.
        var x = grid.put(inner.x + 1, inner.y, "sequence".padding(toLength: 14, withPad: " ", startingAt: 0),
                         state.hpatchesSort == .name ? t.style(.title).adding(.underline) : t.style(.dim))
        for c in shown {
            let s = c.label
            x = grid.put(x + max(0, 7 - s.count), inner.y, s, state.hpatchesSort == c ? t.style(.title).adding(.underline) : t.style(.dim))
        }
        let rows = max(1, inner.height - 2)
        let first = max(0, min(state.hpatchesSelected - rows / 2, list.count - rows))
        for (i, s) in list.enumerated().dropFirst(first).prefix(rows) {
            let y = inner.y + 1 + i - first
            let sel = i == state.hpatchesSelected
            let style = sel ? t.style(.selected) : t.style(.text)
            if sel { grid.fill(Rect(x: inner.x, y: y, width: inner.width, height: 1), " ", style) }
            if sel { grid.set(inner.x, y, env.glyphs.selected, style) }
            var x = grid.put(inner.x + 1, y, String(s.name.prefix(13)).padding(toLength: 14, withPad: " ", startingAt: 0), style)
            for c in shown {
                let v = metric(c.value(s.metrics), percent: !c.higherIsWorse)
                x = grid.put(x + max(0, 7 - v.count), y, v, style)
            }
        }
        if list.isEmpty { grid.put(inner.x + 1, inner.y + 2, "no sequences" + (status.isEmpty ? "" : ": " + status), t.style(.dim), maxWidth: inner.width - 2) }
        grid.put(inner.x + 1, inner.maxY - 1, status, t.style(.warning), maxWidth: inner.width - 2)

        // The selected pair.
        let name = list.indices.contains(state.hpatchesSelected) ? list[state.hpatchesSelected].name : "-"
        Frame.draw(into: &grid, rect: right, theme: t, glyphs: env.glyphs,
                   title: "\(name): image 1 → \(state.hpatchesPair + 2) (pair \(state.hpatchesPair + 1)/5, ←/→)")
        let pi = right.inset(1)
        let (imgArea, bottom) = pi.splitBottom(pi.width < 70 ? 6 : 4)
        guard let p = pair else {
            grid.put(pi.x + 2, pi.y + pi.height / 2, list.isEmpty ? "" : "pair not evaluated yet: press r to evaluate", t.style(.dim), maxWidth: pi.width - 4)
            return
        }
        let placed = PairView.draw(into: &grid, rect: imgArea, content: p.pair, toggles: state.toggles, env: env)
        let (legendRow, metricsRows) = bottom.splitTop(1)
        Legend.draw(into: &grid, rect: legendRow, toggles: state.toggles, keypoints: (p.pair.sourceKeypoints.count, p.pair.targetKeypoints.count),
                    matches: p.pair.matches, limit: placed.map { PairView.markerLimit(cells: $0.source.width * $0.source.height) }, env: env)
        let m = p.metrics
        let items: [(String, String)] = [
            ("Rep", metric(m.repeatability, percent: true)), ("LocErr", metric(m.localizationError, percent: false)),
            ("corner err", metric(m.cornerError, percent: false)), ("C1", metric(m.c1, percent: true)),
            ("C3", metric(m.c3, percent: true)), ("C5", metric(m.c5, percent: true)), ("MScore", metric(m.matchingScore, percent: true)),
        ]
        var mx = metricsRows.x + 2
        var my = metricsRows.y + 1
        for (k, v) in items {
            if mx + k.count + 1 + v.count > metricsRows.maxX - 1 && mx > metricsRows.x + 2 { mx = metricsRows.x + 2; my += 1 }
            if my >= metricsRows.maxY { break }
            mx = grid.put(mx, my, k + " ", t.style(.dim), maxWidth: max(0, metricsRows.maxX - mx))
            mx = grid.put(mx, my, v, t.style(.text).adding(.bold), maxWidth: max(0, metricsRows.maxX - mx)) + 3
        }
    }
}
