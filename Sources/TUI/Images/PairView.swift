import Datasets
import Evaluation
import Geometry
import KP2D
import Training

// A source/target image pair side by side with keypoints (coloured by score), matches (inlier/outlier
// markers, optionally joined by lines) and the true homography applied to a grid on the source.

public enum MatchDisplay: String, Sendable, CaseIterable {
    case off, markers, lines
    public var next: MatchDisplay {
        let all = MatchDisplay.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }
}

public struct OverlayToggles: Equatable, Sendable {
    public var keypoints = true
    public var matches: MatchDisplay = .markers
    public var grid = false
    public init() {}
}

public struct RenderEnv {
    public var theme: Theme
    public var glyphs: Glyphs
    public var colorMode: ColorMode
    /// Half-block images need 256 colours and Unicode.
    public var halfBlocks: Bool { glyphs.unicode && colorMode == .c256 }
    public init(theme: Theme, glyphs: Glyphs, colorMode: ColorMode) {
        self.theme = theme; self.glyphs = glyphs; self.colorMode = colorMode
    }
}

public enum PairView {
    /// Where the images were placed (for tests): cell rectangles of source and target.
    public struct Placement: Equatable { public var source: Rect; public var target: Rect }

    @discardableResult
    public static func draw(into grid: inout CellGrid, rect: Rect, content: JudgedPair, toggles: OverlayToggles,
                            env: RenderEnv) -> Placement? {
        let gap = 2
        guard rect.width >= 2 * 4 + gap, rect.height >= 3 else { return nil }
        let labelRows = 1
        let half = (rect.width - gap) / 2
        let fs = ImageRender.fit(imageWidth: content.source.width, imageHeight: content.source.height,
                                 maxWidth: half, maxHeight: rect.height - labelRows)
        let ft = ImageRender.fit(imageWidth: content.target.width, imageHeight: content.target.height,
                                 maxWidth: half, maxHeight: rect.height - labelRows)
        let totalW = fs.width + gap + ft.width
        let x0 = rect.x + max(0, (rect.width - totalW) / 2)
        let y0 = rect.y + max(0, (rect.height - labelRows - max(fs.height, ft.height)) / 2)
        let srcRect = Rect(x: x0, y: y0, width: fs.width, height: fs.height)
        let tgtRect = Rect(x: x0 + fs.width + gap, y: y0, width: ft.width, height: ft.height)
        let text = env.theme.style(.text)
        ImageRender.draw(into: &grid, x: srcRect.x, y: srcRect.y, width: srcRect.width, height: srcRect.height,
                         image: content.source, halfBlocks: env.halfBlocks, textStyle: text)
        ImageRender.draw(into: &grid, x: tgtRect.x, y: tgtRect.y, width: tgtRect.width, height: tgtRect.height,
                         image: content.target, halfBlocks: env.halfBlocks, textStyle: text)
        let dim = env.theme.style(.dim)
        grid.put(srcRect.x, srcRect.maxY, "source \(content.source.width)x\(content.source.height)", dim, maxWidth: srcRect.width)
        grid.put(tgtRect.x, tgtRect.maxY, "target \(content.target.width)x\(content.target.height)", dim, maxWidth: tgtRect.width)

        let mapS = Mapper(image: content.source, rect: srcRect), mapT = Mapper(image: content.target, rect: tgtRect)
        let limit = markerLimit(cells: min(srcRect.width * srcRect.height, tgtRect.width * tgtRect.height))
        if toggles.grid { drawGrid(into: &grid, content: content, src: mapS, tgt: mapT, env: env) }
        if toggles.keypoints {
            drawKeypoints(into: &grid, content.sourceKeypoints, mapS, limit: limit, env: env)
            drawKeypoints(into: &grid, content.targetKeypoints, mapT, limit: limit, env: env)
        }
        if toggles.matches != .off {
            drawMatches(into: &grid, content: content, src: mapS, tgt: mapT, lines: toggles.matches == .lines, limit: limit, env: env)
        }
        return Placement(source: srcRect, target: tgtRect)
    }

    /// At most this many markers per image (one per ~8 cells) so the image stays visible.
    public static func markerLimit(cells: Int) -> Int { max(12, cells / 8) }

    /// Evenly spaced elements of `items`, at most `limit` of them, in their original order.
    static func thin<T>(_ items: [T], limit: Int) -> [T] {
        guard items.count > limit, limit > 0 else { return items }
        return (0..<limit).map { items[$0 * items.count / limit] }
    }

    /// Image pixel -> grid cell.
    struct Mapper {
        let image: Image, rect: Rect
        func cell(_ x: Double, _ y: Double) -> (Int, Int)? {
            guard x.isFinite, y.isFinite, x >= 0, y >= 0, x < Double(image.width), y < Double(image.height) else { return nil }
            return (rect.x + Int(x * Double(rect.width) / Double(image.width)),
                    rect.y + Int(y * Double(rect.height) / Double(image.height)))
        }
        /// Image pixel -> (cell column, half-row): half-rows have twice the vertical resolution of cells.
        func half(_ x: Double, _ y: Double) -> (Int, Int)? {
            guard x.isFinite, y.isFinite, x >= 0, y >= 0, x < Double(image.width), y < Double(image.height) else { return nil }
            return (rect.x + Int(x * Double(rect.width) / Double(image.width)),
                    2 * rect.y + Int(y * Double(2 * rect.height) / Double(image.height)))
        }
    }

    /// Put a marker keeping the cell's lower-pixel colour as background, so it sits on the image.
    static func mark(_ grid: inout CellGrid, _ p: (Int, Int), _ ch: Unicode.Scalar, _ style: Style, env: RenderEnv) {
        guard grid.inBounds(p.0, p.1) else { return }
        var s = style
        if env.halfBlocks && s.bg.isDefault { s.bg = grid[p.0, p.1].bg }
        grid.set(p.0, p.1, ch, s)
    }

    /// Colour one half of a cell (half-row y2 = 2*row + 0 for the upper, + 1 for the lower half), keeping the
    /// other half's pixel: thin lines that leave the image visible. Without half blocks: a small dot.
    public static func plotHalf(_ grid: inout CellGrid, _ x: Int, _ y2: Int, _ style: Style, env: RenderEnv) {
        let cy = y2 >> 1
        guard grid.inBounds(x, cy) else { return }
        guard env.halfBlocks else { mark(&grid, (x, cy), env.glyphs.gridDot, style, env: env); return }
        var c = grid[x, cy]
        if c.char != "▀" { c = Cell("▀", style: Style(fg: c.bg, bg: c.bg)) }
        if y2 & 1 == 0 { c.fg = style.fg } else { c.bg = style.fg }
        c.attrs = []
        grid[x, cy] = c
    }

    /// Colour of a score between the keypoint_low and keypoint colours (interpolated in RGB on 256 colours).
    static func scoreStyle(_ t: Double, env: RenderEnv) -> Style {
        let hi = env.theme.style(.keypoint), lo = env.theme.style(.keypoint_low)
        if env.colorMode != .c256 || hi.fg.isDefault || lo.fg.isDefault { return t >= 0.5 ? hi : lo }
        let a = Palette.rgb(ofIndex: Int(lo.fg.index)), b = Palette.rgb(ofIndex: Int(hi.fg.index))
        func mix(_ u: Int, _ v: Int) -> Int { Int(Double(u) + (Double(v) - Double(u)) * t) }
        var s = hi
        s.fg = TermColor(Palette.index256(r: mix(a.0, b.0), g: mix(a.1, b.1), b: mix(a.2, b.2)))
        return s
    }

    static func drawKeypoints(into grid: inout CellGrid, _ kps: [Keypoint], _ map: Mapper, limit: Int, env: RenderEnv) {
        guard !kps.isEmpty else { return }
        var lo = Float.infinity, hi = -Float.infinity
        for k in kps where k.score.isFinite { lo = min(lo, k.score); hi = max(hi, k.score) }
        // The `limit` best; lowest scores drawn first so the best end up on top where several share a cell.
        let best = kps.sorted(by: { $0.score > $1.score }).prefix(limit)
        for k in best.reversed() {
            guard let p = map.cell(Double(k.x), Double(k.y)) else { continue }
            let t = hi > lo ? Double((k.score - lo) / (hi - lo)) : 1
            mark(&grid, p, env.glyphs.keypoint, scoreStyle(t.isFinite ? t : 0, env: env), env: env)
        }
    }

    static func drawMatches(into grid: inout CellGrid, content: JudgedPair, src: Mapper, tgt: Mapper, lines: Bool, limit: Int, env: RenderEnv) {
        let inS = env.theme.style(.inlier), outS = env.theme.style(.outlier)
        var valid: [(Match, (Int, Int), (Int, Int), (Int, Int), (Int, Int))] = []
        for m in content.matches {
            guard m.source >= 0, m.source < content.sourceKeypoints.count, m.target >= 0, m.target < content.targetKeypoints.count else { continue }
            let a = content.sourceKeypoints[m.source], b = content.targetKeypoints[m.target]
            guard let pa = src.cell(Double(a.x), Double(a.y)), let pb = tgt.cell(Double(b.x), Double(b.y)),
                  let ha = src.half(Double(a.x), Double(a.y)), let hb = tgt.half(Double(b.x), Double(b.y)) else { continue }
            valid.append((m, pa, pb, ha, hb))
        }
        valid = thin(valid, limit: limit)
        if lines {
            // At most 40 lines (evenly sampled), outliers first so inliers are drawn on top; half-row precision.
            let sample = thin(valid, limit: 40).sorted { !$0.0.correct && $1.0.correct }
            for (m, _, _, a, b) in sample {
                let st = m.correct ? inS : outS
                cellLine(a, b) { p in plotHalf(&grid, p.0, p.1, st, env: env) }
            }
        }
        for (m, a, b, _, _) in valid.sorted(by: { !$0.0.correct && $1.0.correct }) {
            let ch = m.correct ? env.glyphs.inlier : env.glyphs.outlier
            mark(&grid, a, ch, m.correct ? inS : outS, env: env)
            mark(&grid, b, ch, m.correct ? inS : outS, env: env)
        }
    }

    static func cellLine(_ a: (Int, Int), _ b: (Int, Int), _ plot: (( Int, Int)) -> Void) {
        var x = a.0, y = a.1
        let dx = abs(b.0 - a.0), dy = -abs(b.1 - a.1), sx = a.0 < b.0 ? 1 : -1, sy = a.1 < b.1 ? 1 : -1
        var err = dx + dy
        for _ in 0..<10_000 {
            plot((x, y))
            if x == b.0 && y == b.1 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    /// The true homography applied to a 4 x 4 grid over the source image, drawn on the target.
    static func drawGrid(into grid: inout CellGrid, content: JudgedPair, src: Mapper, tgt: Mapper, env: RenderEnv) {
        guard let truth = content.homography else { return }
        let st = env.theme.style(.grid)
        let w = Double(content.source.width), h = Double(content.source.height)
        let lines = 4
        let samples = 4 * max(tgt.rect.width, tgt.rect.height * 2)
        var done = Set<Int>()
        for i in 0...lines {
            for horizontal in [true, false] {
                let f = Double(i) / Double(lines)
                for k in 0...samples {
                    let t = Double(k) / Double(samples)
                    let x = horizontal ? t * (w - 1) : f * (w - 1)
                    let y = horizontal ? f * (h - 1) : t * (h - 1)
                    guard let q = truth.applyIfVisible(Point2(x, y)), let p = tgt.half(q.x, q.y) else { continue }
                    if done.insert(p.1 * 100_000 + p.0).inserted { plotHalf(&grid, p.0, p.1, st, env: env) }
                }
            }
        }
    }
}
