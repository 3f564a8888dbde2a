// Brute-force descriptor matching in L2 (as cv2.BFMatcher(NORM_L2)), distances accumulated in float64.

public enum DescriptorMatching {
    /// Squared L2 distances, row-major (a.count x b.count).
    public static func squaredDistances(_ a: KeypointSet, _ b: KeypointSet) -> [Double] {
        precondition(a.dimension == b.dimension, "descriptor dimensions differ: \(a.dimension) vs \(b.dimension)")
        let d = a.dimension, n = a.count, m = b.count
        var out = [Double](repeating: 0, count: n * m)
        a.descriptors.withUnsafeBufferPointer { pa in
            b.descriptors.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { po in
                    for i in 0..<n {
                        let ra = pa.baseAddress! + i * d
                        for j in 0..<m {
                            let rb = pb.baseAddress! + j * d
                            var s = 0.0
                            for k in 0..<d { let t = Double(ra[k]) - Double(rb[k]); s += t * t }
                            po[i * m + j] = s
                        }
                    }
                }
            }
        }
        return out
    }

    /// For each row of `a`, the index of its nearest row of `b` (first on ties); -1 if `b` is empty.
    public static func nearest(_ a: KeypointSet, _ b: KeypointSet) -> [Int] {
        let m = b.count
        guard m > 0 else { return [Int](repeating: -1, count: a.count) }
        let dist = squaredDistances(a, b)
        return (0..<a.count).map { i in
            var best = 0
            for j in 1..<m where dist[i * m + j] < dist[i * m + best] { best = j }
            return best
        }
    }

    /// Cross-checked matches (i, j): j is i's nearest in b and i is j's nearest in a. Ordered by i.
    public static func mutualNearest(_ a: KeypointSet, _ b: KeypointSet) -> [(Int, Int)] {
        let n = a.count, m = b.count
        guard n > 0, m > 0 else { return [] }
        let dist = squaredDistances(a, b)
        var bestForB = [Int](repeating: 0, count: m)
        for j in 0..<m {
            for i in 1..<n where dist[i * m + j] < dist[bestForB[j] * m + j] { bestForB[j] = i }
        }
        var out = [(Int, Int)]()
        for i in 0..<n {
            var best = 0
            for j in 1..<m where dist[i * m + j] < dist[i * m + best] { best = j }
            if bestForB[best] == i { out.append((i, best)) }
        }
        return out
    }
}
