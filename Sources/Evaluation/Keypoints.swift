import Geometry

// Plain-array inputs of the official HPatches metrics.

/// One detected keypoint in pixels: (x, y) and its score.
public struct Keypoint: Sendable, Equatable {
    public var x: Float
    public var y: Float
    public var score: Float
    public init(x: Float, y: Float, score: Float) { self.x = x; self.y = y; self.score = score }
    public var point: Point2 { Point2(Double(x), Double(y)) }
}

/// Keypoints with their descriptors: row i of `descriptors` (row-major, `dimension` floats) belongs to point i.
public struct KeypointSet: Sendable, Equatable {
    public var keypoints: [Keypoint]
    public var descriptors: [Float]
    public var dimension: Int

    public init(keypoints: [Keypoint], descriptors: [Float], dimension: Int) {
        precondition(descriptors.count == keypoints.count * dimension,
                     "KeypointSet: \(keypoints.count) points x \(dimension) dims needs \(keypoints.count * dimension) floats, got \(descriptors.count)")
        self.keypoints = keypoints; self.descriptors = descriptors; self.dimension = dimension
    }

    public var count: Int { keypoints.count }

    /// Rows `idx`, in that order.
    public func subset(_ idx: [Int]) -> KeypointSet {
        var d = [Float](); d.reserveCapacity(idx.count * dimension)
        for i in idx { d.append(contentsOf: descriptors[(i * dimension)..<((i + 1) * dimension)]) }
        return KeypointSet(keypoints: idx.map { keypoints[$0] }, descriptors: d, dimension: dimension)
    }

    /// Official select_k_best: indices sorted by ascending score, then the last min(k, N) of them.
    /// Ties keep their input order (stable sort); the official numpy argsort is not stable, but the
    /// metrics only depend on tie order when two points of one image have exactly the same score.
    public static func topKIndices(_ points: [Keypoint], k: Int) -> [Int] { topKIndices(scores: points.map { $0.score }, k: k) }

    public static func topKIndices(scores: [Float], k: Int) -> [Int] {
        let order = scores.indices.sorted { a, b in scores[a] != scores[b] ? scores[a] < scores[b] : a < b }
        return Array(order.suffix(min(k, scores.count)))
    }

    public func topK(_ k: Int) -> KeypointSet { subset(KeypointSet.topKIndices(keypoints, k: k)) }
}

/// One image pair as the official metrics see it.
public struct EvaluationPair: Sendable {
    /// Image-1 points and descriptors (`prob`, `desc`).
    public var first: KeypointSet
    /// Image-2 points and descriptors (`warped_prob`, `warped_desc`).
    public var second: KeypointSet
    /// Ground truth, image-1 pixels -> image-2 pixels.
    public var homography: Homography
    /// Evaluation image size. The official code passes image_shape = (W, H) (README 3.6): x is tested against
    /// the width and y against the height.
    public var width: Int
    public var height: Int

    public init(first: KeypointSet, second: KeypointSet, homography: Homography, width: Int, height: Int) {
        self.first = first; self.second = second; self.homography = homography; self.width = width; self.height = height
    }
}
