import XCTest
import Geometry
import TensorEngine
import Datasets

func solid(_ w: Int, _ h: Int, rgb: (Float, Float, Float)) -> Image {
    let plane = w * h
    return Image(width: w, height: h, channels: 3,
                 pixels: [Float](repeating: rgb.0, count: plane) + [Float](repeating: rgb.1, count: plane) + [Float](repeating: rgb.2, count: plane))
}

/// Writes a sequence folder: images 1..6 (ext), H_1_k texts.
func makeSequence(_ root: String, _ name: String, ext: String = "ppm", sizes: [(Int, Int)]? = nil, h: String = "1 0 0\n0 1 0\n0 0 1\n",
                  skipImage: Int? = nil, badH: Int? = nil) throws {
    let dir = root + "/" + name
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    for k in 1...6 where k != skipImage {
        let (w, hh) = sizes?[k - 1] ?? (32, 24)
        let img = solid(w, hh, rgb: (1, 0.5, 0))
        let p = "\(dir)/\(k).\(ext)"
        if ext == "png" { try ImageIO.savePNG(img, to: p) } else { try ImageIO.savePPM(img, to: p) }
    }
    for k in 2...6 {
        let text = k == badH ? "1 0 0\n0 1\n0 0 1\n" : h
        FileManager.default.createFile(atPath: "\(dir)/H_1_\(k)", contents: Data(text.utf8))
    }
}

final class HPatchesTests: XCTestCase {
    func testScanSplitsAndReportsBrokenSequences() throws {
        let root = try makeTempDir()
        try makeSequence(root, "i_good")
        try makeSequence(root, "v_good", ext: "png")
        try makeSequence(root, "v_noimage", skipImage: 4)
        try makeSequence(root, "i_badh", badH: 3)
        FileManager.default.createFile(atPath: root + "/notes.txt", contents: Data("x".utf8))
        let all = try HPatchesDataset(root: root)
        XCTAssertEqual(all.sequences, ["i_good", "v_good"])
        XCTAssertEqual(all.pairs.count, 10)
        XCTAssertEqual(all.pairs.map { $0.index }.prefix(5), [2, 3, 4, 5, 6])
        XCTAssertEqual(all.problems.count, 2)
        let badH = try XCTUnwrap(all.problems.first { $0.sequence == "i_badh" })
        XCTAssertTrue(badH.file.hasSuffix("i_badh/H_1_3"))
        XCTAssertTrue(badH.reason.contains("3 rows of 3 numbers"), badH.reason)
        let noImage = try XCTUnwrap(all.problems.first { $0.sequence == "v_noimage" })
        XCTAssertTrue(noImage.file.hasSuffix("v_noimage/4.ppm")); XCTAssertTrue(noImage.reason.contains("missing image"))
        XCTAssertEqual(try HPatchesDataset(root: root, split: .i).sequences, ["i_good"])
        XCTAssertEqual(try HPatchesDataset(root: root, split: .v).sequences, ["v_good"])
    }

    func testFolderErrors() throws {
        let root = try makeTempDir()
        XCTAssertThrowsError(try HPatchesDataset(root: root + "/nope")) { XCTAssertTrue("\($0)".contains("no such folder")) }
        XCTAssertThrowsError(try HPatchesDataset(root: root)) { XCTAssertTrue("\($0)".contains("no usable")) }
        try makeSequence(root, "v_x", skipImage: 1)
        XCTAssertThrowsError(try HPatchesDataset(root: root)) {
            XCTAssertTrue("\($0)".contains("1 sequence was rejected: ") && "\($0)".contains("v_x"), "\($0)")   // the reason, not "see above"
        }
    }

    func testReadHomographyFormats() throws {
        let dir = try makeTempDir()
        let p = dir + "/H"
        FileManager.default.createFile(atPath: p, contents: Data("  0.79208  0.010314  27.019\n-0.023778 0.92337 -48.131\n  4.2e-05 -1.8e-05 1\n\n".utf8))
        let h = try HPatchesDataset.readHomography(p)
        XCTAssertEqual(h[0, 2], 27.019); XCTAssertEqual(h[2, 0], 4.2e-05)
        FileManager.default.createFile(atPath: p, contents: Data("1 0 0\n0 1 x\n0 0 1\n".utf8))
        XCTAssertThrowsError(try HPatchesDataset.readHomography(p)) { XCTAssertTrue("\($0)".contains("'x' is not a finite number")) }
        FileManager.default.createFile(atPath: p, contents: Data("1 2 3\n2 4 6\n0 0 0\n".utf8))
        XCTAssertThrowsError(try HPatchesDataset.readHomography(p)) { XCTAssertTrue("\($0)".contains("singular")) }
    }

    func testResizeRescalesHomographyAsOfficial() throws {
        let root = try makeTempDir()
        // Image 1 is 64x48, images 2..6 are 32x24 and the true map halves coordinates.
        try makeSequence(root, "v_scale", sizes: [(64, 48)] + Array(repeating: (32, 24), count: 5), h: "0.5 0 0\n0 0.5 0\n0 0 1\n")
        let ds = try HPatchesDataset(root: root)
        let s = try ds.load(ds.pairs[0], width: 16, height: 12)
        XCTAssertEqual(s.first.width, 16); XCTAssertEqual(s.second.height, 12)
        for i in 0..<9 { XCTAssertEqual(s.homography.m[i], Homography.identity.m[i], accuracy: 1e-12) }
        // Anisotropic: explicit formula S2 H S1^-1.
        let h = Homography([1, 0.1, 5, 0.2, 1, 3, 1e-4, 2e-4, 1])
        let scaled = HPatchesDataset.scaleHomography(h, firstSize: (640, 480), secondSize: (800, 600), outWidth: 320, outHeight: 240)
        let p = Point2(100, 50)
        let viaOriginal = h.apply(Point2(p.x * 2, p.y * 2))
        let q = scaled.apply(p)
        XCTAssertEqual(q.x, viaOriginal.x * 320 / 800, accuracy: 1e-9); XCTAssertEqual(q.y, viaOriginal.y * 240 / 600, accuracy: 1e-9)
    }

    func testChannelOrderDefaultsToBGR() throws {
        let root = try makeTempDir()
        try makeSequence(root, "i_red")
        let ds = try HPatchesDataset(root: root)
        let bgr = try ds.load(ds.pairs[0], width: nil, height: nil)
        XCTAssertEqual(bgr.first.at(0, 0, 0), 0); XCTAssertEqual(bgr.first.at(2, 0, 0), 1)
        let rgb = try ds.load(ds.pairs[0], width: nil, height: nil, order: .rgb)
        XCTAssertEqual(rgb.first.at(0, 0, 0), 1); XCTAssertEqual(rgb.first.at(1, 0, 0), 128.0 / 255)
    }
}

final class SequenceGeneratorTests: XCTestCase {
    /// A textured RGB test photo.
    func photo(_ w: Int, _ h: Int) -> Image {
        var img = Image(width: w, height: h, channels: 3)
        for c in 0..<3 { for y in 0..<h { for x in 0..<w {
            let v = 0.5 + 0.25 * sin(Double(x) * 0.11 + Double(c)) * cos(Double(y) * 0.07) + 0.2 * sin(Double(x + 2 * y) * 0.031)
            img.pixels[(c * h + y) * w + x] = Float(v)
        } } }
        return img
    }

    /// Mean |image_k(H p) - image_1(p)| over interior points that land inside image k.
    func consistency(_ a: Image, _ b: Image, _ h: Homography) -> Double {
        var sum = 0.0, n = 0
        a.pixels.withUnsafeBufferPointer { _ in }
        b.pixels.withUnsafeBufferPointer { pb in
            for y in stride(from: 5, to: a.height - 5, by: 3) { for x in stride(from: 5, to: a.width - 5, by: 3) {
                let q = h.apply(Point2(Double(x), Double(y)))
                guard q.x >= 1, q.y >= 1, q.x <= Double(b.width - 2), q.y <= Double(b.height - 2) else { continue }
                for c in 0..<3 { sum += abs(Double(SequenceGenerator.sample(b, pb, c, q.x, q.y) - a.at(c, y, x))) }
                n += 3
            } }
        }
        return sum / Double(max(n, 1))
    }

    func testViewpointHomographiesDescribeTheImages() throws {
        var rng = SeededRandom(seed: 5)
        let seq = try SequenceGenerator.viewpoint(name: "v_t", photo: photo(300, 220), width: 96, height: 72, rng: &rng)
        XCTAssertEqual(seq.images.count, 6); XCTAssertEqual(seq.homographies.count, 5)
        for (k, h) in seq.homographies.enumerated() {
            XCTAssertLessThan(consistency(seq.images[0], seq.images[k + 1], h), 0.02, "H_1_\(k + 2)")
        }
        // The last view is really moved: identity does not describe it.
        XCTAssertGreaterThan(consistency(seq.images[0], seq.images[5], .identity), 0.05)
        // Same seed, same sequence.
        var again = SeededRandom(seed: 5)
        let seq2 = try SequenceGenerator.viewpoint(name: "v_t", photo: photo(300, 220), width: 96, height: 72, rng: &again)
        XCTAssertEqual(seq2.homographies, seq.homographies); XCTAssertEqual(seq2.images, seq.images)
    }

    func testIlluminationChangesGrow() {
        var rng = SeededRandom(seed: 3)
        let seq = SequenceGenerator.illumination(name: "i_t", photo: photo(200, 150), width: 80, height: 60, rng: &rng)
        XCTAssertEqual(seq.homographies, [Homography](repeating: .identity, count: 5))
        let d2 = consistency(seq.images[0], seq.images[1], .identity), d6 = consistency(seq.images[0], seq.images[5], .identity)
        XCTAssertGreaterThan(d2, 0.002); XCTAssertGreaterThan(d6, d2)
    }

    func testGenerateWritesALoadableDataset() throws {
        let dir = try makeTempDir()
        for i in 0..<2 { try ImageIO.savePNG(photo(240 + 20 * i, 180), to: "\(dir)/photo\(i).png") }
        let out = dir + "/hp"
        try SequenceGenerator.generate(photos: ["\(dir)/photo0.png", "\(dir)/photo1.png"], viewpoint: 1, illumination: 1, root: out,
                                       options: SequenceGeneratorOptions(width: 64, height: 48, seed: 9))
        let ds = try HPatchesDataset(root: out)
        XCTAssertEqual(ds.sequences, ["i_photo1", "v_photo0"])
        XCTAssertTrue(ds.problems.isEmpty)
        let s = try ds.load(ds.pairs.first { $0.sequence == "v_photo0" }!, width: nil, height: nil, order: .rgb)
        XCTAssertLessThan(consistency(s.first, s.second, s.homography), 0.02)
        XCTAssertThrowsError(try SequenceGenerator.generate(photos: ["\(dir)/photo0.png"], viewpoint: 1, illumination: 1, root: out,
                                                            options: SequenceGeneratorOptions())) { XCTAssertTrue("\($0)".contains("need 2 photos")) }
    }

    func testViewpointVariantsGiveMoreSequencesAndKeepTheSingleVariantFiles() throws {
        let dir = try makeTempDir()
        for i in 0..<2 { try ImageIO.savePNG(photo(240 + 20 * i, 180), to: "\(dir)/photo\(i).png") }
        let photos = ["\(dir)/photo0.png", "\(dir)/photo1.png"]
        let one = try SequenceGenerator.generate(photos: photos, viewpoint: 1, illumination: 1, root: dir + "/a",
                                                 options: SequenceGeneratorOptions(width: 64, height: 48, seed: 9))
        let three = try SequenceGenerator.generate(photos: photos, viewpoint: 1, illumination: 1, root: dir + "/b",
                                                   options: SequenceGeneratorOptions(width: 64, height: 48, seed: 9, viewpointVariants: 3))
        XCTAssertEqual(three.map { $0.name }, ["v_photo0", "v_photo0_2", "v_photo0_3", "i_photo1"])
        // The first variant is the sequence of the one-variant run (same draws); the others differ.
        XCTAssertEqual(three[0].homographies, one[0].homographies)
        XCTAssertEqual(three[0].images.map { $0.pixels }, one[0].images.map { $0.pixels })
        XCTAssertNotEqual(three[1].homographies, three[0].homographies)
        XCTAssertNotEqual(three[2].homographies, three[1].homographies)
        let ds = try HPatchesDataset(root: dir + "/b")
        XCTAssertEqual(ds.pairs.count, 20)
        for name in ["v_photo0_2", "v_photo0_3"] {
            let s = try ds.load(ds.pairs.first { $0.sequence == name && $0.index == 4 }!, width: nil, height: nil, order: .rgb)
            XCTAssertLessThan(consistency(s.first, s.second, s.homography), 0.02)
        }
    }
}
