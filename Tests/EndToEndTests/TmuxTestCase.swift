import Foundation
import XCTest

/// The set-up the tmux end-to-end tests share: a private work folder per test, at most one private tmux server
/// (killed afterwards), and shell quoting for the commands they type.
class TmuxTestCase: XCTestCase {
    var tmux: Tmux?
    var workDir = ""
    /// Distinguishes the work folders of the test classes ("wb", "inspect", ...).
    var workDirTag: String { "tmux" }

    override func setUpWithError() throws {
        workDir = NSTemporaryDirectory() + "kp2d-e2e-\(workDirTag)-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        tmux?.killServer()   // our private server only
        tmux = nil
        try? FileManager.default.removeItem(atPath: workDir)
    }

    /// `s` as one single-quoted shell word.
    func q(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}
