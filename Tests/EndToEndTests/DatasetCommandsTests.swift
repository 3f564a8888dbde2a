import Foundation
import ProcessSupport
import XCTest

/// make-sequences / prepare-images / eval argument and error handling through the real binary.
final class DatasetCommandsTests: XCTestCase {
    func tempDir() throws -> String {
        let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("kp2d-e2e-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    var photos: [String] { ["\(Binary.repoRoot)/sample-data/train/skimage_brick.jpg", "\(Binary.repoRoot)/sample-data/train/skimage_camera.jpg"] }

    func testMakeSequencesIsReproducible() throws {
        let a = try tempDir(), b = try tempDir()
        for dir in [a, b] {
            let r = try Binary.run(["make-sequences", "--out", dir, "--viewpoint", "1", "--illumination", "1", "--size", "48x64", "--seed", "4"] + photos)
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        for f in ["v_skimage_brick/6.ppm", "v_skimage_brick/H_1_4", "i_skimage_camera/3.ppm", "i_skimage_camera/H_1_2"] {
            let x = FileManager.default.contents(atPath: "\(a)/\(f)"), y = FileManager.default.contents(atPath: "\(b)/\(f)")
            XCTAssertNotNil(x, f); XCTAssertEqual(x, y, f)
        }
        let h = String(decoding: FileManager.default.contents(atPath: "\(a)/i_skimage_camera/H_1_5")!, as: UTF8.self)
        XCTAssertEqual(h, "1.0 0.0 0.0\n0.0 1.0 0.0\n0.0 0.0 1.0\n")
    }

    func testMakeSequencesErrors() throws {
        let r = try Binary.run(["make-sequences", "--out", try tempDir(), "--viewpoint", "3", "--illumination", "0"] + photos)
        XCTAssertNotEqual(r.status, 0); XCTAssertTrue(r.stderr.contains("need 3 photos"), r.stderr)
        let bad = try Binary.run(["make-sequences", "--out", try tempDir(), "--viewpoint", "1", "--illumination", "0", "/nope/photo.png"])
        XCTAssertNotEqual(bad.status, 0); XCTAssertTrue(bad.stderr.contains("/nope/photo.png: no such file"), bad.stderr)
    }

    func testEvalErrors() throws {
        let missing = try Binary.run(["eval", "--hpatches", "/nope/hp", "--weights", "w.safetensors"])
        XCTAssertEqual(missing.status, 1); XCTAssertTrue(missing.stderr.contains("/nope/hp: no such folder"), missing.stderr)
        let empty = try tempDir()
        let e = try Binary.run(["eval", "--hpatches", empty, "--weights", "w.safetensors"])
        XCTAssertEqual(e.status, 1); XCTAssertTrue(e.stderr.contains("no usable sequences"), e.stderr)
        let hp = "\(Binary.repoRoot)/sample-data/hpatches"
        let noW = try Binary.run(["eval", "--hpatches", hp, "--weights", "/nope/w.safetensors"])
        XCTAssertEqual(noW.status, 1); XCTAssertTrue(noW.stderr.contains("/nope/w.safetensors: no such weights file"), noW.stderr)
        if let fx = Binary.fixturesDir {
            let wrong = try Binary.run(["eval", "--hpatches", hp, "--weights", "\(fx)/op.relu.safetensors"])
            XCTAssertEqual(wrong.status, 1); XCTAssertTrue(wrong.stderr.contains("not KeypointNet weights"), wrong.stderr)
        }
        let size = try Binary.run(["eval", "--hpatches", hp, "--weights", "w", "--size", "241x320"])
        XCTAssertNotEqual(size.status, 0); XCTAssertTrue(size.stderr.contains("multiples of 8"), size.stderr)
    }
}
