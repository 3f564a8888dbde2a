import Datasets
import Evaluation
import Foundation
import Geometry
import KP2D
import TensorEngine
import Training
import XCTest

final class PreviewFileTests: XCTestCase {
    var folders: [String] = []
    override func tearDown() { for f in folders { try? FileManager.default.removeItem(atPath: f) } }

    private func samplePreview() -> PairPreview {
        var rng = SeededRandom(seed: 3)
        let src = Image(width: 24, height: 16, channels: 3, pixels: (0..<(24 * 16 * 3)).map { _ in Float(rng.uniform()) })
        let tgt = Image(width: 24, height: 16, channels: 3, pixels: (0..<(24 * 16 * 3)).map { _ in Float(rng.uniform()) })
        var stats = MatchStats()
        stats.repeatability = 0.5; stats.matches = 2
        let pair = JudgedPair(source: src, target: tgt,
                              sourceKeypoints: [Keypoint(x: 1.5, y: 2, score: 0.9), Keypoint(x: 10, y: 12.25, score: 0.1)],
                              targetKeypoints: [Keypoint(x: 3, y: 4, score: 0.8)],
                              matches: [Match(source: 0, target: 0, correct: true), Match(source: 1, target: 0, correct: false)],
                              homography: Homography([1, 0, 2, 0, 1, 3, 0, 0, 1]))
        return PairPreview(step: 42, pair: pair, stats: stats)
    }

    func testRoundTripKeepsEverythingImagesAt8Bits() throws {
        let dir = NSTemporaryDirectory() + "kp2d-preview-\(UUID().uuidString)"; folders.append(dir)
        let p = samplePreview()
        let path = PreviewFile.path(forCheckpoint: dir + "/ck.safetensors")
        XCTAssertEqual(path, dir + "/ck.preview.json")
        var recent = MatchStats(); recent.matches = 7
        try PreviewFile.write(p, recentStats: recent, to: path)
        let (q, r) = try PreviewFile.read(path)
        XCTAssertEqual(r.matches, 7)
        XCTAssertEqual(q.step, 42)
        XCTAssertEqual(q.pair.sourceKeypoints, p.pair.sourceKeypoints)
        XCTAssertEqual(q.pair.targetKeypoints, p.pair.targetKeypoints)
        XCTAssertEqual(q.pair.matches, p.pair.matches)
        XCTAssertEqual(q.pair.homography?.m, p.pair.homography?.m)
        XCTAssertEqual(q.stats.repeatability, 0.5)
        XCTAssertTrue(q.stats.cornerError.isNaN, "NaN statistics survive the JSON")
        XCTAssertEqual(q.pair.source, p.pair.source.quantized8())
        XCTAssertEqual(q.pair.target, p.pair.target.quantized8())
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        XCTAssertLessThan(size, 10_000)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [], "written through a temporary file that is renamed")
    }

    func testDamagedFileIsAOneLineErrorNamingIt() throws {
        let dir = NSTemporaryDirectory() + "kp2d-preview-\(UUID().uuidString)"; folders.append(dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/ck.preview.json"
        try Data("{\"format\": 1, \"step\": 3".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try PreviewFile.read(path)) { e in
            XCTAssertTrue("\(e)".hasPrefix(path + ": not a training preview"), "\(e)")
        }
        // A match pointing at a keypoint that does not exist.
        var json = String(decoding: try PreviewFile.encode(samplePreview()), as: UTF8.self)
        json = json.replacingOccurrences(of: "\"matches\":[[0,0,1]", with: "\"matches\":[[7,0,1]")
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try PreviewFile.read(path)) { XCTAssertTrue("\($0)".contains("does not name"), "\($0)") }
        XCTAssertThrowsError(try PreviewFile.read(dir + "/missing.json")) { XCTAssertTrue("\($0)".contains("missing.json")) }
    }

    func testTrainerPersistsTheLastPreviewBesideTheCheckpoint() throws {
        let data = try makeImageFolder(count: 2); folders.append(data)
        var o = tinyOptions(data: data)
        o.steps = 2
        o.checkpointPath = data + "/run/ck.safetensors"
        let trainer = try Trainer(options: o)
        trainer.start()
        XCTAssertTrue(trainer.waitUntilFinished(timeout: 300))
        let live = try XCTUnwrap(trainer.snapshot().preview)
        let (stored, recent) = try PreviewFile.read(data + "/run/ck.preview.json")
        XCTAssertEqual(recent.matches, trainer.snapshot().recentStats.matches)
        XCTAssertEqual(stored.step, 2, "the final save writes the last step's preview")
        XCTAssertEqual(stored.step, live.step)
        XCTAssertEqual(stored.pair.sourceKeypoints, live.pair.sourceKeypoints)
        XCTAssertEqual(stored.pair.matches, live.pair.matches)
        XCTAssertEqual(stored.pair.source, live.pair.source.quantized8())
        XCTAssertEqual(stored.pair.source.width, o.width)
    }
}
