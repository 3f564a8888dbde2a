import Datasets
import Foundation
import Geometry
import KP2D
import TensorEngine

// Model-agnostic HPatches evaluation: for every pair (1, k) load both images at the evaluation size, run a
// detector closure on each, and compute the official metrics (HPatchesMetrics).

public struct HPatchesEvalSettings: Sendable, Codable, Equatable {
    public var width: Int
    public var height: Int
    public var topK: Int
    public var split: HPatchesSplit
    public var channelOrder: ChannelOrder
    /// Seed of the RANSAC draws (each pair gets its own stream derived from it and the pair's name, so a pair scores
    /// the same in every split and subset).
    public var seed: UInt64

    public init(width: Int, height: Int, topK: Int, split: HPatchesSplit = .all, channelOrder: ChannelOrder = .bgr, seed: UInt64 = 0) {
        self.width = width; self.height = height; self.topK = topK; self.split = split; self.channelOrder = channelOrder; self.seed = seed
    }

    /// The two official settings of scripts/eval_keypoint_net.py.
    public static let official240 = HPatchesEvalSettings(width: 320, height: 240, topK: 300)
    public static let official480 = HPatchesEvalSettings(width: 640, height: 480, topK: 1000)
}

/// Mean metrics over a set of pairs.
public struct HPatchesSummary: Sendable, Codable, Equatable {
    public var repeatability: Double
    /// Mean over the pairs where it is defined (official: NaN if any pair had no repeated point).
    public var localizationError: Double
    public var c1: Double
    public var c3: Double
    public var c5: Double
    public var matchingScore: Double
    public var pairs: Int
    /// Pairs without any repeated point (left out of the localization-error mean).
    public var pairsWithoutRepeatedPoints: Int
    /// Wall-clock seconds spent on these pairs (loading, detection and metrics).
    public var seconds: Double

    public static func of(_ results: [HPatchesPairRecord]) -> HPatchesSummary {
        let n = Double(max(results.count, 1))
        let locs = results.compactMap { $0.localizationError }
        func mean(_ f: (HPatchesPairRecord) -> Double) -> Double { results.reduce(0) { $0 + f($1) } / n }
        return HPatchesSummary(repeatability: mean { $0.repeatability },
                               localizationError: locs.isEmpty ? .nan : locs.reduce(0, +) / Double(locs.count),
                               c1: mean { $0.c1 }, c3: mean { $0.c3 }, c5: mean { $0.c5 },
                               matchingScore: mean { $0.matchingScore }, pairs: results.count,
                               pairsWithoutRepeatedPoints: results.count - locs.count,
                               seconds: results.reduce(0) { $0 + $1.seconds })
    }
}

public struct HPatchesPairRecord: Sendable, Codable, Equatable {
    public var sequence: String
    public var index: Int
    public var repeatability: Double
    public var localizationError: Double?
    public var c1: Double
    public var c3: Double
    public var c5: Double
    public var cornerError: Double?
    public var matchingScore: Double
    public var keypoints1: Int
    public var keypoints2: Int
    public var matches: Int
    public var seconds: Double
}

public struct HPatchesSequenceRecord: Sendable, Codable, Equatable {
    public var name: String
    public var summary: HPatchesSummary
}

public struct HPatchesEvalReport: Sendable, Codable {
    public var settings: HPatchesEvalSettings
    public var root: String
    public var all: HPatchesSummary
    public var illumination: HPatchesSummary?
    public var viewpoint: HPatchesSummary?
    public var sequences: [HPatchesSequenceRecord]
    public var pairs: [HPatchesPairRecord]
    /// Sequences left out (missing images, malformed H, undecodable files), one line each.
    public var problems: [String]
}

public enum HPatchesEvaluation {
    /// Run `detect` on both images of every pair. `detect` gets an image at the evaluation size in the
    /// settings' channel order (values in [0,1]) and returns keypoints in pixels with descriptors (e.g.
    /// KeypointSet.fromDense of the eval-mode network output: every cell with score > 0, no NMS).
    /// A pair whose image cannot be decoded is reported in `problems` and its whole sequence left out.
    /// `progress(done, total)` is called after each pair; `onPair` gets every evaluated pair's loaded images,
    /// detections and metrics (for viewers that show keypoints and matches); it can be called for early pairs
    /// of a sequence that a later undecodable image then removes from the report.
    /// The RANSAC stream of one pair: FNV-1a of "sequence/index", so it does not depend on which other pairs are
    /// evaluated (`--split v` gives each v_ pair the numbers it has in the whole set).
    public static func pairSeed(_ pair: HPatchesPair) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in "\(pair.sequence)/\(pair.index)".utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    public static func run(dataset: HPatchesDataset, settings: HPatchesEvalSettings,
                           detect: KeypointDetector,
                           onPair: ((HPatchesSample, KeypointSet, KeypointSet, PairMetrics) -> Void)? = nil,
                           progress: ((Int, Int) -> Void)? = nil,
                           shouldStop: (() -> Bool)? = nil) throws -> HPatchesEvalReport {
        let pairs = dataset.pairs.filter { settings.split.includes($0.sequence) }
        var results = [HPatchesPairRecord]()
        var problems = dataset.problems.map { $0.description }
        var badSequences = Set<String>()
        for (n, pair) in pairs.enumerated() {
            // A caller that quits (the browser, validation) stops between pairs: no detector work outlives it.
            if shouldStop?() == true { break }
            defer { progress?(n + 1, pairs.count) }
            if badSequences.contains(pair.sequence) { continue }
            let start = Date()
            let sample: HPatchesSample
            do {
                sample = try dataset.load(pair, width: settings.width, height: settings.height, order: settings.channelOrder)
            } catch {
                problems.append("\(error) (sequence \(pair.sequence) left out)")
                badSequences.insert(pair.sequence)
                continue
            }
            let a = try detect(sample.first), b = try detect(sample.second)
            var rng = SeededRandom(seed: settings.seed &+ pairSeed(pair))
            let m = HPatchesMetrics.evaluate(EvaluationPair(first: a, second: b, homography: sample.homography,
                                                            width: settings.width, height: settings.height),
                                             topK: settings.topK, rng: &rng)
            onPair?(sample, a, b, m)
            results.append(HPatchesPairRecord(sequence: pair.sequence, index: pair.index,
                                              repeatability: m.repeatability.repeatability,
                                              localizationError: m.repeatability.localizationError,
                                              c1: m.homography.c1, c3: m.homography.c3, c5: m.homography.c5,
                                              cornerError: m.homography.cornerError, matchingScore: m.matchingScore,
                                              keypoints1: a.count, keypoints2: b.count, matches: m.homography.matches,
                                              seconds: Date().timeIntervalSince(start)))
        }
        results.removeAll { badSequences.contains($0.sequence) }
        if results.isEmpty { throw HPatchesError.empty(root: dataset.root, split: settings.split, problems: problems) }
        var sequences = [HPatchesSequenceRecord]()
        for name in Array(Set(results.map { $0.sequence })).sorted() {
            sequences.append(HPatchesSequenceRecord(name: name, summary: .of(results.filter { $0.sequence == name })))
        }
        let i = results.filter { $0.sequence.hasPrefix("i") }, v = results.filter { $0.sequence.hasPrefix("v") }
        return HPatchesEvalReport(settings: settings, root: dataset.root, all: .of(results),
                                  illumination: i.isEmpty ? nil : .of(i), viewpoint: v.isEmpty ? nil : .of(v),
                                  sequences: sequences, pairs: results, problems: problems)
    }
}
