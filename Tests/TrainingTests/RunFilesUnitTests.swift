import Foundation
import KP2D
import TensorEngine
@testable import Training
import XCTest

/// Issue 13: the metrics log never loses lines, run files are checked before a run starts, checkpoint run
/// states are validated.
final class RunFilesUnitTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "kp2d-runfiles-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func record(_ step: Int) -> StepRecord {
        StepRecord(step: step, time: Double(step), epoch: 0, terms: LossTerms(), lr: 1e-3, lossWeights: .official,
                   stepsPerSecond: 1, skipped: false)
    }

    func testFreshLogKeepsTheOldFileUntilTheFirstRecord() throws {
        let path = dir + "/m.jsonl"
        try Data("old\n".utf8).write(to: URL(fileURLWithPath: path))
        let log = try MetricsLog(path: path, truncate: true)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "old\n", "not truncated at open")
        try log.append(record(1))
        XCTAssertEqual(try MetricsLog.read(path).map { $0.step }, [1])
    }

    func testTornLastLineIsSkippedWithAWarningAndSetAsideOnResume() throws {
        let path = dir + "/m.jsonl"
        let log = try MetricsLog(path: path, truncate: true)
        for s in 1...3 { try log.append(record(s)) }
        let h = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        h.seekToEndOfFile(); h.write(Data("{\"step\":4,".utf8)); h.closeFile()
        var warnings: [String] = []
        XCTAssertEqual(try MetricsLog.read(path, warn: { warnings.append($0) }).map { $0.step }, [1, 2, 3])
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings[0].contains("\(path): skipped a torn last line"), warnings[0])

        let resumed = try MetricsLog(path: path, truncate: false, keepThroughStep: 2)
        XCTAssertEqual(resumed.notices.count, 1)
        XCTAssertTrue(resumed.notices[0].contains("moved 1 records of steps 3-3 (after the checkpoint's step 2) and a torn last line to \(dir)/m.after-step-2.jsonl"), resumed.notices[0])
        try resumed.append(record(3))
        XCTAssertEqual(try MetricsLog.read(path).map { $0.step }, [1, 2, 3])
        let side = try String(contentsOfFile: dir + "/m.after-step-2.jsonl", encoding: .utf8)
        XCTAssertTrue(side.hasSuffix("{\"step\":4,\n"), side)
        XCTAssertEqual(MetricsLog.sideFileName(for: path, afterStep: 2), dir + "/m.after-step-2-2.jsonl")
    }

    func testABadLineInTheMiddleIsStillAnError() throws {
        let path = dir + "/m.jsonl"
        try Data("nonsense\n".utf8).write(to: URL(fileURLWithPath: path))
        let log = try MetricsLog(path: path, truncate: false)
        try log.append(record(1))
        XCTAssertThrowsError(try MetricsLog.read(path)) { XCTAssertTrue("\($0)".contains("m.jsonl:1: not a metrics record"), "\($0)") }
    }

    func testResumedLogIsBesideTheResumedCheckpoint() {
        XCTAssertEqual(RunFiles.resumedLogPath(resume: "b/ck.safetensors", given: nil, stored: "a/log.jsonl"), "b/log.jsonl")
        XCTAssertEqual(RunFiles.resumedLogPath(resume: "ck.safetensors", given: nil, stored: nil), "metrics.jsonl")
        XCTAssertEqual(RunFiles.resumedLogPath(resume: "b/ck.safetensors", given: "x.jsonl", stored: "a/log.jsonl"), "x.jsonl")
    }

    func testRunFilesAreCheckedBeforeTheRun() throws {
        var o = TrainingOptions(preset: .fast, dataPath: dir)
        o.checkpointPath = dir + "/ck.safetensors"
        o.logPath = dir + "/ck.safetensors"
        XCTAssertThrowsError(try RunFiles.checkDistinct(o)) { XCTAssertTrue("\($0)".contains("--log is the same file as --checkpoint"), "\($0)") }
        o.logPath = dir + "/metrics.jsonl"
        XCTAssertNoThrow(try RunFiles.checkDistinct(o))
        XCTAssertNoThrow(try RunFiles.refuseExistingRun(o, overwrite: false))
        FileManager.default.createFile(atPath: o.logPath!, contents: Data())   // an empty log holds nothing
        XCTAssertNoThrow(try RunFiles.refuseExistingRun(o, overwrite: false))
        FileManager.default.createFile(atPath: o.checkpointPath!, contents: Data("x".utf8))
        XCTAssertThrowsError(try RunFiles.refuseExistingRun(o, overwrite: false)) { XCTAssertTrue("\($0)".contains("exists: pass --resume"), "\($0)") }
        XCTAssertNoThrow(try RunFiles.refuseExistingRun(o, overwrite: true))
        XCTAssertNoThrow(try RunFiles.checkWritable(o))
        // Resuming another checkpoint and saving over this one: refused unless --overwrite.
        var r = o
        r.resumePath = dir + "/other.safetensors"
        XCTAssertThrowsError(try RunFiles.refuseExistingRun(r, overwrite: false)) {
            XCTAssertTrue("\($0)".contains("exists and is not the checkpoint being resumed"), "\($0)")
        }
        XCTAssertNoThrow(try RunFiles.refuseExistingRun(r, overwrite: true))
        r.resumePath = o.checkpointPath
        XCTAssertNoThrow(try RunFiles.refuseExistingRun(r, overwrite: false))
        try FileManager.default.createDirectory(atPath: dir + "/d.safetensors", withIntermediateDirectories: true)
        o.checkpointPath = dir + "/d.safetensors"
        XCTAssertThrowsError(try RunFiles.checkWritable(o)) { XCTAssertTrue("\($0)".contains("the checkpoint cannot be written (it is a folder"), "\($0)") }
    }

    func testRunStateIsValidated() {
        let o = TrainingOptions(preset: .fast, dataPath: dir)
        let good = CheckpointRunState(step: 3, epoch: 1, elapsed: 2, baseLearningRate: 1e-3, learningRate: 1e-3, lossWeights: .official,
                                      options: o, changes: [], seed: o.seed, preset: "fast")
        XCTAssertNil(good.problem)
        var s = good; s.step = -5
        XCTAssertEqual(s.problem, "step -5 is negative")
        s = good; s.format = 99
        XCTAssertTrue(s.problem?.contains("format 99") ?? false)
        s = good; s.options.setSize(height: 100000, width: 100000)
        XCTAssertTrue(s.problem?.contains("more than this machine's") ?? false, s.problem ?? "")
        s = good; s.learningRate = .nan
        XCTAssertTrue(s.problem?.contains("learning rate nan") ?? false, s.problem ?? "")
        s = good; s.options.batchSize = 100_000_000
        XCTAssertTrue(s.problem?.contains("needs at least") ?? false, s.problem ?? "")
    }
}
