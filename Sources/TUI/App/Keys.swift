// Keys and the ONE key table: the dispatcher, the help overlay and the hint bar all read `KeyTable.bindings`.

public enum Key: Hashable, Sendable {
    case char(Character)
    case up, down, left, right, enter, tab, backTab, escape, backspace, pageUp, pageDown, home, end
    case ctrlC
    case resize

    public var label: String {
        switch self {
        case .char(" "): return "space"
        case .char(let c): return String(c)
        case .up: return "↑"
        case .down: return "↓"
        case .left: return "←"
        case .right: return "→"
        case .enter: return "enter"
        case .tab: return "tab"
        case .backTab: return "S-tab"
        case .escape: return "esc"
        case .backspace: return "bksp"
        case .pageUp: return "pgup"
        case .pageDown: return "pgdn"
        case .home: return "home"
        case .end: return "end"
        case .ctrlC: return "^C"
        case .resize: return "resize"
        }
    }
}

/// Where a binding applies: a view, or a modal overlay on top of any view.
public enum KeyContext: String, Hashable, Sendable, CaseIterable {
    case training, hpatches, help, confirmQuit, edit
    public var title: String {
        switch self {
        case .training: return "Training view"
        case .hpatches: return "HPatches browser"
        case .help: return "Help"
        case .confirmQuit: return "Quit dialog"
        case .edit: return "Edit dialog"
        }
    }
}

public enum Action: Hashable, Sendable {
    case quit, togglePause, stepOnce, save, showHelp, closeHelp
    case nextView, showTraining, showHPatches, cycleTheme
    case nextParameter, previousParameter, increaseParameter, decreaseParameter, editParameter, undo
    case smoothMore, smoothLess, nextChart, previousChart, toggleLog, toggleLogAll, toggleFit, toggleWindow
    case toggleKeypoints, cycleMatches, toggleGrid, savePicture
    case sequenceUp, sequenceDown, sequencePageUp, sequencePageDown, previousPair, nextPair
    case cycleFilter, cycleSort, reverseSort, reevaluate, cycleEvaluationSize
    case pinBaseline, clearBaseline
    case saveAndQuit, quitWithoutSaving, cancelQuit
    case editInput, editDelete, editAccept, editCancel
}

public struct KeyBinding: Sendable {
    public var keys: [Key]
    /// How the keys are shown in the help overlay ("space", "q ^C").
    public var label: String
    public var description: String
    public var contexts: Set<KeyContext>
    public var action: Action
    /// Short text for the hint bar; nil: only in the help overlay.
    public var hint: String?
    /// Keys as shown in the hint bar ("+/-" for a pair of bindings).
    public var hintLabel: String

    public init(_ keys: [Key], _ description: String, _ contexts: Set<KeyContext>, _ action: Action,
                hint: String? = nil, hintLabel: String? = nil, label: String? = nil) {
        self.keys = keys; self.description = description; self.contexts = contexts; self.action = action
        self.label = label ?? keys.map(\.label).joined(separator: " ")
        self.hint = hint; self.hintLabel = hintLabel ?? keys.first?.label ?? ""
    }
}

public enum KeyTable {
    static let views: Set<KeyContext> = [.training, .hpatches]
    static let editChars: [Key] = "0123456789.-+eE".map { Key.char($0) }

    public static let bindings: [KeyBinding] = [
        // Both views.
        KeyBinding([.char("q"), .ctrlC], "quit (asks first if steps are unsaved)", views, .quit, hint: "quit"),
        KeyBinding([.char("?")], "help: every key", views, .showHelp, hint: "help"),
        KeyBinding([.char(" ")], "pause / resume training", views, .togglePause, hint: "pause"),
        KeyBinding([.char("n")], "train one step (while paused)", [.training], .stepOnce, hint: "step"),
        KeyBinding([.char("s")], "save a checkpoint now", views, .save, hint: "save"),
        KeyBinding([.tab], "next view", views, .nextView, hint: "view"),
        KeyBinding([.backTab], "previous view", views, .nextView),
        KeyBinding([.char("1")], "training view", views, .showTraining),
        KeyBinding([.char("2")], "HPatches browser", views, .showHPatches),
        KeyBinding([.char("t")], "cycle colour theme", views, .cycleTheme, hint: "theme"),
        // Training: parameters.
        KeyBinding([.char("w")], "select the next parameter (alpha, beta, lambda, gamma, lr)", [.training], .nextParameter, hint: "param"),
        KeyBinding([.char("W"), .left], "select the previous parameter", [.training], .previousParameter),
        KeyBinding([.right], "select the next parameter", [.training], .nextParameter),
        KeyBinding([.char("+"), .char("=")], "increase the selected parameter (weights +0.1, lr x1.25)", [.training], .increaseParameter,
                   hint: "change", hintLabel: "+/-"),
        KeyBinding([.char("-"), .char("_")], "decrease the selected parameter (weights -0.1, lr /1.25)", [.training], .decreaseParameter),
        KeyBinding([.char("e"), .enter], "type a value for the selected parameter", [.training], .editParameter, hint: "edit"),
        KeyBinding([.char("u")], "undo the last parameter change", [.training], .undo, hint: "undo"),
        // Training: charts.
        KeyBinding([.char("]")], "more EMA smoothing", [.training], .smoothMore, hint: "smooth", hintLabel: "[/]"),
        KeyBinding([.char("[")], "less EMA smoothing", [.training], .smoothLess),
        KeyBinding([.char("c"), .down], "focus the next chart", [.training], .nextChart, hint: "chart"),
        KeyBinding([.char("C"), .up], "focus the previous chart", [.training], .previousChart),
        KeyBinding([.char("l")], "log scale on the focused chart", [.training], .toggleLog, hint: "log"),
        KeyBinding([.char("L")], "log scale on every chart (off if all are on)", [.training], .toggleLogAll),
        KeyBinding([.char("f")], "fit the focused chart to all raw values / to the smoothed curve", [.training], .toggleFit, hint: "fit"),
        KeyBinding([.char("z")], "zoom the x axis: whole run / last 1000 steps", [.training], .toggleWindow, hint: "zoom"),
        // Overlays on images (both views).
        KeyBinding([.char("k")], "keypoints on / off", views, .toggleKeypoints, hint: "kpts"),
        KeyBinding([.char("m")], "matches: off / markers / lines", views, .cycleMatches, hint: "matches"),
        KeyBinding([.char("g")], "warped grid (true homography) on / off", views, .toggleGrid, hint: "grid"),
        KeyBinding([.char("p")], "save the pair on screen as a PNG (matches as lines, numbers as caption)", views, .savePicture, hint: "picture"),
        // Baseline (both views): the browser then compares the live model A against the pinned weights B.
        KeyBinding([.char("b")], "pin the current weights as baseline B; the browser shows live (A) vs pin (B) per sequence (b again re-pins)",
                   views, .pinBaseline, hint: "pin"),
        KeyBinding([.char("B")], "clear the pinned baseline", views, .clearBaseline),
        // HPatches browser.
        KeyBinding([.up], "previous sequence", [.hpatches], .sequenceUp, hint: "sequence", hintLabel: "↑/↓"),
        KeyBinding([.down], "next sequence", [.hpatches], .sequenceDown),
        KeyBinding([.pageUp], "ten sequences up", [.hpatches], .sequencePageUp),
        KeyBinding([.pageDown], "ten sequences down", [.hpatches], .sequencePageDown),
        KeyBinding([.left], "previous pair of the sequence", [.hpatches], .previousPair, hint: "pair", hintLabel: "←/→"),
        KeyBinding([.right], "next pair of the sequence", [.hpatches], .nextPair),
        KeyBinding([.char("i")], "filter: all / illumination (i_) / viewpoint (v_)", [.hpatches], .cycleFilter, hint: "filter"),
        KeyBinding([.char("o")], "sort by the next metric (worst first)", [.hpatches], .cycleSort, hint: "sort"),
        KeyBinding([.char("O")], "reverse the sort order", [.hpatches], .reverseSort, hint: "reverse"),
        KeyBinding([.char("r")], "re-evaluate HPatches with the current model", [.hpatches], .reevaluate, hint: "re-evaluate"),
        KeyBinding([.char("x")], "evaluation size: official 240x320 / the training size (re-evaluates)", [.hpatches], .cycleEvaluationSize,
                   hint: "size"),
        // Help overlay.
        KeyBinding([.char("?"), .escape, .char("q"), .enter], "close help", [.help], .closeHelp, hint: "close", hintLabel: "?/esc"),
        // Quit dialog.
        KeyBinding([.char("s"), .enter], "save a checkpoint, then quit", [.confirmQuit], .saveAndQuit, hint: "save+quit"),
        KeyBinding([.char("y"), .char("Y"), .ctrlC], "quit without saving", [.confirmQuit], .quitWithoutSaving, hint: "discard+quit"),
        KeyBinding([.char("n"), .escape, .char("q")], "cancel, keep training", [.confirmQuit], .cancelQuit, hint: "cancel", hintLabel: "n/esc"),
        // Edit dialog.
        KeyBinding(editChars, "type the value", [.edit], .editInput, label: "0-9 . e -"),
        KeyBinding([.backspace], "delete a character", [.edit], .editDelete, hint: "delete"),
        KeyBinding([.enter], "apply the value", [.edit], .editAccept, hint: "apply"),
        KeyBinding([.escape, .ctrlC], "cancel", [.edit], .editCancel, hint: "cancel"),
    ]

    /// The binding of `key` in `context`, if any.
    public static func binding(for key: Key, in context: KeyContext) -> KeyBinding? {
        bindings.first { $0.contexts.contains(context) && $0.keys.contains(key) }
    }

    /// The bindings valid in `context`, for the hint bar (hint == true) or the help overlay.
    public static func bindings(in context: KeyContext, hintsOnly: Bool) -> [KeyBinding] {
        bindings.filter { $0.contexts.contains(context) && (!hintsOnly || $0.hint != nil) }
    }
}
