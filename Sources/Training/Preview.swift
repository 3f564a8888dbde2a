import Datasets
import Evaluation
import Foundation
import Geometry
import KP2D
import TensorEngine

// The preview pane's data: batch element 0 (target image, warped source image, true H in pixels) with the
// step's diagnostics, and match statistics for the pair and averaged over recent steps.

public enum PreviewBuilder {
    /// `homography` (normalised source -> target) re-expressed on pixels of the W x H training images.
    public static func makePreview(step: Int, pair: TrainingPair, diagnostics d: PairDiagnostics, terms: LossTerms,
                                   rng: inout SeededRandom) -> PairPreview {
        let w = pair.image.width, h = pair.image.height
        let hp = NormalizedCoordinates.pixelHomography(pair.homography, width: w, height: h)
        let src = d.sourceKeypoints.map { Keypoint(x: $0.x, y: $0.y, score: $0.score) }
        let tgt = d.targetKeypoints.map { Keypoint(x: $0.x, y: $0.y, score: $0.score) }
        let matches = d.matches.map { Match(source: $0.source, target: $0.target, correct: $0.correct) }
        let stats = matchStats(source: src, target: tgt, matches: matches, truth: hp, width: w, height: h,
                               diagnostics: d, terms: terms, rng: &rng)
        return PairPreview(step: step, source: pair.imageAug, target: pair.image, sourceKeypoints: src,
                           targetKeypoints: tgt, matches: matches, homography: hp.m, stats: stats)
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
        func set(_ k: [Keypoint]) -> KeypointSet {
            KeypointSet(keypoints: k.map { Evaluation.Keypoint(x: $0.x, y: $0.y, score: $0.score) }, descriptors: [], dimension: 0)
        }
        if !source.isEmpty && !target.isEmpty {
            let pair = EvaluationPair(first: set(source), second: set(target), homography: truth, width: width, height: height)
            let rep = HPatchesMetrics.repeatability(pair, topK: max(source.count, target.count))
            s.repeatability = rep.repeatability
            s.localizationError = rep.localizationError ?? .nan
        }
        let valid = matches.filter { $0.source < source.count && $0.target < target.count }
        if valid.count >= 4 {
            let a = valid.map { Point2(Double(source[$0.source].x), Double(source[$0.source].y)) }
            let b = valid.map { Point2(Double(target[$0.target].x), Double(target[$0.target].y)) }
            var options = RANSACOptions(); options.maxIterations = 1000
            if let r = RANSAC.findHomography(from: a, to: b, options: options, rng: &rng) {
                s.cornerError = CornerError.meanCornerError(estimate: r.homography, truth: truth, width: width, height: height)
            }
        }
        return s
    }

    /// Field-wise mean over the stats, each field ignoring NaN values (NaN if all are NaN).
    public static func average(_ all: [MatchStats]) -> MatchStats {
        func mean(_ f: (MatchStats) -> Double) -> Double {
            let v = all.map(f).filter { !$0.isNaN }
            return v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count)
        }
        var m = MatchStats()
        m.keypoints = mean { $0.keypoints }; m.matches = mean { $0.matches }
        m.correctMatches = mean { $0.correctMatches }; m.repeatability = mean { $0.repeatability }
        m.localizationError = mean { $0.localizationError }; m.descriptorRecall = mean { $0.descriptorRecall }
        m.ioPrecision = mean { $0.ioPrecision }; m.ioRecall = mean { $0.ioRecall }
        m.cornerError = mean { $0.cornerError }
        return m
    }
}
