import ArgumentParser
import Foundation
import Verification

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check this implementation against reference fixtures made with the official PyTorch code.",
        discussion: "Prints, per tensor, the max absolute and relative error and PASS/FAIL against the file's tolerance. Exit status 0 only if every file passes. With no FILE, checks every fixture in $KP2D_FIXTURES or ../shared/fixtures.")

    @Argument(help: "Fixture files (.safetensors).")
    var files: [String] = []

    @Flag(name: .shortAndLong, help: "Print only failing tensors and the per-file summary.")
    var quiet = false

    func run() throws {
        var paths = files
        if paths.isEmpty {
            guard let dir = FixtureLocator.directory() else {
                throw ValidationError("no FILE given and no fixtures folder found: pass fixture files, or set KP2D_FIXTURES")
            }
            paths = (try FileManager.default.contentsOfDirectory(atPath: dir)).filter { $0.hasSuffix(".safetensors") }.sorted()
                .map { (dir as NSString).appendingPathComponent($0) }
        }
        var failedFiles = 0
        for path in paths {
            let (report, error) = FixtureRunner.run(path: path)
            guard let report else {
                print("FAIL \(path): \(error ?? "unknown error")")
                failedFiles += 1
                continue
            }
            print("== \(report.fixture.name) (\(report.fixture.kind))")
            for r in report.results where !quiet || !r.passed {
                let status = r.passed ? "PASS" : "FAIL"
                print(String(format: "  %@  %-52@ max_abs %.3e  max_rel %.3e  %@", status, r.name as NSString, r.maxAbsError, r.maxRelError, r.note as NSString))
            }
            for e in report.errors { print("  FAIL  \(e)") }
            let nPass = report.results.filter { $0.passed }.count
            print("  \(report.passed ? "PASS" : "FAIL"): \(nPass)/\(report.results.count) tensors within tolerance\(report.errors.isEmpty ? "" : ", \(report.errors.count) errors")")
            if !report.passed { failedFiles += 1 }
        }
        print("\(paths.count - failedFiles) passed, \(failedFiles) failed")
        if failedFiles > 0 { throw ExitCode(1) }
    }
}
