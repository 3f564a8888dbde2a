import KP2D
import XCTest
import Datasets
import Evaluation
import EvaluationTestSupport
import Training
import TUI

/// The browser source backed by the real evaluator, on two generated HPatches-format sequences.
final class EvaluatorSourceTests: XCTestCase {
    func testEvaluatesAndServesPairs() throws {
        let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("kp2d-tui-hp-\(getpid())")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for i in 0..<2 { try ImageIO.savePNG(syntheticPhoto(200, 160, phase: i), to: "\(dir)/p\(i).png") }
        try SequenceGenerator.generate(photos: ["\(dir)/p0.png", "\(dir)/p1.png"], viewpoint: 1, illumination: 1, root: dir + "/hp",
                                       options: SequenceGeneratorOptions(width: 80, height: 64, seed: 3))
        let ds = try HPatchesDataset(root: dir + "/hp")
        var detectorsMade = 0
        let source = EvaluatorHPatchesSource(dataset: ds, settings: HPatchesEvalSettings(width: 64, height: 48, topK: 300),
                                             makeDetector: { detectorsMade += 1; return gridDetector })
        // Before evaluation: sequences with NaN metrics, pairs with images but no keypoints.
        XCTAssertEqual(source.sequences().count, 2)
        XCTAssertTrue(source.sequences().allSatisfy { $0.metrics.repeatability.isNaN && $0.pairCount == 5 })
        let before = try XCTUnwrap(source.pair(sequence: "v_p0", index: 0))
        XCTAssertEqual(before.pair.source.width, 64); XCTAssertEqual(before.pair.target.height, 48)
        XCTAssertTrue(before.pair.sourceKeypoints.isEmpty)
        XCTAssertTrue(source.status.contains("not evaluated yet"))

        let v0 = source.version
        source.requestEvaluation()
        XCTAssertTrue(source.waitUntilIdle(timeout: 120))
        XCTAssertEqual(detectorsMade, 1)
        XCTAssertGreaterThan(source.version, v0)
        XCTAssertTrue(source.status.contains("10 pairs"), source.status)
        let seqs = source.sequences()
        XCTAssertTrue(seqs.allSatisfy { !$0.metrics.repeatability.isNaN && !$0.metrics.c3.isNaN }, "\(seqs)")
        let p = try XCTUnwrap(source.pair(sequence: "i_p1", index: 2))
        XCTAssertFalse(p.pair.sourceKeypoints.isEmpty)
        XCTAssertFalse(p.pair.matches.isEmpty)
        // Illumination pairs have the identity homography: the grid detector's cross-checked matches are mostly
        // the same cell, i.e. correct.
        XCTAssertGreaterThan(Double(p.pair.matches.filter(\.correct).count) / Double(p.pair.matches.count), 0.5)
        XCTAssertFalse(p.metrics.matchingScore.isNaN)
        XCTAssertNil(source.pair(sequence: "nope", index: 0))
        XCTAssertNil(source.pair(sequence: "i_p1", index: 7))

        // The browser shows it.
        let wb = Workbench(options: WorkbenchOptions(colorMode: .c256), hpatches: source)
        wb.handle(.char("2"), snapshot: TrainerSnapshot(), send: { _ in })
        let g = wb.render(snapshot: TrainerSnapshot(), width: 200, height: 60)
        XCTAssertTrue(g.contains("Sequences (2, all"))
        XCTAssertTrue(g.contains("MScore"))
    }

    func testDetectorFailureIsReported() throws {
        let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("kp2d-tui-hp2-\(getpid())")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ImageIO.savePNG(syntheticPhoto(120, 100), to: "\(dir)/p0.png")
        try SequenceGenerator.generate(photos: ["\(dir)/p0.png"], viewpoint: 1, illumination: 0, root: dir + "/hp",
                                       options: SequenceGeneratorOptions(width: 64, height: 48, seed: 1))
        struct NoModel: Error, CustomStringConvertible { var description: String { "no checkpoint yet" } }
        let source = EvaluatorHPatchesSource(dataset: try HPatchesDataset(root: dir + "/hp"),
                                             settings: HPatchesEvalSettings(width: 64, height: 48, topK: 100),
                                             makeDetector: { throw NoModel() })
        source.requestEvaluation()
        XCTAssertTrue(source.waitUntilIdle(timeout: 60))
        XCTAssertEqual(source.status, "evaluation failed: no checkpoint yet")
    }
}
