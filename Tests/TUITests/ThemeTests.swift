import Bench
import XCTest
import TUI

final class ThemeTests: XCTestCase {
    func testParsesStylesAndColours() throws {
        let t = try Theme.parse("""
        # comment
        text = 252
        title = bold underline bright-blue on 236

        grid = #ff0000
        """, name: "x", file: "x.theme")
        XCTAssertEqual(t[.text], Style(fg: TermColor(252)))
        XCTAssertEqual(t[.title], Style(fg: TermColor(12), bg: TermColor(236), attrs: [.bold, .underline]))
        XCTAssertEqual(t[.grid].fg, TermColor(196))
        // CRLF line ends and trailing comments.
        let u = try Theme.parse("text = 252  # light grey\r\nborder = #00ff00 # green\r\n", name: "x", file: "x.theme")
        XCTAssertEqual(u[.text].fg, TermColor(252))
        XCTAssertEqual(u[.border].fg, TermColor(46))
    }

    func testErrorsNameTheLine() {
        let cases: [(String, Int, String)] = [
            ("text = 252\nborder 240\n", 2, "expected 'key = value'"),
            ("text = 252\n\nloss_lco = 81\n", 3, "unknown key 'loss_lco'"),
            ("text = purple\n", 1, "unknown colour or attribute 'purple'"),
            ("text = 300\n", 1, "unknown colour"),
            ("text = 1 2\n", 1, "more than one foreground colour"),
            ("dialog = 1 on\n", 1, "after 'on'"),
        ]
        for (text, line, message) in cases {
            XCTAssertThrowsError(try Theme.parse(text, name: "bad", file: "bad.theme")) { e in
                guard let te = e as? ThemeError else { return XCTFail("\(e)") }
                XCTAssertEqual(te.line, line, "\(text)")
                XCTAssertTrue(te.message.contains(message), te.message)
                XCTAssertTrue(te.description.hasPrefix("bad.theme:\(line): "), te.description)
            }
        }
    }

    func testMalformedFileFallsBackToDefaultWithWarning() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kp2d-theme-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "text = 252\ntitle = blinking\n".write(to: dir.appendingPathComponent("broken.theme"), atomically: true, encoding: .utf8)
        try "# only the title\ntitle = bold 9\n".write(to: dir.appendingPathComponent("mine.theme"), atomically: true, encoding: .utf8)
        let (t, warning) = Theme.load(name: "broken", directories: [dir.path])
        XCTAssertEqual(t, Theme.default)
        XCTAssertTrue(warning?.contains("broken.theme:2:") ?? false, warning ?? "no warning")
        let (m, w2) = Theme.load(name: "mine", directories: [dir.path])
        XCTAssertNil(w2)
        XCTAssertEqual(m[.title], Style(fg: TermColor(9), attrs: .bold))
        XCTAssertEqual(m[.text], Theme.default[.text], "unnamed roles inherit the default")
        XCTAssertTrue(Theme.availableNames(directories: [dir.path]).contains("mine"))
        let (_, w3) = Theme.load(name: "nope", directories: [dir.path])
        XCTAssertTrue(w3?.contains("unknown theme 'nope'") ?? false)
        // The workbench shows the warning in its status line.
        let wb = Workbench(options: WorkbenchOptions(themeName: "broken", themeDirectories: [dir.path]))
        XCTAssertTrue(wb.render(snapshot: DemoTrainer.snapshot(steps: 5), width: 300, height: 40).contains("broken.theme:2:"))
    }

    func testBuiltInThemesMatchFilesAndDefineEveryRole() throws {
        for name in Theme.builtInNames {
            let t = try XCTUnwrap(Theme.builtIn(name))
            for role in ThemeRole.allCases { XCTAssertNotNil(t.styles[role], "\(name) defines \(role)") }
            let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../themes/\(name).theme")
            let text = try String(contentsOf: file, encoding: .utf8)
            XCTAssertEqual(try Theme.parse(text, name: name, file: file.path), try Theme.parse(Theme.builtInText(name)!, name: name, file: "-"),
                           "themes/\(name).theme and BuiltInThemes agree")
            // Every role of the file itself, not inherited.
            XCTAssertEqual(try Theme.parse(text, name: name, file: file.path).styles.count, ThemeRole.allCases.count)
        }
        XCTAssertTrue(Theme.builtIn("mono")!.styles.values.allSatisfy { $0.fg.isDefault && $0.bg.isDefault })
        XCTAssertNotEqual(Theme.builtIn("colorblind")![.inlier], Theme.builtIn("colorblind")![.outlier])
    }

    func testAdaptation() {
        let t8 = Theme.default.adapted(to: .c8)
        XCTAssertTrue(t8.styles.values.allSatisfy { $0.fg.index < 8 && $0.bg.index < 8 })
        let tn = Theme.default.adapted(to: .none)
        XCTAssertTrue(tn.styles.values.allSatisfy { $0.fg.isDefault && $0.bg.isDefault })
        XCTAssertEqual(tn[.title].attrs, Theme.default[.title].attrs)
    }

    func testOnlyChangedCellsAreRedrawn() {
        let wb = Workbench(options: WorkbenchOptions(colorMode: .c256))
        let t = DemoTrainer(steps: 100, running: true)
        let a = wb.render(snapshot: t.latest(), width: 120, height: 40)
        XCTAssertEqual(a.changedCells(since: nil).count, 120 * 40, "first frame: everything")
        XCTAssertEqual(a.changedCells(since: a), [], "same frame: nothing")
        XCTAssertEqual(a.changedCells(since: CellGrid(width: 100, height: 40)).count, 120 * 40, "resize: everything")
        var b = a
        b[3, 2] = Cell("x")
        b[119, 39] = Cell("y", style: Style(fg: TermColor(1)))
        XCTAssertEqual(b.changedCells(since: a), [2 * 120 + 3, 39 * 120 + 119])
        // One more step changes a small part of the screen.
        t.advance(1)
        let c = wb.render(snapshot: t.latest(), width: 120, height: 40)
        XCTAssertLessThan(c.changedCells(since: a).count, 120 * 40 / 3)
    }

    func testGridBasics() {
        var g = CellGrid(width: 10, height: 2)
        let end = g.put(8, 0, "abc", .plain)
        XCTAssertEqual(end, 11)
        XCTAssertEqual(g.row(0), "        ab")
        g.put(-1, 1, "xyz", .plain, maxWidth: 2)
        XCTAssertEqual(g.row(1), "y         ")
        XCTAssertEqual(g.text, "        ab\ny")
        XCTAssertEqual(g.find("ab")?.x, 8)
    }
}
