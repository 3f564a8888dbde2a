// xterm colour palette arithmetic: RGB -> 256-colour index (6x6x6 cube + grey ramp), and 256 -> 8 colours.

public enum ColorMode: String, Sendable, CaseIterable {
    /// 256 colours (xterm-256color, tmux-256color).
    case c256
    /// The 8 ANSI colours (xterm, screen).
    case c8
    /// No colour at all (NO_COLOR, dumb terminals): attributes only.
    case none
}

public enum Palette {
    static let cubeLevels: [Int] = [0, 95, 135, 175, 215, 255]
    static let ansi16: [(Int, Int, Int)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]

    /// The RGB (0...255) of an xterm palette index.
    public static func rgb(ofIndex i: Int) -> (Int, Int, Int) {
        if i < 16 { return ansi16[max(0, i)] }
        if i < 232 {
            let c = i - 16
            return (cubeLevels[c / 36], cubeLevels[(c / 6) % 6], cubeLevels[c % 6])
        }
        let g = 8 + 10 * (i - 232)
        return (g, g, g)
    }

    @inline(__always) static func nearestLevel(_ v: Int) -> Int {
        // Levels 0,95,135,175,215,255: thresholds at the midpoints.
        if v < 48 { return 0 }
        if v < 115 { return 1 }
        return min(5, (v - 35) / 40)
    }

    /// Nearest 256-colour index to an RGB colour (components 0...255): the closer of the cube and the grey ramp.
    public static func index256(r: Int, g: Int, b: Int) -> Int {
        let ri = nearestLevel(r), gi = nearestLevel(g), bi = nearestLevel(b)
        let cr = cubeLevels[ri], cg = cubeLevels[gi], cb = cubeLevels[bi]
        let cubeDist = sq(cr - r) + sq(cg - g) + sq(cb - b)
        let mean = (r + g + b) / 3
        let gi2 = max(0, min(23, (mean - 3) / 10))
        let gv = 8 + 10 * gi2
        let greyDist = sq(gv - r) + sq(gv - g) + sq(gv - b)
        return greyDist < cubeDist ? 232 + gi2 : 16 + 36 * ri + 6 * gi + bi
    }

    /// Nearest 256-colour index of a float RGB colour in [0, 1].
    @inline(__always) public static func index256(_ r: Float, _ g: Float, _ b: Float) -> Int {
        index256(r: to255(r), g: to255(g), b: to255(b))
    }

    @inline(__always) static func to255(_ v: Float) -> Int {
        guard v.isFinite else { return 0 }
        return Int(max(0, min(255, (v * 255).rounded())))
    }

    /// Nearest of the 8 ANSI colours (0...7) to a 256-colour index.
    public static func index8(of i: Int) -> Int {
        if i < 8 { return i }
        if i < 16 { return i - 8 }
        let (r, g, b) = rgb(ofIndex: i)
        // Greys: anything but near-black becomes white (7), so dim text stays visible on dark backgrounds.
        if max(r, g, b) - min(r, g, b) < 30 { return max(r, g, b) < 40 ? 0 : 7 }
        var best = 0, bestD = Int.max
        for k in 0..<8 {
            let (kr, kg, kb) = ansi16[k]
            // Compare against the "bright" rendering too, so light colours do not all collapse to grey 7.
            let (br, bg2, bb) = ansi16[k + 8]
            let d = min(sq(kr - r) + sq(kg - g) + sq(kb - b), sq(br - r) + sq(bg2 - g) + sq(bb - b))
            if d < bestD { bestD = d; best = k }
        }
        return best
    }

    /// Map a colour to what a terminal in `mode` can show.
    public static func adapt(_ c: TermColor, to mode: ColorMode) -> TermColor {
        if c.isDefault { return c }
        switch mode {
        case .c256: return c
        case .c8: return TermColor(index8(of: Int(c.index)))
        case .none: return .default
        }
    }

    @inline(__always) static func sq(_ v: Int) -> Int { v * v }
}
