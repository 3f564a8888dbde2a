import XCTest
@testable import KP2D
import Datasets
import NN
import TensorEngine

/// The IO-Net point count (`--io-points`) and the top-score L_loc diagnostic beside the official L_loc.
final class LossOptionsTests: XCTestCase {
    private func smallModel() -> KP2DModel {
        var config = KeypointNetConfig()
        (config.c1, config.c2, config.c3, config.c4, config.c5, config.d1, config.descriptorDim) = (8, 16, 32, 64, 64, 128, 64)
        config.withDrop = false
        var rng = SeededRandom(seed: 31)
        return KP2DModel(config: config, rng: &rng)
    }

    func testIOPointsSetHowManyCellsGoToTheIONet() {
        let model = smallModel()
        XCTAssertEqual(model.ioPoints, 300, "the official count by default")
        var rng = SeededRandom(seed: 32)
        let (image, aug, hom) = SyntheticPairs.batch(2, height: 96, width: 144, rng: &rng)   // 216 cells
        model.ioPoints = 100
        let g = Graph()
        defer { g.reset() }
        let e = model.loss(image: image, imageAug: aug, homography: hom, lossWeights: .official, graph: g, training: false)
        XCTAssertEqual(e.details.ioPrediction.count, 2 * 100)
        XCTAssertEqual(e.details.ioTopKMaskSource.filter { $0 }.count, 2 * 100)
        // The 100 cells are each image's 100 lowest scores.
        let score = e.details.sourceScore.array, n = 216
        for b in 0..<2 {
            let chosen = (0..<n).filter { e.details.ioTopKMaskSource[b * n + $0] }.map { score[b * n + $0] }
            let other = (0..<n).filter { !e.details.ioTopKMaskSource[b * n + $0] }.map { score[b * n + $0] }
            XCTAssertLessThanOrEqual(chosen.max()!, other.min()!)
        }
        // More points than cells: every cell (as before, min(k, cells)).
        model.ioPoints = 1000
        let g2 = Graph()
        let all = model.loss(image: image, imageAug: aug, homography: hom, lossWeights: .official, graph: g2, training: false)
        XCTAssertEqual(all.details.ioPrediction.count, 2 * n)
        g2.reset()
    }

    func testTopScoreLocationIsLLocOverTheBestCells() {
        let model = smallModel()
        var rng = SeededRandom(seed: 33)
        let (image, aug, hom) = SyntheticPairs.batch(2, height: 128, width: 192, rng: &rng)   // 384 cells
        let g = Graph()
        let e = model.loss(image: image, imageAug: aug, homography: hom, lossWeights: .official, graph: g, training: false)
        let d = e.details, n = 384
        // Naive twin: sort each image's source scores, keep the top k, average the valid nearest distances.
        func naive(_ k: Int) -> Float? {
            let score = d.sourceScore.array, dist = d.nearestDistance.array
            var sum = 0.0, count = 0
            for b in 0..<2 {
                let order = (0..<n).sorted { score[b * n + $0] > score[b * n + $1] }
                for i in order.prefix(k) where d.distValidMask[b * n + i] { sum += Double(dist[b * n + i]); count += 1 }
            }
            return count == 0 ? nil : Float(sum / Double(count))
        }
        let top300 = KP2DLoss.locationOfTopScores(e.inputs, e.correspondences, k: 300)
        XCTAssertNotNil(top300)
        XCTAssertEqual(top300!, naive(300)!, accuracy: 1e-5)
        XCTAssertEqual(e.terms.locTop300!, top300!, accuracy: 0)
        XCTAssertEqual(e.terms.locTop100!, naive(100)!, accuracy: 1e-5)
        XCTAssertEqual(KP2DLoss.locationOfTopScores(e.inputs, e.correspondences, k: 50)!, naive(50)!, accuracy: 1e-5)
        // Over every cell it is the official L_loc.
        XCTAssertEqual(KP2DLoss.locationOfTopScores(e.inputs, e.correspondences, k: n)!, e.terms.loc, accuracy: 1e-5)
        XCTAssertNotEqual(naive(50)!, e.terms.loc, "the subset differs from the whole (the test can fail)")
        g.reset()
    }

    func testTopScoreLocationIsNilWithoutValidPairs() {
        let model = smallModel()
        var rng = SeededRandom(seed: 34)
        let (image, aug, _) = SyntheticPairs.batch(2, height: 128, width: 192, rng: &rng)
        let away = Tensor(shape: [2, 3, 3], values: [1, 0, 5, 0, 1, 0, 0, 0, 1, 1, 0, 5, 0, 1, 0, 0, 0, 1])
        let r = model.forwardBackward(image: image, imageAug: aug, homography: away, lossWeights: .official, graph: Graph(), training: true)
        XCTAssertNil(r.terms.locTop300); XCTAssertNil(r.terms.locTop100)
    }
}
