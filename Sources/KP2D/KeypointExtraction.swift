import TensorEngine

/// One detected keypoint in input-image pixels.
public struct DetectedKeypoint: Sendable, Equatable, Codable {
    public var x: Float
    public var y: Float
    public var score: Float
    public init(x: Float, y: Float, score: Float) { self.x = x; self.y = y; self.score = score }
}

/// Keypoints of one image with their descriptors (row i of `descriptors` belongs to keypoint i).
public struct KeypointDetections: Sendable, Equatable {
    public var keypoints: [DetectedKeypoint]
    /// (N, descriptorDim) row-major.
    public var descriptors: [Float]
    public var descriptorDim: Int

    public func descriptor(_ i: Int) -> ArraySlice<Float> { descriptors[(i * descriptorDim)..<((i + 1) * descriptorDim)] }
}

public enum KeypointExtraction {
    /// From an eval-mode output: the cells of image `batchIndex` with score > `threshold` (the official
    /// evaluation uses 0, which drops the zero-score border ring), ordered by score descending (ties keep
    /// raster order), at most `topK` of them. Descriptors are the sampled, L2-normalised eval features.
    public static func extract(_ out: KeypointNetOutput, batchIndex b: Int = 0, topK: Int? = nil,
                               threshold: Float = 0) -> KeypointDetections {
        let (nb, _, hc, wc) = out.score.value.nchw
        precondition(b >= 0 && b < nb, "extract: batch index \(b) outside 0..<\(nb)")
        let (fb, d, fh, fw) = out.feat.value.nchw
        precondition(fb == nb && fh == hc && fw == wc,
                     "extract: needs eval-mode descriptors (B,D,\(hc),\(wc)), got \(out.feat.shape); run the net with training: false")
        let plane = hc * wc
        let score = out.score.value.data + b * plane
        let coord = out.coord.value.data + b * 2 * plane
        let feat = out.feat.value.data + b * d * plane
        var cells: [Int] = []
        for p in 0..<plane where score[p] > threshold { cells.append(p) }
        // Stable sort: descending score, raster order among equal scores.
        cells = cells.enumerated().sorted { a, c in
            score[a.element] != score[c.element] ? score[a.element] > score[c.element] : a.offset < c.offset
        }.map { $0.element }
        if let k = topK, k >= 0, cells.count > k { cells = Array(cells.prefix(k)) }
        var keypoints: [DetectedKeypoint] = []
        keypoints.reserveCapacity(cells.count)
        var descriptors = [Float](repeating: 0, count: cells.count * d)
        descriptors.withUnsafeMutableBufferPointer { dst in
            for (i, p) in cells.enumerated() {
                keypoints.append(DetectedKeypoint(x: coord[p], y: coord[plane + p], score: score[p]))
                for c in 0..<d { dst[i * d + c] = feat[c * plane + p] }
            }
        }
        return KeypointDetections(keypoints: keypoints, descriptors: descriptors, descriptorDim: d)
    }
}
