import Bench
import KP2D
import TUI
import Training
import XCTest

/// The fixed probe batch's series on the loss charts (LossChart `probe:`, TrainingView).
final class ProbeChartTests: XCTestCase {
    func testRasterizeDrawsTheProbeLineInsideTheRange() {
        let steps = Array(1...100), values = [Double](repeating: 1, count: 100)
        let probe = ChartProbe(steps: [1, 50, 100], values: [2, 1.5, 1.25])
        let r = LossChart.rasterize(steps: steps, values: values, changeSteps: [], options: ChartOptions(),
                                    widthCells: 20, heightCells: 5, probe: probe)
        XCTAssertEqual(r.latestProbe, 1.25)
        XCTAssertGreaterThanOrEqual(r.yMax, 2, "the probe's points are in the y range")
        // The line starts in the first column near the top (2 is the range's top) and reaches the last column.
        XCTAssertTrue((0..<r.probe.heightDots / 4).contains { r.probe.isSet(0, $0) })
        XCTAssertTrue((0..<r.probe.heightDots).contains { r.probe.isSet(r.probe.widthDots - 1, $0) })
        // The probe's step-0 point (the untrained weights) widens the whole-run x axis to step 0.
        let early = LossChart.rasterize(steps: steps, values: values, changeSteps: [], options: ChartOptions(),
                                        widthCells: 20, heightCells: 5, probe: ChartProbe(steps: [0, 100], values: [3, 1]))
        XCTAssertEqual(early.xMin, 0)
        XCTAssertGreaterThanOrEqual(early.yMax, 3)
        XCTAssertTrue((0..<early.probe.heightDots / 4).contains { early.probe.isSet(0, $0) })
        // The windowed view (last 30 steps) leaves out the earlier probe points, and their values from the range.
        var o = ChartOptions(); o.window = 30
        let w = LossChart.rasterize(steps: steps, values: values, changeSteps: [], options: o, widthCells: 20, heightCells: 5, probe: probe)
        XCTAssertEqual(w.latestProbe, 1.25)
        XCTAssertLessThan(w.yMax, 1.5)
        // Without a probe nothing is drawn.
        let none = LossChart.rasterize(steps: steps, values: values, changeSteps: [], options: ChartOptions(), widthCells: 20, heightCells: 5)
        XCTAssertNil(none.latestProbe)
    }

    private func records(_ snap: TrainerSnapshot) -> [ProbeRecord] {
        stride(from: 0, to: snap.history.count, by: 50).map { i in
            var t = snap.history[i].terms
            t.total *= 0.9; t.loc *= 0.9
            return ProbeRecord(step: snap.history[i].step, pairs: 8, terms: t, lossWeights: snap.history[i].lossWeights, seconds: 0.3)
        }
    }

    /// At 200x60 and 80x24: a legend in the charts' header in the probe colour, the latest probe value in the
    /// total's title (200x60), and probe-coloured dots inside every chart (each loss has its own probe line).
    func testTrainingViewDrawsTheProbeAtBothSizes() throws {
        let snap = DemoTrainer.snapshot(steps: 500)
        let probe = StoredProbe(records: records(snap), status: "probe: 8 fixed pairs")
        for (w, h) in [(200, 60), (80, 24)] {
            let wb = Workbench(options: WorkbenchOptions(colorMode: .c256))
            wb.probe = probe
            let grid = wb.render(snapshot: snap, width: w, height: h)
            let probeStyle = wb.theme.style(.probe)
            let header = try XCTUnwrap(grid.find("Losses"), "\(w)x\(h)")
            XCTAssertTrue(grid.row(header.y).contains("probe: 8 fixed pairs, eval mode"), "\(w)x\(h): \(grid.row(header.y))")
            let legend = try XCTUnwrap(grid.find("probe: 8 fixed pairs"))
            XCTAssertEqual(grid.cells[legend.y * grid.width + legend.x].style, probeStyle)
            let body = Rect(x: 0, y: 1, width: w, height: h - 3)
            let layout = TrainingView.layout(body)
            for (id, rect) in layout.charts {
                let inner = rect.inset(1)
                var dots = 0
                for y in inner.y..<inner.maxY { for x in inner.x..<inner.maxX {
                    let c = grid.cells[y * grid.width + x]
                    if c.style == probeStyle && c.char.value >= 0x2801 && c.char.value <= 0x28FF { dots += 1 }
                } }
                XCTAssertGreaterThan(dots, 0, "\(w)x\(h): no probe line in \(id)")
            }
            if w == 200 {
                let total = layout.charts[.total]!
                let title = grid.row(total.y)
                XCTAssertTrue(title.contains("probe " + Series.format(Double(probe.probeRecords.last!.terms.total))), title)
            }
            // Without the probe: no legend, no probe-coloured cell.
            let plain = Workbench(options: WorkbenchOptions(colorMode: .c256)).render(snapshot: snap, width: w, height: h)
            XCTAssertFalse(plain.contains("probe:"))
            XCTAssertFalse(plain.cells.contains { $0.style == probeStyle && $0.char != " " })
        }
    }

    /// Before the first evaluation the legend says it is waiting.
    func testLegendBeforeTheFirstProbe() {
        let wb = Workbench(options: WorkbenchOptions(colorMode: .c256))
        wb.probe = StoredProbe(records: [], status: "probe: waiting")
        XCTAssertTrue(wb.render(snapshot: DemoTrainer.snapshot(steps: 50), width: 120, height: 40).contains("probe: waiting"))
    }
}
