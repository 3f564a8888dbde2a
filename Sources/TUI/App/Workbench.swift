import Foundation
import KP2D
import Training

/// Where the UI gets the trainer's state: the latest snapshot (cheap to call; the UI calls it every frame).
public protocol SnapshotSource: AnyObject {
    func latest() -> TrainerSnapshot
}

public struct WorkbenchOptions: Sendable {
    public var themeName: String
    /// Replace braille, block and box glyphs with ASCII.
    public var ascii: Bool
    /// Force a colour mode (nil: detect from the terminal and NO_COLOR).
    public var colorMode: ColorMode?
    public var themeDirectories: [String]
    /// Another run whose curves are overlaid, faintly, on every chart (`--compare-run`).
    public var compareRun: RecordedRun?
    /// Where the picture key (p) writes PNGs (created when needed); nil: p only says it has nowhere to write.
    public var picturesDirectory: String?
    /// The HPatches browser alone (`kp2d-tui inspect`): no training view, training keys do nothing.
    public var inspect: Bool
    public init(themeName: String = "default", ascii: Bool = false, colorMode: ColorMode? = nil,
                themeDirectories: [String] = Theme.searchDirectories(), compareRun: RecordedRun? = nil,
                picturesDirectory: String? = nil, inspect: Bool = false) {
        self.themeName = themeName; self.ascii = ascii; self.colorMode = colorMode; self.themeDirectories = themeDirectories
        self.compareRun = compareRun; self.picturesDirectory = picturesDirectory; self.inspect = inspect
    }
}

/// The workbench application: UI state, key dispatch through `KeyTable`, layout into a `CellGrid`, and the
/// event loop that copies frames to the terminal. Only the thread calling `run` touches ncurses.
public final class Workbench {
    public internal(set) var state = UIState()
    public let options: WorkbenchOptions
    public private(set) var theme: Theme
    public private(set) var colorMode: ColorMode
    public var glyphs: Glyphs
    public let hpatches: HPatchesBrowserSource?
    let themeNames: [String]
    /// Cache of the selected HPatches pair (fetched when the selection or the source's version changes).
    var pairCache: (key: String, version: Int, result: HPatchesBrowserPair?)? = nil
    /// The same for model B when two models are compared (Workbench+Compare.swift).
    var baselinePairCache: (key: String, version: Int, result: HPatchesBrowserPair?)? = nil
    /// Loss series and their EMAs, extended as the history grows.
    let chartData = ChartData()
    /// Held-out evaluations of the run, drawn beside the total loss (nil: the run does not validate).
    public var validation: ValidationSource?
    /// The fixed probe batch's eval-mode losses, drawn as a second series on the loss charts.
    public var probe: ProbeSource?

    public init(options: WorkbenchOptions = WorkbenchOptions(), hpatches: HPatchesBrowserSource? = nil) {
        self.options = options
        self.hpatches = hpatches
        self.glyphs = Glyphs.set(ascii: options.ascii)
        self.colorMode = options.colorMode ?? .c256
        themeNames = Theme.availableNames(directories: options.themeDirectories)
        let (t, warning) = Theme.load(name: options.themeName, directories: options.themeDirectories)
        theme = t
        state.themeName = warning == nil ? options.themeName : "default"
        if let warning { state.message = warning }
        theme = t.adapted(to: colorMode)
        if options.inspect {
            state.inspectOnly = true
            state.view = .hpatches
            evaluateOnFirstVisit()
        }
    }

    /// Adopt what the terminal can show (called by the terminal layer after start-up).
    public func setTerminalCapabilities(colorMode: ColorMode, unicode: Bool) {
        self.colorMode = colorMode
        glyphs = Glyphs.set(ascii: options.ascii || !unicode)
        // Without colour only the attribute-based mono theme keeps raw values, markers and selections apart.
        applyTheme(named: colorMode == .none ? "mono" : state.themeName)
    }

    func applyTheme(named name: String) {
        let (t, warning) = Theme.load(name: name, directories: options.themeDirectories)
        theme = t.adapted(to: colorMode)
        state.themeName = warning == nil ? name : "default"
        if let warning { state.message = warning }
    }

    public var env: RenderEnv { RenderEnv(theme: theme, glyphs: glyphs, colorMode: colorMode) }

    // MARK: keys

    /// Dispatch one key through the key table. Returns the action taken (nil if the key means nothing here).
    @discardableResult
    public func handle(_ key: Key, snapshot: TrainerSnapshot, send: (TrainerCommand) -> Void) -> Action? {
        guard let binding = KeyTable.binding(for: key, in: state.keyContext) else { return nil }
        perform(binding.action, key: key, snapshot: snapshot, send: send)
        return binding.action
    }

    /// The parameters the UI considers current: the last ones sent until the trainer shows them.
    func currentParameters(_ snap: TrainerSnapshot) -> (lossWeights: LossWeights, lr: Float) {
        if let r = state.requested {
            let stale = ProcessInfo.processInfo.systemUptime - state.requestedAt > 5
            if stale || (r.lossWeights == snap.status.lossWeights && r.lr == snap.status.lr) { state.requested = nil } else { return r }
        }
        return (snap.status.lossWeights, snap.status.lr)
    }

    func apply(_ weights: LossWeights, _ lr: Float, snapshot: TrainerSnapshot, send: (TrainerCommand) -> Void, recordUndo: Bool) {
        let cur = currentParameters(snapshot)
        if recordUndo { state.undoStack.append(cur) }
        if weights != cur.lossWeights { send(.setLossWeights(weights)) }
        if lr != cur.lr { send(.setLearningRate(lr)) }
        state.requested = (weights, lr)
        state.requestedAt = ProcessInfo.processInfo.systemUptime
    }

    /// Actions that need a trainer or the training view (refused by `inspect`).
    static let trainingActions: Set<Action> = [.togglePause, .stepOnce, .save, .nextView, .showTraining, .pinBaseline, .clearBaseline]

    func perform(_ action: Action, key: Key, snapshot: TrainerSnapshot, send: (TrainerCommand) -> Void) {
        let status = snapshot.status
        if state.inspectOnly && Workbench.trainingActions.contains(action) {
            state.message = "inspect only browses HPatches: nothing trains, nothing is saved"
            return
        }
        switch action {
        case .quit:
            if status.unsavedSteps > 0 { state.overlay = .confirmQuit } else { send(.quit); state.finished = true }
        case .saveAndQuit:
            state.overlay = .none
            // Pause first so no step runs between the save and the quit: the checkpoint is the final state.
            send(.pause)
            send(.save)
            state.quitAfterSaveAtStep = status.step
            state.message = "saving a checkpoint at step \(status.step), then quitting" + glyphs.ellipsis
        case .quitWithoutSaving:
            send(.quit); state.finished = true
        case .cancelQuit:
            state.overlay = .none
        case .togglePause:
            if status.state == .paused { send(.resume) } else if status.state == .running || status.state == .starting { send(.pause) }
        case .stepOnce:
            if status.state == .paused { send(.step) } else { state.message = "n trains one step while paused: press space to pause first" }
        case .save:
            send(.save); state.message = "checkpoint requested at step \(status.step)"
        case .showHelp: state.overlay = .help
        case .closeHelp: state.overlay = .none
        case .nextView:
            state.view = state.view == .training ? .hpatches : .training
            if state.view == .hpatches { evaluateOnFirstVisit() }
        case .showTraining: state.view = .training
        case .showHPatches:
            state.view = .hpatches
            evaluateOnFirstVisit()
        case .cycleTheme:
            let i = themeNames.firstIndex(of: state.themeName) ?? -1
            applyTheme(named: themeNames[(i + 1) % themeNames.count])
            if state.message.isEmpty || !state.message.contains(".theme") { state.message = "theme: \(state.themeName)" }
        case .nextParameter:
            let all = Parameter.allCases
            state.selectedParameter = all[(all.firstIndex(of: state.selectedParameter)! + 1) % all.count]
        case .previousParameter:
            let all = Parameter.allCases
            state.selectedParameter = all[(all.firstIndex(of: state.selectedParameter)! + all.count - 1) % all.count]
        case .increaseParameter, .decreaseParameter:
            let cur = currentParameters(snapshot)
            let p = state.selectedParameter
            let v = p.stepped(p.value(cur.lossWeights, lr: cur.lr), up: action == .increaseParameter)
            let (w, lr) = p.setting(v, lossWeights: cur.lossWeights, lr: cur.lr)
            apply(w, lr, snapshot: snapshot, send: send, recordUndo: true)
            state.message = "\(p.symbol) = \(Series.format(Double(v)))"
        case .editParameter:
            let cur = currentParameters(snapshot)
            state.overlay = .edit(state.selectedParameter, text: Series.format(Double(state.selectedParameter.value(cur.lossWeights, lr: cur.lr))))
        case .undo:
            guard let prev = state.undoStack.popLast() else { state.message = "nothing to undo"; break }
            apply(prev.lossWeights, prev.lr, snapshot: snapshot, send: send, recordUndo: false)
            state.message = "undone: alpha \(Series.format(Double(prev.lossWeights.alpha))) beta \(Series.format(Double(prev.lossWeights.beta))) lambda \(Series.format(Double(prev.lossWeights.lambda))) gamma \(Series.format(Double(prev.lossWeights.gamma))) lr \(Series.format(Double(prev.lr)))"
        case .smoothMore: state.smoothingIndex = min(UIState.smoothingLevels.count - 1, state.smoothingIndex + 1)
        case .smoothLess: state.smoothingIndex = max(0, state.smoothingIndex - 1)
        case .nextChart:
            let all = ChartID.allCases
            state.focusedChart = all[(all.firstIndex(of: state.focusedChart)! + 1) % all.count]
        case .previousChart:
            let all = ChartID.allCases
            state.focusedChart = all[(all.firstIndex(of: state.focusedChart)! + all.count - 1) % all.count]
        case .toggleLog:
            if state.logScale.contains(state.focusedChart) { state.logScale.remove(state.focusedChart) } else { state.logScale.insert(state.focusedChart) }
        case .toggleLogAll:
            state.logScale = state.logScale.count == ChartID.allCases.count ? [] : Set(ChartID.allCases)
        case .toggleFit:
            if state.fitAll.contains(state.focusedChart) { state.fitAll.remove(state.focusedChart) } else { state.fitAll.insert(state.focusedChart) }
        case .toggleWindow: state.windowed.toggle()
        case .toggleKeypoints: state.toggles.keypoints.toggle()
        case .cycleMatches: state.toggles.matches = state.toggles.matches.next
        case .toggleGrid: state.toggles.grid.toggle()
        case .sequenceUp: state.moveSequenceSelection(by: -1)
        case .sequenceDown: state.moveSequenceSelection(by: 1)
        case .sequencePageUp: state.moveSequenceSelection(by: -10)
        case .sequencePageDown: state.moveSequenceSelection(by: 10)
        case .previousPair: state.hpatchesPair = max(0, state.hpatchesPair - 1)
        case .nextPair: state.hpatchesPair = min(4, state.hpatchesPair + 1)
        case .cycleFilter:
            let all = HPatchesBrowserFilter.allCases
            state.hpatchesFilter = all[(all.firstIndex(of: state.hpatchesFilter)! + 1) % all.count]; state.resetSequenceSelection()
        case .cycleSort:
            let all = HPatchesBrowserSortKey.allCases
            state.hpatchesSort = all[(all.firstIndex(of: state.hpatchesSort)! + 1) % all.count]; state.resetSequenceSelection()
        case .reverseSort: state.hpatchesReversed.toggle(); state.resetSequenceSelection()
        case .reevaluate:
            if let h = hpatches { state.hpatchesEvaluationStarted = true; h.requestEvaluation(); state.message = "HPatches evaluation requested" }
            else { state.message = "no HPatches data attached (start with --hpatches DIR)" }
        case .savePicture: savePicture(snapshot)
        case .pinBaseline: pinBaseline()
        case .clearBaseline: clearBaseline()
        case .cycleEvaluationSize:
            if let h = hpatches { state.hpatchesEvaluationStarted = true; state.message = h.nextEvaluationSize() }
            else { state.message = "no HPatches data attached (start with --hpatches DIR)" }
        case .editInput:
            if case .edit(let p, let text) = state.overlay, case .char(let c) = key, text.count < 16 {
                state.overlay = .edit(p, text: text + String(c))
            }
        case .editDelete:
            if case .edit(let p, let text) = state.overlay { state.overlay = .edit(p, text: String(text.dropLast())) }
        case .editCancel: state.overlay = .none
        case .editAccept:
            guard case .edit(let p, let text) = state.overlay else { break }
            guard let v = Float(text.trimmingCharacters(in: .whitespaces)), v.isFinite, v >= 0, p != .lr || v > 0 else {
                state.message = "'\(text)' is not a valid \(p.symbol): type a number \(p == .lr ? "> 0" : ">= 0")"
                break
            }
            let cur = currentParameters(snapshot)
            let (w, lr) = p.setting(v, lossWeights: cur.lossWeights, lr: cur.lr)
            apply(w, lr, snapshot: snapshot, send: send, recordUndo: true)
            state.overlay = .none
            state.message = "\(p.symbol) = \(Series.format(Double(v)))"
        }
    }

    /// The picture key: the training pair or the browser's pair as a PNG figure (PairPicture).
    func savePicture(_ snapshot: TrainerSnapshot) {
        guard let dir = options.picturesDirectory else { state.message = "pictures are off here (no folder to write them to)"; return }
        do {
            switch state.view {
            case .training:
                guard let path = try PairPicture.saveTraining(snapshot, directory: dir) else {
                    state.message = "no training pair yet: nothing to save"; return
                }
                state.message = "saved the training pair to \(path)"
            case .hpatches:
                guard let pair = pairCache?.result else { state.message = "no HPatches pair on screen: nothing to save"; return }
                state.message = "saved \(pair.sequence) pair \(pair.pairIndex + 1) to "
                    + (try PairPicture.saveBrowser(pair, size: hpatches?.evaluationSize, directory: dir))
            }
        } catch {
            state.message = "picture not saved: \(error)"
        }
    }

    /// The first visit of the HPatches browser evaluates the current weights at once; later runs are on demand (r).
    func evaluateOnFirstVisit() {
        guard !state.hpatchesEvaluationStarted, let h = hpatches else { return }
        state.hpatchesEvaluationStarted = true
        h.requestEvaluation()
    }

    /// The trainer message seen last (nil before the first update, whose message is not "new").
    var lastTrainerMessage: String? = nil

    /// Called every loop turn: a new trainer message replaces the UI's own; finishes a pending save-and-quit
    /// once the trainer reports the save.
    public func update(snapshot: TrainerSnapshot, send: (TrainerCommand) -> Void) {
        if snapshot.status.message != lastTrainerMessage {
            let isNew = lastTrainerMessage != nil
            lastTrainerMessage = snapshot.status.message
            if isNew && !snapshot.status.message.isEmpty && state.quitAfterSaveAtStep == nil { state.message = "" }
        }
        guard let step = state.quitAfterSaveAtStep, !state.finished else { return }
        let saved = (snapshot.status.lastSavedStep ?? -1) >= step
        var failed = false
        if case .failed = snapshot.status.state { failed = true }
        if saved || failed || snapshot.status.state == .finished && snapshot.status.unsavedSteps == 0 {
            send(.quit); state.finished = true
        }
    }

    public var finished: Bool { state.finished }

    /// Polled every loop turn: true ends the event loop (a SIGTERM/SIGHUP asked the trainer to save and stop).
    public var stopRequested: (() -> Bool)?

    // MARK: layout

    public static let minimumWidth = 80, minimumHeight = 24

    /// Lay out the whole screen for `snapshot` into a new grid.
    public func render(snapshot: TrainerSnapshot, width: Int, height: Int) -> CellGrid {
        let bg = theme.style(.background)
        var grid = CellGrid(width: width, height: height, fill: Cell(" ", style: theme.style(.text).with(bg: bg.bg)))
        if width < Workbench.minimumWidth || height < Workbench.minimumHeight {
            Chrome.drawTooSmall(into: &grid, width: width, height: height, theme: theme)
            return grid
        }
        state.baselineNote = (hpatches as? HPatchesComparisonSource)?.baseline?.label
        let (header, rest) = grid.bounds.splitTop(1)
        let (body, footer) = rest.splitBottom(2)
        Chrome.drawHeader(into: &grid, rect: header, snapshot: snapshot, state: state, env: env)
        switch state.view {
        case .training:
            chartData.updateComparison(options.compareRun, smoothing: state.smoothing)
            TrainingView.draw(into: &grid, rect: body, snapshot: snapshot, state: state, params: currentParameters(snapshot),
                              charts: chartData, env: env, validation: validation, probe: probe)
        case .hpatches:
            drawHPatches(into: &grid, rect: body)
        }
        Chrome.drawStatusLine(into: &grid, rect: Rect(x: 0, y: footer.y, width: width, height: 1), snapshot: snapshot,
                              state: state, params: currentParameters(snapshot), env: env)
        Chrome.drawHintBar(into: &grid, rect: Rect(x: 0, y: footer.y + 1, width: width, height: 1), context: state.keyContext, env: env,
                             inspectOnly: state.inspectOnly)
        switch state.overlay {
        case .none: break
        case .help: Chrome.drawHelp(into: &grid, context: state.view == .training ? .training : .hpatches, env: env,
                                    inspectOnly: state.inspectOnly)
        case .confirmQuit: Chrome.drawConfirmQuit(into: &grid, snapshot: snapshot, env: env)
        case .edit(let p, let text):
            Chrome.drawEdit(into: &grid, parameter: p, text: text, params: currentParameters(snapshot), env: env)
        }
        if !glyphs.unicode {
            for i in grid.cells.indices where grid.cells[i].char.value > 127 { grid.cells[i].char = Glyphs.asciiFallback(grid.cells[i].char) }
        }
        return grid
    }

    func drawHPatches(into grid: inout CellGrid, rect: Rect) {
        guard let h = hpatches else {
            HPatchesView.drawUnavailable(into: &grid, rect: rect, env: env)
            return
        }
        if let c = h as? HPatchesComparisonSource, c.hasBaseline {
            drawComparison(c, into: &grid, rect: rect)
            return
        }
        let list = HPatchesBrowserOrdering.arrange(h.sequences(), filter: state.hpatchesFilter, sort: state.hpatchesSort, reversed: state.hpatchesReversed)
        resolveSelection(names: list.map(\.name))
        var pair: HPatchesBrowserPair? = nil
        if !list.isEmpty {
            let seq = list[state.hpatchesSelected]
            state.hpatchesPair = max(0, min(state.hpatchesPair, max(0, seq.pairCount - 1)))
            let key = "\(seq.name)#\(state.hpatchesPair)"
            if let c = pairCache, c.key == key, c.version == h.version { pair = c.result }
            else { pair = h.pair(sequence: seq.name, index: state.hpatchesPair); pairCache = (key, h.version, pair) }
        }
        HPatchesView.draw(into: &grid, rect: rect, list: list, pair: pair, status: h.status, size: h.evaluationSize, state: state, env: env)
    }

    /// Keys move the index; otherwise the selection stays on its sequence when new results re-sort the list, or on
    /// the top row (the worst sequence) until a key has chosen one, as a sorted list in htop keeps its first row.
    func resolveSelection(names: [String]) {
        if !state.hpatchesSelectionChosen {
            state.hpatchesSelected = 0
        } else if let name = state.hpatchesSelectedName, state.hpatchesSelectedByKey == false, let i = names.firstIndex(of: name) {
            state.hpatchesSelected = i
        }
        state.hpatchesSelected = max(0, min(state.hpatchesSelected, names.count - 1))
        state.hpatchesSelectedName = names.indices.contains(state.hpatchesSelected) ? names[state.hpatchesSelected] : nil
        state.hpatchesSelectedByKey = false
    }
}
