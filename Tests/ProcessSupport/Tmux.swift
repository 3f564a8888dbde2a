import Foundation
import XCTest

/// The set-up the tmux end-to-end tests share: a private work folder per test, at most one private tmux server
/// (killed afterwards), and shell quoting for the commands they type.
open class TmuxTestCase: XCTestCase {
    public var tmux: Tmux?
    public var workDir = ""
    /// Distinguishes the work folders of the test classes ("wb", "inspect", ...).
    open var workDirTag: String { "tmux" }

    open override func setUpWithError() throws {
        workDir = NSTemporaryDirectory() + "kp2d-e2e-\(workDirTag)-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
    }

    open override func tearDown() {
        tmux?.killServer()   // our private server only
        tmux = nil
        try? FileManager.default.removeItem(atPath: workDir)
    }

    /// A private tmux server for this test (socket `kp2d-e2e-<tag>[-name]-<pid>`), killed by tearDown; skips the
    /// test where tmux is not installed.
    public func startTmux(_ name: String = "") throws -> Tmux {
        guard let path = Tmux.find() else {
            throw XCTSkip("tmux is not installed: the end-to-end terminal tests need it (scripts/setup installs it; apt-get install tmux)")
        }
        let t = Tmux(path: path, socket: "kp2d-e2e-\(workDirTag)" + (name.isEmpty ? "" : "-" + name) + "-\(getpid())")
        tmux = t
        return t
    }

    /// What the test's shell wrote to `workDir/exit.txt` ("EXIT=<status>", trimmed) once the program has ended,
    /// waiting up to `timeout` seconds; nil if it never appeared.
    public func waitForExitFile(timeout: TimeInterval) -> String? {
        let exitFile = workDir + "/exit.txt"
        let deadline = Date().addingTimeInterval(timeout)
        while !FileManager.default.fileExists(atPath: exitFile) && Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        Thread.sleep(forTimeInterval: 0.3)   // the shell writes the line just after creating the file
        return (try? String(contentsOfFile: exitFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `s` as one single-quoted shell word.
    public func q(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// The step number of the status line ("step N · epoch" or "step N/TOTAL · epoch").
    public static func step(_ screen: String) -> Int? {
        guard let r = screen.range(of: #"step [0-9]+(/[0-9]+)? · epoch"#, options: .regularExpression) else { return nil }
        return Int(screen[r].split(separator: " ")[1].split(separator: "/")[0])
    }
}

/// A private tmux server (its own socket name): sessions, keys, captures. Never touches the default server.
public struct Tmux {
    public let path: String
    public let socket: String

    public init(path: String, socket: String) { self.path = path; self.socket = socket }

    public static func find() -> String? {
        for p in ["/usr/bin/tmux", "/usr/local/bin/tmux", "/opt/homebrew/bin/tmux"] where FileManager.default.isExecutableFile(atPath: p) { return p }
        return nil
    }

    @discardableResult
    public func run(_ args: [String]) throws -> String {
        // posix_spawn + waitpid, output to a file: new-session starts the server as a daemon, which would keep
        // a pipe (and Foundation.Process's exit monitoring) open for ever.
        let outPath = NSTemporaryDirectory() + "kp2d-tmux-\(getpid())-\(UUID().uuidString.prefix(8)).out"
        defer { try? FileManager.default.removeItem(atPath: outPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([path, "-L", socket, "-f", "/dev/null"] + args).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, nil, argv + [nil], environ)
        guard rc == 0 else { throw TmuxError(message: "cannot start \(path): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        // Exited normally with status 0 (WIFEXITED && WEXITSTATUS == 0).
        if status & 0x7f != 0 || (status >> 8) & 0xff != 0 {
            throw TmuxError(message: "tmux \(args.joined(separator: " ")) failed (status \(status)): \(text)")
        }
        return text
    }

    public func newSession(width: Int, height: Int, command: String) throws {
        try run(["new-session", "-d", "-s", "wb", "-x", "\(width)", "-y", "\(height)", command])
    }

    public func send(_ key: String) throws { try run(["send-keys", "-t", "wb", key]) }
    public func capture() throws -> String { try run(["capture-pane", "-p", "-t", "wb"]) }
    public func resize(width: Int, height: Int) throws { try run(["resize-window", "-t", "wb", "-x", "\(width)", "-y", "\(height)"]) }
    public func killServer() { _ = try? run(["kill-server"]) }

    /// Poll the screen every 0.25 s until `condition` holds; fail with the last screen after `timeout` s.
    public func waitFor(_ what: String, timeout: Double, _ condition: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var screen = ""
        while Date() < deadline {
            screen = try capture()
            if condition(screen) { return screen }
            Thread.sleep(forTimeInterval: 0.25)
        }
        throw TmuxError(message: "timed out after \(Int(timeout)) s waiting for \(what); the screen:\n\(screen)")
    }
}

public struct TmuxError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
    public init(message: String) { self.message = message }
}
