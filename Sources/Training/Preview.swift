import Datasets
import Evaluation
import Foundation
import Geometry
import KP2D
import TensorEngine

// The preview pane's data: batch element 0 (target image, warped source image, true H in pixels) with its
// keypoints and matches, and match statistics for the pair and averaged over recent steps. Computed by the
// trainer from the step's loss evaluation, after backward and before the graph is reset.

/// Batch element 0 of a step, for the preview: keypoints in pixels, descriptor matches judged against the
/// true warp, and IO-Net's confusion counts.
public struct PairDiagnostics: Sendable {
    public var sourceKeypoints: [Keypoint] = []
    public var targetKeypoints: [Keypoint] = []
    /// Descriptor nearest-neighbour matches source -> target with whether the target lies < 4 px from the truth.
    public var matches: [Match] = []
    /// IO-Net predictions on the 300 IO points: predicted inlier (pred > 0) vs label.
    public var ioTruePositives = 0, ioFalsePositives = 0, ioFalseNegatives = 0
    /// Where each source keypoint lands in the target under the true homography (pixels), same order
    /// as `sourceKeypoints`.
    public var sourceKeypointsWarped: [Point2] = []
    public init() {}

    /// Number of keypoints shown per image in the preview (the official visualisation's top_k2).
    public static let keypointsShown = 300

    /// Batch element 0 of a loss evaluation: the highest-score keypoints of both images, descriptor
    /// nearest-neighbour matches source -> target judged against the true warp (< 4 px, the loss's association
    /// radius), and the IO-Net confusion counts. Runs graph ops without recording.
    public static func of(_ e: KP2DLossEvaluation, _ g: Graph) -> PairDiagnostics {
        let x = e.inputs, c = e.correspondences, io = e.io
        return g.noGrad {
            var out = PairDiagnostics()
            let n = x.cells
            let k = Swift.min(keypointsShown, n)
            let ss = x.source.score.value.data, ts = x.target.score.value.data
            let sc = x.source.coord.value.data, tc = x.target.coord.value.data
            let wp = c.warpedUV.value.data
            let srcCells = TensorOps.topK(UnsafePointer(ss), count: n, k: k, largest: true)
            let tgtCells = TensorOps.topK(UnsafePointer(ts), count: n, k: k, largest: true)
            out.sourceKeypoints = srcCells.map { Keypoint(x: sc[$0], y: sc[n + $0], score: ss[$0]) }
            out.targetKeypoints = tgtCells.map { Keypoint(x: tc[$0], y: tc[n + $0], score: ts[$0]) }
            out.sourceKeypointsWarped = srcCells.map { Point2(Double(wp[$0]), Double(wp[n + $0])) }

            // Descriptors of image 0 at the chosen cells: (1,D,1,k), unit length.
            func descriptors(_ feat: Variable, _ uv: Variable, _ cells: [Int]) -> Variable {
                var idx = [Int]()
                for cell in cells { idx.append(cell * 2); idx.append(cell * 2 + 1) }
                let grid = g.reshape(g.gather(uv, flatIndices: idx), [1, 1, cells.count, 2])
                let first = g.slice(feat, axis: 0, range: 0..<1)
                return g.reshape(g.l2Normalize(g.gridSample(first, grid: grid)), [feat.shape[1], cells.count])
            }
            let ds = descriptors(x.source.feat, c.sourceUVNorm, srcCells)
            let dt = descriptors(x.target.feat, c.targetUVNorm, tgtCells)
            let nearest = g.min(g.descriptorDistance(ds, dt), axis: 1).indices
            for (i, j) in nearest.enumerated() {
                let t = out.targetKeypoints[j], srcCell = srcCells[i]
                let dx = t.x - wp[srcCell], dy = t.y - wp[n + srcCell]   // float32, as the loss associates
                out.matches.append(Match(source: i, target: j, correct: (dx * dx + dy * dy).squareRoot() < KP2DLoss.associationRadius))
            }

            let kIO = io.label.count / Swift.max(x.batch, 1)
            for i in 0..<kIO {
                let predicted = io.prediction[i] > 0, truth = io.label[i] > 0
                if predicted && truth { out.ioTruePositives += 1 }
                if predicted && !truth { out.ioFalsePositives += 1 }
                if !predicted && truth { out.ioFalseNegatives += 1 }
            }
            return out
        }
    }
}

public enum PreviewBuilder {
    /// `homography` (normalised source -> target) re-expressed on pixels of the W x H training images.
    public static func makePreview(step: Int, pair: TrainingPair, diagnostics d: PairDiagnostics, terms: LossTerms,
                                   rng: inout SeededRandom) -> PairPreview {
        let w = pair.image.width, h = pair.image.height
        let hp = NormalizedCoordinates.pixelHomography(pair.homography, width: w, height: h)
        let stats = matchStats(source: d.sourceKeypoints, target: d.targetKeypoints, matches: d.matches, truth: hp,
                               width: w, height: h, diagnostics: d, terms: terms, rng: &rng)
        return PairPreview(step: step, pair: JudgedPair(source: pair.imageAug, target: pair.image, sourceKeypoints: d.sourceKeypoints,
                                                         targetKeypoints: d.targetKeypoints, matches: d.matches, homography: hp),
                           stats: stats)
    }

    /// Statistics of one pair. Repeatability and localisation error as the official HPatches metric (3 px,
    /// source -> target); corner error of a RANSAC homography from the descriptor matches against the truth.
    public static func matchStats(source: [Keypoint], target: [Keypoint], matches: [Match], truth: Homography,
                                  width: Int, height: Int, diagnostics d: PairDiagnostics, terms: LossTerms,
                                  rng: inout SeededRandom) -> MatchStats {
        var s = MatchStats()
        s.keypoints = Double(source.count + target.count) / 2
        s.matches = Double(matches.count)
        s.correctMatches = Double(matches.filter { $0.correct }.count)
        s.descriptorRecall = Double(terms.recall)
        let tp = Double(d.ioTruePositives), fp = Double(d.ioFalsePositives), fn = Double(d.ioFalseNegatives)
        if tp + fp > 0 { s.ioPrecision = tp / (tp + fp) }
        if tp + fn > 0 { s.ioRecall = tp / (tp + fn) }
        if !source.isEmpty && !target.isEmpty {
            let pair = EvaluationPair(first: KeypointSet(keypoints: source), second: KeypointSet(keypoints: target),
                                      homography: truth, width: width, height: height)
            let rep = HPatchesMetrics.repeatability(pair, topK: max(source.count, target.count))
            s.repeatability = rep.repeatability
            s.localizationError = rep.localizationError ?? .nan
        }
        let valid = matches.filter { $0.source < source.count && $0.target < target.count }
        if valid.count >= 4 {
            let a = valid.map { source[$0.source].point }
            let b = valid.map { target[$0.target].point }
            var options = RANSACOptions(); options.maxIterations = 1000
            if let r = RANSAC.findHomography(from: a, to: b, options: options, rng: &rng) {
                s.cornerError = CornerError.meanCornerError(estimate: r.homography, truth: truth, width: width, height: height)
            }
        }
        return s
    }

    /// Field-wise mean over the stats, each field ignoring NaN values (NaN if all are NaN); the corner error is
    /// the median instead: one near-degenerate RANSAC estimate among the recent pairs has a corner error of
    /// thousands of pixels (a 48,000 px mean was seen at step 600 of the fast preset), which would hide the others.
    public static func average(_ all: [MatchStats]) -> MatchStats {
        func mean(_ f: (MatchStats) -> Double) -> Double {
            let v = all.map(f).filter { !$0.isNaN }
            return v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count)
        }
        func median(_ f: (MatchStats) -> Double) -> Double {
            let v = all.map(f).filter { !$0.isNaN }.sorted()
            if v.isEmpty { return .nan }
            return v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
        }
        var m = MatchStats()
        m.keypoints = mean { $0.keypoints }; m.matches = mean { $0.matches }
        m.correctMatches = mean { $0.correctMatches }; m.repeatability = mean { $0.repeatability }
        m.localizationError = mean { $0.localizationError }; m.descriptorRecall = mean { $0.descriptorRecall }
        m.ioPrecision = mean { $0.ioPrecision }; m.ioRecall = mean { $0.ioRecall }
        m.cornerError = median { $0.cornerError }
        return m
    }
}
