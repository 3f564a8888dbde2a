import Datasets
import Evaluation
import Foundation
import KP2D
import TensorEngine

/// `kp2d-tui bench --only hpatches`: the whole HPatches evaluation (load, detect both images, metrics) per
/// pair at 240x320 with a paper-width KeypointNet (random weights: the time does not depend on them much,
/// except through the number of keypoints, which top-K bounds).
public struct HPatchesEvalBenchSection: BenchSection {
    /// HPatches-format folder (the bundled sample-data/hpatches); nil makes the section report that it has no data.
    public var root: String?
    public var config: KeypointNetConfig
    public init(root: String?, config: KeypointNetConfig = .paper) { self.root = root; self.config = config }
    public var name: String { "hpatches" }
    public var abstract: String { "HPatches evaluation time per pair at 240x320 (top 300), paper widths, on sample-data/hpatches" }

    public func run(_ context: BenchContext) throws -> BenchReport {
        guard let root else {
            return BenchReport(section: name, notes: ["skipped: no sample-data/hpatches found (run from the repository)"])
        }
        let dataset = try HPatchesDataset(root: root)
        var rng = SeededRandom(seed: 0)
        let net = KeypointNet(config: config, rng: &rng)
        let settings = HPatchesEvalSettings.official240
        let start = Date()
        let report = try HPatchesEvaluation.run(dataset: dataset, settings: settings, detect: { KeypointNetDetector.detect(net, $0) })
        let total = Date().timeIntervalSince(start)
        let n = max(report.pairs.count, 1)
        let perPair = report.pairs.map { $0.seconds }.sorted()
        let median = perPair.isEmpty ? .nan : perPair[perPair.count / 2]
        let row = BenchRow([
            ("pairs", .number(Double(report.pairs.count), format: "%.0f")),
            ("size", .text("\(settings.height)x\(settings.width)")),
            ("mean_ms_per_pair", .number(total * 1000 / Double(n), format: "%.1f")),
            ("median_ms_per_pair", .number(median * 1000, format: "%.1f")),
            ("total_s", .number(total, format: "%.2f")),
        ])
        return BenchReport(section: name, rows: [row], summary: [("ms_per_pair", .number(total * 1000 / Double(n), format: "%.1f"))],
                           notes: ["per pair: decode + resize both images, two eval forwards, top-K, repeatability, homography, matching score; \(dataset.root)"])
    }
}
