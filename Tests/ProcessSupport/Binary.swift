import Foundation
import XCTest

// Helpers for the tests that run programs: the built kp2d-tui binary (EndToEndTests, DistributedTests under
// mpirun), scripts, tmux (Tmux.swift). Depends on no module of ours, so any test target may use it.

/// Runs the built `kp2d-tui` binary ($KP2D_BIN, else .build/release or .build/debug of this checkout).
public enum Binary {
    /// The checkout this file belongs to.
    public static var repoRoot: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }

    public static func path() throws -> String {
        if let p = ProcessInfo.processInfo.environment["KP2D_BIN"], FileManager.default.isExecutableFile(atPath: p) { return p }
        for config in ["release", "debug"] {
            let p = "\(repoRoot)/.build/\(config)/kp2d-tui"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        throw XCTSkip("kp2d-tui binary not built: run scripts/test (it builds it and sets KP2D_BIN)")
    }

    public static var fixturesDir: String? {
        let env = ProcessInfo.processInfo.environment["KP2D_FIXTURES"]
        if let env, FileManager.default.fileExists(atPath: env) { return env }
        let p = URL(fileURLWithPath: repoRoot).deletingLastPathComponent().appendingPathComponent("shared/fixtures").path
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }

    public struct Result {
        public var status: Int32; public var stdout: String
        /// stderr as the process wrote it.
        public var rawStderr: String
        /// stderr without start-up's BLAS core notice (printed when the environment forces a slower
        /// OpenBLAS core, e.g. OPENBLAS_CORETYPE=Haswell on an AVX-512 machine, as CI's does; see BLASCore):
        /// what every test but the BLAS-core ones reads, so they pass whatever the environment sets.
        public var stderr: String {
            rawStderr.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { !$0.hasPrefix("kp2d-tui: using OpenBLAS core ") }.joined(separator: "\n")
        }
        public var messages: String { stderr }
    }

    /// Run kp2d-tui with arguments, no terminal, stdin closed; returns status and output.
    public static func run(_ args: [String], cwd: String? = nil, env: [String: String] = [:], timeout: TimeInterval = 600) throws -> Result {
        try run(executable: try path(), args, cwd: cwd, env: env, timeout: timeout)
    }

    /// Run any program (e.g. a script of ours through bash) the same way.
    public static func run(executable: String, _ args: [String], cwd: String? = nil, env: [String: String] = [:],
                    timeout: TimeInterval = 600) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd ?? repoRoot)
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        // Drain both pipes while the process runs so a large output cannot block it.
        final class Sink: @unchecked Sendable { var data = Data() }
        let outSink = Sink(), errSink = Sink()
        let group = DispatchGroup()
        group.enter(); DispatchQueue.global().async { outSink.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter(); DispatchQueue.global().async { errSink.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        group.wait()
        return Result(status: p.terminationStatus, stdout: String(decoding: outSink.data, as: UTF8.self),
                      rawStderr: String(decoding: errSink.data, as: UTF8.self))
    }

    /// The path of program `name` on $PATH (or in /usr/bin), or XCTSkip saying how to install it.
    public static func program(_ name: String, install: String) throws -> String {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") + ["/usr/bin", "/usr/local/bin"] {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        throw XCTSkip("\(name) not found: \(install)")
    }
}

/// Collects what a running process writes (from a pipe's readability handler), readable at any time.
public final class OutputSink: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    public init() {}
    public func append(_ d: Data) { lock.lock(); data.append(d); lock.unlock() }
    public var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
}

/// End-to-end tests that make temporary folders: `tempDir` creates one, tearDown removes them all.
open class TempDirTestCase: XCTestCase {
    public var dirs: [String] = []
    open override func tearDown() { for d in dirs { try? FileManager.default.removeItem(atPath: d) } }

    public func tempDir(_ tag: String) throws -> String {
        let dir = NSTemporaryDirectory() + "kp2d-e2e-\(tag)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        dirs.append(dir)
        return dir
    }

    /// A new folder with `count` small textured binary PPM images img0.ppm, img1.ppm, ... (width x height, a smooth
    /// pattern plus a checkerboard of width/8-pixel squares: decoding and resizing them is fast, and they have
    /// corners to learn). Images whose index `nested` accepts go into the subfolder "nested".
    public func texturedImages(_ count: Int, width w: Int = 120, height h: Int = 90, tag: String = "data",
                               nested: (Int) -> Bool = { _ in false }) throws -> String {
        let dir = try tempDir(tag)
        let square = max(1, w / 8)
        for i in 0..<count {
            var bytes = [UInt8]("P6\n\(w) \(h)\n255\n".utf8)
            for y in 0..<h { for x in 0..<w { for c in 0..<3 {
                let v = 0.5 + 0.3 * sin(Double(x) * 0.3 + Double(i + c)) * cos(Double(y) * 0.23 - Double(c)) + (((x / square) + (y / square)) % 2 == 0 ? 0.15 : -0.15)
                bytes.append(UInt8(max(0, min(255, v * 255))))
            } } }
            let folder = nested(i) ? dir + "/nested" : dir
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: folder + "/img\(i).ppm", contents: Data(bytes))
        }
        return dir
    }
}
