import XCTest
import Datasets
import Evaluation
import EvaluationTestSupport
import Geometry
import KP2D
import ProcessSupport
import Training
import TUI

/// A browser source with fixed sequences, optionally with two evaluation sizes.
final class SizedFakeHPatches: HPatchesBrowserSource {
    var names: [String]
    var sizes: [String]
    var sizeIndex = 0
    var evaluationRequests = 0
    init(names: [String], sizes: [String] = []) { self.names = names; self.sizes = sizes }
    var version: Int { sizeIndex }
    var status: String { "fake" }
    func sequences() -> [HPatchesBrowserSequence] {
        names.enumerated().map { i, n in
            HPatchesBrowserSequence(name: n, metrics: HPatchesBrowserMetrics(repeatability: 0.1 * Double(i + 1), localizationError: 1,
                                                                             cornerError: 2, c1: 0, c3: 1, c5: 1, matchingScore: 0.3))
        }
    }
    func pair(sequence: String, index: Int) -> HPatchesBrowserPair? { nil }
    func requestEvaluation() { evaluationRequests += 1 }
    var evaluationSize: String? { sizes.isEmpty ? nil : sizes[sizeIndex] }
    func nextEvaluationSize() -> String {
        guard !sizes.isEmpty else { return "one size" }
        sizeIndex = (sizeIndex + 1) % sizes.count
        requestEvaluation()
        return "now at \(sizes[sizeIndex])"
    }
}

final class PicturesLayoutTests: XCTestCase {
    func press(_ wb: Workbench, _ keys: [Key]) {
        for k in keys { wb.handle(k, snapshot: TrainerSnapshot(), send: { _ in }) }
    }

    /// The text inside the help box (between its borders), one string per row.
    func helpBox(_ g: CellGrid) -> [String] {
        guard let t = g.find("Keys (? or esc closes)") else { XCTFail("no help box:\n\(g.text)"); return [] }
        let top = Array(g.row(t.y).unicodeScalars)
        let left = t.x - 3
        XCTAssertEqual(top[left], "╭")
        var right = left + 1
        while right < top.count && top[right] != "╮" { right += 1 }
        var rows: [String] = []
        for y in (t.y + 1)..<g.height {
            let r = Array(g.row(y).unicodeScalars)
            if r[left] == "╰" { break }
            rows.append(String(String.UnicodeScalarView(r[(left + 1)..<right])))
        }
        return rows
    }

    /// Every word of every description appears whole in the help box (wrapped, not cut).
    func testHelpOverlayWrapsInsteadOfCutting() {
        for (w, h) in [(200, 60), (160, 50), (120, 40)] {
            for view in [Key.char("1"), Key.char("2")] {
                let wb = Workbench(options: WorkbenchOptions(colorMode: .c256), hpatches: SizedFakeHPatches(names: ["i_a"]))
                press(wb, [view, .char("?")])
                let rows = helpBox(wb.render(snapshot: TrainerSnapshot(), width: w, height: h))
                let words = Set(rows.joined(separator: " ").split(separator: " ").map(String.init))
                let ctx: KeyContext = view == .char("1") ? .training : .hpatches
                for b in KeyTable.bindings(in: ctx, hintsOnly: false) {
                    for word in b.description.split(separator: " ") {
                        XCTAssertTrue(words.contains(String(word)), "\(w)x\(h) \(ctx): '\(word)' of '\(b.description)' missing or cut")
                    }
                }
            }
        }
        // The description the issue quotes, on one line where the box is wide.
        let wb = Workbench(options: WorkbenchOptions(colorMode: .c256))
        press(wb, [.char("?")])
        XCTAssertTrue(wb.render(snapshot: TrainerSnapshot(), width: 200, height: 60).contains("quit (asks first if steps are unsaved)"))
    }

    func testWrappedContinuationLinesAreIndentedUnderTheDescription() {
        let wb = Workbench(options: WorkbenchOptions(colorMode: .c256))
        press(wb, [.char("?")])
        let g = wb.render(snapshot: TrainerSnapshot(), width: 120, height: 40)
        // Somewhere a description continues on the next row, starting in the description column.
        let rows = helpBox(g)
        guard let i = rows.firstIndex(where: { $0.contains("fit the focused chart") }) else { return XCTFail(rows.joined(separator: "\n")) }
        let line = rows[i], next = rows[i + 1]
        let col = line.distance(from: line.startIndex, to: line.range(of: "fit the focused")!.lowerBound)
        if !line.contains("smoothed curve") {
            let lead = next.prefix(col)
            XCTAssertTrue(lead.allSatisfy { $0 == " " } || lead.contains("  "), "continuation starts in the description column")
            XCTAssertTrue(next.contains("smoothed") || next.contains("curve"), next)
        }
    }

    func testBrowserListShowsLongNamesWhenThereIsRoom() throws {
        let long = "i_whitebuilding_longname"   // 24 characters
        let wb = Workbench(options: WorkbenchOptions(colorMode: .c256), hpatches: SizedFakeHPatches(names: [long, "v_boat"]))
        press(wb, [.char("2")])
        let g = wb.render(snapshot: TrainerSnapshot(), width: 200, height: 60)
        XCTAssertTrue(g.contains(long), g.text)
        for c in ["Rep", "LocErr", "CornE", "C1", "C3", "C5", "MScore"] { XCTAssertTrue(g.contains(c), "column \(c) kept") }
        // Narrow: metric columns keep their room, the name is cut to what is left (at least 13 characters).
        let n = wb.render(snapshot: TrainerSnapshot(), width: 100, height: 30)
        let sel = try XCTUnwrap(n.find("▶"))
        let listRow = String(n.row(sel.y).prefix(50))   // the list is the left half
        XCTAssertTrue(listRow.contains(String(long.prefix(13))), listRow)
        XCTAssertFalse(listRow.contains(long), listRow)
        XCTAssertTrue(n.contains("Rep"))
    }

    func testEvaluationSizeIsShownAndSwitchable() {
        let hp = SizedFakeHPatches(names: ["i_a", "v_b"], sizes: ["240x320 official", "128x192 training size"])
        let wb = Workbench(options: WorkbenchOptions(colorMode: .c256), hpatches: hp)
        press(wb, [.char("2")])
        XCTAssertEqual(hp.evaluationRequests, 1)
        var g = wb.render(snapshot: TrainerSnapshot(), width: 200, height: 60)
        XCTAssertTrue(g.contains("evaluated at 240x320 official (x: size)"), g.text)
        XCTAssertTrue(g.row(59).contains("x size"), "hint bar names the key")
        press(wb, [.char("x")])
        XCTAssertEqual(hp.evaluationRequests, 2, "switching re-evaluates")
        g = wb.render(snapshot: TrainerSnapshot(), width: 200, height: 60)
        XCTAssertTrue(g.contains("evaluated at 128x192 training size"))
        XCTAssertTrue(g.contains("now at 128x192 training size"), "status line says so")
        press(wb, [.char("x")])
        XCTAssertTrue(wb.render(snapshot: TrainerSnapshot(), width: 200, height: 60).contains("evaluated at 240x320 official"))
        // x means nothing in the training view.
        press(wb, [.char("1"), .char("x")])
        XCTAssertEqual(hp.sizeIndex, 0)
        // A source without sizes shows none.
        let plain = Workbench(options: WorkbenchOptions(colorMode: .c256), hpatches: SizedFakeHPatches(names: ["i_a"]))
        press(plain, [.char("2")])
        XCTAssertFalse(plain.render(snapshot: TrainerSnapshot(), width: 200, height: 60).contains("evaluated at"))
    }

    /// The real evaluator: x drops the old results, serves images at the new size, and re-evaluates there.
    func testEvaluatorSourceSwitchesSize() throws {
        let root = Binary.repoRoot + "/sample-data/hpatches"
        let ds = try HPatchesDataset(root: root)
        var sizesSeen: [Int] = []
        let lock = NSLock()
        let source = EvaluatorHPatchesSource(dataset: ds, settings: HPatchesEvalSettings(width: 64, height: 48, topK: 50),
                                             otherSizes: [(32, 48, 50, "training size")],
                                             makeDetector: { { img in
                                                 lock.lock(); sizesSeen.append(img.width); lock.unlock()
                                                 return gridDetector(img)
                                             } })
        XCTAssertEqual(source.evaluationSize, "48x64 top-50")
        XCTAssertEqual(try XCTUnwrap(source.pair(sequence: ds.sequences[0], index: 0)).pair.source.width, 64)
        source.requestEvaluation()
        XCTAssertTrue(source.waitUntilIdle())
        XCTAssertFalse(source.sequences()[0].metrics.repeatability.isNaN)
        XCTAssertTrue(source.nextEvaluationSize().contains("32x48 top-50 training size"))
        XCTAssertEqual(source.evaluationSize, "32x48 top-50 training size")
        XCTAssertTrue(source.waitUntilIdle())
        let p = try XCTUnwrap(source.pair(sequence: ds.sequences[0], index: 0))
        XCTAssertEqual(p.pair.source.width, 48); XCTAssertEqual(p.pair.source.height, 32)
        lock.lock(); let seen = Set(sizesSeen); lock.unlock()
        XCTAssertEqual(seen, [64, 48], "evaluated at both sizes")
        XCTAssertFalse(source.sequences()[0].metrics.repeatability.isNaN, "re-evaluated at the new size")
        XCTAssertEqual(source.nextEvaluationSize(), "HPatches browser now evaluates at 48x64 top-50")
        XCTAssertTrue(source.waitUntilIdle())
    }
}

final class PictureKeyTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "kp2d-picture-key-\(getpid())-\(UUID().uuidString.prefix(8))"
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func image(_ w: Int, _ h: Int, _ v: Float) -> Image { Image(width: w, height: h, channels: 3, pixels: [Float](repeating: v, count: w * h * 3)) }

    func testPictureKeySavesTheTrainingPairAtFullResolution() throws {
        // The library default writes nowhere (the commands name a folder).
        let off = Workbench(options: WorkbenchOptions(colorMode: .c256))
        off.handle(.char("p"), snapshot: TrainerSnapshot(), send: { _ in })
        XCTAssertTrue(off.state.message.contains("pictures are off"), off.state.message)
        let wb = Workbench(options: WorkbenchOptions(colorMode: .c256, picturesDirectory: dir))
        var snap = TrainerSnapshot()
        wb.handle(.char("p"), snapshot: snap, send: { _ in })
        XCTAssertTrue(wb.state.message.contains("no training pair yet"))
        let pair = JudgedPair(source: image(192, 128, 0.5), target: image(192, 128, 0.25),
                              sourceKeypoints: [Keypoint(x: 10, y: 20, score: 1)], targetKeypoints: [Keypoint(x: 30, y: 20, score: 1)],
                              matches: [Match(source: 0, target: 0, correct: true)], homography: .identity)
        snap.preview = PairPreview(step: 7, pair: pair, stats: MatchStats())
        wb.handle(.char("p"), snapshot: snap, send: { _ in })
        let path = dir + "/train_step7.png"
        XCTAssertTrue(wb.state.message.contains(path), wb.state.message)
        let img = try ImageIO.load(path)
        XCTAssertEqual(img.width, 192 + PairFigure.gap + 192)
        XCTAssertGreaterThan(img.height, 128)
        // The match line (y = 20) between the two points is green.
        let plane = img.width * img.height
        let i = 20 * img.width + 100
        XCTAssertEqual([img.pixels[i], img.pixels[plane + i], img.pixels[2 * plane + i]].map { UInt8(($0 * 255).rounded()) },
                       [FigureStyle().correct.r, FigureStyle().correct.g, FigureStyle().correct.b])
    }

    func testPictureKeyInTheBrowserAndUnwritableFolder() throws {
        final class OnePair: HPatchesBrowserSource {
            let img: Image
            init(_ i: Image) { img = i }
            var version: Int { 1 }
            var status: String { "" }
            func sequences() -> [HPatchesBrowserSequence] { [HPatchesBrowserSequence(name: "v_x", metrics: HPatchesBrowserMetrics())] }
            func pair(sequence: String, index: Int) -> HPatchesBrowserPair? {
                HPatchesBrowserPair(sequence: sequence, pairIndex: index,
                                    pair: JudgedPair(source: img, target: img, sourceKeypoints: [], targetKeypoints: [], matches: [],
                                                     homography: .identity),
                                    metrics: HPatchesBrowserMetrics())
            }
            func requestEvaluation() {}
        }
        let wb = Workbench(options: WorkbenchOptions(colorMode: .c256, picturesDirectory: dir), hpatches: OnePair(image(64, 48, 0.5)))
        wb.handle(.char("2"), snapshot: TrainerSnapshot(), send: { _ in })
        _ = wb.render(snapshot: TrainerSnapshot(), width: 200, height: 60)
        wb.handle(.char("p"), snapshot: TrainerSnapshot(), send: { _ in })
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/v_x_1_2_48x64.png"), wb.state.message)
        // A file where the folder should be: a message, no crash.
        let blocked = dir + "/v_x_1_2_48x64.png/sub"
        let wb2 = Workbench(options: WorkbenchOptions(colorMode: .c256, picturesDirectory: blocked), hpatches: OnePair(image(64, 48, 0.5)))
        wb2.handle(.char("2"), snapshot: TrainerSnapshot(), send: { _ in })
        _ = wb2.render(snapshot: TrainerSnapshot(), width: 200, height: 60)
        wb2.handle(.char("p"), snapshot: TrainerSnapshot(), send: { _ in })
        XCTAssertTrue(wb2.state.message.hasPrefix("picture not saved:"), wb2.state.message)
    }

    func testInspectModeShowsTheBrowserAloneAndRefusesTrainingKeys() {
        let hp = SizedFakeHPatches(names: ["i_a", "v_b"], sizes: ["240x320 top-300 official"])
        let wb = Workbench(options: WorkbenchOptions(colorMode: .c256, inspect: true), hpatches: hp)
        XCTAssertEqual(hp.evaluationRequests, 1, "evaluates at once")
        var snap = TrainerSnapshot()
        snap.status.dataDescription = "weights A.safetensors"
        var sent: [TrainerCommand] = []
        for k: Key in [.tab, .char("1"), .char(" "), .char("s")] { wb.handle(k, snapshot: snap, send: { sent.append($0) }) }
        XCTAssertEqual(sent, [])
        XCTAssertEqual(wb.state.view, .hpatches)
        let g = wb.render(snapshot: snap, width: 200, height: 60)
        XCTAssertTrue(g.row(0).contains("INSPECT (read-only)"))
        XCTAssertFalse(g.row(0).contains("Training"))
        XCTAssertTrue(g.row(58).contains("inspecting weights A.safetensors"), g.row(58))
        XCTAssertFalse(g.row(59).contains("pause"), "no training hints: \(g.row(59))")
        XCTAssertTrue(g.row(59).contains("picture"))
        // Help lists the browser's keys, not the trainer's.
        wb.handle(.char("?"), snapshot: snap, send: { _ in })
        let help = wb.render(snapshot: snap, width: 200, height: 60)
        XCTAssertTrue(help.contains("evaluation size"), help.text)
        XCTAssertFalse(help.contains("pause / resume training"), help.text)
        XCTAssertFalse(help.contains("Training view"), help.text)
        wb.handle(.escape, snapshot: snap, send: { _ in })
        wb.handle(.char("q"), snapshot: snap, send: { sent.append($0) })
        XCTAssertTrue(wb.finished, "nothing unsaved: q quits at once")
    }
}

import TensorEngine

final class InspectSourceTests: XCTestCase {
    /// As `kp2d-tui inspect` builds it: one network, created on this thread, used by the source's worker thread.
    func testEvaluatorSourceWithANetworkMadeElsewhere() throws {
        let ds = try HPatchesDataset(root: Binary.repoRoot + "/sample-data/hpatches")
        var rng = SeededRandom(seed: 1)
        let net = KeypointNet(config: .reduced, rng: &rng)
        let source = EvaluatorHPatchesSource(dataset: ds, settings: .official240, otherSizes: [(480, 640, 1000, "official")],
                                             makeDetector: { { KeypointNetDetector.detect(net, $0) } })
        source.requestEvaluation()
        XCTAssertTrue(source.waitUntilIdle(timeout: 600))
        XCTAssertTrue(source.status.contains("30 pairs in"), source.status)
    }
}
