import Foundation
import ProcessSupport
import XCTest

/// The start-up check of the CPU extensions the engine was compiled for (Sources/kp2d-tui/CPUCheck.swift): a CPU
/// without one of them gets one line naming the fix and exit 1 instead of an illegal instruction. KP2D_CPU_FLAGS
/// stands in for /proc/cpuinfo's flags, so an older CPU can be tried here.
final class CPUCheckCommandTests: XCTestCase {
    /// The "Engine compiled for: ..." line of --version, as a list of extensions (empty: no check).
    private func engineExtensions() throws -> [String] {
        let r = try Binary.run(["--version"], timeout: 60)
        XCTAssertEqual(r.status, 0, r.stderr)
        let line = try XCTUnwrap(r.stdout.split(separator: "\n").first { $0.hasPrefix("Engine compiled for: ") }, r.stdout)
        let value = String(line.dropFirst("Engine compiled for: ".count))
        return value.contains("no start-up check") ? [] : value.split(separator: " ").map(String.init)
    }

    func testACPUWithoutAnExtensionOfTheEngineGetsOneLineAndExit1() throws {
        let engine = try engineExtensions()
        let all = try Binary.run(["--version"], env: ["KP2D_CPU_FLAGS": (engine + ["sse2"]).joined(separator: " ")], timeout: 60)
        XCTAssertEqual(all.status, 0, all.stderr)
        guard let dropped = engine.last else {
            // A build for the compiler's baseline (KP2D_TARGET_CPU=generic): nothing to check, any CPU runs it.
            XCTAssertEqual(try Binary.run(["--version"], env: ["KP2D_CPU_FLAGS": "sse2"], timeout: 60).status, 0)
            return
        }
        let older = engine.dropLast().joined(separator: " ")
        for args in [["--version"], ["eval", "--hpatches", "sample-data/hpatches", "--weights", "x"], ["train", "--headless", "--steps", "1"]] {
            let r = try Binary.run(args, env: ["KP2D_CPU_FLAGS": older], timeout: 60)
            XCTAssertEqual(r.status, 1, "\(args): \(r.stderr)")
            XCTAssertEqual(r.stdout, "", "\(args): nothing runs")
            let lines = r.rawStderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, r.rawStderr)
            XCTAssertEqual(lines.first.map(String.init),
                           "kp2d-tui: this binary was compiled for a CPU with \(dropped), which this one lacks; rebuild it on this "
                           + "machine, or build it for older CPUs with KP2D_TARGET_CPU=haswell or x86-64 (README, Build)")
        }
    }
}
