import Geometry
import KP2D

// The official HPatches metrics (compute_repeatability, compute_homography, compute_matching_score) on
// plain arrays, computed in float64 from the float32 inputs as numpy does.
//
// Defined results where the official code is undefined (fixture README section 4):
// * No repeated point (count1 + count2 == 0): the official localization error is 0/0 = NaN. We return
//   `localizationError = nil`; summaries average it over the pairs where it is defined and report how many
//   were left out.
// * No points at all after filtering (N1 + N2 == 0): the official code returns repeatability -1 (which then
//   drags the mean down). We return repeatability 0 and localizationError nil.
// * Empty point sets in compute_homography / compute_matching_score (the official code raises): fewer than 4
//   cross-check matches gives c1 = c3 = c5 = 0 with no estimate; a matching-score direction with no visible
//   match scores 0, exactly as the official max(visible, 1) denominator does for non-empty sets.

public struct RepeatabilityResult: Sendable, Equatable {
    /// Points of image 1 (warped into image 2) and of image 2 kept after the visibility filter and the top-k.
    public var n1: Int
    public var n2: Int
    public var repeatability: Double
    /// Mean distance of the repeated points; nil when no point was repeated (official: NaN).
    public var localizationError: Double?
}

public struct HomographyResult: Sendable, Equatable {
    public var c1: Double
    public var c3: Double
    public var c5: Double
    /// Mean corner error of the estimate, nil when there was no estimate.
    public var cornerError: Double?
    /// Mutual nearest-neighbour matches fed to RANSAC.
    public var matches: Int
    public var estimated: Bool { cornerError != nil }
}

public struct PairMetrics: Sendable, Equatable {
    public var repeatability: RepeatabilityResult
    public var homography: HomographyResult
    public var matchingScore: Double
}

public enum HPatchesMetrics {
    /// All three official metrics for one pair. `rng` drives RANSAC.
    public static func evaluate<R: RandomNumberGenerator>(_ pair: EvaluationPair, topK: Int, distanceThreshold: Double = 3,
                                                          rng: inout R) -> PairMetrics {
        PairMetrics(repeatability: repeatability(pair, topK: topK, distanceThreshold: distanceThreshold),
                    homography: homographyCorrectness(pair, topK: topK, rng: &rng),
                    matchingScore: matchingScore(pair, topK: topK))
    }

    @inline(__always) static func inside(_ p: Point2, _ w: Int, _ h: Int) -> Bool {
        p.x >= 0 && p.x < Double(w) && p.y >= 0 && p.y < Double(h)
    }
    @inline(__always) static func visible(_ p: Point2, _ w: Int, _ h: Int) -> Bool {
        p.x >= 0 && p.x <= Double(w - 1) && p.y >= 0 && p.y <= Double(h - 1)
    }

    // MARK: repeatability

    /// Official compute_repeatability: image-2 points whose H⁻¹ warp is inside [0,W)x[0,H); image-1 points
    /// warped by H and inside; top-k of each; a point counts if its nearest neighbour in the other set is within
    /// `distanceThreshold` (<=).
    public static func repeatability(_ pair: EvaluationPair, topK: Int, distanceThreshold: Double = 3) -> RepeatabilityResult {
        let w = pair.width, h = pair.height
        let hinv = pair.homography.inverse() ?? pair.homography
        // Image 2: keep the points whose H⁻¹ warp lands inside; positions stay in image 2.
        let kept2 = pair.second.keypoints.filter { inside(hinv.apply($0.point), w, h) }
        // Image 1: warp into image 2, keep those inside.
        var warped1 = [Point2](), scores1 = [Float]()
        for k in pair.first.keypoints {
            let q = pair.homography.apply(k.point)
            if inside(q, w, h) { warped1.append(q); scores1.append(k.score) }
        }
        let set1 = KeypointSet.topKIndices(scores: scores1, k: topK).map { warped1[$0] }
        let set2 = KeypointSet.topKIndices(kept2, k: topK).map { kept2[$0].point }
        let n1 = set1.count, n2 = set2.count
        var count1 = 0, count2 = 0
        var le1 = 0.0, le2 = 0.0
        if n1 > 0 && n2 > 0 {
            var min2 = [Double](repeating: .infinity, count: n2)
            for i in 0..<n1 {
                var m = Double.infinity
                for j in 0..<n2 {
                    let d = set1[i].distance(to: set2[j])
                    if d < m { m = d }
                    if d < min2[j] { min2[j] = d }
                }
                if m <= distanceThreshold { count1 += 1; le1 += m }
            }
            for m in min2 where m <= distanceThreshold { count2 += 1; le2 += m }
        }
        guard n1 + n2 > 0 else { return RepeatabilityResult(n1: 0, n2: 0, repeatability: 0, localizationError: nil) }
        let c = count1 + count2
        return RepeatabilityResult(n1: n1, n2: n2, repeatability: Double(c) / Double(n1 + n2),
                                   localizationError: c > 0 ? (le1 + le2) / Double(c) : nil)
    }

    // MARK: homography correctness

    /// Official compute_homography: keep the points whose warp lands inside (H for image 1, H⁻¹ for image 2),
    /// top-k, mutual nearest neighbours in descriptor L2, RANSAC (3 px, 5000 iterations), mean corner error
    /// of the estimate against the truth, c_k = (error <= k).
    public static func homographyCorrectness<R: RandomNumberGenerator>(_ pair: EvaluationPair, topK: Int,
                                                                       ransac: RANSACOptions = RANSACOptions(),
                                                                       rng: inout R) -> HomographyResult {
        let w = pair.width, h = pair.height
        let hinv = pair.homography.inverse() ?? pair.homography
        let s1 = pair.first.subset(pair.first.keypoints.indices.filter { inside(pair.homography.apply(pair.first.keypoints[$0].point), w, h) }).topK(topK)
        let s2 = pair.second.subset(pair.second.keypoints.indices.filter { inside(hinv.apply(pair.second.keypoints[$0].point), w, h) }).topK(topK)
        let matches = DescriptorMatching.mutualNearest(s1, s2)
        guard matches.count >= 4,
              let est = RANSAC.findHomography(from: matches.map { s1.keypoints[$0.0].point },
                                              to: matches.map { s2.keypoints[$0.1].point },
                                              options: ransac, rng: &rng)
        else { return HomographyResult(c1: 0, c3: 0, c5: 0, cornerError: nil, matches: matches.count) }
        let err = CornerError.meanCornerError(estimate: est.homography, truth: pair.homography, width: w, height: h)
        return HomographyResult(c1: err <= 1 ? 1 : 0, c3: err <= 3 ? 1 : 0, c5: err <= 5 ? 1 : 0,
                                cornerError: err, matches: matches.count)
    }

    // MARK: matching score

    /// Official compute_matching_score: top-k of each set without visibility filter; every point takes its
    /// nearest descriptor in the other image; the matched point warped back is visible if inside
    /// [0,W-1]x[0,H-1] and correct if within 3 px (strict). Mean of the two directions' correct/visible.
    public static func matchingScore(_ pair: EvaluationPair, topK: Int) -> Double {
        let w = pair.width, h = pair.height
        let s1 = pair.first.topK(topK), s2 = pair.second.topK(topK)
        let hinv = pair.homography.inverse() ?? pair.homography
        let (nn12, nn21) = DescriptorMatching.nearestBothWays(s1, s2)
        func direction(_ a: KeypointSet, _ b: KeypointSet, _ nn: [Int], _ back: Homography) -> Double {
            var vis = 0, correct = 0
            for (i, j) in nn.enumerated() where j >= 0 {
                let q = back.apply(b.keypoints[j].point)
                guard visible(q, w, h) else { continue }
                vis += 1
                if q.distance(to: a.keypoints[i].point) < 3 { correct += 1 }
            }
            return Double(correct) / Double(max(vis, 1))
        }
        return (direction(s1, s2, nn12, hinv) + direction(s2, s1, nn21, pair.homography)) / 2
    }
}

