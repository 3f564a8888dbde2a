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
        let result = model.forwardBackward(image: batch.image, imageAug: batch.imageAug, homography: batch.homography,
                                           weights: .official, graph: Graph(), training: true, rng: &rng)
        let d = result.diagnostics
        let p = PreviewBuilder.makePreview(step: 1, pair: batch.first, diagnostics: d, terms: result.terms, rng: &rng)
        let h = Homography(p.homography)
        XCTAssertFalse(d.sourceKeypoints.isEmpty)
        XCTAssertEqual(d.sourceKeypoints.count, d.sourceKeypointsWarped.count)
        for (k, w) in zip(d.sourceKeypoints, d.sourceKeypointsWarped) {
            let q = h.apply(Point2(Double(k.x), Double(k.y)))
            XCTAssertEqual(q.x, Double(w.x), accuracy: 1e-2)
            XCTAssertEqual(q.y, Double(w.y), accuracy: 1e-2)
        }
        XCTAssertEqual(p.source, batch.first.imageAug)
        XCTAssertEqual(p.target, batch.first.image)
        XCTAssertEqual(p.matches.count, d.matches.count)
        XCTAssertEqual(p.stats.correctMatches, Double(d.matches.filter { $0.correct }.count))
        XCTAssertTrue(p.stats.repeatability >= 0 && p.stats.repeatability <= 1)
        XCTAssertEqual(p.stats.descriptorRecall, Double(result.terms.recall), accuracy: 1e-6)

        var a = MatchStats(); a.repeatability = 0.2; a.cornerError = .nan
        var b = MatchStats(); b.repeatability = 0.4; b.cornerError = 3
        let m = PreviewBuilder.average([a, b])
        XCTAssertEqual(m.repeatability, 0.3, accuracy: 1e-12)
        XCTAssertEqual(m.cornerError, 3)
        XCTAssertTrue(m.ioPrecision.isNaN)
    }
}
