import Training

// The HPatches browser comparing two models (HPatchesComparisonSource): the sequence list with A, B and
// Δ = A − B of the sorted metric (and Δ of the others where there is room), worst regressed first; the pair
// view with A's pair above B's, each with its row of numbers.

enum HPatchesCompareView {
    /// Everything the compare view draws (built by the workbench from the comparison source).
    struct Content {
        var list: [HPatchesComparedSequence]
        var pairA: HPatchesBrowserPair?
        var pairB: HPatchesBrowserPair?
        var labelA: String
        var labelB: String
        var statusA: String
        var statusB: String
        var size: String?
    }

    /// The metric shown as A, B and Δ: the sort key's (Rep when sorted by name).
    static func focusMetric(_ sort: HPatchesBrowserSortKey) -> HPatchesBrowserSortKey { sort == .name ? .repeatability : sort }

    /// "+0.031" / "-0.12" ("-" if unknown): 3 decimals for fractions, 2 for pixel errors.
    static func delta(_ v: Double, _ key: HPatchesBrowserSortKey) -> String {
        if !v.isFinite { return v.isNaN ? "-" : Series.format(v) }
        let s = String(format: key.higherIsWorse ? "%+.2f" : "%+.3f", v)
        // No "-0.000": a change too small to print has no sign.
        return s.hasPrefix("-") && Double(s) == 0 ? "+" + s.dropFirst() : s
    }

    /// Regressions in the error colour, improvements in the good one, no change dim.
    static func deltaRole(_ regression: Double) -> ThemeRole {
        if regression.isNaN || abs(regression) < 5e-4 { return .dim }
        return regression > 0 ? .error : .good
    }

    static let tripleWidth = 9, deltaWidth = 8

    static func draw(into grid: inout CellGrid, rect: Rect, content c: Content, state: UIState, env: RenderEnv) {
        let t = env.theme
        let focus = focusMetric(state.hpatchesSort)
        let others = HPatchesView.listColumns.filter { $0 != focus }
        let longest = max(13, c.list.map { $0.name.count }.max() ?? 0)
        let listW = min(rect.width / 2, longest + 2 + 3 * tripleWidth + deltaWidth * others.count + 3)
        let (left, right) = rect.splitLeft(listW)
        // The A/B/Δ triple always (headed "A Rep", "B Rep", "ΔRep"; in a narrow pane "A", "B", "ΔRep", the title
        // names the metric); as many further Δ columns as fit beside a 14-cell name.
        let wide = listW - 4 - 3 * tripleWidth >= 14
        let tw = wide ? tripleWidth : deltaWidth
        let extra = Array(others.prefix(max(0, (listW - 18 - 3 * tw) / deltaWidth)))
        let nameW = max(wide ? 14 : 10, listW - 4 - 3 * tw - deltaWidth * extra.count)
        let order = state.hpatchesSort == .name ? (state.hpatchesReversed ? "Z-A" : "A-Z")
            : (state.hpatchesReversed ? "most improved first" : "worst regressed first")
        let by = state.hpatchesSort == .name ? "name" : "Δ\(focus.label)"
        Frame.draw(into: &grid, rect: left, theme: t, glyphs: env.glyphs, focused: true,
                   title: "A vs B: \(c.list.count) sequences, \(state.hpatchesFilter.label), by \(by) \(order) (o: sort, O: reverse)")
        let inner = left.inset(dx: 1, dy: 1)
        // Header: the focused metric's triple underlined when it is the sort key.
        let sortedStyle = t.style(.title).adding(.underline), dim = t.style(.dim)
        var x = grid.put(inner.x + 1, inner.y, "sequence".padding(toLength: nameW, withPad: " ", startingAt: 0),
                         state.hpatchesSort == .name ? sortedStyle : dim)
        let triple = wide ? ["A " + focus.label, "B " + focus.label, "Δ" + focus.label] : ["A", "B", "Δ" + focus.label]
        for (label, w) in triple.map({ ($0, tw) }) {
            x = grid.put(x + max(0, w - label.count), inner.y, label, label.hasPrefix("Δ") && state.hpatchesSort != .name ? sortedStyle : dim)
        }
        for k in extra {
            let label = "Δ" + k.label
            x = grid.put(x + max(0, deltaWidth - label.count), inner.y, label, dim)
        }
        // Rows; the bottom three lines say what A and B are and how their evaluations stand.
        let rows = max(1, inner.height - 4)
        let first = max(0, min(state.hpatchesSelected - rows / 2, c.list.count - rows))
        for (i, s) in c.list.enumerated().dropFirst(first).prefix(rows) {
            let y = inner.y + 1 + i - first
            let sel = i == state.hpatchesSelected
            let style = sel ? t.style(.selected) : t.style(.text)
            if sel { grid.fill(Rect(x: inner.x, y: y, width: inner.width, height: 1), " ", style) }
            if sel { grid.set(inner.x, y, env.glyphs.selected, style) }
            var x = grid.put(inner.x + 1, y, String(s.name.prefix(nameW - 1)).padding(toLength: nameW, withPad: " ", startingAt: 0), style)
            func deltaCell(_ k: HPatchesBrowserSortKey, _ w: Int) {
                let v = delta(k.delta(s), k)
                let role = t.style(deltaRole(k.regression(s)))
                x = grid.put(x + max(0, w - v.count), y, v, sel ? style.with(fg: role.fg) : role)
            }
            for m in [s.a, s.b] {
                let v = HPatchesView.metric(focus.value(m), percent: !focus.higherIsWorse)
                x = grid.put(x + max(0, tw - v.count), y, v, style)
            }
            deltaCell(focus, tw)
            for k in extra { deltaCell(k, deltaWidth) }
        }
        if c.list.isEmpty { grid.put(inner.x + 1, inner.y + 2, "no sequences", dim, maxWidth: inner.width - 2) }
        let legend = "A = \(c.labelA)   B = \(c.labelB)   Δ = A − B (red: A worse)"
        grid.put(inner.x + 1, inner.maxY - 3, legend, dim, maxWidth: inner.width - 2)
        grid.put(inner.x + 1, inner.maxY - 2, "A: " + c.statusA, t.style(.warning), maxWidth: inner.width - 2)
        grid.put(inner.x + 1, inner.maxY - 1, "B: " + c.statusB, t.style(.warning), maxWidth: inner.width - 2)

        // The selected pair: A above B.
        let name = c.list.indices.contains(state.hpatchesSelected) ? c.list[state.hpatchesSelected].name : "-"
        Frame.draw(into: &grid, rect: right, theme: t, glyphs: env.glyphs,
                   title: "\(name): image 1 → \(state.hpatchesPair + 2) (pair \(state.hpatchesPair + 1)/5, ←/→)"
                       + (c.size.map { " · evaluated at \($0) (x: size)" } ?? ""))
        let halves = right.inset(1).rows(2)
        drawPair(into: &grid, rect: halves[0], tag: "A", label: c.labelA, pair: c.pairA, other: c.pairB, listEmpty: c.list.isEmpty,
                 state: state, env: env)
        drawPair(into: &grid, rect: halves[1], tag: "B", label: c.labelB, pair: c.pairB, other: nil, listEmpty: c.list.isEmpty,
                 state: state, env: env)
    }

    /// One model's half of the pair view: a title row, the images, the legend and the numbers. `other`: the pair
    /// to compare the numbers with (A's row shows Δ = A − B after each value).
    static func drawPair(into grid: inout CellGrid, rect: Rect, tag: String, label: String, pair: HPatchesBrowserPair?,
                         other: HPatchesBrowserPair?, listEmpty: Bool, state: UIState, env: RenderEnv) {
        let t = env.theme
        guard rect.height >= 4 else { return }
        let (titleRow, rest) = rect.splitTop(1)
        var x = grid.put(titleRow.x + 1, titleRow.y, tag, t.style(.title).adding(.bold).adding(.reverse))
        x = grid.put(x + 1, titleRow.y, label, t.style(.title).adding(.bold), maxWidth: max(0, titleRow.maxX - x - 1))
        // The legend, then the numbers (A's, with deltas, take two rows at 100 columns).
        let (imgArea, bottom) = rest.splitBottom(rest.width < 70 ? 5 : 3)
        guard let p = pair, !p.pair.sourceKeypoints.isEmpty || !p.metrics.repeatability.isNaN else {
            if let p = pair { PairView.draw(into: &grid, rect: imgArea, content: p.pair, toggles: state.toggles, env: env) }
            grid.put(rest.x + 2, bottom.y, listEmpty ? "" : "\(tag): pair not evaluated yet (r evaluates)", t.style(.dim), maxWidth: rest.width - 4)
            return
        }
        let placed = PairView.draw(into: &grid, rect: imgArea, content: p.pair, toggles: state.toggles, env: env)
        let (legendRow, metricsRows) = bottom.splitTop(1)
        Legend.draw(into: &grid, rect: legendRow, toggles: state.toggles, keypoints: (p.pair.sourceKeypoints.count, p.pair.targetKeypoints.count),
                    matches: p.pair.matches, limit: placed.map { PairView.markerLimit(cells: $0.source.width * $0.source.height) }, env: env)
        let keys: [(HPatchesBrowserSortKey, String)] = [(.repeatability, "Rep"), (.localizationError, "LocErr"), (.cornerError, "corner err"),
                                                        (.c1, "C1"), (.c3, "C3"), (.c5, "C5"), (.matchingScore, "MScore")]
        var mx = metricsRows.x + 2, my = metricsRows.y
        for (k, name) in keys {
            let v = HPatchesView.metric(k.value(p.metrics), percent: !k.higherIsWorse)
            var d = ""
            var role = ThemeRole.dim
            if let o = other {
                let s = HPatchesComparedSequence(name: "", a: p.metrics, b: o.metrics)
                d = " (" + delta(k.delta(s), k) + ")"
                role = deltaRole(k.regression(s))
            }
            if mx + name.count + 1 + v.count + d.count > metricsRows.maxX - 1 && mx > metricsRows.x + 2 { mx = metricsRows.x + 2; my += 1 }
            if my >= metricsRows.maxY { break }
            mx = grid.put(mx, my, name + " ", t.style(.dim), maxWidth: max(0, metricsRows.maxX - mx))
            mx = grid.put(mx, my, v, t.style(.text).adding(.bold), maxWidth: max(0, metricsRows.maxX - mx))
            mx = grid.put(mx, my, d, t.style(role), maxWidth: max(0, metricsRows.maxX - mx)) + 2
        }
    }
}
