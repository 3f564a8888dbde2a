import Foundation
import XCTest
@testable import TUI

/// Issue 13: a binary file is not a theme; it is neither listed nor loaded silently.
final class ThemeFileTests: XCTestCase {
    func testBinaryThemeFileIsNotListedAndLoadingItWarns() throws {
        let dir = NSTemporaryDirectory() + "kp2d-themes-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FileManager.default.createFile(atPath: dir + "/junk.theme", contents: Data([0x7F, 0x45, 0x4C, 0x46, 0, 0, 0xFF, 0xFE]))
        FileManager.default.createFile(atPath: dir + "/mine.theme", contents: Data("text = red\n".utf8))
        let names = Theme.availableNames(directories: [dir])
        XCTAssertFalse(names.contains("junk"), "\(names)")
        XCTAssertTrue(names.contains("mine"), "\(names)")
        let (_, warning) = Theme.load(name: "junk", directories: [dir])
        XCTAssertTrue(warning?.contains("junk.theme: not a text theme file (binary data)") ?? false, warning ?? "no warning")
    }
}
