// Word wrapping for text drawn in fixed-width cells: the figures' captions (BitmapFont) and the workbench's
// help overlay (TUI) both break their text here.

public enum TextWrap {
    /// `text` in lines of at most `width` characters, broken at spaces where possible (a word longer than
    /// a line is split). Runs of spaces inside a line are kept; "" gives one empty line.
    public static func lines(_ text: String, width: Int) -> [String] {
        guard width > 0 else { return [] }
        var lines: [String] = [], current = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false).map(String.init) {
            var w = word
            let candidate = current.isEmpty ? w : current + " " + w
            if candidate.count <= width { current = candidate; continue }
            if !current.isEmpty { lines.append(current); current = "" }
            while w.count > width { lines.append(String(w.prefix(width))); w = String(w.dropFirst(width)) }
            current = w
        }
        if !current.isEmpty || lines.isEmpty { lines.append(current) }
        return lines
    }
}
