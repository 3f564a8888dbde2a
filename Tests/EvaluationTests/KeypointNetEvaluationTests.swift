import XCTest
import Datasets
import Evaluation
import KP2D
import TensorEngine

/// The whole evaluation path with a real (randomly initialised, reduced-width) KeypointNet:
/// weights file -> KeypointNetWeights.load -> KeypointNetDetector -> HPatchesEvaluation.
final class KeypointNetEvaluationTests: XCTestCase {
    func testReducedNetOnGeneratedSequences() throws {
        let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("kp2d-kpn-eval-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var photo = Image(width: 220, height: 170, channels: 3)
        for c in 0..<3 { for y in 0..<170 { for x in 0..<220 {
            photo.pixels[(c * 170 + y) * 220 + x] = Float(0.5 + 0.3 * sin(Double(x) * 0.21 + Double(c)) * cos(Double(y) * 0.17))
        } } }
        try ImageIO.savePNG(photo, to: dir + "/a.png")
        try ImageIO.savePNG(photo.swappingRedBlue(), to: dir + "/b.png")
        try SequenceGenerator.generate(photos: [dir + "/a.png", dir + "/b.png"], viewpoint: 1, illumination: 1, root: dir + "/hp",
                                       options: SequenceGeneratorOptions(width: 96, height: 64, seed: 3))
        var rng = SeededRandom(seed: 1)
        let net = KeypointNet(config: .reduced, rng: &rng)
        try KeypointNetWeights.save(net, to: dir + "/w.safetensors")
        let loaded = try KeypointNetWeights.load(dir + "/w.safetensors")

        var counts = [Int]()
        let report = try HPatchesEvaluation.run(dataset: try HPatchesDataset(root: dir + "/hp"),
                                                settings: HPatchesEvalSettings(width: 96, height: 64, topK: 300),
                                                detect: { KeypointNetDetector.detect(loaded, $0) },
                                                onPair: { _, a, b, _ in counts += [a.count, b.count] })
        XCTAssertEqual(report.all.pairs, 10)
        // 64x96 -> 8x12 cells; every interior cell has sigmoid score > 0, the border ring is exactly 0.
        XCTAssertEqual(Set(counts), [6 * 10])
        for p in report.pairs {
            XCTAssertTrue(p.repeatability >= 0 && p.repeatability <= 1)
            XCTAssertTrue(p.matchingScore >= 0 && p.matchingScore <= 1)
        }
        // Identical weights give identical detections.
        let ds = try HPatchesDataset(root: dir + "/hp")
        let img = try ds.load(ds.pairs[0], width: 96, height: 64).first
        XCTAssertEqual(KeypointNetDetector.detect(net, img), KeypointNetDetector.detect(loaded, img))
    }
}
