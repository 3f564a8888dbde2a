import Foundation

// Robust homography estimation, modelled on OpenCV's findHomography(method: RANSAC):
// random minimal samples of 4 with an orientation check, inliers by forward reprojection error,
// adaptive iteration count, then a least-squares fit on the inliers refined by Levenberg-Marquardt.

public struct RANSACOptions: Sendable, Equatable {
    /// Maximum forward reprojection error (pixels) of an inlier: |H p - q| <= threshold.
    public var threshold: Double = 3
    public var maxIterations: Int = 5000
    /// Confidence of the adaptive stopping rule (OpenCV's default 0.995).
    public var confidence: Double = 0.995
    /// Refit on the inliers and refine with Levenberg-Marquardt (as findHomography does).
    public var refine: Bool = true
    public init(threshold: Double = 3, maxIterations: Int = 5000, confidence: Double = 0.995, refine: Bool = true) {
        self.threshold = threshold; self.maxIterations = maxIterations; self.confidence = confidence; self.refine = refine
    }
}

public struct RANSACResult: Sendable {
    /// Estimated homography, h33 = 1.
    public var homography: Homography
    /// Inlier mask of the best sample's consensus set (as OpenCV's mask).
    public var inliers: [Bool]
    public var inlierCount: Int { inliers.reduce(0) { $0 + ($1 ? 1 : 0) } }
    /// Number of sampling iterations run.
    public var iterations: Int
}

public enum RANSAC {
    /// Estimate the homography mapping src[i] -> dst[i]. nil with fewer than 4 correspondences, or when no
    /// non-degenerate sample exists (then OpenCV returns an empty matrix too).
    /// With exactly 4 correspondences the model is fitted directly, as OpenCV does.
    public static func findHomography<R: RandomNumberGenerator>(
        from src: [Point2], to dst: [Point2], options: RANSACOptions = RANSACOptions(), rng: inout R
    ) -> RANSACResult? {
        let n = src.count
        precondition(dst.count == n, "findHomography: \(n) source points but \(dst.count) target points")
        guard n >= 4 else { return nil }
        if n == 4 {
            guard let h = DLT.leastSquares(from: src, to: dst) else { return nil }
            return RANSACResult(homography: h, inliers: [Bool](repeating: true, count: 4), iterations: 0)
        }
        let thr2 = options.threshold * options.threshold
        var best: Homography? = nil
        var bestMask = [Bool](repeating: false, count: n)
        var bestCount = 0
        var niters = options.maxIterations
        var iter = 0
        var mask = [Bool](repeating: false, count: n)
        while iter < niters {
            guard let idx = sampleSubset(src, dst, rng: &rng) else {
                if iter == 0 { return nil }
                break
            }
            iter += 1
            guard let h = DLT.minimal(from: idx.map { src[$0] }, to: idx.map { dst[$0] }) else { continue }
            let count = findInliers(h, src, dst, thr2: thr2, mask: &mask)
            if count > max(bestCount, 3) {
                best = h
                bestCount = count
                bestMask = mask
                niters = updateNumIters(confidence: options.confidence, outlierRatio: Double(n - count) / Double(n),
                                        modelPoints: 4, maxIters: niters)
            }
        }
        guard var h = best else { return nil }
        if options.refine {
            let inSrc = (0..<n).filter { bestMask[$0] }.map { src[$0] }
            let inDst = (0..<n).filter { bestMask[$0] }.map { dst[$0] }
            if let fit = DLT.leastSquares(from: inSrc, to: inDst) { h = fit }
            h = refineLM(h, inSrc, inDst, iterations: 10)
        }
        return RANSACResult(homography: h.normalized(), inliers: bestMask, iterations: iter)
    }

    /// Count points with squared forward error <= thr2, filling mask.
    static func findInliers(_ h: Homography, _ src: [Point2], _ dst: [Point2], thr2: Double, mask: inout [Bool]) -> Int {
        var count = 0
        for i in 0..<src.count {
            let e2 = squaredError(h, src[i], dst[i])
            let ok = e2 <= thr2
            mask[i] = ok
            if ok { count += 1 }
        }
        return count
    }

    @inline(__always) static func squaredError(_ h: Homography, _ p: Point2, _ q: Point2) -> Double {
        let m = h.m
        let w = m[6] * p.x + m[7] * p.y + m[8]
        let ww = w != 0 ? 1 / w : 0
        let dx = (m[0] * p.x + m[1] * p.y + m[2]) * ww - q.x
        let dy = (m[3] * p.x + m[4] * p.y + m[5]) * ww - q.y
        let e = dx * dx + dy * dy
        return e.isNaN ? .infinity : e
    }

    /// OpenCV's RANSACUpdateNumIters.
    public static func updateNumIters(confidence p: Double, outlierRatio ep: Double, modelPoints: Int, maxIters: Int) -> Int {
        let pc = max(min(p, 1), 0), epc = max(min(ep, 1), 0)
        var num = max(1 - pc, Double.leastNormalMagnitude)
        var denom = 1 - pow(1 - epc, Double(modelPoints))
        if denom < Double.leastNormalMagnitude { return 0 }
        num = log(num)
        denom = log(denom)
        return (denom >= 0 || -num >= Double(maxIters) * -denom) ? maxIters : Int((num / denom).rounded())
    }

    /// Draw 4 distinct indices whose configuration passes the orientation check (up to 1000 attempts).
    static func sampleSubset<R: RandomNumberGenerator>(_ src: [Point2], _ dst: [Point2], rng: inout R) -> [Int]? {
        let n = src.count
        for _ in 0..<1000 {
            var idx = [Int]()
            while idx.count < 4 {
                let k = Int(rng.next(upperBound: UInt64(n)))
                if !idx.contains(k) { idx.append(k) }
            }
            if subsetIsValid(idx.map { src[$0] }, idx.map { dst[$0] }) { return idx }
        }
        return nil
    }

    /// OpenCV's homography checkSubset: the four triangles keep their orientation between the two sets,
    /// and (older OpenCV) no three points of either set are collinear.
    static func subsetIsValid(_ a: [Point2], _ b: [Point2]) -> Bool {
        let tt = [(0, 1, 2), (1, 2, 3), (0, 2, 3), (0, 1, 3)]
        var negative = 0
        for (i, j, k) in tt {
            let da = orient(a[i], a[j], a[k]), db = orient(b[i], b[j], b[k])
            if Swift.abs(da) < 1e-9 || Swift.abs(db) < 1e-9 { return false }
            if da * db < 0 { negative += 1 }
        }
        return negative == 0 || negative == 4
    }

    @inline(__always) static func orient(_ p: Point2, _ q: Point2, _ r: Point2) -> Double {
        (q.x - p.x) * (r.y - p.y) - (q.y - p.y) * (r.x - p.x)
    }

    /// Levenberg-Marquardt on the 8 parameters (h33 = 1) minimising the sum of squared forward errors.
    public static func refineLM(_ h0: Homography, _ src: [Point2], _ dst: [Point2], iterations: Int) -> Homography {
        var h = Array(h0.normalized().m.prefix(8))
        guard src.count >= 4, h.allSatisfy({ $0.isFinite }) else { return h0 }
        func cost(_ p: [Double]) -> Double {
            let hh = Homography(p + [1])
            return zip(src, dst).reduce(0) { $0 + squaredError(hh, $1.0, $1.1) }
        }
        var current = cost(h)
        var lambda = 1e-3
        for _ in 0..<iterations {
            var jtj = [Double](repeating: 0, count: 64), jtr = [Double](repeating: 0, count: 8)
            for (p, q) in zip(src, dst) {
                let w = h[6] * p.x + h[7] * p.y + 1
                if w == 0 { continue }
                let u = (h[0] * p.x + h[1] * p.y + h[2]) / w, v = (h[3] * p.x + h[4] * p.y + h[5]) / w
                let ju: [Double] = [p.x / w, p.y / w, 1 / w, 0, 0, 0, -p.x * u / w, -p.y * u / w]
                let jv: [Double] = [0, 0, 0, p.x / w, p.y / w, 1 / w, -p.x * v / w, -p.y * v / w]
                let ru = u - q.x, rv = v - q.y
                for r in 0..<8 {
                    jtr[r] += ju[r] * ru + jv[r] * rv
                    for c in 0..<8 { jtj[8 * r + c] += ju[r] * ju[c] + jv[r] * jv[c] }
                }
            }
            var improved = false
            for _ in 0..<10 {
                var a = jtj
                for d in 0..<8 { a[9 * d] += lambda * max(jtj[9 * d], 1e-12) }
                guard let delta = LinearAlgebra.solve(a, jtr.map { -$0 }, n: 8) else { lambda *= 10; continue }
                let cand = zip(h, delta).map { $0 + $1 }
                let c = cost(cand)
                if c < current {
                    h = cand; current = c; lambda = max(lambda / 10, 1e-12); improved = true
                    break
                }
                lambda *= 10
            }
            if !improved || current < 1e-20 { break }
        }
        return Homography(h + [1])
    }
}

/// Corner error as in the official compute_homography.
public enum CornerError {
    /// The 4 corners (0,0), (0,H-1), (W-1,0), (W-1,H-1) of a W x H image.
    public static func corners(width: Int, height: Int) -> [Point2] {
        let w = Double(width - 1), h = Double(height - 1)
        return [Point2(0, 0), Point2(0, h), Point2(w, 0), Point2(w, h)]
    }

    /// Mean L2 distance between the corners warped by `estimate` and by `truth` (divide by w').
    public static func meanCornerError(estimate: Homography, truth: Homography, width: Int, height: Int) -> Double {
        let cs = corners(width: width, height: height)
        return cs.reduce(0) { $0 + estimate.apply($1).distance(to: truth.apply($1)) } / 4
    }
}
