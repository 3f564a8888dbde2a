// Turning KeypointNet's dense eval outputs into the point lists the metrics take.

extension KeypointSet {
    /// As the official evaluate_keypoint_net: cells in raster order (i * Wc + j), keep every cell whose score is
    /// > `threshold` (0: no NMS, the zero-score border ring drops out).
    /// score: Hc*Wc, coord: 2*Hc*Wc (channel 0 = x, then y), descriptors: D*Hc*Wc channel-major (one image of
    /// the (1,D,Hc,Wc) eval output). The descriptors are transposed to one row per kept point.
    public static func fromDense(score: [Float], coord: [Float], descriptors: [Float], cellsHigh hc: Int, cellsWide wc: Int,
                                 dimension d: Int, threshold: Float = 0) -> KeypointSet {
        let n = hc * wc
        precondition(score.count == n && coord.count == 2 * n && descriptors.count == d * n,
                     "fromDense: expected score \(n), coord \(2 * n), descriptors \(d * n) values; got \(score.count), \(coord.count), \(descriptors.count)")
        var kps = [Keypoint](), desc = [Float]()
        descriptors.withUnsafeBufferPointer { dp in
            for i in 0..<n where score[i] > threshold {
                kps.append(Keypoint(x: coord[i], y: coord[n + i], score: score[i]))
                for c in 0..<d { desc.append(dp[c * n + i]) }
            }
        }
        return KeypointSet(keypoints: kps, descriptors: desc, dimension: d)
    }
}
