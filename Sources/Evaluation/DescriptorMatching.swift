import KP2D

// Brute-force descriptor matching in L2 (as cv2.BFMatcher(NORM_L2)), distances accumulated in float64.

public enum DescriptorMatching {
    /// Squared L2 distances, row-major (a.count x b.count), accumulated in float64.
    public static func squaredDistances(_ a: KeypointSet, _ b: KeypointSet) -> [Double] {
        precondition(a.dimension == b.dimension, "descriptor dimensions differ: \(a.dimension) vs \(b.dimension)")
        let d = a.dimension, n = a.count, m = b.count
        let da = a.descriptors.map(Double.init), db = b.descriptors.map(Double.init)
        var out = [Double](repeating: 0, count: n * m)
        da.withUnsafeBufferPointer { pa in
            db.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { po in
                    for i in 0..<n {
                        let ra = pa.baseAddress! + i * d
                        for j in 0..<m {
                            let rb = pb.baseAddress! + j * d
                            // Four partial sums so the loop vectorises.
                            var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
                            var k = 0
                            while k + 4 <= d {
                                let t0 = ra[k] - rb[k], t1 = ra[k + 1] - rb[k + 1], t2 = ra[k + 2] - rb[k + 2], t3 = ra[k + 3] - rb[k + 3]
                                s0 += t0 * t0; s1 += t1 * t1; s2 += t2 * t2; s3 += t3 * t3
                                k += 4
                            }
                            while k < d { let t = ra[k] - rb[k]; s0 += t * t; k += 1 }
                            po[i * m + j] = (s0 + s1) + (s2 + s3)
                        }
                    }
                }
            }
        }
        return out
    }

    /// Nearest neighbours in both directions from one distance matrix: for each row of `a` its nearest row of
    /// `b`, and for each row of `b` its nearest row of `a` (first index on ties; -1 when the other set is empty).
    public static func nearestBothWays(_ a: KeypointSet, _ b: KeypointSet) -> (aToB: [Int], bToA: [Int]) {
        let n = a.count, m = b.count
        guard n > 0, m > 0 else { return ([Int](repeating: -1, count: n), [Int](repeating: -1, count: m)) }
        let dist = squaredDistances(a, b)
        var aToB = [Int](repeating: 0, count: n), bToA = [Int](repeating: 0, count: m)
        dist.withUnsafeBufferPointer { p in
            for i in 0..<n {
                var best = 0
                for j in 1..<max(m, 1) where p[i * m + j] < p[i * m + best] { best = j }
                aToB[i] = best
            }
            for j in 0..<m {
                var best = 0
                for i in 1..<max(n, 1) where p[i * m + j] < p[best * m + j] { best = i }
                bToA[j] = best
            }
        }
        return (aToB, bToA)
    }

    /// For each row of `a`, the index of its nearest row of `b` (first on ties); -1 if `b` is empty.
    public static func nearest(_ a: KeypointSet, _ b: KeypointSet) -> [Int] { nearestBothWays(a, b).aToB }

    /// Cross-checked matches (i, j): j is i's nearest in b and i is j's nearest in a. Ordered by i.
    public static func mutualNearest(_ a: KeypointSet, _ b: KeypointSet) -> [(Int, Int)] {
        let (ab, ba) = nearestBothWays(a, b)
        return ab.enumerated().compactMap { i, j in j >= 0 && ba[j] == i ? (i, j) : nil }
    }
}
