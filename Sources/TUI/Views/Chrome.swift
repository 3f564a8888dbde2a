import KP2D
import Training

// Header, status line, hint bar, help overlay, dialogs and the too-small message.

enum Chrome {
    static func stateLabel(_ s: TrainerState) -> (String, ThemeRole) {
        switch s {
        case .starting: return ("STARTING", .warning)
        case .running: return ("RUNNING", .good)
        case .paused: return ("PAUSED", .warning)
        case .finished: return ("FINISHED", .good)
        case .failed(let why): return ("FAILED: " + why, .error)
        }
    }

    static func drawTooSmall(into grid: inout CellGrid, width: Int, height: Int, theme: Theme) {
        let lines = ["Terminal too small: \(width)x\(height)",
                     "kp2d-tui needs at least \(Workbench.minimumWidth)x\(Workbench.minimumHeight).",
                     "Enlarge the window (training continues), or press q to quit."]
        let y0 = max(0, height / 2 - 1)
        for (i, l) in lines.enumerated() where y0 + i < height {
            let x = max(0, (width - l.count) / 2)
            grid.put(x, y0 + i, l, i == 0 ? theme.style(.warning).adding(.bold) : theme.style(.text), maxWidth: width - x)
        }
    }

    static func drawHeader(into grid: inout CellGrid, rect: Rect, snapshot: TrainerSnapshot, state: UIState, env: RenderEnv) {
        let t = env.theme
        let bar = t.style(.status)
        grid.fill(rect, " ", bar)
        var x = grid.put(rect.x + 1, rect.y, "kp2d-tui", bar.adding(.bold))
        x += 2
        for (i, v) in ViewID.allCases.enumerated() {
            let name = v == .training ? "Training" : "HPatches"
            let label = " \(i + 1) \(name) "
            x = grid.put(x, rect.y, label, v == state.view ? bar.adding(.reverse).adding(.bold) : bar)
            x += 1
        }
        let st = snapshot.status
        var info = [st.preset, st.dataDescription].filter { !$0.isEmpty }.joined(separator: env.glyphs.separator)
        if !info.isEmpty { info = " " + info }
        x = grid.put(x + 1, rect.y, info, bar, maxWidth: max(0, rect.maxX - 30 - x))
        let (label, role) = stateLabel(st.state)
        let right = " " + label + " "
        let rs = t.style(role)
        grid.put(max(x + 1, rect.maxX - right.count - 1), rect.y, right, Style(fg: rs.fg, bg: bar.bg, attrs: rs.attrs.union(.bold)),
                 maxWidth: rect.maxX - x - 1)
    }

    static func eta(_ st: TrainerStatus) -> String {
        guard let total = st.totalSteps, st.stepsPerSecond > 0, st.step < total else { return "--" }
        return Series.formatDuration(Double(total - st.step) / st.stepsPerSecond)
    }

    static func weightsText(_ w: LossWeights) -> String {
        "α\(Series.format(Double(w.alpha), digits: 3)) β\(Series.format(Double(w.beta), digits: 3)) λ\(Series.format(Double(w.lambda), digits: 3)) γ\(Series.format(Double(w.gamma), digits: 3))"
    }

    static func drawStatusLine(into grid: inout CellGrid, rect: Rect, snapshot: TrainerSnapshot, state: UIState,
                               params: (lossWeights: LossWeights, lr: Float), env: RenderEnv) {
        let t = env.theme, bar = t.style(.status), sep = env.glyphs.separator
        grid.fill(rect, " ", bar)
        let st = snapshot.status
        var parts: [String] = []
        parts.append("step " + String(st.step) + (st.totalSteps.map { "/" + String($0) } ?? ""))
        parts.append("epoch \(st.epoch)")
        parts.append("lr " + Series.format(Double(params.lr), digits: 3))
        parts.append(weightsText(params.lossWeights))
        parts.append(String(format: "%.2f steps/s", st.stepsPerSecond))
        parts.append("ETA " + eta(st))
        var ckpt = st.checkpointPath.isEmpty ? "no checkpoint path" : st.checkpointPath
        if let s = st.lastSavedStep { ckpt += " (saved @\(s)" + (st.unsavedSteps > 0 ? ", \(st.unsavedSteps) unsaved)" : ")") }
        else if st.step > 0 { ckpt += " (unsaved)" }
        parts.append(ckpt)
        var x = grid.put(rect.x + 1, rect.y, parts.joined(separator: sep), bar, maxWidth: rect.width - 2)
        let msg = state.message.isEmpty ? st.message : state.message
        if !msg.isEmpty, x < rect.maxX - 12 {
            x += 2
            let style = msg.contains("error") || msg.contains("fail") || msg.contains(".theme:") ? t.style(.error) : t.style(.warning)
            grid.put(x, rect.y, msg, Style(fg: style.fg, bg: bar.bg, attrs: style.attrs), maxWidth: rect.maxX - x - 1)
        }
    }

    static func drawHintBar(into grid: inout CellGrid, rect: Rect, context: KeyContext, env: RenderEnv) {
        let t = env.theme
        grid.fill(rect, " ", t.style(.hint_text))
        var x = rect.x + 1
        // quit and help first, then the keys specific to this view, then the shared ones.
        let all = KeyTable.bindings(in: context, hintsOnly: true)
        let first = all.filter { $0.action == .quit || $0.action == .showHelp }
        let specific = all.filter { $0.contexts.count == 1 && !first.map(\.action).contains($0.action) }
        let shared = all.filter { $0.contexts.count > 1 && !first.map(\.action).contains($0.action) }
        for b in first + specific + shared {
            let hint = b.hint ?? ""
            if x + b.hintLabel.count + 1 + hint.count > rect.maxX - 1 { break }
            x = grid.put(x, rect.y, b.hintLabel, t.style(.hint_key))
            x = grid.put(x + 1, rect.y, hint, t.style(.hint_text)) + 2
        }
    }

    static func centeredBox(_ grid: CellGrid, width: Int, height: Int) -> Rect {
        let w = min(grid.width - 2, width), h = min(grid.height - 2, height)
        return Rect(x: (grid.width - w) / 2, y: (grid.height - h) / 2, width: w, height: h)
    }

    static func drawHelp(into grid: inout CellGrid, context: KeyContext, env: RenderEnv) {
        let t = env.theme
        // The current view first, then the other view and the dialogs if there is room.
        func lines(for contexts: [KeyContext]) -> [(String, String, Bool)] {
            var out: [(String, String, Bool)] = []   // key label, description, is heading
            var seen = Set<String>()
            for ctx in contexts {
                let bs = KeyTable.bindings(in: ctx, hintsOnly: false).filter { !seen.contains($0.label + $0.description) }
                if bs.isEmpty { continue }
                out.append((ctx.title, "", true))
                for b in bs { seen.insert(b.label + b.description); out.append((b.label, b.description, false)) }
            }
            return out
        }
        let all = [context] + KeyContext.allCases.filter { $0 != context && $0 != .help }
        let maxBox = Rect(x: 0, y: 0, width: min(grid.width - 2, 120), height: grid.height - 2)
        let innerH = max(1, maxBox.height - 2)
        let maxColumns = max(1, (maxBox.width - 4) / 36)
        var list = lines(for: all)
        if list.count > innerH * maxColumns { list = lines(for: [context]) }
        let columns = min(maxColumns, (list.count + innerH - 1) / innerH)
        let rows = min(innerH, (list.count + columns - 1) / columns)
        let box = centeredBox(grid, width: min(maxBox.width, 4 + 44 * columns), height: rows + 2)
        let dialog = t.style(.dialog)
        Frame.draw(into: &grid, rect: box, theme: t, glyphs: env.glyphs, focused: true, title: "Keys (? or esc closes)")
        grid.fill(box.inset(1), " ", dialog)
        let inner = box.inset(dx: 2, dy: 1)
        let colW = inner.width / columns
        for (i, l) in list.enumerated() {
            let col = i / rows, row = i % rows
            if col >= columns { break }
            let x = inner.x + col * colW, y = inner.y + row
            if l.2 { grid.put(x, y, l.0, t.style(.title).with(bg: dialog.bg), maxWidth: colW - 1); continue }
            grid.put(x, y, l.0, t.style(.hint_key).with(bg: dialog.bg), maxWidth: 10)
            grid.put(x + 11, y, l.1, dialog, maxWidth: colW - 12)
        }
    }

    static func drawConfirmQuit(into grid: inout CellGrid, snapshot: TrainerSnapshot, env: RenderEnv) {
        let t = env.theme, dialog = t.style(.dialog)
        let st = snapshot.status
        let box = centeredBox(grid, width: 60, height: 9)
        Frame.draw(into: &grid, rect: box, theme: t, glyphs: env.glyphs, focused: true, title: "Quit?")
        grid.fill(box.inset(1), " ", dialog)
        let since = st.lastSavedStep.map { "since the save at step \($0)" } ?? "and no checkpoint has been saved"
        grid.put(box.x + 2, box.y + 2, "\(st.unsavedSteps) step\(st.unsavedSteps == 1 ? " is" : "s are") unsaved \(since).", t.style(.warning).with(bg: dialog.bg), maxWidth: box.width - 4)
        for (i, b) in KeyTable.bindings(in: .confirmQuit, hintsOnly: false).enumerated() {
            let x = grid.put(box.x + 4, box.y + 4 + i, b.hintLabel, t.style(.hint_key).with(bg: dialog.bg))
            grid.put(max(x + 1, box.x + 11), box.y + 4 + i, b.description, dialog, maxWidth: box.maxX - x - 2)
        }
    }

    static func drawEdit(into grid: inout CellGrid, parameter: Parameter, text: String,
                         params: (lossWeights: LossWeights, lr: Float), env: RenderEnv) {
        let t = env.theme, dialog = t.style(.dialog)
        let box = centeredBox(grid, width: 50, height: 7)
        Frame.draw(into: &grid, rect: box, theme: t, glyphs: env.glyphs, focused: true, title: "Set \(parameter.symbol)")
        grid.fill(box.inset(1), " ", dialog)
        let cur = parameter.value(params.lossWeights, lr: params.lr)
        grid.put(box.x + 2, box.y + 1, "current \(parameter.symbol) = \(Series.format(Double(cur)))", dialog, maxWidth: box.width - 4)
        let x = grid.put(box.x + 2, box.y + 3, "new value: ", dialog)
        let fieldEnd = grid.put(x, box.y + 3, text, t.style(.selected).with(bg: dialog.bg))
        grid.set(fieldEnd, box.y + 3, "_", t.style(.selected).with(bg: dialog.bg).adding(.bold))
        grid.put(box.x + 2, box.y + 5, "enter applies, esc cancels", t.style(.dim).with(bg: dialog.bg), maxWidth: box.width - 4)
    }
}
