import Foundation
import ProcessSupport
import XCTest

/// `kp2d-tui detect` on a hand-made weights file whose output is known exactly:
/// every weight 0, running_var 1, convFbb.bias 1 -> interior scores sigmoid(0) = 0.5, keypoints at the
/// cell centres (tanh(0) = 0), descriptors constant 1/sqrt(D).
final class DetectCommandTests: XCTestCase {
    private var dir: String!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("kp2d-detect-\(getpid())-\(name.hashValue)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// The reduced KeypointNet state dict (widths 8,16,32,64,64,128,64) as (key, shape, fill, isCounter).
    private func reducedEntries() -> [(String, [Int], Float, Bool)] {
        var e: [(String, [Int], Float, Bool)] = []
        func block(_ name: String, _ cin: Int, _ cout: Int) {
            e.append(("\(name).0.weight", [cout, cin, 3, 3], 0, false))
            e.append(("\(name).1.weight", [cout], 0, false))
            e.append(("\(name).1.bias", [cout], 0, false))
            e.append(("\(name).1.running_mean", [cout], 0, false))
            e.append(("\(name).1.running_var", [cout], 1, false))
            e.append(("\(name).1.num_batches_tracked", [], 0, true))
        }
        func conv(_ name: String, _ cin: Int, _ cout: Int, bias: Float) {
            e.append(("\(name).weight", [cout, cin, 3, 3], 0, false))
            e.append(("\(name).bias", [cout], bias, false))
        }
        block("conv1a", 3, 8); block("conv1b", 8, 8); block("conv2a", 8, 16); block("conv2b", 16, 16)
        block("conv3a", 16, 32); block("conv3b", 32, 32); block("conv4a", 32, 64); block("conv4b", 64, 64)
        block("convDa", 64, 64); conv("convDb", 64, 1, bias: 0)
        block("convPa", 64, 64); conv("convPb", 64, 2, bias: 0)
        block("convFa", 64, 64); block("convFb", 64, 128); block("convFaa", 64, 64); conv("convFbb", 64, 64, bias: 1)
        return e
    }

    /// A minimal safetensors writer (this target links no module of the package).
    private func writeSafetensors(_ entries: [(String, [Int], Float, Bool)], to path: String) throws {
        var header: [String: Any] = [:]
        var body = Data()
        for (key, shape, fill, counter) in entries {
            let n = shape.reduce(1, *)
            let begin = body.count
            if counter {
                var v = Int64(fill).littleEndian
                for _ in 0..<n { withUnsafeBytes(of: &v) { body.append(contentsOf: $0) } }
            } else {
                var v = fill.bitPattern.littleEndian
                for _ in 0..<n { withUnsafeBytes(of: &v) { body.append(contentsOf: $0) } }
            }
            header[key] = ["dtype": counter ? "I64" : "F32", "shape": shape, "data_offsets": [begin, body.count]]
        }
        var json = try JSONSerialization.data(withJSONObject: header)
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(json)
        out.append(body)
        try out.write(to: URL(fileURLWithPath: path))
    }

    private func writePPM(width: Int, height: Int, to path: String) throws {
        var d = Data("P6\n\(width) \(height)\n255\n".utf8)
        for y in 0..<height { for x in 0..<width { d.append(contentsOf: [UInt8((x * 5) % 256), UInt8((y * 7) % 256), 128]) } }
        try d.write(to: URL(fileURLWithPath: path))
    }

    func testDetectWritesJSONAndSafetensors() throws {
        let weights = dir + "/w.safetensors", image = dir + "/img.ppm"
        try writeSafetensors(reducedEntries(), to: weights)
        try writePPM(width: 60, height: 44, to: image)

        let json = dir + "/out.json"
        let r = try Binary.run(["detect", "--weights", weights, image, "--size", "32x48", "--top-k", "5", "--out", json])
        XCTAssertEqual(r.status, 0, r.stderr)
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
        let kps = doc["keypoints"] as! [[String: Double]]
        let descs = doc["descriptors"] as! [[Double]]
        XCTAssertEqual(kps.count, 5)          // 4x6 cells, 2x4 interior with score 0.5, top 5 in raster order
        XCTAssertEqual(kps[0]["x"], 11.5); XCTAssertEqual(kps[0]["y"], 11.5)
        XCTAssertEqual(kps[4]["x"], 11.5); XCTAssertEqual(kps[4]["y"], 19.5)
        XCTAssertEqual(kps[0]["score"], 0.5)
        XCTAssertEqual(descs.count, 5)
        XCTAssertEqual(descs[0].count, 64)
        XCTAssertEqual(descs[0][0], 0.125, accuracy: 1e-6)   // 1/sqrt(64)
        XCTAssertEqual(doc["input_size"] as? [Int], [32, 48])
        XCTAssertEqual(doc["image_size"] as? [Int], [44, 60])

        let st = dir + "/out.safetensors"
        let r2 = try Binary.run(["detect", "--weights", weights, image, "--size", "32x48", "--out", st])
        XCTAssertEqual(r2.status, 0, r2.stderr)
        XCTAssertTrue(r2.stdout.contains("8 keypoints"), r2.stdout)   // every interior cell, no --top-k
        let data = try Data(contentsOf: URL(fileURLWithPath: st))
        let n = data.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as! [String: Any]
        XCTAssertEqual((header["keypoints"] as! [String: Any])["shape"] as? [Int], [8, 3])
        XCTAssertEqual((header["descriptors"] as! [String: Any])["shape"] as? [Int], [8, 64])

        // Without --out: a summary on stdout.
        let r3 = try Binary.run(["detect", "--weights", weights, image, "--size", "32x48", "--top-k", "2"])
        XCTAssertEqual(r3.status, 0, r3.stderr)
        XCTAssertTrue(r3.stdout.contains("2 keypoints"), r3.stdout)
    }

    func testDetectErrorsAreClear() throws {
        let weights = dir + "/w.safetensors", image = dir + "/img.ppm"
        try writeSafetensors(reducedEntries(), to: weights)
        try writePPM(width: 16, height: 16, to: image)

        var r = try Binary.run(["detect", "--weights", weights, dir + "/nope.png"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("nope.png") && r.stderr.contains("no such image file"), r.stderr)

        r = try Binary.run(["detect", "--weights", dir + "/missing.safetensors", image])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("missing.safetensors"), r.stderr)

        let bad = dir + "/bad.safetensors"
        try Data("this is not a weights file".utf8).write(to: URL(fileURLWithPath: bad))
        r = try Binary.run(["detect", "--weights", bad, image])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("bad.safetensors"), r.stderr)

        let wrong = dir + "/wrong.safetensors"
        try writeSafetensors(reducedEntries().filter { !$0.0.hasPrefix("convFbb") }, to: wrong)
        r = try Binary.run(["detect", "--weights", wrong, image])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("convFbb"), r.stderr)

        r = try Binary.run(["detect", "--weights", weights, image, "--size", "30x48"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("multiples of 8"), r.stderr)

        r = try Binary.run(["detect", "--weights", weights, image, "--out", dir + "/x.txt"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains(".json or .safetensors"), r.stderr)
    }

    /// PNG width and height from the IHDR chunk (bytes 16...23, big-endian).
    private func pngSize(_ path: String) throws -> (Int, Int) {
        let d = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(Array(d.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "\(path) is not a PNG")
        return (d[16..<20].reduce(0) { $0 << 8 | Int($1) }, d[20..<24].reduce(0) { $0 << 8 | Int($1) })
    }

    /// detect --png and eval --figures write PNGs of the right size; bad names and folders are one clear line.
    /// (The pixels are checked in EvaluationTests/FigureTests, which decode the PNGs.)
    func testPicturesFromDetectAndEval() throws {
        let weights = dir + "/w.safetensors", image = dir + "/img.ppm"
        try writeSafetensors(reducedEntries(), to: weights)
        try writePPM(width: 60, height: 44, to: image)
        var r = try Binary.run(["detect", "--weights", weights, image, "--size", "32x48", "--png", dir + "/kp.png"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let (w, h) = try pngSize(dir + "/kp.png")
        XCTAssertEqual(w, 60, "drawn on the original image")
        XCTAssertGreaterThan(h, 44, "with a caption band")
        r = try Binary.run(["detect", "--weights", weights, image, "--png", dir + "/kp.jpg"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("kp.jpg") && r.stderr.contains(".png"), r.stderr)

        let figs = dir + "/figs"
        r = try Binary.run(["eval", "--hpatches", Binary.repoRoot + "/sample-data/hpatches", "--weights", weights, "--figures", figs], timeout: 600)
        XCTAssertEqual(r.status, 0, r.stderr)
        let names = try FileManager.default.contentsOfDirectory(atPath: figs).sorted()
        XCTAssertEqual(names.count, 30, "\(names)")
        XCTAssertTrue(names.contains("v_skimage_gravel_1_3.png"), "\(names)")
        let (fw, fh) = try pngSize(figs + "/v_skimage_gravel_1_3.png")
        XCTAssertEqual(fw, 320 + 8 + 320)
        XCTAssertGreaterThan(fh, 240)
        XCTAssertTrue(r.stderr.contains("figures: 30 PNGs in \(figs)"), r.stderr)

        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/afile"))
        r = try Binary.run(["eval", "--hpatches", Binary.repoRoot + "/sample-data/hpatches", "--weights", weights, "--figures", dir + "/afile"])
        XCTAssertNotEqual(r.status, 0)
        let msg = r.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(msg.split(separator: "\n").count, 1, msg)
        XCTAssertTrue(msg.contains("afile") && msg.contains("is a file"), msg)
    }
}
