import Bench
import XCTest
import KP2D
import Training
import TUI

final class WorkbenchTests: XCTestCase {
    func makeWorkbench(_ hp: HPatchesBrowserSource? = DemoHPatches()) -> Workbench {
        Workbench(options: WorkbenchOptions(colorMode: .c256), hpatches: hp)
    }

    func testLayoutAtSeveralSizes() {
        let snap = DemoTrainer.snapshot(steps: 2000)
        let wb = makeWorkbench()
        for (w, h) in [(200, 60), (160, 48), (120, 40), (100, 30), (80, 24)] {
            let g = wb.render(snapshot: snap, width: w, height: h)
            XCTAssertEqual(g.width, w); XCTAssertEqual(g.height, h)
            XCTAssertTrue(g.row(0).contains("kp2d-tui"), "\(w)x\(h) header")
            XCTAssertTrue(g.contains("total"), "\(w)x\(h) total chart")
            XCTAssertTrue(g.contains("L_IO"), "\(w)x\(h) IO chart")
            XCTAssertTrue(g.contains("Match statistics"), "\(w)x\(h) stats")
            XCTAssertTrue(g.contains("Controls"), "\(w)x\(h) controls")
            XCTAssertTrue(g.row(h - 2).contains("step 2000"), "\(w)x\(h) status line")
            XCTAssertTrue(g.row(h - 1).contains("quit"), "\(w)x\(h) hint bar")
            XCTAssertFalse(g.contains("too small"))
        }
        XCTAssertTrue(wb.render(snapshot: snap, width: 200, height: 60).contains("Pair preview"))
        XCTAssertTrue(wb.render(snapshot: snap, width: 100, height: 30).contains("preview hidden"))
    }

    func testPanesDoNotOverlapAtFullSize() {
        let l = TrainingView.layout(Rect(x: 0, y: 1, width: 200, height: 57))
        var rects = Array(l.charts.values) + [l.stats, l.controls, l.chartsHeader]
        if let p = l.preview { rects.append(p) } else { XCTFail("preview expected at 200x60") }
        for (i, a) in rects.enumerated() {
            XCTAssertGreaterThanOrEqual(a.x, 0); XCTAssertLessThanOrEqual(a.maxX, 200); XCTAssertLessThanOrEqual(a.maxY, 58)
            for b in rects[(i + 1)...] {
                let overlap = a.x < b.maxX && b.x < a.maxX && a.y < b.maxY && b.y < a.maxY
                XCTAssertFalse(overlap, "\(a) overlaps \(b)")
            }
        }
    }

    func testTooSmallTerminal() {
        let wb = makeWorkbench()
        for (w, h) in [(79, 24), (80, 23), (40, 10), (10, 3), (0, 0)] {
            let g = wb.render(snapshot: DemoTrainer.snapshot(steps: 10), width: w, height: h)
            XCTAssertEqual(g.width, w)
            if h >= 3 && w >= 30 { XCTAssertTrue(g.contains("too small"), "\(w)x\(h):\n\(g.text)") }
        }
    }

    func testEmptySnapshotRenders() {
        let g = makeWorkbench().render(snapshot: TrainerSnapshot(), width: 200, height: 60)
        XCTAssertTrue(g.contains("waiting for the first step"))
        XCTAssertTrue(g.contains("no training pair yet"))
        XCTAssertTrue(g.contains("STARTING"))
    }

    func press(_ wb: Workbench, _ keys: [Key], _ snap: TrainerSnapshot) -> [TrainerCommand] {
        var sent: [TrainerCommand] = []
        for k in keys { wb.handle(k, snapshot: snap, send: { sent.append($0) }) }
        return sent
    }

    func testPauseStepAndSave() {
        let wb = makeWorkbench()
        var snap = DemoTrainer.snapshot(steps: 10)
        XCTAssertEqual(press(wb, [.char(" ")], snap), [.pause])
        XCTAssertEqual(press(wb, [.char("n")], snap), [], "no single step while running")
        XCTAssertTrue(wb.state.message.contains("pause"))
        snap.status.state = .paused
        XCTAssertEqual(press(wb, [.char("n")], snap), [.step])
        XCTAssertEqual(press(wb, [.char(" ")], snap), [.resume])
        XCTAssertEqual(press(wb, [.char("s")], snap), [.save])
        XCTAssertTrue(wb.render(snapshot: snap, width: 200, height: 60).row(58).contains("checkpoint requested"))
        // The trainer's newer message replaces the UI's own.
        wb.update(snapshot: snap, send: { _ in })
        snap.status.message = "saved runs/x.safetensors at step 10"
        wb.update(snapshot: snap, send: { _ in })
        XCTAssertTrue(wb.render(snapshot: snap, width: 200, height: 60).row(58).contains("saved runs/x.safetensors"))
    }

    func testParameterEditingAndUndo() {
        let wb = makeWorkbench()
        var snap = DemoTrainer.snapshot(steps: 10)
        snap.status.lossWeights = LossWeights(alpha: 1, beta: 2, lambda: 1, gamma: 1)
        snap.status.lr = 1e-3
        // w selects beta; two presses of + accumulate before the trainer shows the change.
        let sent = press(wb, [.char("w"), .char("+"), .char("+")], snap)
        XCTAssertEqual(sent.count, 2)
        XCTAssertEqual(sent.last, .setLossWeights(LossWeights(alpha: 1, beta: 2.2, lambda: 1, gamma: 1)))
        let g = wb.render(snapshot: snap, width: 200, height: 60)
        XCTAssertTrue(g.contains("beta 2.2"), "readout shows the requested value")
        XCTAssertTrue(g.contains("2·2.2·L_desc"), "effective weighting shown")
        // Undo goes back one change.
        XCTAssertEqual(press(wb, [.char("u")], snap), [.setLossWeights(LossWeights(alpha: 1, beta: 2.1, lambda: 1, gamma: 1))])
        // The learning rate: select (3 more w), decrease.
        let lrSent = press(wb, [.char("w"), .char("w"), .char("w"), .char("-")], snap)
        guard case .setLearningRate(let lr) = lrSent.last else { return XCTFail("\(lrSent)") }
        XCTAssertEqual(lr, 1e-3 / 1.25, accuracy: 1e-9)
    }

    func testEditDialogTypesAValue() {
        let wb = makeWorkbench()
        let snap = DemoTrainer.snapshot(steps: 10)
        _ = press(wb, [.char("e")], snap)
        XCTAssertTrue(wb.render(snapshot: snap, width: 120, height: 40).contains("Set alpha"))
        XCTAssertEqual(wb.state.keyContext, .edit)
        let sent = press(wb, [.backspace, .char("0"), .char("."), .char("5"), .enter], snap)
        XCTAssertEqual(sent, [.setLossWeights(LossWeights(alpha: 0.5, beta: 2, lambda: 1, gamma: 1))])
        XCTAssertEqual(wb.state.overlay, .none)
        // Garbage is refused with a message, the dialog stays open.
        _ = press(wb, [.char("e"), .backspace, .char("-"), .char("-"), .enter], snap)
        XCTAssertTrue(wb.state.message.contains("not a valid alpha"))
        XCTAssertEqual(press(wb, [.escape], snap), [])
        XCTAssertEqual(wb.state.overlay, .none)
    }

    func testQuitAsksWhenUnsavedAndSaveAndQuitWaitsForTheSave() {
        let wb = makeWorkbench()
        var snap = DemoTrainer.snapshot(steps: 100)
        snap.status.lastSavedStep = 50
        XCTAssertEqual(press(wb, [.char("q")], snap), [])
        let g = wb.render(snapshot: snap, width: 120, height: 40)
        XCTAssertTrue(g.contains("Quit?"))
        XCTAssertTrue(g.contains("50 steps are unsaved"))
        XCTAssertTrue(g.row(39).contains("save+quit"), "hint bar shows the dialog's keys")
        XCTAssertEqual(press(wb, [.char("s")], snap), [.pause, .save], "pause first: no step runs between the save and the quit")
        XCTAssertFalse(wb.finished)
        var sent: [TrainerCommand] = []
        wb.update(snapshot: snap, send: { sent.append($0) })
        XCTAssertEqual(sent, [], "not saved yet")
        snap.status.lastSavedStep = 100
        wb.update(snapshot: snap, send: { sent.append($0) })
        XCTAssertEqual(sent, [.quit])
        XCTAssertTrue(wb.finished)
    }

    func testQuitWithoutUnsavedStepsAndCtrlCDiscard() {
        var snap = DemoTrainer.snapshot(steps: 100)
        snap.status.lastSavedStep = 100
        let wb = makeWorkbench()
        XCTAssertEqual(press(wb, [.ctrlC], snap), [.quit])
        XCTAssertTrue(wb.finished)
        snap.status.lastSavedStep = 10
        let wb2 = makeWorkbench()
        XCTAssertEqual(press(wb2, [.char("q"), .char("n")], snap), [])
        XCTAssertFalse(wb2.finished)
        XCTAssertEqual(press(wb2, [.ctrlC, .ctrlC], snap), [.quit], "^C twice discards")
        XCTAssertTrue(wb2.finished)
    }

    func testHelpOverlayListsTheKeyTable() {
        let wb = makeWorkbench()
        let snap = DemoTrainer.snapshot(steps: 10)
        _ = press(wb, [.char("?")], snap)
        let g = wb.render(snapshot: snap, width: 200, height: 60)
        for b in KeyTable.bindings(in: .training, hintsOnly: false) {
            XCTAssertTrue(g.contains(String(b.description.prefix(30))), "help shows '\(b.description)'")
        }
        // At the minimum size every key of the view still fits (descriptions shortened).
        let small = wb.render(snapshot: snap, width: 80, height: 24)
        for b in KeyTable.bindings(in: .training, hintsOnly: false) {
            XCTAssertTrue(small.contains(String(b.description.prefix(12))), "80x24 help shows '\(b.description)'")
        }
        _ = press(wb, [.escape], snap)
        XCTAssertFalse(wb.render(snapshot: snap, width: 200, height: 60).contains("Keys (? or esc closes)"))
    }

    func testHintBarShowsOnlyKeysOfTheView() {
        let wb = makeWorkbench()
        let snap = DemoTrainer.snapshot(steps: 10)
        var g = wb.render(snapshot: snap, width: 200, height: 60)
        XCTAssertTrue(g.row(59).contains("n step"))
        XCTAssertFalse(g.row(59).contains("re-evaluate"))
        _ = press(wb, [.tab], snap)
        g = wb.render(snapshot: snap, width: 200, height: 60)
        XCTAssertTrue(g.row(59).contains("re-evaluate"))
        XCTAssertFalse(g.row(59).contains("n step"))
        XCTAssertEqual(press(wb, [.char("n")], snap), [], "n means nothing in the browser")
    }

    func testKeyTableHasNoConflicts() {
        for ctx in KeyContext.allCases {
            var seen: [Key: Action] = [:]
            for b in KeyTable.bindings(in: ctx, hintsOnly: false) {
                for k in b.keys {
                    XCTAssertNil(seen[k], "\(k) bound twice in \(ctx)")
                    seen[k] = b.action
                }
            }
        }
        let bound = Set(KeyTable.bindings.map(\.action))
        XCTAssertEqual(bound.count, Set(KeyTable.bindings.map(\.action)).count)
    }

    func testChartKeys() {
        let wb = makeWorkbench()
        var snap = DemoTrainer.snapshot(steps: 3000)
        snap.status.lastSavedStep = 3000
        _ = press(wb, [.char("l"), .char("c"), .char("f"), .char("]"), .char("]"), .char("z")], snap)
        XCTAssertTrue(wb.state.logScale.contains(.total))
        XCTAssertTrue(wb.state.fitAll.contains(.loc))
        XCTAssertEqual(wb.state.smoothing, 0.98)
        XCTAssertTrue(wb.state.windowed)
        let g = wb.render(snapshot: snap, width: 200, height: 60)
        XCTAssertTrue(g.contains("[log]") || g.contains("[symlog]"))
        XCTAssertTrue(g.contains("fit:all"))
        XCTAssertTrue(g.contains("last 1000 steps"))
        XCTAssertTrue(g.contains("EMA 0.98"))
        _ = press(wb, [.char("L")], snap)
        XCTAssertEqual(wb.state.logScale, Set(ChartID.allCases))
        _ = press(wb, [.char("L")], snap)
        XCTAssertEqual(wb.state.logScale, [])
    }

    func testHPatchesBrowser() {
        let hp = DemoHPatches()
        let wb = makeWorkbench(hp)
        let snap = DemoTrainer.snapshot(steps: 10)
        _ = press(wb, [.char("2")], snap)
        var g = wb.render(snapshot: snap, width: 200, height: 60)
        XCTAssertTrue(g.contains("Sequences (6, all, by Rep worst first)"))
        // Worst repeatability first: the first listed row has the lowest Rep.
        let list = HPatchesBrowserOrdering.arrange(hp.sequences(), filter: .all, sort: .repeatability, reversed: false)
        XCTAssertEqual(list.map(\.metrics.repeatability), list.map(\.metrics.repeatability).sorted())
        XCTAssertTrue(g.contains("▶" + list[0].name))
        _ = press(wb, [.down, .right, .right], snap)
        g = wb.render(snapshot: snap, width: 200, height: 60)
        XCTAssertTrue(g.contains("▶" + list[1].name))
        XCTAssertTrue(g.contains("\(list[1].name): image 1 → 4"))
        XCTAssertTrue(g.contains("MScore"))
        _ = press(wb, [.char("i")], snap)
        g = wb.render(snapshot: snap, width: 200, height: 60)
        XCTAssertTrue(g.contains("i_ only"))
        XCTAssertFalse(g.contains("v_boat"))
        _ = press(wb, [.char("o")], snap)
        XCTAssertEqual(wb.state.hpatchesSort, .localizationError)
        _ = press(wb, [.char("r")], snap)
        XCTAssertEqual(hp.evaluationRequests, 2, "one on opening the browser, one for r")
        // Errors sort highest first.
        let byErr = HPatchesBrowserOrdering.arrange(hp.sequences(), filter: .all, sort: .cornerError, reversed: false)
        XCTAssertEqual(byErr.map(\.metrics.cornerError), byErr.map(\.metrics.cornerError).sorted(by: >))
    }

    func testHPatchesWithoutSource() {
        let wb = makeWorkbench(nil)
        let snap = DemoTrainer.snapshot(steps: 10)
        _ = press(wb, [.tab], snap)
        XCTAssertTrue(wb.render(snapshot: snap, width: 120, height: 40).contains("No HPatches data"))
    }

    func testRenderOnceAndASCII() {
        let snap = DemoTrainer.snapshot(steps: 500)
        let text = renderOnce(snap, width: 160, height: 50)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 50)
        XCTAssertTrue(lines.allSatisfy { $0.unicodeScalars.count <= 160 })
        XCTAssertTrue(text.contains("Pair preview"))
        XCTAssertFalse(text.contains("▀"), "plain text uses the ASCII ramp for images")
        let ascii = renderOnce(snap, width: 160, height: 50, options: WorkbenchOptions(ascii: true))
        XCTAssertFalse(ascii.unicodeScalars.contains { $0.value > 127 }, "--ascii output is pure ASCII")
    }

    func testNoColorUsesMonoThemeAndEightColoursAdapt() {
        let wb = makeWorkbench()
        wb.setTerminalCapabilities(colorMode: .none, unicode: true)
        let g = wb.render(snapshot: DemoTrainer.snapshot(steps: 100), width: 200, height: 60)
        XCTAssertTrue(g.cells.allSatisfy { $0.fg.isDefault && $0.bg.isDefault }, "NO_COLOR: no colours at all")
        XCTAssertFalse(g.contains("▀"), "no half blocks without colours")
        let wb8 = makeWorkbench()
        wb8.setTerminalCapabilities(colorMode: .c8, unicode: true)
        let g8 = wb8.render(snapshot: DemoTrainer.snapshot(steps: 100), width: 200, height: 60)
        XCTAssertTrue(g8.cells.allSatisfy { $0.fg.index < 8 && $0.bg.index < 8 }, "8-colour terminals get indices 0-7")
    }

    func testThemeCycling() {
        let wb = makeWorkbench()
        let snap = DemoTrainer.snapshot(steps: 10)
        var names: [String] = []
        for _ in 0..<4 { _ = press(wb, [.char("t")], snap); names.append(wb.state.themeName) }
        XCTAssertEqual(Set(names).isSuperset(of: ["light", "mono", "colorblind", "default"]), true, "\(names)")
    }

    func testDemoTrainerObeysCommands() {
        let t = DemoTrainer(steps: 5, running: false)
        t.send(.step)
        XCTAssertEqual(t.latest().status.step, 6)
        t.send(.setLearningRate(0.01))
        XCTAssertEqual(t.latest().changes.last?.lr, 0.01)
        t.send(.save)
        XCTAssertEqual(t.latest().status.unsavedSteps, 0)
    }

    func testBench() {
        let r = benchRender(width: 200, height: 60, frames: 3, historySteps: 5000)
        print(r)
        XCTAssertGreaterThan(r.millisecondsPerFrame, 0)
        XCTAssertGreaterThan(r.changedCellsPerFrame, 0)
    }
}

final class RobustnessTests: XCTestCase {
    func testDegenerateSeries() {
        let nan = LossChart.rasterize(steps: [1, 2, 3], values: [.nan, .nan, .infinity], changeSteps: [], options: ChartOptions(),
                                      widthCells: 10, heightCells: 3)
        XCTAssertEqual(nan.nonFiniteCount, 3)
        XCTAssertNil(nan.best)
        XCTAssertTrue(nan.raw.bits.allSatisfy { $0 == 0 })
        let one = LossChart.rasterize(steps: [7], values: [2], changeSteps: [7], options: ChartOptions(logScale: true),
                                      widthCells: 10, heightCells: 3)
        XCTAssertEqual(one.best?.step, 7)
        XCTAssertEqual(one.xMin, 7); XCTAssertEqual(one.xMax, 7)
        var g = CellGrid(width: 40, height: 8)
        LossChart.draw(into: &g, rect: g.bounds, title: "x", role: .loss_loc, steps: [1, 2], values: [.nan, -.infinity],
                       changeSteps: [], options: ChartOptions(), theme: .default, glyphs: .unicodeSet, focused: false)
        XCTAssertTrue(g.contains("2 non-finite"))
        XCTAssertTrue(g.contains("▼"), "-inf marked at the bottom")
    }

    /// Random keys at random sizes, with the snapshot changing under them: nothing crashes, every frame has the
    /// requested size, and the screen always ends with the hint bar.
    func testRandomKeysAndSizes() {
        // Every key of the table except those that end the session (tested on their own above).
        let quitting: [Action] = [.quit, .quitWithoutSaving, .saveAndQuit]
        let keys: [Key] = KeyTable.bindings.filter { !quitting.contains($0.action) }.flatMap(\.keys)
            .filter { $0 != .char("q") && $0 != .ctrlC } + [.char("x"), .home, .end, .resize]
        var frames = 0
        let trainer = DemoTrainer(steps: 50, running: true)
        let wb = Workbench(options: WorkbenchOptions(colorMode: .c256), hpatches: DemoHPatches())
        var rng: UInt64 = 12345
        func next(_ n: Int) -> Int { rng = rng &* 6364136223846793005 &+ 1442695040888963407; return Int((rng >> 33) % UInt64(n)) }
        for i in 0..<400 {
            let k = keys[next(keys.count)]
            if wb.finished { break }
            wb.handle(k, snapshot: trainer.latest(), send: { trainer.send($0) })
            if i % 7 == 0 { trainer.advance(next(30)) }
            let w = 60 + next(160), h = 18 + next(50)
            let g = wb.render(snapshot: trainer.latest(), width: w, height: h)
            XCTAssertEqual(g.width, w); XCTAssertEqual(g.height, h)
            frames += 1
            if w >= Workbench.minimumWidth && h >= Workbench.minimumHeight && wb.state.overlay == .none {
                XCTAssertTrue(g.row(h - 1).contains("?"), "hint bar at \(w)x\(h) after \(k)")
            }
        }
        XCTAssertEqual(frames, 400)
        XCTAssertFalse(wb.finished)
    }
}

/// A browser source whose results change while the user looks at it.
final class ChangingHPatches: HPatchesBrowserSource {
    var version = 0
    var status = ""
    var reps: [String: Double] = ["i_a": .nan, "i_b": .nan, "v_c": .nan]
    func sequences() -> [HPatchesBrowserSequence] {
        reps.keys.sorted().map { n in
            var m = HPatchesBrowserMetrics(); m.repeatability = reps[n]!
            return HPatchesBrowserSequence(name: n, metrics: m)
        }
    }
    func pair(sequence: String, index: Int) -> HPatchesBrowserPair? { nil }
    var evaluationRequests = 0
    func requestEvaluation() { evaluationRequests += 1 }
}

final class BrowserSelectionTests: XCTestCase {
    func testFirstVisitEvaluatesOnceThenOnlyOnDemand() {
        let hp = ChangingHPatches()
        let wb = Workbench(options: WorkbenchOptions(colorMode: .c256), hpatches: hp)
        let snap = TrainerSnapshot()
        wb.handle(.tab, snapshot: snap, send: { _ in })
        XCTAssertEqual(hp.evaluationRequests, 1, "opening the browser evaluates the current weights")
        wb.handle(.tab, snapshot: snap, send: { _ in })
        wb.handle(.char("2"), snapshot: snap, send: { _ in })
        XCTAssertEqual(hp.evaluationRequests, 1, "later visits keep the results")
        wb.handle(.char("r"), snapshot: snap, send: { _ in })
        XCTAssertEqual(hp.evaluationRequests, 2, "r re-evaluates")
    }

    func testSelectionStaysOnTheTopRowUntilAKeyChoosesOne() {
        let hp = ChangingHPatches()
        let wb = Workbench(options: WorkbenchOptions(colorMode: .c256), hpatches: hp)
        let snap = TrainerSnapshot()
        wb.handle(.char("2"), snapshot: snap, send: { _ in })
        XCTAssertTrue(wb.render(snapshot: snap, width: 160, height: 40).contains("▶i_a"))
        // Results arrive and re-sort the list worst first: the cursor stays on the top row, now v_c.
        hp.reps = ["i_a": 0.9, "i_b": 0.5, "v_c": 0.1]; hp.version += 1
        let g = wb.render(snapshot: snap, width: 160, height: 40)
        XCTAssertTrue(g.contains("▶v_c"), g.text)
        XCTAssertEqual(wb.state.hpatchesSelected, 0)
    }

    func testSelectionFollowsItsSequenceWhenResultsResort() {
        let hp = ChangingHPatches()
        let wb = Workbench(options: WorkbenchOptions(colorMode: .c256), hpatches: hp)
        let snap = TrainerSnapshot()
        wb.handle(.char("2"), snapshot: snap, send: { _ in })
        wb.handle(.down, snapshot: snap, send: { _ in })
        XCTAssertTrue(wb.render(snapshot: snap, width: 160, height: 40).contains("▶i_b"))
        // Results arrive: i_b becomes the worst and moves to the top; the selection moves with it.
        hp.reps = ["i_a": 0.9, "i_b": 0.05, "v_c": 0.1]; hp.version += 1
        var g = wb.render(snapshot: snap, width: 160, height: 40)
        XCTAssertTrue(g.contains("▶i_b"), g.text)
        XCTAssertEqual(wb.state.hpatchesSelected, 0)
        XCTAssertTrue(g.contains("pair not evaluated yet"))
        // Keys still move by position.
        wb.handle(.down, snapshot: snap, send: { _ in })
        g = wb.render(snapshot: snap, width: 160, height: 40)
        XCTAssertTrue(g.contains("▶v_c"))
    }
}
