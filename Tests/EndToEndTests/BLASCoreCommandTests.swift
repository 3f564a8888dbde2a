import Foundation
import ProcessSupport
import XCTest

/// Start-up's choice of OpenBLAS core as a user sees it: `--version` names it, an environment's slower
/// OPENBLAS_CORETYPE is overridden with one notice (KP2D_BLAS_CORE=keep keeps it), the re-executed
/// process keeps exit codes and output, and a failed sgemm self-check falls back to the original core.
final class BLASCoreCommandTests: XCTestCase {
    /// (core, CPU features) from the "BLAS: ..." line of --version.
    private func versionInfo(_ env: [String: String]) throws -> (core: String, cpu: String, result: Binary.Result) {
        let r = try Binary.run(["--version"], env: env, timeout: 60)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertNotNil(r.stdout.range(of: #"^kp2d-tui [0-9]+\.[0-9]+\.[0-9]+\n"#, options: .regularExpression),
                        "the first line names the tool and its version: \(r.stdout)")
        let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("BLAS: ") }.map(String.init) ?? ""
        let core = line.range(of: #"core [A-Za-z0-9]+"#, options: .regularExpression).map { String(line[$0].dropFirst(5)) } ?? ""
        let cpu = line.components(separatedBy: "; CPU ").last ?? ""
        XCTAssertFalse(core.isEmpty, r.stdout)
        return (core, cpu, r)
    }

    func testVersionNamesTheCoreAndAnEnvironmentsSlowerCoreIsOverridden() throws {
        let forced = try versionInfo(["OPENBLAS_CORETYPE": "Haswell", "KP2D_BLAS_CORE": ""])
        let kept = try versionInfo(["OPENBLAS_CORETYPE": "Haswell", "KP2D_BLAS_CORE": "keep"])
        XCTAssertEqual(kept.core, "Haswell")
        XCTAssertEqual(kept.result.rawStderr, "", "keep prints nothing")
        if forced.cpu.contains("AVX-512F/CD/BW/DQ/VL") {
            XCTAssertEqual(forced.core, "SkylakeX", forced.result.stdout)
            let lines = forced.result.rawStderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, forced.result.rawStderr)
            XCTAssertTrue(forced.result.rawStderr.contains("OPENBLAS_CORETYPE=Haswell") && forced.result.messages.isEmpty, forced.result.rawStderr)
        } else {
            XCTAssertEqual(forced.core, "Haswell")
        }
        let named = try versionInfo(["KP2D_BLAS_CORE": "Haswell"])
        XCTAssertEqual(named.core, "Haswell")
        XCTAssertEqual(named.result.rawStderr, "")
    }

    func testExitCodesAndOutputSurviveTheReexec() throws {
        let env = ["OPENBLAS_CORETYPE": "Haswell", "KP2D_BLAS_CORE": ""]
        let bad = try Binary.run(["--no-such-option"], env: env, timeout: 60)
        XCTAssertEqual(bad.status, 64, bad.stderr)   // ArgumentParser's usage error
        XCTAssertTrue(bad.messages.contains("--no-such-option"), bad.stderr)
        let missing = try Binary.run(["verify", "/nonexistent/op.relu.safetensors"], env: env, timeout: 60)
        XCTAssertEqual(missing.status, 1, missing.stderr)
        XCTAssertEqual(missing.stdout.components(separatedBy: "0 passed, 1 failed").count, 2, "printed once: \(missing.stdout)")
    }

    func testFailedSelfCheckFallsBackToTheOriginalCore() throws {
        let probe = try versionInfo(["KP2D_BLAS_CORE": "keep"])
        guard probe.cpu.contains("AVX-512F/CD/BW/DQ/VL") else { throw XCTSkip("needs a CPU where the core is switched") }
        let r = try versionInfo(["OPENBLAS_CORETYPE": "Haswell", "KP2D_BLAS_CORE": "", "KP2D_BLAS_TEST_FAIL_SELFCHECK": "1"])
        XCTAssertEqual(r.core, "Haswell", r.result.stdout)
        XCTAssertTrue(r.result.rawStderr.contains("self-check failed") && r.result.rawStderr.contains("back to Haswell"), r.result.rawStderr)
        XCTAssertTrue(r.result.stdout.contains("fallback"), r.result.stdout)
    }
}
