import Bench
import XCTest
import TUI
import Training

final class ChartTests: XCTestCase {
    func testBrailleBitLayout() {
        var c = BrailleCanvas(widthCells: 1, heightCells: 1)
        c.set(0, 0)
        XCTAssertEqual(c.lines(), ["\u{2801}"])
        c.set(1, 3)
        XCTAssertEqual(c.lines(), ["\u{2881}"])
        for x in 0..<2 { for y in 0..<4 { c.set(x, y) } }
        XCTAssertEqual(c.lines(), ["\u{28FF}"])
        c.set(5, 9)  // outside: ignored
        XCTAssertEqual(c.bits, [0xFF])
    }

    func testBrailleLineAndVline() {
        var c = BrailleCanvas(widthCells: 4, heightCells: 2)   // 8 x 8 dots
        c.line(0, 7, 7, 0)
        for i in 0..<8 { XCTAssertTrue(c.isSet(i, 7 - i), "diagonal dot \(i)") }
        var v = BrailleCanvas(widthCells: 1, heightCells: 2)
        v.vline(1, 6, 1)
        XCTAssertEqual((0..<8).filter { v.isSet(1, $0) }, [1, 2, 3, 4, 5, 6])
        XCTAssertFalse(v.isSet(0, 3))
    }

    func testBrailleASCIIFallback() {
        XCTAssertEqual(BrailleCanvas.glyph(bits: 0x01, ascii: true), "'")
        XCTAssertEqual(BrailleCanvas.glyph(bits: 0x40, ascii: true), ".")
        XCTAssertEqual(BrailleCanvas.glyph(bits: 0x41, ascii: true), ":")
        XCTAssertEqual(BrailleCanvas.glyph(bits: 0, ascii: true), " ")
    }

    func testRasterizeKeepsSpikeAndMarksNaN() {
        let n = 5000
        let steps = Array(1...n)
        var values = [Double](repeating: 1, count: n)
        values[2500] = 100            // one spike among 5000 points on a 20-cell (40-dot) wide plot
        values[1000] = .nan
        let r = LossChart.rasterize(steps: steps, values: values, changeSteps: [4000], options: ChartOptions(smoothing: 0.9, fit: .all),
                                    widthCells: 20, heightCells: 5)
        // The spike reaches the top of the plot (within the 5 % padding) in the raw canvas, nowhere else does.
        let topColumns = (0..<40).filter { r.raw.isSet($0, 0) || r.raw.isSet($0, 1) }
        XCTAssertFalse(topColumns.isEmpty, "spike kept")
        XCTAssertTrue(topColumns.allSatisfy { abs($0 - 20) <= 1 }, "\(topColumns)")
        XCTAssertEqual(r.nonFiniteCount, 1)
        XCTAssertEqual(r.nonFiniteColumns.count, 1)
        XCTAssertEqual(r.nonFiniteColumns[0].nan, 1)
        XCTAssertEqual(r.nonFiniteColumns[0].column, Series.column(of: 1001, x0: 1, x1: Double(n), columns: 40)! / 2)
        XCTAssertEqual(r.changeColumns, [Series.column(of: 4000, x0: 1, x1: Double(n), columns: 40)! / 2])
        XCTAssertEqual(r.xMin, 1); XCTAssertEqual(r.xMax, n)
    }

    func testSmoothedFitClipsButAllFitShowsRange() {
        let steps = Array(1...100)
        var values = [Double](repeating: 1, count: 100)
        values[0] = 1000
        let smooth = LossChart.rasterize(steps: steps, values: values, changeSteps: [], options: ChartOptions(smoothing: 0.99, fit: .smoothed), widthCells: 10, heightCells: 4)
        let all = LossChart.rasterize(steps: steps, values: values, changeSteps: [], options: ChartOptions(smoothing: 0.99, fit: .all), widthCells: 10, heightCells: 4)
        XCTAssertGreaterThan(all.yMax, 999)
        XCTAssertLessThan(smooth.yMax, all.yMax)
    }

    func testBestIsLowestSmoothedValue() {
        let steps = Array(1...50)
        let values = steps.map { Double(abs($0 - 30)) + 1 }
        let r = LossChart.rasterize(steps: steps, values: values, changeSteps: [], options: ChartOptions(smoothing: 0), widthCells: 25, heightCells: 4)
        XCTAssertEqual(r.best?.step, 30)
        XCTAssertEqual(r.best?.value, 1)
        XCTAssertEqual(r.best?.cellY, 3, "lowest value sits in the bottom row")
    }

    func testLogScaleRasterRange() {
        let steps = Array(1...3)
        let r = LossChart.rasterize(steps: steps, values: [0.01, 1, 100], changeSteps: [], options: ChartOptions(smoothing: 0, logScale: true, fit: .all), widthCells: 10, heightCells: 4)
        XCTAssertEqual(r.scale, .log)
        XCTAssertEqual(r.yMin, -2 - 0.2, accuracy: 1e-9)   // log10 range -2...2 padded by 5 %
        XCTAssertEqual(r.yMax, 2 + 0.2, accuracy: 1e-9)
    }

    func testDrawShowsTitleMarkersAndNaN() {
        var grid = CellGrid(width: 60, height: 10)
        let steps = Array(1...200)
        var values = steps.map { 1.0 / Double($0) }
        values[100] = .infinity
        LossChart.draw(into: &grid, rect: grid.bounds, title: "L_loc", role: .loss_loc, steps: steps, values: values,
                       changeSteps: [150], options: ChartOptions(), theme: .default, glyphs: .unicodeSet, focused: true)
        XCTAssertTrue(grid.row(0).contains("L_loc"))
        XCTAssertTrue(grid.row(0).contains("1 non-finite"))
        XCTAssertTrue(grid.contains("▲"), "NaN/inf marker drawn")
        XCTAssertTrue(grid.contains("┊"), "parameter change marker drawn")
        XCTAssertTrue(grid.contains("★"), "best marked")
        XCTAssertTrue(grid.cells.contains { $0.char.value >= 0x2801 && $0.char.value <= 0x28FF }, "braille dots")
        // ASCII: no braille, no box drawing.
        var ascii = CellGrid(width: 60, height: 10)
        LossChart.draw(into: &ascii, rect: ascii.bounds, title: "L_loc", role: .loss_loc, steps: steps, values: values,
                       changeSteps: [150], options: ChartOptions(), theme: .default, glyphs: .asciiSet, focused: false)
        XCTAssertFalse(ascii.cells.contains { $0.char.value > 127 }, ascii.text)
    }
}

final class ChartDataTests: XCTestCase {
    func testIncrementalSeriesEqualFullRecompute() {
        let full = DemoTrainer.snapshot(steps: 900).history
        let data = ChartData()
        for cut in [0, 1, 10, 500, 900] { data.update(history: Array(full[0..<cut]), smoothing: 0.9) }
        XCTAssertEqual(data.steps, full.map(\.step))
        for id in ChartID.allCases {
            let v = full.map { id.value($0) }
            XCTAssertEqual(data.values[id]!.count, v.count)
            for (a, b) in zip(data.values[id]!, v) { XCTAssertTrue(a == b || (a.isNaN && b.isNaN)) }
            let e = Series.ema(v, smoothing: 0.9)
            for (a, b) in zip(data.ema[id]!, e) { XCTAssertTrue(a == b || (a.isNaN && b.isNaN), "\(id) \(a) \(b)") }
        }
        // The score chart plots usp + 2 * consistency.
        XCTAssertEqual(data.values[.score]![5], Double(full[5].terms.usp + 2 * full[5].terms.consistency))
        // A different run (history not an extension) and a smoothing change rebuild.
        let other = DemoTrainer.snapshot(steps: 50).history.dropFirst(10)
        data.update(history: Array(other), smoothing: 0.9)
        XCTAssertEqual(data.steps, other.map(\.step))
        data.update(history: Array(other), smoothing: 0.5)
        XCTAssertEqual(data.ema[.loc]!, Series.ema(other.map { Double($0.terms.loc) }, smoothing: 0.5))
    }

    func testWindowShowsOnlyRecentSteps() {
        let steps = Array(1...5000)
        let values = steps.map { Double($0) }
        let r = LossChart.rasterize(steps: steps, values: values, changeSteps: [100], options: ChartOptions(window: 1000),
                                    widthCells: 20, heightCells: 4)
        XCTAssertEqual(r.xMin, 4000); XCTAssertEqual(r.xMax, 5000)
        XCTAssertEqual(r.changeColumns, [], "a change before the window is not drawn")
    }
}

/// `--compare-run`: another run's smoothed curve, faint, in the same axes.
final class ComparisonOverlayTests: XCTestCase {
    func testOverlayWidensTheRangesAndHasItsOwnCanvas() {
        let steps = Array(1...100), values = steps.map { 1 + 0.001 * Double($0) }
        let other = ChartOverlay(steps: Array(1...200), values: Array(repeating: 10, count: 200), changeSteps: [150])
        let whole = LossChart.rasterize(steps: steps, values: values, changeSteps: [], options: ChartOptions(fit: .all),
                                        widthCells: 20, heightCells: 5, overlay: other)
        XCTAssertGreaterThanOrEqual(whole.yMax, 10)          // the other run's curve is inside the y range
        XCTAssertEqual(whole.xMax, 200)                      // and the whole-run x range spans both runs
        XCTAssertFalse(whole.overlay.bits.allSatisfy { $0 == 0 })
        XCTAssertEqual(whole.overlayChangeColumns.count, 1)
        let alone = LossChart.rasterize(steps: steps, values: values, changeSteps: [], options: ChartOptions(fit: .all),
                                        widthCells: 20, heightCells: 5)
        XCTAssertLessThan(alone.yMax, 2)
        XCTAssertTrue(alone.overlay.bits.allSatisfy { $0 == 0 })
        // A window keeps this run's x range; the other run is clipped to it.
        let windowed = LossChart.rasterize(steps: steps, values: values, changeSteps: [], options: ChartOptions(fit: .all, window: 50),
                                           widthCells: 20, heightCells: 5, overlay: other)
        XCTAssertEqual(windowed.xMax, 100)
        XCTAssertTrue(windowed.overlayChangeColumns.isEmpty)
    }

    func testTrainingViewNamesTheOverlaidRunAndDrawsItFaintly() {
        let snap = DemoTrainer.snapshot(steps: 300)
        let other = DemoTrainer.snapshot(steps: 600)
        let run = RecordedRun(name: "runs/old", logPath: "runs/old/metrics.jsonl", checkpointPath: nil, history: other.history, checkpoint: nil)
        let plain = renderOnce(snap, width: 160, height: 50)
        let compared = renderOnce(snap, width: 160, height: 50, options: WorkbenchOptions(compareRun: run))
        XCTAssertFalse(plain.contains("runs/old"))
        XCTAssertTrue(compared.contains("faint: runs/old (600 steps)"), compared)
        XCTAssertNotEqual(plain, compared)
        // The x axis of the total chart now ends at the other run's last step.
        XCTAssertTrue(compared.contains("600"))
    }
}
