import KP2D
import XCTest
import Datasets
import Evaluation
import EvaluationTestSupport
import Training
import TUI

/// The browser source backed by the real evaluator, on two generated HPatches-format sequences.
final class EvaluatorSourceTests: XCTestCase {
    func testEvaluatesAndServesPairs() throws {
        let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("kp2d-tui-hp-\(getpid())")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for i in 0..<2 { try ImageIO.savePNG(syntheticPhoto(200, 160, phase: i), to: "\(dir)/p\(i).png") }
        try SequenceGenerator.generate(photos: ["\(dir)/p0.png", "\(dir)/p1.png"], viewpoint: 1, illumination: 1, root: dir + "/hp",
                                       options: SequenceGeneratorOptions(width: 80, height: 64, seed: 3))
        let ds = try HPatchesDataset(root: dir + "/hp")
        var detectorsMade = 0
        let source = EvaluatorHPatchesSource(dataset: ds, settings: HPatchesEvalSettings(width: 64, height: 48, topK: 300),
                                             makeDetector: { detectorsMade += 1; return gridDetector })
        // Before evaluation: sequences with NaN metrics, pairs with images but no keypoints.
        XCTAssertEqual(source.sequences().count, 2)
        XCTAssertTrue(source.sequences().allSatisfy { $0.metrics.repeatability.isNaN && $0.pairCount == 5 })
        let before = try XCTUnwrap(source.pair(sequence: "v_p0", index: 0))
        XCTAssertEqual(before.pair.source.width, 64); XCTAssertEqual(before.pair.target.height, 48)
        XCTAssertTrue(before.pair.sourceKeypoints.isEmpty)
        XCTAssertTrue(source.status.contains("not evaluated yet"))

        let v0 = source.version
        source.requestEvaluation()
        XCTAssertTrue(source.waitUntilIdle(timeout: 120))
        XCTAssertEqual(detectorsMade, 1)
        XCTAssertGreaterThan(source.version, v0)
        XCTAssertTrue(source.status.contains("10 pairs"), source.status)
        let seqs = source.sequences()
        XCTAssertTrue(seqs.allSatisfy { !$0.metrics.repeatability.isNaN && !$0.metrics.c3.isNaN }, "\(seqs)")
        let p = try XCTUnwrap(source.pair(sequence: "i_p1", index: 2))
        XCTAssertFalse(p.pair.sourceKeypoints.isEmpty)
        XCTAssertFalse(p.pair.matches.isEmpty)
        // Illumination pairs have the identity homography: the grid detector's cross-checked matches are mostly
        // the same cell, i.e. correct.
        XCTAssertGreaterThan(Double(p.pair.matches.filter(\.correct).count) / Double(p.pair.matches.count), 0.5)
        XCTAssertFalse(p.metrics.matchingScore.isNaN)
        XCTAssertNil(source.pair(sequence: "nope", index: 0))
        XCTAssertNil(source.pair(sequence: "i_p1", index: 7))

        // The browser shows it.
        let wb = Workbench(options: WorkbenchOptions(colorMode: .c256), hpatches: source)
        wb.handle(.char("2"), snapshot: TrainerSnapshot(), send: { _ in })
        let g = wb.render(snapshot: TrainerSnapshot(), width: 200, height: 60)
        XCTAssertTrue(g.contains("Sequences (2, all"))
        XCTAssertTrue(g.contains("MScore"))
    }

    func testDetectorFailureIsReported() throws {
        let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("kp2d-tui-hp2-\(getpid())")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ImageIO.savePNG(syntheticPhoto(120, 100), to: "\(dir)/p0.png")
        try SequenceGenerator.generate(photos: ["\(dir)/p0.png"], viewpoint: 1, illumination: 0, root: dir + "/hp",
                                       options: SequenceGeneratorOptions(width: 64, height: 48, seed: 1))
        struct NoModel: Error, CustomStringConvertible { var description: String { "no checkpoint yet" } }
        let source = EvaluatorHPatchesSource(dataset: try HPatchesDataset(root: dir + "/hp"),
                                             settings: HPatchesEvalSettings(width: 64, height: 48, topK: 100),
                                             makeDetector: { throw NoModel() })
        source.requestEvaluation()
        XCTAssertTrue(source.waitUntilIdle(timeout: 60))
        XCTAssertEqual(source.status, "evaluation failed: no checkpoint yet")
    }

    /// Two generated sequences (10 pairs) at 80x64 in a temporary folder.
    func twoSequences(_ tag: String) throws -> (HPatchesDataset, String) {
        let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("kp2d-tui-\(tag)-\(getpid())")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for i in 0..<2 { try ImageIO.savePNG(syntheticPhoto(200, 160, phase: i), to: "\(dir)/p\(i).png") }
        try SequenceGenerator.generate(photos: ["\(dir)/p0.png", "\(dir)/p1.png"], viewpoint: 1, illumination: 1, root: dir + "/hp",
                                       options: SequenceGeneratorOptions(width: 80, height: 64, seed: 3))
        return (try HPatchesDataset(root: dir + "/hp"), dir)
    }

    /// The worker's name is one Linux keeps (at most 15 bytes), so gdb and /proc show it: the old 21-byte
    /// "kp2d-hpatches-browser" was refused and the thread carried the process's name, which made a stalled
    /// evaluation look like a thread that had gone.
    func testWorkerThreadIsNamedSoGdbFindsIt() throws {
        let (ds, dir) = try twoSequences("hp-name")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertLessThanOrEqual(EvaluatorHPatchesSource.threadName.utf8.count, 15)
        let release = DispatchSemaphore(value: 0)
        let source = EvaluatorHPatchesSource(dataset: ds, settings: HPatchesEvalSettings(width: 64, height: 48, topK: 100),
                                             makeDetector: { release.wait(); return gridDetector })
        source.requestEvaluation()
        Thread.sleep(forTimeInterval: 0.2)
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")
        let names = tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        release.signal()
        XCTAssertTrue(names.contains(EvaluatorHPatchesSource.threadName), "\(names)")
        XCTAssertTrue(source.waitUntilIdle(timeout: 120))
    }

    /// A size switch in the middle of an evaluation: the old run stops between two pairs, its results are
    /// dropped, the new size is evaluated, and the status ends on the new run's result line, never on
    /// "evaluating n/N pairs…".
    func testSizeSwitchDuringAnEvaluationEndsWithAFinalStatus() throws {
        let (ds, dir) = try twoSequences("hp-size")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let calls = Counter()
        let source = EvaluatorHPatchesSource(dataset: ds, settings: HPatchesEvalSettings(width: 64, height: 48, topK: 100),
                                             otherSizes: [(32, 48, 50, "small")], makeDetector: {
            { img in calls.add(); Thread.sleep(forTimeInterval: 0.02); return gridDetector(img) }
        })
        for round in 0..<3 {
            source.requestEvaluation()
            while calls.value < 6 { Thread.sleep(forTimeInterval: 0.005) }   // three pairs in
            _ = source.nextEvaluationSize()
            XCTAssertTrue(source.waitUntilIdle(timeout: 120))
            XCTAssertTrue(source.status.hasPrefix("10 pairs in"), "round \(round): \(source.status)")
            XCTAssertFalse(source.isEvaluating)
            let expected = round % 2 == 0 ? 32 : 48
            XCTAssertEqual(try XCTUnwrap(source.pair(sequence: "v_p0", index: 0)).pair.source.height, expected)
            XCTAssertTrue(source.sequences().allSatisfy { !$0.metrics.repeatability.isNaN })
            calls.reset()
        }
    }

    /// Two sources sharing a gate (A and B of a comparison) never evaluate at the same time; quitting while B
    /// waits for the gate stops both, and neither status stays at "evaluating".
    func testComparedSourcesTakeTurnsAndStopTogether() throws {
        let (ds, dir) = try twoSequences("hp-gate")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let busy = Counter(), overlap = Counter()
        func detector() -> KeypointDetector {
            { img in
                if busy.add() > 1 { overlap.add() }
                Thread.sleep(forTimeInterval: 0.005)
                busy.sub()
                return gridDetector(img)
            }
        }
        let a = EvaluatorHPatchesSource(dataset: ds, settings: HPatchesEvalSettings(width: 64, height: 48, topK: 100), gate: NSLock(),
                                        makeDetector: { detector() })
        let b = a.sibling(makeDetector: { detector() })
        let c = HPatchesComparisonSource(primary: a, label: "A", baseline: b, baselineLabel: "B")
        c.requestEvaluation()
        let end = Date().addingTimeInterval(120)
        while c.isEvaluating && Date() < end { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertEqual(overlap.value, 0, "A and B ran a detector at the same time")
        XCTAssertTrue(a.status.hasPrefix("10 pairs in") && b.status.hasPrefix("10 pairs in"), "\(a.status) / \(b.status)")
        XCTAssertTrue(c.comparedSequences().allSatisfy { !$0.a.repeatability.isNaN && !$0.b.repeatability.isNaN })
        // The same detector on both: every Δ is 0.
        XCTAssertTrue(c.comparedSequences().allSatisfy { HPatchesBrowserSortKey.c3.delta($0) == 0 })
        // r re-evaluates A only (B's weights never change and it is complete).
        c.requestEvaluation()
        XCTAssertTrue(a.isEvaluating)
        XCTAssertFalse(b.isEvaluating)
        XCTAssertTrue(a.waitUntilIdle(timeout: 120))

        // Quit while A evaluates and B waits for the gate.
        _ = c.nextEvaluationSize()   // one size only: nothing happens
        a.requestEvaluation(); b.requestEvaluation()
        Thread.sleep(forTimeInterval: 0.05)
        c.cancelEvaluation(timeout: 60)
        XCTAssertFalse(a.isEvaluating); XCTAssertFalse(b.isEvaluating)
        for s in [a, b] { XCTAssertFalse(s.status.hasPrefix("evaluating"), s.status); XCTAssertFalse(s.status.hasPrefix("waiting"), s.status) }
        c.requestEvaluation()
        XCTAssertFalse(c.isEvaluating, "nothing starts after quitting")
    }
}

/// A thread-safe counter for the tests above.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
    @discardableResult func add() -> Int { lock.lock(); defer { lock.unlock() }; n += 1; return n }
    func sub() { lock.lock(); n -= 1; lock.unlock() }
    func reset() { lock.lock(); n = 0; lock.unlock() }
}
