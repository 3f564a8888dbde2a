import Datasets
import Geometry
import KP2D

// Matches judged against the ground truth: what the HPatches browser, the training preview and the eval
// figures draw (green for correct, red for wrong).

/// A match between point `source` of the first set and point `target` of the second, and whether the true
/// homography puts the source point within the correctness radius of its match.
public struct Match: Sendable, Equatable {
    public var source: Int, target: Int
    public var correct: Bool
    public init(source: Int, target: Int, correct: Bool) { self.source = source; self.target = target; self.correct = correct }
}

public enum JudgedMatches {
    /// The metrics' correctness radius in pixels (the official 3 px).
    public static let correctDistance: Float = 3

    /// Is `target` within `radius` pixels of where `truth` (first-image pixels -> second-image pixels) puts `source`?
    public static func isCorrect(_ source: Keypoint, _ target: Keypoint, truth: Homography, radius: Float = correctDistance) -> Bool {
        guard let q = truth.applyIfVisible(source.point) else { return false }
        let dx = Float(q.x) - target.x, dy = Float(q.y) - target.y
        return (dx * dx + dy * dy).squareRoot() <= radius
    }

    /// The official top-K of both sets, their cross-checked nearest-neighbour descriptor matches, each judged
    /// against the truth.
    public static func mutualNearest(_ a: KeypointSet, _ b: KeypointSet, topK: Int, truth: Homography,
                                     radius: Float = correctDistance) -> (first: KeypointSet, second: KeypointSet, matches: [Match]) {
        let ta = a.topK(topK), tb = b.topK(topK)
        let matches = DescriptorMatching.mutualNearest(ta, tb).map { i, j in
            Match(source: i, target: j, correct: isCorrect(ta.keypoints[i], tb.keypoints[j], truth: truth, radius: radius))
        }
        return (ta, tb, matches)
    }
}

/// Two images with their keypoints and judged matches: what the training preview, the HPatches browser and the
/// pair figures draw.
public struct JudgedPair: Sendable {
    public var source: Image
    public var target: Image
    public var sourceKeypoints: [Keypoint]
    public var targetKeypoints: [Keypoint]
    public var matches: [Match]
    /// The true homography, source pixels -> target pixels (nil: unknown).
    public var homography: Homography?

    public init(source: Image, target: Image, sourceKeypoints: [Keypoint], targetKeypoints: [Keypoint],
                matches: [Match], homography: Homography?) {
        self.source = source; self.target = target; self.sourceKeypoints = sourceKeypoints
        self.targetKeypoints = targetKeypoints; self.matches = matches; self.homography = homography
    }
}
