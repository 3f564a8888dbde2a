import XCTest
import Datasets
import Evaluation
import Foundation
import Geometry
import KP2D

/// Figures are checked the way a user sees them: written as PNG, decoded back with the image reader.
final class FigureTests: XCTestCase {
    private var dir: String!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("kp2d-figures-\(getpid())-\(name.hashValue)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// Write `canvas` as PNG, read it back as 8-bit RGB.
    private func roundTrip(_ canvas: Canvas, _ name: String) throws -> (width: Int, height: Int, at: (Int, Int) -> RGB8) {
        let path = dir + "/" + name
        try canvas.savePNG(to: path)
        let img = try ImageIO.load(path)
        XCTAssertEqual(img.channels, 3)
        let plane = img.width * img.height
        let bytes = img.pixels.map { UInt8(($0 * 255).rounded()) }
        return (img.width, img.height, { x, y in
            let i = y * img.width + x
            return RGB8(bytes[i], bytes[plane + i], bytes[2 * plane + i])
        })
    }

    private func gray(_ w: Int, _ h: Int, _ v: Float) -> Image {
        Image(width: w, height: h, channels: 1, pixels: [Float](repeating: v, count: w * h))
    }

    func testLineIncludesBothEndsAndStaysConnected() {
        var c = Canvas(width: 40, height: 30)
        c.line(3, 4, 35, 21, .white)
        XCTAssertEqual(c[3, 4], .white); XCTAssertEqual(c[35, 21], .white)
        // 8-connected: every column between the ends has exactly one lit pixel (|dx| > |dy|).
        for x in 3...35 { XCTAssertEqual((0..<30).filter { c[x, $0] == .white }.count, 1, "column \(x)") }
        // Far outside ends are clipped, not walked forever, and do not crash.
        c.line(-1_000_000, 0, 1_000_000, 0, .white)
        c.line(-5, 15, 60, 15, .white)
        XCTAssertEqual((0..<40).filter { c[$0, 15] == .white }.count, 40)
    }

    func testFontCoversPrintableASCIIWithDistinctGlyphs() {
        var seen = [[UInt8]: Character]()
        for a in UInt8(33)...UInt8(126) {
            let ch = Character(UnicodeScalar(a))
            let g = BitmapFont.glyph(ch)
            XCTAssertEqual(g.count, BitmapFont.glyphHeight)
            XCTAssertTrue(g.allSatisfy { $0 < 32 }, "\(ch) has a row wider than 5 pixels")
            XCTAssertTrue(g.contains { $0 != 0 }, "\(ch) is blank")
            if let other = seen[g] { XCTFail("\(ch) and \(other) look the same") }
            seen[g] = ch
        }
        XCTAssertEqual(BitmapFont.glyph(" "), [UInt8](repeating: 0, count: 7))
        XCTAssertEqual(BitmapFont.glyph("é"), BitmapFont.glyph("?"))
        XCTAssertEqual(BitmapFont.width("abc"), 17)
        XCTAssertEqual(BitmapFont.width("abc", scale: 2), 34)
    }

    func testTextDrawsTheGlyphPixels() {
        var c = Canvas(width: 20, height: 10)
        let end = c.text("T", x: 1, y: 2, .white)
        XCTAssertEqual(end, 7)
        // 'T': top row full, then the middle column.
        for x in 1...5 { XCTAssertEqual(c[x, 2], .white) }
        for y in 3...8 { XCTAssertEqual(c[3, y], .white); XCTAssertEqual(c[2, y], .black) }
        var big = Canvas(width: 20, height: 20)
        big.text("T", x: 0, y: 0, .white, scale: 2)
        XCTAssertEqual(big[9, 1], .white); XCTAssertEqual(big[10, 1], .black)
    }

    func testWrapBreaksAtSpacesAndSplitsLongWords() {
        XCTAssertEqual(TextWrap.lines("aa bb cc", width: 5), ["aa bb", "cc"])
        XCTAssertEqual(TextWrap.lines("abcdefgh", width: 3), ["abc", "def", "gh"])
        XCTAssertEqual(TextWrap.lines("", width: 3), [""])
    }

    func testPairFigureLinesAreGreenWhenCorrectAndRedWhenWrong() throws {
        let a = gray(40, 30, 0.5), b = gray(50, 30, 0.25)
        let first = [Keypoint(x: 5, y: 5, score: 1), Keypoint(x: 6, y: 20, score: 1), Keypoint(x: 30, y: 25, score: 0.5)]
        let second = [Keypoint(x: 10, y: 5, score: 1), Keypoint(x: 12, y: 20, score: 1), Keypoint(x: 45, y: 2, score: 0.5)]
        let matches = [Match(source: 0, target: 0, correct: true), Match(source: 1, target: 1, correct: false)]
        let style = FigureStyle()
        let pair = JudgedPair(source: a, target: b, sourceKeypoints: first, targetKeypoints: second, matches: matches, homography: nil)
        let canvas = PairFigure.render(pair, caption: ["v_test 1 -> 2", "Rep 0.500"], style: style)
        let png = try roundTrip(canvas, "pair.png")
        let ox = 40 + PairFigure.gap
        XCTAssertEqual(png.width, 40 + PairFigure.gap + 50)
        XCTAssertGreaterThan(png.height, 30, "caption band below the images")
        // Horizontal match lines: every pixel strictly between the end rings has the match's colour.
        for x in 10...(ox + 10 - 3) { XCTAssertEqual(png.at(x, 5), style.correct, "correct match at x \(x)") }
        for x in 10...(ox + 12 - 3) { XCTAssertEqual(png.at(x, 20), style.wrong, "wrong match at x \(x)") }
        // Images are where they belong: grey 0.5 left, 0.25 right, background in the gap below a short line.
        XCTAssertEqual(png.at(20, 12), RGB8(128, 128, 128))
        XCTAssertEqual(png.at(ox + 25, 12), RGB8(64, 64, 64))
        XCTAssertEqual(png.at(40 + 2, 12), style.background)
        // Unmatched keypoints are rings in the keypoint colour.
        XCTAssertEqual(png.at(30 + 2, 25), style.keypoint)
        XCTAssertEqual(png.at(ox + 45 + 2, 2), style.keypoint)
        // Caption: text pixels in the band under the images.
        var text = 0
        for y in 30..<png.height { for x in 0..<png.width where png.at(x, y) == style.captionText { text += 1 } }
        XCTAssertGreaterThan(text, 40)
    }

    func testDiagonalMatchLinePassesThroughItsMidpoint() throws {
        let a = gray(64, 48, 0), b = gray(64, 48, 0)
        let first = [Keypoint(x: 10, y: 10, score: 1)], second = [Keypoint(x: 50, y: 40, score: 1)]
        let canvas = PairFigure.render(JudgedPair(source: a, target: b, sourceKeypoints: first, targetKeypoints: second,
                                                  matches: [Match(source: 0, target: 0, correct: false)], homography: nil), caption: [])
        let png = try roundTrip(canvas, "diag.png")
        XCTAssertEqual(png.height, 48, "no caption, no band")
        let ox = 64 + PairFigure.gap
        // Points along the segment from (10,10) to (ox+50, 40): each has a red pixel within 1 px.
        for t in stride(from: 0.2, through: 0.8, by: 0.1) {
            let x = Int((10 + t * Double(ox + 40)).rounded()), y = Int((10 + t * 30).rounded())
            let near = (-1...1).flatMap { dy in (-1...1).map { dx in png.at(x + dx, y + dy) } }
            XCTAssertTrue(near.contains(FigureStyle().wrong), "no red near (\(x), \(y))")
        }
    }

    func testHomographyMatchesMarkCorrectWithinThreePixels() {
        // Identity H; descriptors pair point i with point i. Point 0 moved 2 px (correct), point 1 moved 4 px
        // (wrong), point 2 of image 2 lies outside after H⁻¹ and is not kept.
        let d: [Float] = [1, 0, 0, 1]
        let first = KeypointSet(keypoints: [Keypoint(x: 10, y: 10, score: 1), Keypoint(x: 100, y: 50, score: 1)], descriptors: d, dimension: 2)
        let second = KeypointSet(keypoints: [Keypoint(x: 12, y: 10, score: 1), Keypoint(x: 104, y: 50, score: 1), Keypoint(x: 500, y: 5, score: 1)],
                                 descriptors: d + [0.7, 0.7], dimension: 2)
        let pair = EvaluationPair(first: first, second: second, homography: .identity, width: 320, height: 240)
        let r = PairFigure.homographyMatches(pair, topK: 300)
        XCTAssertEqual(r.second.count, 2)
        XCTAssertEqual(r.matches.count, 2)
        let byFirst = Dictionary(uniqueKeysWithValues: r.matches.map { (r.first.keypoints[$0.source].x, $0.correct) })
        XCTAssertEqual(byFirst[10], true)
        XCTAssertEqual(byFirst[100], false)
    }

    func testKeypointFigureRingsAndCaption() throws {
        let img = gray(80, 60, 0)
        let kps = [Keypoint(x: 20, y: 20, score: 1), Keypoint(x: 60, y: 40, score: 0)]
        let style = FigureStyle()
        let png = try roundTrip(KeypointFigure.render(image: img, keypoints: kps, caption: ["2 keypoints"], style: style), "kp.png")
        XCTAssertEqual(png.width, 80)
        XCTAssertGreaterThan(png.height, 60)
        XCTAssertEqual(png.at(22, 20), style.keypoint, "best keypoint: full keypoint colour")
        let weak = png.at(62, 40)
        XCTAssertEqual(weak.r, style.keypoint.r); XCTAssertLessThan(weak.g, style.keypoint.g)
        XCTAssertEqual(png.at(20, 20), .black, "ring, not a disc")
        var text = 0
        for y in 60..<png.height { for x in 0..<80 where png.at(x, y) == style.captionText { text += 1 } }
        XCTAssertGreaterThan(text, 20)
    }
}
