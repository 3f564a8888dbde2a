import Foundation
import Geometry
import KP2D
import Evaluation
import TensorEngine

// Handlers for the `homography.dlt` and `eval.metrics` fixtures (README sections 3.6 and 3.7).

public enum EvalFixtures {
    /// 4-point DLT cases (float64 solve from float32 points) and the official float32 batch warp.
    static func homographyDLT(_ f: Fixture, _ report: FixtureReport) throws {
        let p1 = try f.stored("in.pts1"), p2 = try f.stored("in.pts2")
        let n = p1.shape[0]
        let a = p1.floats, b = p2.floats
        var hs = [Float]()
        for i in 0..<n {
            let src = (0..<4).map { k in Point2(Double(a[i * 8 + 2 * k]), Double(a[i * 8 + 2 * k + 1])) }
            let dst = (0..<4).map { k in Point2(Double(b[i * 8 + 2 * k]), Double(b[i * 8 + 2 * k + 1])) }
            guard let h = DLT.fourPoint(from: src, to: dst) else {
                report.fail("out.H", "case \(i): DLT system is singular"); return
            }
            hs += h.floats
        }
        report.check("out.H", hs)

        let wh = try f.stored("in.warp.homography"), wp = try f.stored("in.warp.points")
        let cases = wh.shape[0], perCase = wp.count / cases
        let hv = wh.floats, pv = wp.floats
        var warped = [Float]()
        for i in 0..<cases {
            warped += PointWarp.warpBatchFloat(points: Array(pv[(i * perCase)..<((i + 1) * perCase)]),
                                               homography: Array(hv[(i * 9)..<(i * 9 + 9)]))
        }
        report.check("out.warp.points", warped)
    }

    /// The (N,3) points and (N,D) descriptors of one side of an eval.metrics pair.
    public static func keypointSet(_ f: Fixture, points: String, descriptors: String) throws -> KeypointSet {
        let p = try f.stored(points), d = try f.stored(descriptors)
        let pv = p.floats
        let kps = (0..<p.shape[0]).map { Keypoint(x: pv[3 * $0], y: pv[3 * $0 + 1], score: pv[3 * $0 + 2]) }
        return KeypointSet(keypoints: kps, descriptors: d.floats, dimension: d.shape[1])
    }

    /// The official metrics on the stored pairs. c1/c3/c5 and corner_error are compared only on pairs whose
    /// RANSAC outcome is robust (corner_error_near_threshold == 0; corner_error also needs an estimate).
    static func evalMetrics(_ f: Fixture, _ report: FixtureReport) throws {
        let shape = f.config["image_shape"]?.ints ?? []
        guard shape.count == 2 else { throw FixtureError.failed(path: f.path, reason: "config.image_shape missing") }
        let width = shape[0], height = shape[1]
        let topK = f.config["keep_k_points"]?.int ?? 300
        let thresh = f.config["distance_thresh"]?.double ?? 3
        let numPairs = f.config["num_pairs"]?.int ?? f.names(prefix: "in.").filter { $0.hasSuffix(".homography") }.count
        var rng = SeededRandom(seed: 2020)
        var rep = [Float](), loc = [Float](), ms = [Float](), c1 = [Float](), c3 = [Float](), c5 = [Float](), ce = [Float]()
        var n1 = [Int64](), n2 = [Int64](), nm = [Int64](), est = [Int64]()
        for i in 0..<numPairs {
            let p = String(format: "in.p%02d", i)
            let pair = EvaluationPair(first: try keypointSet(f, points: "\(p).prob", descriptors: "\(p).desc"),
                                      second: try keypointSet(f, points: "\(p).warped_prob", descriptors: "\(p).warped_desc"),
                                      homography: Homography(float: try f.stored("\(p).homography").floats),
                                      width: width, height: height)
            let m = HPatchesMetrics.evaluate(pair, topK: topK, distanceThreshold: thresh, rng: &rng)
            rep.append(Float(m.repeatability.repeatability))
            loc.append(Float(m.repeatability.localizationError ?? .nan))
            ms.append(Float(m.matchingScore))
            c1.append(Float(m.homography.c1)); c3.append(Float(m.homography.c3)); c5.append(Float(m.homography.c5))
            ce.append(Float(m.homography.cornerError ?? -1))
            n1.append(Int64(m.repeatability.n1)); n2.append(Int64(m.repeatability.n2))
            nm.append(Int64(m.homography.matches)); est.append(m.homography.estimated ? 1 : 0)
        }
        report.check("out.repeatability", rep)
        report.check("out.localization_error", loc)
        report.check("out.matching_score", ms)
        report.checkExact("out.N1", n1)
        report.checkExact("out.N2", n2)
        report.checkExact("out.num_crosscheck_matches", nm)
        report.checkExact("out.homography_estimated", est)

        let flagged = try f.stored("out.corner_error_near_threshold").ints
        let expEst = try f.stored("out.homography_estimated").ints
        let robust = (0..<numPairs).filter { flagged[$0] == 0 }
        let withEstimate = robust.filter { expEst[$0] == 1 }
        func checkSubset(_ name: String, _ actual: [Float], _ idx: [Int]) throws {
            let e = try f.stored(name).floats
            var r = Comparison.compare(name: name, actual: idx.map { actual[$0] }, expected: idx.map { e[$0] }, rule: f.rule(for: name))
            r.note = "on \(idx.count)/\(numPairs) robust pairs" + (r.note.isEmpty ? "" : "; " + r.note)
            report.add(r)
        }
        try checkSubset("out.c1", c1, robust)
        try checkSubset("out.c3", c3, robust)
        try checkSubset("out.c5", c5, robust)
        try checkSubset("out.corner_error", ce, withEstimate)

        func mean(_ v: [Float]) -> Float { Float(v.reduce(0.0) { $0 + Double($1) } / Double(max(v.count, 1))) }
        report.check("out.mean_repeatability", [mean(rep)])
        report.check("out.mean_localization_error", [mean(loc)])
        report.check("out.mean_matching_score", [mean(ms)])
        // The mean correctness includes the flagged pairs; compare it only when our flagged pairs agree.
        let e1 = try f.stored("out.c1").floats, e3 = try f.stored("out.c3").floats, e5 = try f.stored("out.c5").floats
        var flaggedAgree = true
        for i in 0..<numPairs where flagged[i] != 0 {
            if c1[i] != e1[i] || c3[i] != e3[i] || c5[i] != e5[i] { flaggedAgree = false }
        }
        if flaggedAgree {
            report.check("out.mean_c1", [mean(c1)])
            report.check("out.mean_c3", [mean(c3)])
            report.check("out.mean_c5", [mean(c5)])
        }
    }
}
