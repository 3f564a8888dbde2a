// Every non-ASCII character the UI draws, with an ASCII stand-in for `--ascii` and non-UTF-8 locales.

public struct Glyphs: Sendable, Equatable {
    public var unicode: Bool
    public var horizontal: Unicode.Scalar, vertical: Unicode.Scalar
    public var topLeft: Unicode.Scalar, topRight: Unicode.Scalar, bottomLeft: Unicode.Scalar, bottomRight: Unicode.Scalar
    public var upperHalf: Unicode.Scalar
    public var keypoint: Unicode.Scalar, inlier: Unicode.Scalar, outlier: Unicode.Scalar
    public var nanMarker: Unicode.Scalar, best: Unicode.Scalar, changeMarker: Unicode.Scalar
    public var gridDot: Unicode.Scalar, ellipsis: String, separator: String
    public var up: Unicode.Scalar, down: Unicode.Scalar, selected: Unicode.Scalar

    public static let unicodeSet = Glyphs(
        unicode: true, horizontal: "─", vertical: "│", topLeft: "╭", topRight: "╮", bottomLeft: "╰", bottomRight: "╯",
        upperHalf: "▀", keypoint: "•", inlier: "●", outlier: "✕", nanMarker: "▲", best: "★", changeMarker: "┊",
        gridDot: "·", ellipsis: "…", separator: " · ", up: "▲", down: "▼", selected: "▶")

    public static let asciiSet = Glyphs(
        unicode: false, horizontal: "-", vertical: "|", topLeft: "+", topRight: "+", bottomLeft: "+", bottomRight: "+",
        upperHalf: "#", keypoint: "+", inlier: "o", outlier: "x", nanMarker: "!", best: "*", changeMarker: ":",
        gridDot: ".", ellipsis: "~", separator: " | ", up: "^", down: "v", selected: ">")

    public static func set(ascii: Bool) -> Glyphs { ascii ? asciiSet : unicodeSet }

    static let fallbacks: [Unicode.Scalar: Unicode.Scalar] = [
        "·": "*", "—": "-", "→": ">", "←": "<", "↑": "^", "↓": "v", "α": "a", "β": "b", "λ": "l", "γ": "g",
        "▀": "#", "…": "~", "★": "*", "▲": "^", "▼": "v", "▶": ">", "●": "o", "✕": "x", "•": "+", "┊": ":",
        "─": "-", "│": "|", "╭": "+", "╮": "+", "╰": "+", "╯": "+",
    ]

    /// An ASCII stand-in for any character (the last line of defence of --ascii).
    public static func asciiFallback(_ c: Unicode.Scalar) -> Unicode.Scalar {
        if c.value < 128 { return c }
        if let f = fallbacks[c] { return f }
        if c.value >= 0x2800 && c.value <= 0x28FF { return BrailleCanvas.glyph(bits: UInt8(c.value - 0x2800), ascii: true) }
        return "?"
    }
}

/// The ASCII grey ramp (dark to light) used for images without colours or with `--ascii`.
public let asciiGreyRamp: [Unicode.Scalar] = Array(" .:-=+*#%@".unicodeScalars)
