import Evaluation
import KP2D
import Training

// Match statistics: the current pair next to the average over recent steps.

enum StatsPane {
    static func rows(_ s: MatchStats?) -> [Double] {
        guard let s else { return [Double](repeating: .nan, count: 9) }
        return [s.keypoints, s.matches, s.correctMatches, s.repeatability, s.localizationError, s.descriptorRecall,
                s.ioPrecision, s.ioRecall, s.cornerError]
    }
    static let names = ["keypoints", "matches", "correct matches", "repeatability", "localization err (px)",
                        "descriptor recall", "IO-Net precision", "IO-Net recall", "H corner err (px)"]
    static let isCount = [true, true, true, false, false, false, false, false, false]

    static func format(_ v: Double, count: Bool) -> String {
        if !v.isFinite { return v.isNaN ? "—" : Series.format(v) }
        return count ? String(Int(v.rounded())) : String(format: "%.3f", v)
    }

    static func draw(into grid: inout CellGrid, rect: Rect, pair: MatchStats?, recent: MatchStats, title: String, env: RenderEnv) {
        let t = env.theme
        Frame.draw(into: &grid, rect: rect, theme: t, glyphs: env.glyphs, title: title)
        let inner = rect.inset(dx: 2, dy: 1)
        guard inner.height >= 2, inner.width >= 20 else { return }
        let valueW = min(10, max(7, (inner.width - 22) / 2))
        let nameW = min(24, inner.width - 2 * valueW)
        let dim = t.style(.dim), text = t.style(.text)
        func right(_ s: String, _ x: Int, _ y: Int, _ style: Style) {
            let s2 = env.glyphs.unicode ? s : s.replacingOccurrences(of: "—", with: "-")
            grid.put(x + max(0, valueW - s2.count), y, s2, style, maxWidth: valueW)
        }
        right("pair", inner.x + nameW, inner.y, dim)
        right("recent", inner.x + nameW + valueW, inner.y, dim)
        let a = rows(pair), b = rows(recent)
        for i in 0..<names.count where i + 1 < inner.height {
            let y = inner.y + 1 + i
            var name = names[i]
            // Correct matches also as a share of the matches.
            if i == 2, let p = pair, p.matches > 0, p.correctMatches.isFinite, nameW >= 24 {
                name += String(format: " (%.0f%%)", 100 * p.correctMatches / p.matches)
            }
            grid.put(inner.x, y, name, text, maxWidth: nameW - 1)
            right(format(a[i], count: isCount[i]), inner.x + nameW, y, a[i].isNaN ? dim : text.adding(.bold))
            right(format(b[i], count: isCount[i]), inner.x + nameW + valueW, y, b[i].isNaN ? dim : text)
        }
    }
}
