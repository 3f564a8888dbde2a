import XCTest
import Datasets

/// A fresh temporary folder per test.
func makeTempDir(_ name: String = #function) throws -> String {
    let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("kp2d-tests-\(getpid())-\(name.filter { $0.isLetter })-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

func write(_ bytes: [UInt8], _ path: String) { FileManager.default.createFile(atPath: path, contents: Data(bytes)) }
func write(_ base64: String, _ path: String) { FileManager.default.createFile(atPath: path, contents: Data(base64Encoded: base64)!) }

/// A deterministic 8-bit test pattern (values are multiples of 1/255).
func pattern(width: Int, height: Int, channels: Int) -> Image {
    var img = Image(width: width, height: height, channels: channels)
    for c in 0..<channels { for y in 0..<height { for x in 0..<width {
        img.pixels[(c * height + y) * width + x] = Float((x * 7 + y * 13 + c * 50) % 256) / 255
    } } }
    return img
}

final class ImageIOTests: XCTestCase {
    func testPNGRoundTripRGBAndGray() throws {
        let dir = try makeTempDir()
        for ch in [1, 3] {
            let img = pattern(width: 17, height: 9, channels: ch)
            let p = dir + "/rt\(ch).png"
            try ImageIO.savePNG(img, to: p)
            XCTAssertEqual(try ImageIO.load(p), img)
        }
    }

    func testPPMRoundTripAndComments() throws {
        let dir = try makeTempDir()
        let img = pattern(width: 5, height: 4, channels: 3)
        try ImageIO.savePPM(img, to: dir + "/a.ppm")
        XCTAssertEqual(try ImageIO.load(dir + "/a.ppm"), img)
        let gray = pattern(width: 6, height: 3, channels: 1)
        try ImageIO.savePPM(gray, to: dir + "/g.pgm")
        XCTAssertEqual(try ImageIO.load(dir + "/g.pgm"), gray)
        // Comments anywhere in the header.
        write(Array("P6 # comment\n# another\n2 1\n# max\n255\n".utf8) + [255, 0, 0, 0, 128, 255], dir + "/c.ppm")
        let c = try ImageIO.load(dir + "/c.ppm")
        XCTAssertEqual(c.width, 2); XCTAssertEqual(c.channels, 3)
        XCTAssertEqual(c.pixels, [1, 0, 0, 128.0 / 255, 0, 1])
    }

    func testPGM16BitIsScaledByMaxval() throws {
        let dir = try makeTempDir()
        write(Array("P5\n2 1\n1000\n".utf8) + [0x03, 0xE8, 0x01, 0xF4], dir + "/h.pgm")
        let img = try ImageIO.load(dir + "/h.pgm")
        XCTAssertEqual(img.pixels, [1, 0.5])
    }

    func testPNGVariants() throws {
        let dir = try makeTempDir()
        write("iVBORw0KGgoAAAANSUhEUgAAAAIAAAABEAIAAAAr0DSeAAAAFUlEQVR4nGP4/5+BoYGBkZGJifkFABv9A3AGqoenAAAAAElFTkSuQmCC", dir + "/p16.png")
        let p16 = try ImageIO.load(dir + "/p16.png")
        XCTAssertEqual(p16.channels, 3)
        let e16: [Double] = [1, 257.0 / 65535, 0, 514.0 / 65535, 32768.0 / 65535, 1000.0 / 65535]
        for (a, e) in zip(p16.pixels, e16) { XCTAssertEqual(a, Float(e), accuracy: 1e-7) }
        write("iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAMAAADD/I+4AAAABlBMVEX/AAAAAP9sof2OAAAAC0lEQVR4nGNgZAAAAAUAAtFmM3gAAAAASUVORK5CYII=", dir + "/pal.png")
        XCTAssertEqual(try ImageIO.load(dir + "/pal.png").pixels, [0, 1, 0, 0, 1, 0])  // blue, red
        write("iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAQAAABeK7cBAAAADUlEQVR4nGPg+n+CAQAEugHSoRFfqAAAAABJRU5ErkJggg==", dir + "/ga.png")
        let ga = try ImageIO.load(dir + "/ga.png")
        XCTAssertEqual(ga.channels, 1); XCTAssertEqual(ga.pixels, [Float(10) / 255, Float(200) / 255])
        write("iVBORw0KGgoAAAANSUhEUgAAAAMAAAABAQAAAAAzmykZAAAACklEQVR4nGNYAAAAogCh3I2xzAAAAABJRU5ErkJggg==", dir + "/g1.png")
        XCTAssertEqual(try ImageIO.load(dir + "/g1.png").pixels, [1, 0, 1])
        write("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgZGJmAQAAGQAL51pGpAAAAABJRU5ErkJggg==", dir + "/rgba.png")
        let rgba = try ImageIO.load(dir + "/rgba.png")
        XCTAssertEqual(rgba.channels, 3); XCTAssertEqual(rgba.pixels, [Float(1) / 255, Float(2) / 255, Float(3) / 255])
    }

    func testJPEGRoundTripIsClose() throws {
        let dir = try makeTempDir()
        var img = Image(width: 32, height: 24, channels: 3)
        for c in 0..<3 { for y in 0..<24 { for x in 0..<32 { img.pixels[(c * 24 + y) * 32 + x] = Float(x + y + c * 10) / 100 } } }
        try ImageIO.saveJPEG(img, to: dir + "/a.jpg", quality: 95)
        let back = try ImageIO.load(dir + "/a.jpg")
        XCTAssertEqual(back.width, 32); XCTAssertEqual(back.height, 24); XCTAssertEqual(back.channels, 3)
        let maxErr = zip(back.pixels, img.pixels).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(maxErr, 0.04)
        try ImageIO.saveJPEG(pattern(width: 8, height: 8, channels: 1), to: dir + "/g.jpg")
        XCTAssertEqual(try ImageIO.load(dir + "/g.jpg").channels, 1)
    }

    func assertUnreadable(_ path: String, contains text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ImageIO.load(path), file: file, line: line) { error in
            let d = "\(error)"
            XCTAssertTrue(d.hasPrefix(path), "error should name the file: \(d)", file: file, line: line)
            XCTAssertTrue(d.contains(text), "expected '\(text)' in: \(d)", file: file, line: line)
        }
    }

    func testErrorsNameTheFile() throws {
        let dir = try makeTempDir()
        assertUnreadable(dir + "/missing.png", contains: "no such file")
        assertUnreadable(dir, contains: "is a folder")
        write(Array("P6\n2 x\n255\n".utf8), dir + "/badheader.ppm")
        assertUnreadable(dir + "/badheader.ppm", contains: "expected the height")
        write(Array("P6\n2 2\n255\n".utf8) + [1, 2, 3], dir + "/short.ppm")
        assertUnreadable(dir + "/short.ppm", contains: "truncated")
        write(Array("P6\n2 2\n70000\n".utf8), dir + "/maxval.ppm")
        assertUnreadable(dir + "/maxval.ppm", contains: "maxval")
        write(Array("hello world".utf8), dir + "/text.png")
        assertUnreadable(dir + "/text.png", contains: "unknown image format")
        write([], dir + "/empty.jpg")
        assertUnreadable(dir + "/empty.jpg", contains: "empty")

        // Truncated PNG and JPEG: real files cut in half.
        try ImageIO.savePNG(pattern(width: 64, height: 64, channels: 3), to: dir + "/full.png")
        let png = FileManager.default.contents(atPath: dir + "/full.png")!
        write([UInt8](png.prefix(png.count / 2)), dir + "/cut.png")
        assertUnreadable(dir + "/cut.png", contains: "invalid PNG")
        var corrupt = [UInt8](png); corrupt[20] ^= 0xFF  // IHDR CRC mismatch
        write(corrupt, dir + "/crc.png")
        assertUnreadable(dir + "/crc.png", contains: "invalid PNG")
        try ImageIO.saveJPEG(pattern(width: 64, height: 64, channels: 3), to: dir + "/full.jpg")
        let jpg = FileManager.default.contents(atPath: dir + "/full.jpg")!
        write([UInt8](jpg.prefix(jpg.count / 2)), dir + "/cut.jpg")
        assertUnreadable(dir + "/cut.jpg", contains: "invalid JPEG")
        write([0xFF, 0xD8, 0xFF, 0x00, 0x12], dir + "/junk.jpg")
        assertUnreadable(dir + "/junk.jpg", contains: "invalid JPEG")
    }

    func testWriteErrors() throws {
        let bad = Image(width: 2, height: 2, channels: 2)
        XCTAssertThrowsError(try ImageIO.savePNG(bad, to: "/tmp/x.png")) { XCTAssertTrue("\($0)".contains("channels")) }
        XCTAssertThrowsError(try ImageIO.savePNG(pattern(width: 2, height: 2, channels: 3), to: "/proc/nope/x.png")) {
            XCTAssertTrue("\($0)".hasPrefix("/proc/nope/x.png"))
        }
    }
}

final class ResizeTests: XCTestCase {
    func testDownscaleByTwoAveragesPairs() {
        let img = Image(width: 4, height: 1, channels: 1, pixels: [0, 1, 2, 3])
        XCTAssertEqual(img.resized(width: 2, height: 1).pixels, [0.5, 2.5])
    }

    func testUpscaleUsesHalfPixelCentresAndClampsEdges() {
        let img = Image(width: 2, height: 1, channels: 1, pixels: [0, 4])
        XCTAssertEqual(img.resized(width: 4, height: 1).pixels, [0, 1, 3, 4])
    }

    func testResize2DAndChannels() {
        let img = pattern(width: 8, height: 6, channels: 3)
        let r = img.resized(width: 4, height: 3)
        XCTAssertEqual(r.width, 4); XCTAssertEqual(r.height, 3); XCTAssertEqual(r.channels, 3)
        // Pixel (0,0) of channel 1 = mean of the 2x2 block at (0,0).
        let expected = (img.at(1, 0, 0) + img.at(1, 0, 1) + img.at(1, 1, 0) + img.at(1, 1, 1)) / 4
        XCTAssertEqual(r.at(1, 0, 0), expected, accuracy: 1e-6)
        XCTAssertEqual(img.resized(width: 8, height: 6), img)
    }

    func testSwapAndCrop() {
        let img = pattern(width: 4, height: 3, channels: 3)
        let s = img.swappingRedBlue()
        XCTAssertEqual(s.at(0, 1, 2), img.at(2, 1, 2)); XCTAssertEqual(s.at(2, 1, 2), img.at(0, 1, 2))
        XCTAssertEqual(s.swappingRedBlue(), img)
        let c = img.cropped(x: 1, y: 1, width: 2, height: 2)
        XCTAssertEqual(c.at(2, 1, 1), img.at(2, 2, 2))
    }
}

final class RealPhotoDecodeTests: XCTestCase {
    /// The shared CC0 photos decode with the sizes and channel counts of their licence table.
    func testSharedPhotosDecode() throws {
        let dir = "/work/shared/images"
        guard FileManager.default.fileExists(atPath: dir) else { throw XCTSkip("\(dir) not present") }
        for (name, w, h, c) in [("skimage_chelsea.png", 451, 300, 3), ("skimage_camera.png", 512, 512, 1),
                                ("skimage_rocket.jpg", 640, 427, 3), ("mpl_grace_hopper.jpg", 512, 600, 3)] {
            let img = try ImageIO.load("\(dir)/\(name)")
            XCTAssertEqual([img.width, img.height, img.channels], [w, h, c], name)
            let mean = img.pixels.reduce(0, +) / Float(img.pixels.count)
            XCTAssertTrue(mean > 0.05 && mean < 0.95, "\(name): implausible mean \(mean)")
        }
    }
}
