// The plain cell grid every view draws into. Tests inspect it directly; the terminal layer copies it to ncurses.

/// A terminal colour: `.default` (the terminal's own) or an xterm palette index 0...255.
public struct TermColor: Hashable, Sendable, CustomStringConvertible {
    public var index: Int16
    public init(_ index: Int) { self.index = Int16(max(-1, min(255, index))) }
    public static let `default` = TermColor(-1)
    public var isDefault: Bool { index < 0 }
    public var description: String { isDefault ? "default" : String(index) }
}

public struct TextAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = TextAttributes(rawValue: 1)
    public static let dim = TextAttributes(rawValue: 2)
    public static let reverse = TextAttributes(rawValue: 4)
    public static let underline = TextAttributes(rawValue: 8)
}

/// Foreground, background and attributes of a cell.
public struct Style: Hashable, Sendable {
    public var fg: TermColor
    public var bg: TermColor
    public var attrs: TextAttributes
    public init(fg: TermColor = .default, bg: TermColor = .default, attrs: TextAttributes = []) {
        self.fg = fg; self.bg = bg; self.attrs = attrs
    }
    public static let plain = Style()
    public func with(fg: TermColor) -> Style { var s = self; s.fg = fg; return s }
    public func with(bg: TermColor) -> Style { var s = self; s.bg = bg; return s }
    public func adding(_ a: TextAttributes) -> Style { var s = self; s.attrs.formUnion(a); return s }
}

/// One character cell: a single-width character plus its style.
public struct Cell: Hashable, Sendable {
    public var char: Unicode.Scalar
    public var fg: TermColor
    public var bg: TermColor
    public var attrs: TextAttributes
    public init(_ char: Unicode.Scalar = " ", style: Style = .plain) {
        self.char = char; self.fg = style.fg; self.bg = style.bg; self.attrs = style.attrs
    }
    public var style: Style {
        get { Style(fg: fg, bg: bg, attrs: attrs) }
        set { fg = newValue.fg; bg = newValue.bg; attrs = newValue.attrs }
    }
}

/// A rectangle of cells (x, y of the top-left corner).
public struct Rect: Hashable, Sendable, CustomStringConvertible {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = max(0, width); self.height = max(0, height)
    }
    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var isEmpty: Bool { width <= 0 || height <= 0 }
    public var description: String { "(\(x),\(y) \(width)x\(height))" }
    public func inset(_ d: Int) -> Rect { Rect(x: x + d, y: y + d, width: width - 2 * d, height: height - 2 * d) }
    public func inset(dx: Int, dy: Int) -> Rect { Rect(x: x + dx, y: y + dy, width: width - 2 * dx, height: height - 2 * dy) }
    /// Split off `n` rows from the top: (top, rest).
    public func splitTop(_ n: Int) -> (Rect, Rect) {
        let n = max(0, min(height, n))
        return (Rect(x: x, y: y, width: width, height: n), Rect(x: x, y: y + n, width: width, height: height - n))
    }
    public func splitBottom(_ n: Int) -> (Rect, Rect) {
        let n = max(0, min(height, n))
        return (Rect(x: x, y: y, width: width, height: height - n), Rect(x: x, y: maxY - n, width: width, height: n))
    }
    public func splitLeft(_ n: Int) -> (Rect, Rect) {
        let n = max(0, min(width, n))
        return (Rect(x: x, y: y, width: n, height: height), Rect(x: x + n, y: y, width: width - n, height: height))
    }
    /// Split into `count` columns of near-equal width.
    public func columns(_ count: Int) -> [Rect] {
        (0..<count).map { i in
            let x0 = x + width * i / count, x1 = x + width * (i + 1) / count
            return Rect(x: x0, y: y, width: x1 - x0, height: height)
        }
    }
    /// Split into `count` rows of near-equal height.
    public func rows(_ count: Int) -> [Rect] {
        (0..<count).map { i in
            let y0 = y + height * i / count, y1 = y + height * (i + 1) / count
            return Rect(x: x, y: y0, width: width, height: y1 - y0)
        }
    }
    public func contains(x px: Int, y py: Int) -> Bool { px >= x && px < maxX && py >= y && py < maxY }
}

/// A width x height grid of cells, row-major.
public struct CellGrid: Equatable, Sendable {
    public private(set) var width: Int
    public private(set) var height: Int
    public var cells: [Cell]

    public init(width: Int, height: Int, fill: Cell = Cell()) {
        self.width = max(0, width); self.height = max(0, height)
        cells = [Cell](repeating: fill, count: self.width * self.height)
    }

    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { cells[y * width + x] = newValue }
    }

    @inline(__always) public func inBounds(_ x: Int, _ y: Int) -> Bool { x >= 0 && y >= 0 && x < width && y < height }

    /// Set one cell if it lies inside the grid (and inside `clip` if given).
    @inline(__always) public mutating func set(_ x: Int, _ y: Int, _ ch: Unicode.Scalar, _ style: Style, clip: Rect? = nil) {
        guard inBounds(x, y) else { return }
        if let c = clip, !c.contains(x: x, y: y) { return }
        cells[y * width + x] = Cell(ch, style: style)
    }

    /// Fill a rectangle with one character and style.
    public mutating func fill(_ r: Rect, _ ch: Unicode.Scalar = " ", _ style: Style) {
        for y in max(0, r.y)..<min(height, r.maxY) where r.x < width {
            for x in max(0, r.x)..<min(width, r.maxX) { cells[y * width + x] = Cell(ch, style: style) }
        }
    }

    /// Write text at (x, y), clipped to `maxWidth` cells (and the grid). Returns the x after the last character.
    @discardableResult
    public mutating func put(_ x: Int, _ y: Int, _ text: String, _ style: Style, maxWidth: Int = Int.max) -> Int {
        var cx = x
        let limit = maxWidth == Int.max ? Int.max : x + maxWidth
        for scalar in text.unicodeScalars {
            if cx >= limit { break }
            set(cx, y, scalar, style)
            cx += 1
        }
        return cx
    }

    /// Indices of the cells that differ from `previous` (every cell if there is none or its size differs):
    /// what the terminal layer redraws.
    public func changedCells(since previous: CellGrid?) -> [Int] {
        guard let p = previous, p.width == width, p.height == height else { return Array(cells.indices) }
        var out: [Int] = []
        cells.withUnsafeBufferPointer { a in
            p.cells.withUnsafeBufferPointer { b in
                for i in 0..<a.count where a[i] != b[i] { out.append(i) }
            }
        }
        return out
    }

    /// The characters of row y as a string (trailing spaces kept).
    public func row(_ y: Int) -> String {
        var s = String.UnicodeScalarView()
        for x in 0..<width { s.append(cells[y * width + x].char) }
        return String(s)
    }

    /// The whole grid as text, one line per row, trailing spaces trimmed.
    public var text: String {
        (0..<height).map { y -> String in
            var line = row(y)
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }

    /// Whether `needle` occurs anywhere in the grid's text.
    public func contains(_ needle: String) -> Bool { (0..<height).contains { row($0).contains(needle) } }

    /// (x, y) of the first occurrence of `needle`, scanning rows top to bottom.
    public func find(_ needle: String) -> (x: Int, y: Int)? {
        for y in 0..<height {
            let r = row(y)
            if let range = r.range(of: needle) {
                return (r.unicodeScalars.distance(from: r.unicodeScalars.startIndex, to: range.lowerBound.samePosition(in: r.unicodeScalars) ?? r.unicodeScalars.startIndex), y)
            }
        }
        return nil
    }
}
