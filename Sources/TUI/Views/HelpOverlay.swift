import Evaluation

// The help overlay: every key of the key table, the current view first. Descriptions wrap onto indented
// continuation lines instead of being cut; the box takes the fewest columns (up to 160 cells wide) in which
// everything fits. Only when even the current view's keys do not fit wrapped (e.g. at 80x24) are the
// descriptions cut to one line each.

enum HelpOverlay {
    /// One screen line of the overlay: a heading, a key with (the first line of) its description, or a
    /// continuation line of a wrapped description (empty key).
    struct Line: Equatable {
        var key: String
        var text: String
        var heading: Bool
    }

    static let keyWidth = 11
    static let maxBoxWidth = 160

    /// The entries (key label, description, is heading) of `contexts`, each binding once; `inspectOnly`
    /// leaves out the keys that need a trainer.
    static func entries(for contexts: [KeyContext], inspectOnly: Bool = false) -> [(String, String, Bool)] {
        var out: [(String, String, Bool)] = []
        var seen = Set<String>()
        for ctx in contexts {
            let bs = KeyTable.bindings(in: ctx, hintsOnly: false)
                .filter { !seen.contains($0.label + $0.description) && !(inspectOnly && Workbench.trainingActions.contains($0.action)) }
            if bs.isEmpty { continue }
            out.append((ctx.title, "", true))
            for b in bs { seen.insert(b.label + b.description); out.append((b.label, b.description, false)) }
        }
        return out
    }

    /// Entries in columns of `columnWidth` cells and at most `height` lines; an entry never splits across
    /// columns. nil if they do not fit in `columns` columns.
    static func columns(_ entries: [(String, String, Bool)], columns: Int, columnWidth: Int, height: Int, wrap wrapping: Bool) -> [[Line]]? {
        var cols: [[Line]] = [[]]
        let descWidth = max(1, columnWidth - keyWidth - 1)
        for e in entries {
            var lines: [Line]
            if e.2 { lines = [Line(key: e.0, text: "", heading: true)] } else {
                let parts = wrapping ? TextWrap.lines(e.1, width: descWidth) : [e.1]
                lines = parts.enumerated().map { Line(key: $0.offset == 0 ? e.0 : "", text: $0.element, heading: false) }
            }
            if lines.count > height { return nil }
            if cols[cols.count - 1].count + lines.count > height {
                // A heading alone at the bottom of a column moves along with its first key.
                var carried: [Line] = []
                if let last = cols[cols.count - 1].last, last.heading { carried = [cols[cols.count - 1].removeLast()] }
                cols.append(carried)
                if cols.count > columns || cols[cols.count - 1].count + lines.count > height { return nil }
            }
            cols[cols.count - 1].append(contentsOf: lines)
        }
        return cols
    }

    /// The layout for a grid: (column width, columns of lines).
    static func layout(context: KeyContext, gridWidth: Int, gridHeight: Int, inspectOnly: Bool = false) -> (columnWidth: Int, columns: [[Line]]) {
        let boxW = min(gridWidth - 2, maxBoxWidth)
        let innerW = max(1, boxW - 4), innerH = max(1, gridHeight - 4)
        // `inspect` has no training view and no parameters to edit: only the browser and the quit dialog.
        let others = KeyContext.allCases.filter {
            $0 != context && $0 != .help && !(inspectOnly && ($0 == .training || $0 == .edit))
        }
        let everything = entries(for: [context] + others, inspectOnly: inspectOnly)
        let own = entries(for: [context], inspectOnly: inspectOnly)
        let natural = keyWidth + 1 + (everything.map { $0.1.count }.max() ?? 0) + 2
        let maxColumns = max(1, innerW / 36)
        for list in [everything, own] {
            for c in 1...maxColumns {
                let w = min(natural, innerW / c)
                if let cols = columns(list, columns: c, columnWidth: w, height: innerH, wrap: true) { return (w, cols) }
            }
        }
        // Cut descriptions to one line; beyond that, what does not fit is left out.
        let w = innerW / maxColumns
        if let cols = columns(own, columns: maxColumns, columnWidth: w, height: innerH, wrap: false) { return (w, cols) }
        var cols: [[Line]] = []
        var rest = own.map { Line(key: $0.0, text: $0.1, heading: $0.2) }[...]
        while !rest.isEmpty && cols.count < maxColumns { cols.append(Array(rest.prefix(innerH))); rest = rest.dropFirst(innerH) }
        return (w, cols)
    }

    static func draw(into grid: inout CellGrid, context: KeyContext, env: RenderEnv, inspectOnly: Bool = false) {
        let t = env.theme
        let (colW, cols) = layout(context: context, gridWidth: grid.width, gridHeight: grid.height, inspectOnly: inspectOnly)
        let rows = cols.map(\.count).max() ?? 0
        let box = Chrome.centeredBox(grid, width: 4 + colW * cols.count, height: rows + 2)
        let dialog = t.style(.dialog)
        Frame.draw(into: &grid, rect: box, theme: t, glyphs: env.glyphs, focused: true, title: "Keys (? or esc closes)")
        grid.fill(box.inset(1), " ", dialog)
        let inner = box.inset(dx: 2, dy: 1)
        for (ci, col) in cols.enumerated() {
            let x = inner.x + ci * colW
            for (row, l) in col.enumerated() where row < inner.height {
                let y = inner.y + row
                if l.heading { grid.put(x, y, l.key, t.style(.title).with(bg: dialog.bg), maxWidth: colW - 1); continue }
                if !l.key.isEmpty { grid.put(x, y, l.key, t.style(.hint_key).with(bg: dialog.bg), maxWidth: keyWidth - 1) }
                grid.put(x + keyWidth, y, l.text, dialog, maxWidth: min(colW - keyWidth - 1, inner.maxX - x - keyWidth))
            }
        }
    }
}
