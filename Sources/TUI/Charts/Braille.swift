// Braille rasterisation: each cell holds 2x4 dots (U+2800 + bit pattern). Pure value type, no terminal.

public struct BrailleCanvas: Equatable, Sendable {
    public let widthCells: Int, heightCells: Int
    public private(set) var bits: [UInt8]
    public var widthDots: Int { widthCells * 2 }
    public var heightDots: Int { heightCells * 4 }

    public init(widthCells: Int, heightCells: Int) {
        self.widthCells = max(0, widthCells); self.heightCells = max(0, heightCells)
        bits = [UInt8](repeating: 0, count: self.widthCells * self.heightCells)
    }

    /// Bit of dot (column dx in 0...1, row dy in 0...3) inside a cell, per the Unicode braille layout.
    @inline(__always) public static func bit(dx: Int, dy: Int) -> UInt8 {
        if dy == 3 { return dx == 0 ? 0x40 : 0x80 }
        return UInt8(1 << (dx * 3 + dy))
    }

    /// Set the dot at (x, y) in dot coordinates (y = 0 at the top). Out-of-range dots are ignored.
    @inline(__always) public mutating func set(_ x: Int, _ y: Int) {
        guard x >= 0, y >= 0, x < widthDots, y < heightDots else { return }
        bits[(y >> 2) * widthCells + (x >> 1)] |= BrailleCanvas.bit(dx: x & 1, dy: y & 3)
    }

    public func isSet(_ x: Int, _ y: Int) -> Bool {
        guard x >= 0, y >= 0, x < widthDots, y < heightDots else { return false }
        return bits[(y >> 2) * widthCells + (x >> 1)] & BrailleCanvas.bit(dx: x & 1, dy: y & 3) != 0
    }

    /// A vertical run of dots from y0 to y1 (either order) in column x.
    public mutating func vline(_ x: Int, _ y0: Int, _ y1: Int) {
        let a = max(0, min(y0, y1)), b = min(heightDots - 1, max(y0, y1))
        if a > b { return }
        for y in a...b { set(x, y) }
    }

    /// A straight line between two dots (Bresenham).
    public mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int) {
        var x = x0, y = y0
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        var guardSteps = 0
        while guardSteps < 100_000 {
            set(x, y)
            if x == x1 && y == y1 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
            guardSteps += 1
        }
    }

    public func cellBits(_ cx: Int, _ cy: Int) -> UInt8 { bits[cy * widthCells + cx] }

    /// The character of a cell: braille, or with `ascii` a stand-in showing which half holds dots.
    public static func glyph(bits: UInt8, ascii: Bool) -> Unicode.Scalar {
        if !ascii { return Unicode.Scalar(0x2800 + UInt32(bits))! }
        if bits == 0 { return " " }
        let upper = bits & 0x1B != 0   // rows 0 and 1
        let lower = bits & 0xE4 != 0   // rows 2 and 3
        return upper && lower ? ":" : (upper ? "'" : ".")
    }

    /// Rows of characters (for tests and plain-text output).
    public func lines(ascii: Bool = false) -> [String] {
        (0..<heightCells).map { cy in
            String(String.UnicodeScalarView((0..<widthCells).map { BrailleCanvas.glyph(bits: cellBits($0, cy), ascii: ascii) }))
        }
    }
}
