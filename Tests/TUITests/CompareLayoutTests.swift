import Bench
import Datasets
import Evaluation
import Foundation
import KP2D
import Training
import TUI
import XCTest

/// The browser comparing two models (inspect --compare, the workbench's pinned baseline): the list with A, B and
/// Δ, the stacked pair view, the pin keys and the pinned state, on the cell grid.
final class CompareLayoutTests: XCTestCase {
    let snap = DemoTrainer.snapshot(steps: 10)

    /// A = DemoHPatches, B = the same shifted: B is better on i_dome and v_wall (A regressed there), worse on
    /// i_ajuntament and v_boat, the same on i_boutique and v_graffiti.
    func makeComparison() -> (HPatchesComparisonSource, DemoHPatches, DemoHPatches) {
        let a = DemoHPatches(), b = DemoHPatches(shift: 0.2)
        return (HPatchesComparisonSource(primary: a, label: "runs/a.safetensors", baseline: b, baselineLabel: "runs/b.safetensors"), a, b)
    }

    func press(_ wb: Workbench, _ keys: [Key]) { for k in keys { wb.handle(k, snapshot: snap, send: { _ in }) } }

    /// The list row of `name` (the text right of the marker).
    func row(_ g: CellGrid, _ name: String) -> (y: Int, text: String)? {
        guard let p = g.find(name + " ") else { return nil }
        return (p.y, g.row(p.y))
    }

    func testOrderingIsWorstRegressedFirst() {
        let (c, _, _) = makeComparison()
        let list = HPatchesBrowserOrdering.arrange(c.comparedSequences(), filter: .all, sort: .repeatability, reversed: false)
        XCTAssertEqual(Set(list.prefix(2).map(\.name)), ["i_dome", "v_wall"], "A's Rep is lower than B's there")
        XCTAssertEqual(Set(list.suffix(2).map(\.name)), ["i_ajuntament", "v_boat"])
        let regressions = list.map { HPatchesBrowserSortKey.repeatability.regression($0) }
        XCTAssertEqual(regressions, regressions.sorted(by: >))
        XCTAssertEqual(HPatchesBrowserSortKey.repeatability.delta(list[0]), -0.04, accuracy: 1e-9)
        // Errors: a higher LocErr of A is the regression; the same sequences come first.
        let byErr = HPatchesBrowserOrdering.arrange(c.comparedSequences(), filter: .all, sort: .localizationError, reversed: false)
        XCTAssertEqual(Set(byErr.prefix(2).map(\.name)), ["i_dome", "v_wall"])
        XCTAssertGreaterThan(HPatchesBrowserSortKey.localizationError.delta(byErr[0]), 0)
        // Reversed: most improved first; NaN (not evaluated by B) always last.
        let rev = HPatchesBrowserOrdering.arrange(c.comparedSequences(), filter: .all, sort: .repeatability, reversed: true)
        XCTAssertEqual(Set(rev.prefix(2).map(\.name)), ["i_ajuntament", "v_boat"])
        var partial = c.comparedSequences()
        partial[0].b = HPatchesBrowserMetrics()
        XCTAssertEqual(HPatchesBrowserOrdering.arrange(partial, filter: .all, sort: .repeatability, reversed: false).last?.name, partial[0].name)
        XCTAssertEqual(HPatchesBrowserOrdering.arrange(partial, filter: .all, sort: .repeatability, reversed: true).last?.name, partial[0].name)
    }

    func testCompareListShowsABAndDeltaSortedByTheDelta() throws {
        let (c, _, _) = makeComparison()
        let wb = Workbench(options: WorkbenchOptions(colorMode: .c256, inspect: true), hpatches: c)
        var g = wb.render(snapshot: snap, width: 200, height: 60)
        XCTAssertTrue(g.contains("A vs B: 6 sequences, all, by ΔRep worst regressed first (o: sort, O: reverse)"), g.text)
        let header = try XCTUnwrap(g.find("A Rep"))
        XCTAssertTrue(g.row(header.y).contains("B Rep"))
        XCTAssertTrue(g.row(header.y).contains("ΔRep"))
        XCTAssertTrue(g.row(header.y).contains("ΔMScore"), "further Δ columns where there is room: \(g.row(header.y))")
        // The first row is a regressed sequence, selected, with its negative ΔRep in the error colour.
        let first = g.row(header.y + 1)
        XCTAssertTrue(first.contains("▶i_dome") || first.contains("▶v_wall"), first)
        XCTAssertTrue(first.contains("-0.040"), first)
        let d = try XCTUnwrap(g.find("-0.040"))
        XCTAssertEqual(g[d.x, d.y].style.fg, wb.theme.style(.error).fg)
        // An improved sequence: positive Δ in the good colour; an unchanged one: +0.000, dim.
        let boat = try XCTUnwrap(row(g, "v_boat"))
        XCTAssertTrue(boat.text.contains("+0.040"), boat.text)
        let plus = try XCTUnwrap(boat.text.range(of: "+0.040"))
        let px = boat.text.distance(from: boat.text.startIndex, to: plus.lowerBound)
        XCTAssertEqual(g[px, boat.y].style.fg, wb.theme.style(.good).fg)
        XCTAssertTrue(try XCTUnwrap(row(g, "i_boutique")).text.contains("+0.000"))
        // What A and B are, and each one's status.
        XCTAssertTrue(g.contains("A = runs/a.safetensors   B = runs/b.safetensors   Δ = A − B"))
        XCTAssertTrue(g.contains("A: demo data"))
        XCTAssertTrue(g.contains("B: demo data"))

        // O reverses (most improved first), o moves to the next metric and the header says so.
        press(wb, [.char("O")])
        g = wb.render(snapshot: snap, width: 200, height: 60)
        XCTAssertTrue(g.contains("by ΔRep most improved first"))
        XCTAssertTrue(g.row(header.y + 1).contains("+0.040"), g.row(header.y + 1))
        press(wb, [.char("O"), .char("o")])
        g = wb.render(snapshot: snap, width: 200, height: 60)
        XCTAssertTrue(g.contains("by ΔLocErr worst regressed first"))
        XCTAssertTrue(g.row(header.y).contains("A LocErr"))
        XCTAssertTrue(g.row(header.y + 1).contains("+0.12"), "LocErr up by 0.12 px is the worst: \(g.row(header.y + 1))")
        // Down to 80x24 the triple stays, with short headings.
        g = wb.render(snapshot: snap, width: 80, height: 24)
        let narrow = try XCTUnwrap(g.find("ΔLocErr"), g.text)
        XCTAssertNotNil(g.row(narrow.y).range(of: #"sequence +A +B +ΔLocErr"#, options: .regularExpression), g.row(narrow.y))
        XCTAssertTrue(g.row(narrow.y + 1).contains("+0.12"), g.text)
    }

    func testStackedPairViewShowsBothModelsWithTheirNumbers() throws {
        let (c, _, _) = makeComparison()
        let wb = Workbench(options: WorkbenchOptions(colorMode: .c256, inspect: true), hpatches: c)
        let g = wb.render(snapshot: snap, width: 200, height: 60)
        let selected = try XCTUnwrap(wb.state.hpatchesSelectedName)
        XCTAssertTrue(g.contains("\(selected): image 1 → 2 (pair 1/5, ←/→)"))
        let a = try XCTUnwrap(g.find("A runs/a.safetensors")), b = try XCTUnwrap(g.find("B runs/b.safetensors"))
        XCTAssertEqual(a.x, b.x)
        XCTAssertGreaterThan(b.y, a.y + 10, "B's pair is below A's")
        // Each half has its legend and its row of numbers; A's row gives Δ = A − B after each value.
        let legends = (0..<g.height).filter { g.row($0).contains("keypoints 20/20") }
        XCTAssertEqual(legends.count, 2)
        let numberRows = (0..<g.height).filter { g.row($0).range(of: #"│  Rep [0-9.]+ "#, options: .regularExpression) != nil }
        XCTAssertEqual(numberRows.count, 2, g.text)
        XCTAssertTrue(g.contains("MScore 0.470"), "B's MScore is on screen: \(g.text)")
        XCTAssertTrue(numberRows[0] > a.y && numberRows[0] < b.y && numberRows[1] > b.y)
        XCTAssertNotNil(g.row(numberRows[0]).range(of: #"Rep [0-9.]+ \(-0\.0[0-9]+\)"#, options: .regularExpression), g.row(numberRows[0]))
        XCTAssertNil(g.row(numberRows[1]).range(of: "(-"), "B's row has no deltas")
        // Both halves draw images: half blocks below each title.
        for y in [a.y + 3, b.y + 3] { XCTAssertTrue(g.row(y).contains("▀") || g.row(y).contains("▄"), g.row(y)) }
        // Moving to another pair changes both.
        press(wb, [.right])
        XCTAssertTrue(wb.render(snapshot: snap, width: 200, height: 60).contains("image 1 → 3 (pair 2/5"))
    }

    func testPinnedBaselineInTheTrainingWorkbench() throws {
        let live = DemoHPatches()
        var pins = 0
        let c = HPatchesComparisonSource(primary: live, label: "live model", pinner: {
            pins += 1
            return (DemoHPatches(shift: 0.2), "pinned at step \(600 * pins)")
        })
        let wb = Workbench(options: WorkbenchOptions(colorMode: .c256), hpatches: c)
        // Before a pin: the plain browser, no baseline in the status line; b is in the footer and in the help.
        var g = wb.render(snapshot: snap, width: 200, height: 60)
        XCTAssertTrue(g.row(59).contains("b pin"), g.row(59))
        XCTAssertFalse(g.row(58).contains("baseline pinned"), g.row(58))
        press(wb, [.char("?")])
        XCTAssertTrue(wb.render(snapshot: snap, width: 200, height: 60).contains("pin the current weights as baseline B"))
        XCTAssertTrue(wb.render(snapshot: snap, width: 200, height: 60).contains("clear the pinned baseline"))
        press(wb, [.escape])

        press(wb, [.char("b")])
        XCTAssertTrue(wb.state.message.contains("pinning"), wb.state.message)
        let end = Date().addingTimeInterval(10)
        while !c.hasBaseline && Date() < end { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertEqual(c.baseline?.label, "pinned at step 600")
        g = wb.render(snapshot: snap, width: 200, height: 60)
        XCTAssertTrue(g.row(58).contains("baseline pinned at step 600"), g.row(58))
        // The browser now compares the live model with the pin.
        press(wb, [.char("2")])
        g = wb.render(snapshot: snap, width: 200, height: 60)
        XCTAssertTrue(g.contains("A vs B: 6 sequences"), g.text)
        XCTAssertTrue(g.contains("A = live model   B = pinned at step 600"))
        XCTAssertTrue(g.contains("B pinned at step 600"))
        XCTAssertTrue(g.contains("-0.040"))
        // b again re-pins; B clears and the plain browser returns.
        press(wb, [.char("b")])
        let end2 = Date().addingTimeInterval(10)
        while c.baseline?.label != "pinned at step 1200" && Date() < end2 { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertTrue(wb.render(snapshot: snap, width: 200, height: 60).contains("B = pinned at step 1200"))
        press(wb, [.char("B")])
        XCTAssertTrue(wb.state.message.contains("baseline cleared (was pinned at step 1200)"), wb.state.message)
        g = wb.render(snapshot: snap, width: 200, height: 60)
        XCTAssertTrue(g.contains("Sequences (6, all, by Rep worst first)"))
        XCTAssertFalse(g.contains("A vs B"))
        XCTAssertFalse(g.row(58).contains("baseline pinned"), g.row(58))
    }

    func testPinKeysAreRefusedWhereNothingTrains() {
        let (c, _, _) = makeComparison()
        let wb = Workbench(options: WorkbenchOptions(colorMode: .c256, inspect: true), hpatches: c)
        press(wb, [.char("b")])
        XCTAssertTrue(wb.state.message.contains("nothing trains"), wb.state.message)
        press(wb, [.char("B")])
        XCTAssertEqual(c.baseline?.label, "runs/b.safetensors", "inspect --compare's B stays")
        XCTAssertFalse(wb.render(snapshot: snap, width: 200, height: 60).row(59).contains("b pin"))
        // A browser without a pinner (a plain source) says there is nothing to pin.
        let plain = Workbench(options: WorkbenchOptions(colorMode: .c256), hpatches: DemoHPatches())
        press(plain, [.char("b")])
        XCTAssertEqual(plain.state.message, "nothing to pin here")
    }

    /// Every size from the minimum up, every sort and pair, narrow and wide names: no crash, nothing drawn
    /// outside the grid, the triple's Δ heading always there.
    func testCompareViewAtManySizes() {
        let (c, _, _) = makeComparison()
        let wb = Workbench(options: WorkbenchOptions(colorMode: .c256, inspect: true), hpatches: c)
        for w in stride(from: 80, through: 240, by: 7) {
            for h in stride(from: 24, through: 70, by: 5) {
                press(wb, [.char("o"), .right])
                let g = wb.render(snapshot: snap, width: w, height: h)
                XCTAssertEqual(g.width, w)
                let focus = wb.state.hpatchesSort == .name ? HPatchesBrowserSortKey.repeatability : wb.state.hpatchesSort
                XCTAssertTrue(g.contains("Δ" + focus.label), "\(w)x\(h):\n\(g.text)")
            }
        }
    }
}
