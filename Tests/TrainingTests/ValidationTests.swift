import Evaluation
import Foundation
import Training
import XCTest

final class ValidationTests: XCTestCase {
    /// The adaptive interval keeps evaluation at the budget: e / (e + T) = b with T the training time that follows.
    func testAdaptiveIntervalSpendsTheBudget() {
        let next = ValidationMonitor.nextStep(after: 100, seconds: 10, stepsPerSecond: 5, every: nil, budget: 0.05)
        let trainSeconds = Double(next - 100) / 5
        XCTAssertEqual(10 / (10 + trainSeconds), 0.05, accuracy: 0.001)
        XCTAssertEqual(ValidationMonitor.nextStep(after: 100, seconds: 0.01, stepsPerSecond: 5, every: nil, budget: 0.05), 150)  // at least 50 steps
        XCTAssertEqual(ValidationMonitor.nextStep(after: 100, seconds: 10, stepsPerSecond: 5, every: 25, budget: 0.05), 125)
    }

    func testLogRoundTripSkipsATornLine() throws {
        let dir = NSTemporaryDirectory() + "kp2d-validation-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = ValidationLog.path(besideLog: dir + "/metrics.jsonl")
        XCTAssertEqual(path, dir + "/validation.jsonl")
        var s = HPatchesSummary.of([])
        s.repeatability = 0.5; s.localizationError = 1.2; s.c3 = 0.25; s.matchingScore = 0.125; s.pairs = 30
        let a = ValidationRecord(step: 0, summary: s, seconds: 1.5), b = ValidationRecord(step: 500, summary: s, seconds: 2)
        try ValidationLog.append(a, to: path)
        try ValidationLog.append(b, to: path)
        let h = try XCTUnwrap(FileHandle(forWritingAtPath: path)); try h.seekToEnd(); try h.write(contentsOf: Data("{\"step\": 9".utf8)); try h.close()
        XCTAssertEqual(ValidationLog.read(path), [a, b])
    }
}
