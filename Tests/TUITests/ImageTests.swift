import KP2D
import Evaluation
import XCTest
import Datasets
import Geometry
import Training
import TUI

final class ImageTests: XCTestCase {
    func testPalette() {
        XCTAssertEqual(Palette.index256(r: 255, g: 0, b: 0), 196)
        XCTAssertEqual(Palette.index256(r: 0, g: 0, b: 255), 21)
        XCTAssertEqual(Palette.index256(r: 0, g: 0, b: 0), 16)
        XCTAssertEqual(Palette.index256(r: 255, g: 255, b: 255), 231)
        XCTAssertEqual(Palette.index256(r: 128, g: 128, b: 128), 244, "mid grey uses the grey ramp")
        for i in 16..<256 {
            let (r, g, b) = Palette.rgb(ofIndex: i)
            let back = Palette.index256(r: r, g: g, b: b)
            XCTAssertEqual(Palette.rgb(ofIndex: back).0, r, "index \(i)")
        }
        XCTAssertEqual(Palette.index8(of: 196), 1)
        XCTAssertEqual(Palette.index8(of: 46), 2)
        XCTAssertEqual(Palette.index8(of: 21), 4)
        XCTAssertEqual(Palette.index8(of: 240), 7, "dark grey stays visible")
        XCTAssertEqual(Palette.index8(of: 232), 0)
    }

    func testFitKeepsAspect() {
        let f = ImageRender.fit(imageWidth: 320, imageHeight: 240, maxWidth: 40, maxHeight: 100)
        XCTAssertEqual(f.width, 40); XCTAssertEqual(f.height, 15)   // 40 x 30 pixels
        let g = ImageRender.fit(imageWidth: 320, imageHeight: 240, maxWidth: 400, maxHeight: 12)
        XCTAssertEqual(g.height, 12); XCTAssertEqual(g.width, 32)
    }

    func testHalfBlocksCarryUpperPixelInForegroundAndLowerInBackground() {
        // 1 x 2 RGB image: top red, bottom blue.
        let img = Image(width: 1, height: 2, channels: 3, pixels: [1, 0, 0, 0, 0, 1])
        var grid = CellGrid(width: 1, height: 1)
        ImageRender.draw(into: &grid, x: 0, y: 0, width: 1, height: 1, image: img, halfBlocks: true, textStyle: .plain)
        XCTAssertEqual(grid[0, 0].char, "▀")
        XCTAssertEqual(grid[0, 0].fg, TermColor(196))
        XCTAssertEqual(grid[0, 0].bg, TermColor(21))
    }

    func testASCIIRamp() {
        let img = Image(width: 4, height: 2, channels: 1, pixels: [0, 0.33, 0.66, 1, 0, 0.33, 0.66, 1])
        var grid = CellGrid(width: 4, height: 1)
        ImageRender.draw(into: &grid, x: 0, y: 0, width: 4, height: 1, image: img, halfBlocks: false, textStyle: .plain)
        XCTAssertEqual(grid.row(0).first, " ")
        XCTAssertEqual(grid.row(0).last, "@")
        let chars = Array(grid.row(0).unicodeScalars)
        let idx = chars.map { c in asciiGreyRamp.firstIndex(of: c)! }
        XCTAssertEqual(idx, idx.sorted(), "brighter pixels get later ramp characters")
        XCTAssertFalse(grid.cells.contains { $0.char.value > 127 })
    }

    func testHalfCellLinesKeepTheOtherPixel() {
        var grid = CellGrid(width: 2, height: 1)
        grid[0, 0] = Cell("▀", style: Style(fg: TermColor(10), bg: TermColor(20)))
        let env = RenderEnv(theme: .default, glyphs: .unicodeSet, colorMode: .c256)
        PairView.plotHalf(&grid, 0, 1, Style(fg: TermColor(200)), env: env)     // lower half of cell 0
        XCTAssertEqual(grid[0, 0].fg, TermColor(10)); XCTAssertEqual(grid[0, 0].bg, TermColor(200))
        PairView.plotHalf(&grid, 1, 0, Style(fg: TermColor(201)), env: env)     // upper half of an empty cell
        XCTAssertEqual(grid[1, 0].char, "▀"); XCTAssertEqual(grid[1, 0].fg, TermColor(201))
        let ascii = RenderEnv(theme: .default, glyphs: .asciiSet, colorMode: .none)
        PairView.plotHalf(&grid, 1, 1, Style(), env: ascii)
        XCTAssertEqual(grid[1, 0].char, ".")
    }

    func testResampleAveragesBoxes() {
        let img = Image(width: 2, height: 2, channels: 1, pixels: [0, 1, 1, 0])
        let px = ImageRender.resample(img, width: 1, height: 1)
        XCTAssertEqual(px[0].0, 0.5, accuracy: 1e-6)
    }

    func makeContent(h: [Double] = [1, 0, 0, 0, 1, 0, 0, 0, 1]) -> JudgedPair {
        let img = Image(width: 40, height: 40, channels: 1, pixels: [Float](repeating: 0.5, count: 1600))
        let kps = [Keypoint(x: 5, y: 5, score: 0.1), Keypoint(x: 30, y: 30, score: 0.9)]
        return JudgedPair(source: img, target: img, sourceKeypoints: kps, targetKeypoints: kps,
                          matches: [Match(source: 0, target: 0, correct: true), Match(source: 1, target: 1, correct: false)],
                          homography: Homography(h))
    }

    func testOverlaysKeypointsAndMatches() {
        var grid = CellGrid(width: 42, height: 21)
        let env = RenderEnv(theme: .default, glyphs: .unicodeSet, colorMode: .c256)
        var toggles = OverlayToggles(); toggles.matches = .off
        let place = PairView.draw(into: &grid, rect: grid.bounds, content: makeContent(), toggles: toggles, env: env)!
        XCTAssertEqual(place.source.width, 20); XCTAssertEqual(place.source.height, 10)
        // Keypoint (5,5) of a 40 px image in a 20 x 10 cell block -> cell (2, 1).
        XCTAssertEqual(grid[place.source.x + 2, place.source.y + 1].char, "•")
        XCTAssertEqual(grid[place.target.x + 15, place.target.y + 7].char, "•")
        // Score colours differ (low vs high).
        XCTAssertNotEqual(grid[place.source.x + 2, place.source.y + 1].fg, grid[place.source.x + 15, place.source.y + 7].fg)
        toggles.matches = .markers
        PairView.draw(into: &grid, rect: grid.bounds, content: makeContent(), toggles: toggles, env: env)
        XCTAssertEqual(grid[place.source.x + 2, place.source.y + 1].char, "●", "correct match marker")
        XCTAssertEqual(grid[place.target.x + 15, place.target.y + 7].char, "✕", "wrong match marker")
        XCTAssertEqual(grid[place.source.x + 2, place.source.y + 1].fg, Theme.default[.inlier].fg)
    }

    func testWarpedGridFollowsHomography() {
        var grid = CellGrid(width: 42, height: 21)
        let env = RenderEnv(theme: .default, glyphs: .unicodeSet, colorMode: .c256)
        var toggles = OverlayToggles(); toggles.keypoints = false; toggles.matches = .off; toggles.grid = true
        // Shift by half the image to the right: the target shows grid lines only on its right half, drawn as
        // coloured half cells (the image's other half-pixel stays), and nothing on the source.
        let place = PairView.draw(into: &grid, rect: grid.bounds, content: makeContent(h: [1, 0, 20, 0, 1, 0, 0, 0, 1]), toggles: toggles, env: env)!
        let gridColor = Theme.default[.grid].fg
        func gridCells(_ r: Rect, _ xs: Range<Int>) -> Int {
            (r.y..<r.maxY).flatMap { y in xs.map { grid[r.x + $0, y] } }.filter { $0.fg == gridColor || $0.bg == gridColor }.count
        }
        let t = place.target
        XCTAssertEqual(gridCells(t, 0..<9), 0)
        XCTAssertGreaterThan(gridCells(t, 10..<20), 20)
        XCTAssertEqual(gridCells(place.source, 0..<20), 0)
        XCTAssertTrue((t.y..<t.maxY).allSatisfy { y in (t.x..<t.maxX).allSatisfy { grid[$0, y].char == "▀" } }, "image cells stay half blocks")
        XCTAssertNotNil(Homography.identity.applyIfVisible(Point2(3, 4)))
        XCTAssertNil(Homography([1, 0, 0, 0, 1, 0, 0, 0, 0]).applyIfVisible(Point2(3, 4)))
    }
}
