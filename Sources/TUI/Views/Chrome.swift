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
        for (i, v) in ViewID.allCases.enumerated() where !state.inspectOnly || v == .hpatches {
            let name = v == .training ? "Training" : "HPatches"
            let label = " \(i + 1) \(name) "
            x = grid.put(x, rect.y, label, v == state.view ? bar.adding(.reverse).adding(.bold) : bar)
            x += 1
        }
        let st = snapshot.status
        var info = [st.preset, st.dataDescription].filter { !$0.isEmpty }.joined(separator: env.glyphs.separator)
        if !info.isEmpty { info = " " + info }
        x = grid.put(x + 1, rect.y, info, bar, maxWidth: max(0, rect.maxX - 30 - x))
        let (label, role) = state.inspectOnly ? ("INSPECT (read-only)", ThemeRole.good) : stateLabel(st.state)
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
        if state.inspectOnly {
            // The UI's message first (it is what the user just asked for), then what this screen is.
            var x = rect.x + 1
            if !state.message.isEmpty {
                x = grid.put(x, rect.y, state.message, Style(fg: t.style(.warning).fg, bg: bar.bg, attrs: t.style(.warning).attrs),
                             maxWidth: rect.width - 2) + 2
            }
            grid.put(x, rect.y, "inspecting \(st.dataDescription)\(sep)nothing trains\(sep)p saves the pair as a PNG",
                     bar, maxWidth: max(0, rect.maxX - 1 - x))
            return
        }
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
        if let pin = state.baselineNote { parts.insert("baseline " + pin, at: 2) }
        var x = grid.put(rect.x + 1, rect.y, parts.joined(separator: sep), bar, maxWidth: rect.width - 2)
        let msg = state.message.isEmpty ? st.message : state.message
        if !msg.isEmpty, x < rect.maxX - 12 {
            x += 2
            let style = msg.contains("error") || msg.contains("fail") || msg.contains(".theme:") ? t.style(.error) : t.style(.warning)
            grid.put(x, rect.y, msg, Style(fg: style.fg, bg: bar.bg, attrs: style.attrs), maxWidth: rect.maxX - x - 1)
        }
    }

    static func drawHintBar(into grid: inout CellGrid, rect: Rect, context: KeyContext, env: RenderEnv, inspectOnly: Bool = false) {
        let t = env.theme
        grid.fill(rect, " ", t.style(.hint_text))
        var x = rect.x + 1
        // quit and help first, then the keys specific to this view, then the shared ones.
        let all = KeyTable.bindings(in: context, hintsOnly: true).filter { !inspectOnly || !Workbench.trainingActions.contains($0.action) }
        let first = all.filter { $0.action == .quit || $0.action == .showHelp }
        let specific = all.filter { $0.contexts.count == 1 && !first.map(\.action).contains($0.action) }
        var shared = all.filter { $0.contexts.count > 1 && !first.map(\.action).contains($0.action) }
        // The pin key leads the shared ones: it is what a narrower terminal should still show.
        shared = shared.filter { $0.action == .pinBaseline } + shared.filter { $0.action != .pinBaseline }
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

    static func drawHelp(into grid: inout CellGrid, context: KeyContext, env: RenderEnv, inspectOnly: Bool = false) {
        HelpOverlay.draw(into: &grid, context: context, env: env, inspectOnly: inspectOnly)
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
