import Datasets
import KP2D
import Geometry

// Pictures of keypoints and matches, for people who would rather look than read:
//   PairFigure      two images side by side, keypoints as rings, matches as lines (green correct, red wrong),
//                   a caption band with the pair's numbers under them (`eval --figures`, the workbench's
//                   picture key)
//   KeypointFigure  one image with its keypoints (`detect --png`)

/// The colours of the figures.
public struct FigureStyle: Sendable, Equatable {
    public var correct = RGB8(0, 220, 0)
    public var wrong = RGB8(235, 0, 0)
    /// Keypoints without a match.
    public var keypoint = RGB8(255, 200, 0)
    public var background = RGB8(24, 24, 24)
    public var captionText = RGB8(235, 235, 235)
    public init() {}
}

public enum PairFigure {
    /// Pixels between the two images.
    public static let gap = 8

    /// The matches behind homography correctness (official compute_homography): the points whose warp lands
    /// inside the other image, the top-k of each, cross-checked nearest neighbours in descriptor L2, each judged
    /// by JudgedMatches.isCorrect (H moves its first point within `radius` px, <=, of its second point).
    /// Returns the kept points of both images (indices of `matches` refer to them).
    public static func homographyMatches(_ pair: EvaluationPair, topK: Int, radius: Float = JudgedMatches.correctDistance)
        -> (first: KeypointSet, second: KeypointSet, matches: [Match]) {
        let (s1, s2) = HPatchesMetrics.visibleTopK(pair, topK: topK)
        let matches = DescriptorMatching.mutualNearest(s1, s2).map { i, j in
            Match(source: i, target: j, correct: JudgedMatches.isCorrect(s1.keypoints[i], s2.keypoints[j], truth: pair.homography, radius: radius))
        }
        return (s1, s2, matches)
    }

    /// Both images side by side (top-aligned, `gap` px apart), every keypoint as a small ring, every match as
    /// a line from its point in the first image to its point in the second (wrong ones first, correct ones on
    /// top) and `caption` (lines wrapped to the figure's width) in a band underneath. Keypoint coordinates are
    /// pixels of their own image. Text and lines grow with the figure (1 px per 640 px of width).
    public static func render(_ pair: JudgedPair, caption: [String], style: FigureStyle = FigureStyle()) -> Canvas {
        let first = pair.source, second = pair.target
        let firstKeypoints = pair.sourceKeypoints, secondKeypoints = pair.targetKeypoints, matches = pair.matches
        let width = first.width + gap + second.width
        let scale = max(1, width / 640)
        let thickness = scale
        let maxChars = max(1, (width - 8 * scale) / (BitmapFont.advance * scale))
        let lines = caption.flatMap { TextWrap.lines($0, width: maxChars) }
        let captionHeight = lines.isEmpty ? 0 : lines.count * BitmapFont.lineHeight * scale + 6 * scale
        let imagesHeight = max(first.height, second.height)
        var canvas = Canvas(width: width, height: imagesHeight + captionHeight, background: style.background)
        canvas.draw(first, x: 0, y: 0)
        let ox = first.width + gap
        canvas.draw(second, x: ox, y: 0)

        let radius = 2 * scale
        let matchedFirst = Set(matches.map(\.source)), matchedSecond = Set(matches.map(\.target))
        for (i, k) in firstKeypoints.enumerated() where !matchedFirst.contains(i) {
            canvas.ring(Int(k.x.rounded()), Int(k.y.rounded()), radius: radius, style.keypoint)
        }
        for (j, k) in secondKeypoints.enumerated() where !matchedSecond.contains(j) {
            canvas.ring(ox + Int(k.x.rounded()), Int(k.y.rounded()), radius: radius, style.keypoint)
        }
        for pass in [false, true] {
            for m in matches where m.correct == pass && firstKeypoints.indices.contains(m.source) && secondKeypoints.indices.contains(m.target) {
                let a = firstKeypoints[m.source], b = secondKeypoints[m.target]
                let colour = m.correct ? style.correct : style.wrong
                canvas.line(from: (a.x, a.y), to: (b.x + Float(ox), b.y), colour, thickness: thickness)
                canvas.ring(Int(a.x.rounded()), Int(a.y.rounded()), radius: radius, colour)
                canvas.ring(ox + Int(b.x.rounded()), Int(b.y.rounded()), radius: radius, colour)
            }
        }
        for (n, l) in lines.enumerated() {
            canvas.text(l, x: 4 * scale, y: imagesHeight + 3 * scale + n * BitmapFont.lineHeight * scale, style.captionText, scale: scale)
        }
        return canvas
    }

    /// The caption of an evaluated HPatches pair: what it is, the official metrics, and the match counts.
    public static func caption(title: String, metrics m: PairMetrics, matches: [Match], distance: Double = 3) -> [String] {
        func f(_ v: Double, _ digits: Int) -> String { v.isFinite ? String(format: "%.\(digits)f", v) : "-" }
        let correct = matches.filter(\.correct).count
        return [
            title,
            "Rep \(f(m.repeatability.repeatability, 3))  LocErr \(m.repeatability.localizationError.map { f($0, 2) } ?? "-")  "
                + "C1 \(f(m.homography.c1, 0))  C3 \(f(m.homography.c3, 0))  C5 \(f(m.homography.c5, 0))  "
                + "corner err \(m.homography.cornerError.map { f($0, 2) + " px" } ?? "- (no estimate)")  MScore \(f(m.matchingScore, 3))",
            "\(matches.count) matches: \(correct) correct (green), \(matches.count - correct) wrong (red) at \(f(distance, 0)) px",
        ]
    }
}

public enum KeypointFigure {
    /// `image` with a ring at every keypoint (pixels of that image), the best-scoring drawn last (on top) and
    /// brightest, and `caption` underneath.
    public static func render(image: Image, keypoints: [Keypoint], caption: [String], style: FigureStyle = FigureStyle()) -> Canvas {
        let scale = max(1, image.width / 640)
        let maxChars = max(1, (image.width - 8 * scale) / (BitmapFont.advance * scale))
        let lines = caption.flatMap { TextWrap.lines($0, width: maxChars) }
        let captionHeight = lines.isEmpty ? 0 : lines.count * BitmapFont.lineHeight * scale + 6 * scale
        var canvas = Canvas(width: image.width, height: image.height + captionHeight, background: style.background)
        canvas.draw(image, x: 0, y: 0)
        let order = keypoints.indices.sorted { keypoints[$0].score < keypoints[$1].score }
        let maxScore = keypoints.map(\.score).max() ?? 1
        for i in order {
            let k = keypoints[i]
            // Score 0 -> dark orange, the best -> the keypoint colour.
            let t = maxScore > 0 ? max(0, min(1, k.score / maxScore)) : 1
            let c = RGB8(style.keypoint.r, UInt8(Float(style.keypoint.g) * (0.35 + 0.65 * t)), style.keypoint.b)
            canvas.ring(Int(k.x.rounded()), Int(k.y.rounded()), radius: 2 * scale, c)
        }
        for (n, l) in lines.enumerated() {
            canvas.text(l, x: 4 * scale, y: image.height + 3 * scale + n * BitmapFont.lineHeight * scale, style.captionText, scale: scale)
        }
        return canvas
    }
}
