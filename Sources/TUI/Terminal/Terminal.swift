import CNcurses
import Foundation

public struct TerminalError: Error, CustomStringConvertible {
    public var description: String
}

/// The only code that talks to ncurses: start/stop, colour pairs, copying changed cells of a CellGrid to the
/// screen, and reading keys. Use from one thread only.
final class Terminal {
    private(set) var colorMode: ColorMode = .none
    private(set) var unicode = false
    private var previous: CellGrid? = nil
    private var pairs: [UInt32: Int16] = [:]
    private var nextPair: Int32 = 1
    private var maxPairs: Int32 = 0
    private var open = false
    private var pairsReset = false

    /// Start curses. `forceMode` overrides detection; NO_COLOR forces no colour.
    init(forceMode: ColorMode?) throws {
        kp2d_set_locale()
        unicode = kp2d_locale_is_utf8() != 0
        let term = ProcessInfo.processInfo.environment["TERM"] ?? ""
        switch kp2d_start_screen() {
        case -2: throw TerminalError(description: "the workbench needs an interactive terminal (stdin and stdout are not both a TTY); use --once for a text snapshot or --headless to train without it")
        case 0: break
        default: throw TerminalError(description: "cannot open the terminal '\(term)' (TERM unset or unknown to ncurses): set TERM, e.g. TERM=xterm-256color")
        }
        kp2d_install_crash_handlers()
        open = true
        raw()              // Ctrl-C arrives as a key (3), so quitting goes through the confirm dialog
        noecho()
        keypad(kp2d_stdscr(), true)
        set_escdelay(25)
        curs_set(0)
        kp2d_timeout(30)
        var mode = ColorMode.none
        if has_colors() {
            start_color()
            use_default_colors()
            mode = kp2d_colors() >= 256 ? .c256 : (kp2d_colors() >= 8 ? .c8 : .none)
        }
        if let env = ProcessInfo.processInfo.environment["NO_COLOR"], !env.isEmpty { mode = .none }
        if let f = forceMode { mode = has_colors() ? f : .none }
        colorMode = mode
        maxPairs = min(kp2d_color_pairs(), 32767) - 1
    }

    deinit { close() }

    /// Give the terminal back (idempotent).
    func close() {
        guard open else { return }
        open = false
        endwin()
        kp2d_restore_default_handlers()
    }

    var size: (width: Int, height: Int) { (Int(kp2d_cols()), Int(kp2d_lines())) }

    /// Forget what is on screen (after a resize): the next present() redraws every cell.
    func invalidate() {
        previous = nil
        clear()
    }

    private func pair(_ fg: TermColor, _ bg: TermColor) -> Int16 {
        if colorMode == .none || (fg.isDefault && bg.isDefault) { return 0 }
        let key = UInt32(UInt16(bitPattern: fg.index)) << 16 | UInt32(UInt16(bitPattern: bg.index))
        if let p = pairs[key] { return p }
        if nextPair > maxPairs {
            // Out of pairs: start over and repaint everything on the next frame.
            pairs.removeAll(); nextPair = 1; pairsReset = true
        }
        let p = Int16(nextPair)
        nextPair += 1
        init_pair(p, fg.index, bg.index)
        pairs[key] = p
        return p
    }

    private func attributes(_ a: TextAttributes) -> attr_t {
        var r: attr_t = 0
        if a.contains(.bold) { r |= attr_t(kp2d_a_bold()) }
        if a.contains(.dim) { r |= attr_t(kp2d_a_dim()) }
        if a.contains(.reverse) { r |= attr_t(kp2d_a_reverse()) }
        if a.contains(.underline) { r |= attr_t(kp2d_a_underline()) }
        return r
    }

    /// Copy the grid to the screen, writing only cells that changed since the last frame.
    /// Returns the number of cells written.
    @discardableResult
    func present(_ grid: CellGrid) -> Int {
        let changed = grid.changedCells(since: previous)
        for i in changed {
            let c = grid.cells[i]
            var ch = c.char
            if !unicode && ch.value > 127 { ch = Glyphs.asciiFallback(ch) }
            _ = kp2d_put_wch(Int32(i / grid.width), Int32(i % grid.width), wchar_t(bitPattern: ch.value), attributes(c.attrs), pair(c.fg, c.bg))
        }
        let written = changed.count
        previous = pairsReset ? nil : grid
        pairsReset = false
        refresh()
        return written
    }

    /// The next key, waiting at most the configured timeout (30 ms); nil if none.
    func readKey(wait: Bool) -> Key? {
        kp2d_timeout(wait ? 30 : 0)
        let c = kp2d_getch()
        if c == kp2d_err() { return nil }
        switch c {
        case kp2d_key_resize(): return .resize
        case kp2d_key_up(): return .up
        case kp2d_key_down(): return .down
        case kp2d_key_left(): return .left
        case kp2d_key_right(): return .right
        case kp2d_key_enter(), 10, 13: return .enter
        case kp2d_key_backspace(), 127, 8, kp2d_key_dc(): return .backspace
        case kp2d_key_npage(): return .pageDown
        case kp2d_key_ppage(): return .pageUp
        case kp2d_key_home(): return .home
        case kp2d_key_end(): return .end
        case kp2d_key_btab(): return .backTab
        case 9: return .tab
        case 27: return .escape
        case 3: return .ctrlC
        default:
            if c >= 32 && c < 127, let s = Unicode.Scalar(UInt32(c)) { return .char(Character(s)) }
            return nil
        }
    }
}
