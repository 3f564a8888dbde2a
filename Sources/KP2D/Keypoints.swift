import Geometry

// Keypoints as every part of the tool sees them: the detector's output, the metrics' input, the preview's
// markers. Dense network output -> point list happens in one place, `KeypointSet.fromDense`.

/// One detected keypoint in pixels: (x, y) and its score.
public struct Keypoint: Sendable, Equatable, Codable {
    public var x: Float
    public var y: Float
    public var score: Float
    public init(x: Float, y: Float, score: Float) { self.x = x; self.y = y; self.score = score }
    public var point: Point2 { Point2(Double(x), Double(y)) }
}

/// Keypoints with their descriptors: row i of `descriptors` (row-major, `dimension` floats) belongs to point i.
/// `dimension` is 0 for points without descriptors.
public struct KeypointSet: Sendable, Equatable {
    public var keypoints: [Keypoint]
    public var descriptors: [Float]
    public var dimension: Int

    public init(keypoints: [Keypoint], descriptors: [Float] = [], dimension: Int = 0) {
        precondition(descriptors.count == keypoints.count * dimension,
                     "KeypointSet: \(keypoints.count) points x \(dimension) dims needs \(keypoints.count * dimension) floats, got \(descriptors.count)")
        self.keypoints = keypoints; self.descriptors = descriptors; self.dimension = dimension
    }

    public var count: Int { keypoints.count }

    /// The descriptor of point i.
    public func descriptor(_ i: Int) -> ArraySlice<Float> { descriptors[(i * dimension)..<((i + 1) * dimension)] }

    /// Rows `idx`, in that order.
    public func subset(_ idx: [Int]) -> KeypointSet {
        var d = [Float](); d.reserveCapacity(idx.count * dimension)
        for i in idx { d.append(contentsOf: descriptor(i)) }
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

    /// The official select_k_best subset (ascending score order).
    public func topK(_ k: Int) -> KeypointSet { subset(KeypointSet.topKIndices(keypoints, k: k)) }

    /// Points by descending score (ties keep their order), at most `limit` of them: what `detect` reports.
    public func sortedByScore(limit: Int? = nil) -> KeypointSet {
        var order = keypoints.indices.sorted { a, b in
            keypoints[a].score != keypoints[b].score ? keypoints[a].score > keypoints[b].score : a < b
        }
        if let k = limit, k >= 0, order.count > k { order = Array(order.prefix(k)) }
        return subset(order)
    }

    /// As the official evaluate_keypoint_net: cells in raster order (i * Wc + j), keep every cell whose score is
    /// > `threshold` (0: no NMS, the zero-score border ring drops out).
    /// score: Hc*Wc, coord: 2*Hc*Wc (channel 0 = x, then y), descriptors: D*Hc*Wc channel-major (one image of
    /// the (B,D,Hc,Wc) eval output). The descriptors are transposed to one row per kept point.
    public static func fromDense(score: UnsafePointer<Float>, coord: UnsafePointer<Float>, descriptors: UnsafePointer<Float>,
                                 cellsHigh hc: Int, cellsWide wc: Int, dimension d: Int, threshold: Float = 0) -> KeypointSet {
        let n = hc * wc
        var kps = [Keypoint](), desc = [Float]()
        for i in 0..<n where score[i] > threshold {
            kps.append(Keypoint(x: coord[i], y: coord[n + i], score: score[i]))
            for c in 0..<d { desc.append(descriptors[c * n + i]) }
        }
        return KeypointSet(keypoints: kps, descriptors: desc, dimension: d)
    }

    /// `fromDense` on plain arrays (tests, fixtures).
    public static func fromDense(score: [Float], coord: [Float], descriptors: [Float], cellsHigh hc: Int, cellsWide wc: Int,
                                 dimension d: Int, threshold: Float = 0) -> KeypointSet {
        let n = hc * wc
        precondition(score.count == n && coord.count == 2 * n && descriptors.count == d * n,
                     "fromDense: expected score \(n), coord \(2 * n), descriptors \(d * n) values; got \(score.count), \(coord.count), \(descriptors.count)")
        if n == 0 { return KeypointSet(keypoints: [], descriptors: [], dimension: d) }
        return score.withUnsafeBufferPointer { s in
            coord.withUnsafeBufferPointer { c in
                descriptors.withUnsafeBufferPointer { f in
                    fromDense(score: s.baseAddress!, coord: c.baseAddress!, descriptors: f.baseAddress!, cellsHigh: hc,
                              cellsWide: wc, dimension: d, threshold: threshold)
                }
            }
        }
    }
}

extension KeypointSet {
    /// Image `batchIndex` of an eval-mode network output: `fromDense` on its score, coordinate and descriptor maps.
    public static func extract(_ out: KeypointNetOutput, batchIndex b: Int = 0, threshold: Float = 0) -> KeypointSet {
        let (nb, _, hc, wc) = out.score.value.nchw
        precondition(b >= 0 && b < nb, "extract: batch index \(b) outside 0..<\(nb)")
        let (fb, d, fh, fw) = out.feat.value.nchw
        precondition(fb == nb && fh == hc && fw == wc,
                     "extract: needs eval-mode descriptors (B,D,\(hc),\(wc)), got \(out.feat.shape); run the net with training: false")
        let plane = hc * wc
        return fromDense(score: out.score.value.data + b * plane, coord: out.coord.value.data + b * 2 * plane,
                         descriptors: out.feat.value.data + b * d * plane, cellsHigh: hc, cellsWide: wc, dimension: d,
                         threshold: threshold)
    }
}
