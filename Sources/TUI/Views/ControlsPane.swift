import KP2D
import Training

// Controls and status: state, step, the editable parameters (selected one highlighted), the effective
// weighting of the loss with the latest term values, ETA and checkpoint.

enum ControlsPane {
    static func draw(into grid: inout CellGrid, rect: Rect, snapshot: TrainerSnapshot, state: UIState,
                     params: (lossWeights: LossWeights, lr: Float), previewHidden: Bool, env: RenderEnv) {
        let t = env.theme, st = snapshot.status
        Frame.draw(into: &grid, rect: rect, theme: t, glyphs: env.glyphs, title: "Controls")
        let inner = rect.inset(dx: 2, dy: 1)
        guard inner.height >= 1, inner.width >= 20 else { return }
        let text = t.style(.text), dim = t.style(.dim)
        var y = inner.y
        func line(_ parts: [(String, Style)]) {
            guard y < inner.maxY else { return }
            var x = inner.x
            for (s, style) in parts { x = grid.put(x, y, s, style, maxWidth: max(0, inner.maxX - x)) }
            y += 1
        }
        let (label, role) = Chrome.stateLabel(st.state)
        let epochInfo = st.stepsPerEpoch > 0 ? " (\(st.step % max(1, st.stepsPerEpoch))/\(st.stepsPerEpoch))" : ""
        line([(label, t.style(role).adding(.bold)), ("  step \(st.step)", text), ("  epoch \(st.epoch)" + epochInfo, dim)])
        // Parameters: the selected one highlighted.
        var parts: [(String, Style)] = []
        for p in Parameter.allCases {
            let v = p.value(params.lossWeights, lr: params.lr)
            let s = "\(p.symbol) \(Series.format(Double(v), digits: 3))"
            parts.append((p == state.selectedParameter ? env.glyphs.selected.description : " ", t.style(.title)))
            parts.append((s, p == state.selectedParameter ? t.style(.selected).adding(.bold) : text))
            parts.append((" ", text))
        }
        line(parts)
        // Effective weighting, with each weighted term's latest contribution.
        let w = params.lossWeights
        func f(_ v: Float) -> String { Series.format(Double(v), digits: 3) }
        line([("total = ", dim), ("\(f(w.alpha))·L_loc + 2·\(f(w.beta))·L_desc + \(f(w.lambda))·L_score + \(f(w.gamma))·L_IO", text)])
        if let last = snapshot.history.last {
            let tm = last.terms, lw = last.lossWeights
            let c = [lw.alpha * tm.loc, 2 * lw.beta * tm.desc, lw.lambda * last.scoreLoss, lw.gamma * tm.io]
            line([("      = ", dim), (c.map(f).joined(separator: " + ") + " = " + f(tm.total), text)])
            if !tm.flags.isEmpty { line([("flags: ", dim), (tm.flags.joined(separator: "; "), t.style(.warning))]) }
        }
        line([("ETA ", dim), (Chrome.eta(st), text), ("   ", text), (String(format: "%.2f steps/s", st.stepsPerSecond), text)])
        line([("checkpoint ", dim), (st.checkpointPath.isEmpty ? "—" : st.checkpointPath, text)])
        let saved = st.lastSavedStep.map { "saved at step \($0)" } ?? "not saved yet"
        line([(saved, dim), (st.unsavedSteps > 0 ? "  \(st.unsavedSteps) step\(st.unsavedSteps == 1 ? "" : "s") unsaved" : "", st.unsavedSteps > 0 ? t.style(.warning) : dim)])
        if !snapshot.changes.isEmpty, let c = snapshot.changes.last {
            line([("last change ", dim), ("@\(c.step) \(c.description)", t.style(.marker))])
        }
        if previewHidden { line([("pair preview hidden: enlarge the terminal", dim)]) }
        if state.quitAfterSaveAtStep != nil { line([("saving, then quitting" + env.glyphs.ellipsis, t.style(.warning))]) }
    }
}
