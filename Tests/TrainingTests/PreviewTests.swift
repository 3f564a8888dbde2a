import Datasets
import Foundation
import Geometry
import KP2D
import NN
import TensorEngine
import Training
import XCTest

final class PreviewTests: XCTestCase {
    /// The preview's pixel homography (converted from the batch's normalised H) moves every source keypoint
    /// to where the loss warps it, and the statistics are filled in.
    func testPreviewHomographyAgreesWithTheLossWarp() throws {
        let dir = try makeImageFolder(count: 2)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let o = tinyOptions(data: dir)
        let loader = BatchLoader(folder: try ImageFolder(root: dir), augmentation: o.augmentation, batchSize: 2, seed: 4)
        let batch = try loader.makeBatch(step: 0)
        var rng = SeededRandom(seed: 2)
        let model = KP2DModel(config: o.model, rng: &rng)
        let graph = Graph()
        var result = model.loss(image: batch.image, imageAug: batch.imageAug, homography: batch.homography,
                                lossWeights: .official, graph: graph, training: true)
        model.backward(&result, graph: graph)
        let d = PairDiagnostics.of(result, graph)
        let details = result.details
        graph.reset()
        let p = PreviewBuilder.makePreview(step: 1, pair: batch.first, diagnostics: d, terms: result.terms, rng: &rng)
        let h = try XCTUnwrap(p.pair.homography)
        XCTAssertFalse(d.sourceKeypoints.isEmpty)
        XCTAssertEqual(d.sourceKeypoints.count, d.sourceKeypointsWarped.count)
        for (k, w) in zip(d.sourceKeypoints, d.sourceKeypointsWarped) {
            let q = h.apply(k.point)
            XCTAssertEqual(q.x, w.x, accuracy: 1e-2)
            XCTAssertEqual(q.y, w.y, accuracy: 1e-2)
        }
        XCTAssertEqual(d.sourceKeypoints.count, min(300, details.borderMask.count / 2))
        // IO confusion counts of image 0 agree with its labels and predictions.
        let k = details.ioLabel.count / 2
        let labels0 = details.ioLabel.prefix(k), preds0 = details.ioPrediction.prefix(k)
        XCTAssertEqual(d.ioTruePositives + d.ioFalseNegatives, labels0.filter { $0 > 0 }.count)
        XCTAssertEqual(d.ioTruePositives + d.ioFalsePositives, preds0.filter { $0 > 0 }.count)
        // Matches are judged against the warped source keypoints (float32, < 4 px, as the loss associates).
        for m in d.matches.prefix(20) {
            let t = d.targetKeypoints[m.target], w = d.sourceKeypointsWarped[m.source]
            let dx = t.x - Float(w.x), dy = t.y - Float(w.y)
            XCTAssertEqual(m.correct, (dx * dx + dy * dy).squareRoot() < 4)
        }
        XCTAssertEqual(p.pair.source, batch.first.imageAug)
        XCTAssertEqual(p.pair.target, batch.first.image)
        XCTAssertEqual(p.pair.matches.count, d.matches.count)
        XCTAssertEqual(p.stats.correctMatches, Double(d.matches.filter { $0.correct }.count))
        XCTAssertTrue(p.stats.repeatability >= 0 && p.stats.repeatability <= 1)
        XCTAssertEqual(p.stats.descriptorRecall, Double(result.terms.recall), accuracy: 1e-6)

        var a = MatchStats(); a.repeatability = 0.2; a.cornerError = .nan
        var b = MatchStats(); b.repeatability = 0.4; b.cornerError = 3
        let m = PreviewBuilder.average([a, b])
        XCTAssertEqual(m.repeatability, 0.3, accuracy: 1e-12)
        XCTAssertEqual(m.cornerError, 3)
        XCTAssertTrue(m.ioPrecision.isNaN)
        // The corner error is a median: one degenerate estimate does not hide the others.
        let corners: [Double] = [2, .nan, 48_000, 1, 4]
        let withOutlier = corners.map { e -> MatchStats in var s = MatchStats(); s.cornerError = e; return s }
        XCTAssertEqual(PreviewBuilder.average(withOutlier).cornerError, 3)
        XCTAssertEqual(PreviewBuilder.average(Array(withOutlier.prefix(3))).cornerError, 24_001)
    }
}
