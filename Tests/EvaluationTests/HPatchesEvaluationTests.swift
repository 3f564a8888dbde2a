import XCTest
import Datasets
import Evaluation
import EvaluationTestSupport
import Geometry
import KP2D

final class HPatchesEvaluationTests: XCTestCase {
    func tempDir() throws -> String {
        let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("kp2d-eval-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func testRunsOverSequencesAndSummarises() throws {
        let dir = try tempDir()
        for i in 0..<2 { try ImageIO.savePNG(syntheticPhoto(200 + 10 * i, 160), to: "\(dir)/p\(i).png") }
        let root = dir + "/hp"
        try SequenceGenerator.generate(photos: ["\(dir)/p0.png", "\(dir)/p1.png"], viewpoint: 1, illumination: 1, root: root,
                                       options: SequenceGeneratorOptions(width: 80, height: 64, seed: 2))
        // A third sequence whose image 3 is corrupt: reported, left out, the rest goes on.
        let bad = root + "/v_bad"
        try FileManager.default.copyItem(atPath: root + "/v_p0", toPath: bad)
        FileManager.default.createFile(atPath: bad + "/3.ppm", contents: Data("P6\n80 64\n255\n".utf8))

        let ds = try HPatchesDataset(root: root)
        var calls = [(Int, Int)]()
        var seen = [String]()
        let settings = HPatchesEvalSettings(width: 64, height: 48, topK: 300)
        let report = try HPatchesEvaluation.run(dataset: ds, settings: settings, detect: gridDetector,
                                                onPair: { s, a, _, _ in seen.append("\(s.pair.sequence)/\(s.pair.index)"); XCTAssertEqual(s.first.width, 64); XCTAssertGreaterThan(a.count, 0) },
                                                progress: { calls.append(($0, $1)) })
        // v_bad/2 was evaluated before v_bad/3 failed to decode; the sequence is then dropped from the report.
        XCTAssertEqual(seen.count, 11); XCTAssertEqual(seen.first, "i_p1/2"); XCTAssertTrue(seen.contains("v_bad/2"))
        XCTAssertEqual(report.pairs.count, 10)
        XCTAssertEqual(Set(report.pairs.map { $0.sequence }), ["i_p1", "v_p0"])
        XCTAssertEqual(calls.last?.0, 15); XCTAssertEqual(calls.last?.1, 15)
        XCTAssertEqual(report.problems.count, 1)
        XCTAssertTrue(report.problems[0].contains("v_bad/3.ppm") && report.problems[0].contains("truncated"), report.problems[0])
        // Identity homographies + a fixed grid: every point repeats at distance 0 in the i_ sequence.
        let i = try XCTUnwrap(report.illumination)
        XCTAssertEqual(i.repeatability, 1); XCTAssertEqual(i.localizationError, 0); XCTAssertEqual(i.pairs, 5)
        XCTAssertEqual(report.viewpoint?.pairs, 5)
        XCTAssertEqual(report.all.pairs, 10)
        XCTAssertEqual(report.sequences.map { $0.name }, ["i_p1", "v_p0"])
        XCTAssertEqual(report.all.repeatability, (i.repeatability + report.viewpoint!.repeatability) / 2, accuracy: 1e-12)

        // Split filter.
        let onlyV = try HPatchesEvaluation.run(dataset: ds, settings: HPatchesEvalSettings(width: 64, height: 48, topK: 300, split: .v), detect: gridDetector)
        XCTAssertNil(onlyV.illumination); XCTAssertEqual(onlyV.all.pairs, 5)
    }

    /// A pair's RANSAC draws depend on the pair, not on its position in the evaluated list: the v_ pairs score the
    /// same with `--split v` as in the whole set. The detector's descriptors are noise, so most matches are outliers
    /// and the corner error depends on the draws.
    func testAPairScoresTheSameInEverySplit() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for i in 0..<4 { try ImageIO.savePNG(syntheticPhoto(200 + 10 * i, 160, phase: i), to: "\(dir)/p\(i).png") }
        let root = dir + "/hp"
        try SequenceGenerator.generate(photos: (0..<4).map { "\(dir)/p\($0).png" }, viewpoint: 2, illumination: 2, root: root,
                                       options: SequenceGeneratorOptions(width: 80, height: 64, seed: 3))
        let ds = try HPatchesDataset(root: root)
        func noisyDetector(_ img: Image) -> KeypointSet {
            let g = gridDetector(img)
            var state = UInt64(img.width &* 31 &+ Int(img.at(0, 10, 10) * 1000))
            let noisy = g.descriptors.map { d -> Float in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return d + Float(Int(state >> 40) % 1000) / 1000
            }
            return KeypointSet(keypoints: g.keypoints, descriptors: noisy, dimension: g.dimension)
        }
        let all = try HPatchesEvaluation.run(dataset: ds, settings: HPatchesEvalSettings(width: 64, height: 48, topK: 300), detect: noisyDetector)
        let onlyV = try HPatchesEvaluation.run(dataset: ds, settings: HPatchesEvalSettings(width: 64, height: 48, topK: 300, split: .v), detect: noisyDetector)
        let vFromAll = all.pairs.filter { $0.sequence.hasPrefix("v") }
        XCTAssertEqual(vFromAll.count, onlyV.pairs.count)
        XCTAssertGreaterThan(onlyV.pairs.count, 0)
        for (a, b) in zip(vFromAll, onlyV.pairs) {
            XCTAssertEqual("\(a.sequence)/\(a.index)", "\(b.sequence)/\(b.index)")
            XCTAssertEqual(a.cornerError, b.cornerError, "\(a.sequence)/\(a.index)")
            XCTAssertEqual(a.c1, b.c1); XCTAssertEqual(a.c3, b.c3)
        }
        let p = ds.pairs[0]
        XCTAssertEqual(HPatchesEvaluation.pairSeed(p), HPatchesEvaluation.pairSeed(p))
        XCTAssertNotEqual(HPatchesEvaluation.pairSeed(ds.pairs[0]), HPatchesEvaluation.pairSeed(ds.pairs[1]))
    }

    func testDenseOutputToKeypoints() {
        // 2x3 cells, D = 2; cells 0 and 4 have score 0 and drop out.
        let score: [Float] = [0, 0.5, 0.7, 0.2, 0, 0.9]
        let coord: [Float] = [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15]
        let desc: [Float] = [1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6]
        let s = KeypointSet.fromDense(score: score, coord: coord, descriptors: desc, cellsHigh: 2, cellsWide: 3, dimension: 2)
        XCTAssertEqual(s.keypoints.map { $0.x }, [1, 2, 3, 5]); XCTAssertEqual(s.keypoints.map { $0.y }, [11, 12, 13, 15])
        XCTAssertEqual(s.descriptors, [2, -2, 3, -3, 4, -4, 6, -6])
    }

    func testOfficialSettings() {
        XCTAssertEqual(HPatchesEvalSettings.official240.width, 320); XCTAssertEqual(HPatchesEvalSettings.official240.topK, 300)
        XCTAssertEqual(HPatchesEvalSettings.official480.height, 480); XCTAssertEqual(HPatchesEvalSettings.official480.topK, 1000)
        XCTAssertEqual(HPatchesEvalSettings.official240.channelOrder, .bgr)
    }
}
