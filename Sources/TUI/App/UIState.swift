import KP2D
import Training

// Everything the UI remembers between frames (independent of the terminal).

public enum ViewID: String, CaseIterable, Sendable { case training, hpatches }

public enum Overlay: Equatable, Sendable {
    case none, help, confirmQuit
    /// Typing a value for a parameter.
    case edit(Parameter, text: String)
}

/// The live-editable parameters.
public enum Parameter: String, CaseIterable, Sendable {
    case alpha, beta, lambda, gamma, lr
    public var symbol: String {
        switch self {
        case .alpha: return "alpha"
        case .beta: return "beta"
        case .lambda: return "lambda"
        case .gamma: return "gamma"
        case .lr: return "lr"
        }
    }
    public func value(_ w: LossWeights, lr: Float) -> Float {
        switch self {
        case .alpha: return w.alpha
        case .beta: return w.beta
        case .lambda: return w.lambda
        case .gamma: return w.gamma
        case .lr: return lr
        }
    }
    public func setting(_ v: Float, lossWeights w: LossWeights, lr: Float) -> (LossWeights, Float) {
        var w = w, lr = lr
        switch self {
        case .alpha: w.alpha = v
        case .beta: w.beta = v
        case .lambda: w.lambda = v
        case .gamma: w.gamma = v
        case .lr: lr = v
        }
        return (w, lr)
    }
    /// One +/- step: weights move by 0.1 (never below 0), the learning rate by a factor of 1.25.
    public func stepped(_ v: Float, up: Bool) -> Float {
        if self == .lr { return up ? v * 1.25 : v / 1.25 }
        let n = ((v + (up ? 0.1 : -0.1)) * 1000).rounded() / 1000
        return max(0, n)
    }
}

/// The five loss charts.
public enum ChartID: String, CaseIterable, Sendable {
    case total, loc, desc, score, io
    public var title: String {
        switch self {
        case .total: return "total"
        case .loc: return "L_loc"
        case .desc: return "L_desc"
        case .score: return "L_score"
        case .io: return "L_IO"
        }
    }
    public var role: ThemeRole {
        switch self {
        case .total: return .loss_total
        case .loc: return .loss_loc
        case .desc: return .loss_desc
        case .score: return .loss_score
        case .io: return .loss_io
        }
    }
    public func value(_ r: StepRecord) -> Double {
        switch self {
        case .total: return Double(r.terms.total)
        case .loc: return Double(r.terms.loc)
        case .desc: return Double(r.terms.desc)
        case .score: return Double(r.scoreLoss)
        case .io: return Double(r.terms.io)
        }
    }
}

public struct UIState: Sendable {
    public var view: ViewID = .training
    public var overlay: Overlay = .none
    public var toggles = OverlayToggles()
    public var selectedParameter: Parameter = .alpha
    public static let smoothingLevels: [Double] = [0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999]
    public var smoothingIndex = 3
    public var smoothing: Double { UIState.smoothingLevels[smoothingIndex] }
    public var focusedChart: ChartID = .total
    public var logScale: Set<ChartID> = []
    public var fitAll: Set<ChartID> = []
    public var windowed = false
    public static let windowSteps = 1000
    public var themeName = "default"
    /// Parameters last sent, until the trainer's status shows them (so quick +/+ presses accumulate).
    public var requested: (lossWeights: LossWeights, lr: Float)? = nil
    /// When `requested` was sent (uptime seconds): after 5 s without the trainer showing it, the trainer's values win.
    public var requestedAt = 0.0
    /// Values before each change, newest last (u pops).
    public var undoStack: [(lossWeights: LossWeights, lr: Float)] = []
    /// A one-line message from the UI itself ("saved requested", theme warnings, input errors).
    public var message = ""
    // HPatches browser.
    public var hpatchesSelected = 0
    /// The selected sequence's name: the selection follows it when results re-sort the list.
    public var hpatchesSelectedName: String? = nil
    /// Set by keys that move the selection by index (applied at the next draw).
    public var hpatchesSelectedByKey = false
    /// Whether ↑/↓/PgUp/PgDn chose a sequence since the list was opened, filtered or re-sorted by a key. Until then
    /// the cursor stays on the top row (the worst sequence, by default) while results arrive; after it, on its sequence.
    public var hpatchesSelectionChosen = false
    public var hpatchesPair = 0
    public var hpatchesFilter: HPatchesBrowserFilter = .all
    public var hpatchesSort: HPatchesBrowserSortKey = .repeatability
    public var hpatchesReversed = false
    /// Whether the HPatches browser has asked for an evaluation yet (the first visit does).
    public var hpatchesEvaluationStarted = false
    /// Set when the user chose save-and-quit: quit once the trainer reports a save at or after this step.
    public var quitAfterSaveAtStep: Int? = nil
    public var finished = false
    /// `kp2d-tui inspect`: the HPatches browser alone on a weights file; nothing trains.
    public var inspectOnly = false
    /// What is pinned as the browser's baseline B ("pin @ step 600"), for the status line; nil: nothing.
    public var baselineNote: String? = nil
    public init() {}

    /// ↑/↓/PgUp/PgDn in the HPatches browser: move by `delta` rows (clamped when drawn), first pair, and from now
    /// on the cursor follows the chosen sequence.
    public mutating func moveSequenceSelection(by delta: Int) {
        hpatchesSelected = max(0, hpatchesSelected + delta); hpatchesPair = 0
        hpatchesSelectedByKey = true; hpatchesSelectionChosen = true
    }

    /// A new filter or order: back to the top row, which the cursor keeps until a key chooses a sequence.
    public mutating func resetSequenceSelection() {
        hpatchesSelected = 0; hpatchesSelectedByKey = true; hpatchesSelectionChosen = false
    }

    public func chartOptions(_ id: ChartID) -> ChartOptions {
        ChartOptions(smoothing: smoothing, logScale: logScale.contains(id), fit: fitAll.contains(id) ? .all : .smoothed,
                     window: windowed ? UIState.windowSteps : nil)
    }

    /// The key context: the overlay if one is open, else the view.
    public var keyContext: KeyContext {
        switch overlay {
        case .help: return .help
        case .confirmQuit: return .confirmQuit
        case .edit: return .edit
        case .none: return view == .training ? .training : .hpatches
        }
    }
}
