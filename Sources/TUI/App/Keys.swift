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
    case smoothMore, smoothLess, nextChart, toggleLog, toggleFit, toggleWindow
    case toggleKeypoints, cycleMatches, toggleGrid
    case sequenceUp, sequenceDown, sequencePageUp, sequencePageDown, previousPair, nextPair
    case cycleFilter, cycleSort, reverseSort, reevaluate
    case saveAndQuit, quitWithoutSaving, cancelQuit
    case editInput, editDelete, editAccept, editCancel
}

public struct KeyBinding: Sendable {
    public var keys: [Key]
    /// How the keys are shown ("+/-", "space").
    public var label: String
    public var description: String
    public var contexts: Set<KeyContext>
    public var action: Action
    /// Shown in the hint bar (the help overlay shows every binding).
    public var hint: Bool

    public init(_ keys: [Key], _ label: String? = nil, _ description: String, _ contexts: Set<KeyContext>, _ action: Action, hint: Bool = true) {
        self.keys = keys; self.label = label ?? keys.map(\.label).joined(separator: "/"); self.description = description
        self.contexts = contexts; self.action = action; self.hint = hint
    }
}

public enum KeyTable {
    static let views: Set<KeyContext> = [.training, .hpatches]
    static let editChars: [Key] = "0123456789.-+eE".map { Key.char($0) }

    public static let bindings: [KeyBinding] = [
        // Both views.
        KeyBinding([.char("q"), .ctrlC], "q", "quit (asks first if steps are unsaved)", views, .quit),
        KeyBinding([.char("?")], "?", "help: every key", views, .showHelp),
        KeyBinding([.char(" ")], nil, "pause / resume training", views, .togglePause),
        KeyBinding([.char("n")], nil, "train one step (while paused)", [.training], .stepOnce),
        KeyBinding([.char("s")], nil, "save a checkpoint now", views, .save),
        KeyBinding([.tab], nil, "next view", views, .nextView),
        KeyBinding([.backTab], nil, "previous view", views, .nextView, hint: false),
        KeyBinding([.char("1")], nil, "training view", views, .showTraining, hint: false),
        KeyBinding([.char("2")], nil, "HPatches browser", views, .showHPatches, hint: false),
        KeyBinding([.char("t")], nil, "cycle colour theme", views, .cycleTheme, hint: false),
        // Training: parameters.
        KeyBinding([.char("w")], nil, "select next parameter (alpha, beta, lambda, gamma, lr)", [.training], .nextParameter),
        KeyBinding([.char("W")], nil, "select previous parameter", [.training], .previousParameter, hint: false),
        KeyBinding([.char("+"), .char("=")], "+/-", "increase / decrease the selected parameter", [.training], .increaseParameter),
        KeyBinding([.char("-"), .char("_")], "-", "decrease the selected parameter", [.training], .decreaseParameter, hint: false),
        KeyBinding([.char("e"), .enter], "e", "type a value for the selected parameter", [.training], .editParameter),
        KeyBinding([.char("u")], nil, "undo the last parameter change", [.training], .undo),
        // Training: charts.
        KeyBinding([.char("]")], "[/]", "more / less EMA smoothing", [.training], .smoothMore),
        KeyBinding([.char("[")], "[", "less EMA smoothing", [.training], .smoothLess, hint: false),
        KeyBinding([.char("c")], nil, "focus the next chart", [.training], .nextChart, hint: false),
        KeyBinding([.char("l")], nil, "log scale on the focused chart", [.training], .toggleLog, hint: false),
        KeyBinding([.char("f")], nil, "fit the focused chart to all raw values / to the smoothed curve", [.training], .toggleFit, hint: false),
        KeyBinding([.char("z")], nil, "zoom the x axis: whole run / last 1000 steps", [.training], .toggleWindow, hint: false),
        // Overlays on images (both views).
        KeyBinding([.char("k")], nil, "keypoints on / off", views, .toggleKeypoints, hint: false),
        KeyBinding([.char("m")], nil, "matches: off / markers / lines", views, .cycleMatches, hint: false),
        KeyBinding([.char("g")], nil, "warped grid (true homography) on / off", views, .toggleGrid, hint: false),
        // HPatches browser.
        KeyBinding([.up], "↑/↓", "previous / next sequence", [.hpatches], .sequenceUp),
        KeyBinding([.down], "↓", "next sequence", [.hpatches], .sequenceDown, hint: false),
        KeyBinding([.pageUp], nil, "page up", [.hpatches], .sequencePageUp, hint: false),
        KeyBinding([.pageDown], nil, "page down", [.hpatches], .sequencePageDown, hint: false),
        KeyBinding([.left], "←/→", "previous / next pair of the sequence", [.hpatches], .previousPair),
        KeyBinding([.right], "→", "next pair", [.hpatches], .nextPair, hint: false),
        KeyBinding([.char("i")], nil, "filter: all / illumination (i_) / viewpoint (v_)", [.hpatches], .cycleFilter),
        KeyBinding([.char("o")], nil, "sort by the next metric (worst first)", [.hpatches], .cycleSort),
        KeyBinding([.char("O")], nil, "reverse the sort order", [.hpatches], .reverseSort, hint: false),
        KeyBinding([.char("r")], nil, "re-evaluate HPatches with the current model", [.hpatches], .reevaluate),
        // Help overlay.
        KeyBinding([.char("?"), .escape, .char("q"), .enter], "?/esc", "close help", [.help], .closeHelp),
        // Quit dialog.
        KeyBinding([.char("s"), .enter], "s", "save, then quit", [.confirmQuit], .saveAndQuit),
        KeyBinding([.char("y"), .char("Y"), .ctrlC], "y", "quit without saving", [.confirmQuit], .quitWithoutSaving),
        KeyBinding([.char("n"), .escape, .char("q")], "n/esc", "cancel", [.confirmQuit], .cancelQuit),
        // Edit dialog.
        KeyBinding(editChars, "0-9.e-", "type the value", [.edit], .editInput),
        KeyBinding([.backspace], nil, "delete a character", [.edit], .editDelete),
        KeyBinding([.enter], nil, "apply the value", [.edit], .editAccept),
        KeyBinding([.escape, .ctrlC], "esc", "cancel", [.edit], .editCancel),
    ]

    /// The binding of `key` in `context`, if any.
    public static func binding(for key: Key, in context: KeyContext) -> KeyBinding? {
        bindings.first { $0.contexts.contains(context) && $0.keys.contains(key) }
    }

    /// The bindings valid in `context`, for the hint bar (hint == true) or the help overlay.
    public static func bindings(in context: KeyContext, hintsOnly: Bool) -> [KeyBinding] {
        bindings.filter { $0.contexts.contains(context) && (!hintsOnly || $0.hint) }
    }
}
