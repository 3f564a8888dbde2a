import Datasets
import Foundation
import KP2D
import NN
import TensorEngine
@testable import Training
import XCTest

final class DeterminismProbe: XCTestCase {
    func run(training: Bool, diag: Bool) throws {
        let dir = try makeImageFolder(count: 2)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let o = tinyOptions(data: dir)
        let folder = try ImageFolder(root: dir)
        let loader = BatchLoader(folder: folder, augmentation: o.augmentation, batchSize: 1, seed: 1)
        let batch = try loader.makeBatch(step: 0)
        var rng = SeededRandom(seed: 1)
        let model = KP2DModel(config: o.model, rng: &rng)
        var s = "training \(training) diag \(diag):"
        for _ in 0..<3 {
            let g = Graph()
            var r = SeededRandom(seed: 5)
            let (res, _) = model.forwardBackwardDetailed(image: batch.image, imageAug: batch.imageAug, homography: batch.homography,
                                            weights: .official, graph: g, training: training, diagnostics: diag, rng: &r)
            s += " \(res.terms.desc)"
        }
        print(s)
    }
    func testVariants() throws {
        try run(training: true, diag: false)
        try run(training: false, diag: false)
        try run(training: true, diag: true)
    }
}
