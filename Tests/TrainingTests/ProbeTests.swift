import Datasets
import Evaluation
import Foundation
import KP2D
import NN
import TensorEngine
import Training
import XCTest

/// The fixed probe batch (Probe.swift) and the metrics log's record kinds (LogEntry.swift).
final class ProbeTests: XCTestCase {
    private var dirs: [String] = []
    override func tearDown() { for d in dirs { try? FileManager.default.removeItem(atPath: d) }; dirs = [] }

    private func folder() throws -> String { let d = try makeImageFolder(count: 3); dirs.append(d); return d }
    private func tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "kp2d-probe-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        dirs.append(d)
        return d
    }

    private static func stateBits(_ m: Module) -> [String: [UInt32]] {
        Dictionary(uniqueKeysWithValues: m.stateDict().map { ($0.0, $0.1.floats.map(\.bitPattern)) })
    }

    // MARK: the batch and the eval-mode loss

    /// The same pairs every time, whatever the run's --seed; K pairs even from fewer images.
    func testProbeBatchIsFixedAndIndependentOfTheRunSeed() throws {
        let data = try folder()
        var o = tinyOptions(data: data)
        let f = try ImageFolder(root: data)
        let a = try ProbeBatch.make(folder: f, augmentation: o.augmentation, pairs: 5)
        o.seed = 1234
        let b = try ProbeBatch.make(folder: f, augmentation: o.augmentation, pairs: 5)
        XCTAssertEqual(a.image.shape, [5, 3, o.height, o.width])
        XCTAssertEqual(a.image.array, b.image.array)
        XCTAssertEqual(a.imageAug.array, b.imageAug.array)
        XCTAssertEqual(a.homography.array, b.homography.array)
        XCTAssertEqual(Set(a.paths).count, 3, "5 pairs from 3 images repeat images")
        let c = try ProbeBatch.make(folder: f, augmentation: o.augmentation, pairs: 5, seed: 1)
        XCTAssertNotEqual(a.imageAug.array, c.imageAug.array, "another seed draws other pairs")
    }

    /// Eval mode: BatchNorm running statistics (not the batch's), nothing in the model changes, the same terms
    /// twice; and it is not the batch-statistics loss.
    func testEvalModeLossUsesRunningStatisticsAndChangesNothing() throws {
        let data = try folder()
        let o = tinyOptions(data: data)
        let batch = try ProbeBatch.make(folder: try ImageFolder(root: data), augmentation: o.augmentation, pairs: 2)
        var rng = SeededRandom(seed: 3)
        let model = KP2DModel(config: o.model, rng: &rng)
        // Running statistics that differ from any batch's, so eval and batch-statistics forwards differ.
        for e in model.stateEntries() where e.key.hasSuffix("running_mean") { for i in 0..<e.tensor.count { e.tensor.data[i] = 0.05 } }
        let before = Self.stateBits(model)
        let a = ProbeBatch.evaluate(model, batch, lossWeights: o.lossWeights)
        let b = ProbeBatch.evaluate(model, batch, lossWeights: o.lossWeights)
        XCTAssertEqual(Self.stateBits(model), before, "eval mode changes no parameter and no BatchNorm buffer")
        XCTAssertEqual(a, b)
        XCTAssertTrue(a.total.isFinite && a.loc > 0 && a.desc > 0, "\(a)")
        let g = Graph(recording: false)
        let batchStats = model.loss(image: batch.image, imageAug: batch.imageAug, homography: batch.homography,
                                    lossWeights: o.lossWeights, graph: g, training: false).terms
        XCTAssertNotEqual(batchStats.loc, a.loc, "eval mode must not use the batch's statistics")
        XCTAssertEqual(Self.stateBits(model), before)
    }

    /// A run with the probe evaluating after every step ends with the same weights, BatchNorm statistics, Adam
    /// state and step losses as the same run without it.
    func testProbeChangesNothingInTheRun() throws {
        let data = try folder()
        func run(probe: Bool) throws -> (state: [String: [UInt32]], adam: [[Float]], losses: [Float], probes: [ProbeRecord]) {
            var o = tinyOptions(data: data)
            o.steps = 6
            o.checkpointPath = nil; o.logPath = nil; o.exportPath = nil
            let t = try Trainer(options: o)
            let monitor = probe ? ProbeMonitor(batch: try ProbeBatch.make(folder: t.folder, augmentation: o.augmentation, pairs: 2),
                                               config: o.model, every: 1) : nil
            t.start()
            monitor?.start(trainer: t)
            t.waitUntilFinished()
            monitor?.stop()
            let adam = t.optimizer.stateTensors().sorted { $0.0 < $1.0 }.map { $0.1.floats }
            return (Self.stateBits(t.model), adam, t.snapshot().history.map { $0.terms.total }, monitor?.probeRecords ?? [])
        }
        let plain = try run(probe: false), probed = try run(probe: true)
        XCTAssertGreaterThanOrEqual(probed.probes.count, 2, "the probe ran during the run")
        XCTAssertEqual(probed.probes.map(\.step), probed.probes.map(\.step).sorted())
        XCTAssertEqual(plain.losses, probed.losses)
        XCTAssertEqual(plain.state, probed.state)
        XCTAssertEqual(plain.adam, probed.adam)
    }

    /// A 3-step run without files, finished, and a 2-pair probe batch from its folder.
    private func finishedThreeStepRun() throws -> (TrainingOptions, Trainer, TrainingBatch) {
        var o = tinyOptions(data: try folder())
        o.steps = 3
        o.checkpointPath = nil; o.logPath = nil; o.exportPath = nil
        let t = try Trainer(options: o)
        let batch = try ProbeBatch.make(folder: t.folder, augmentation: o.augmentation, pairs: 2)
        t.start(); t.waitUntilFinished()
        return (o, t, batch)
    }

    /// Each probe record is the eval-mode loss of the weights of its step: re-evaluating the run's final weights
    /// gives the last record's terms (a probe of the finished run).
    func testProbeRecordIsTheEvalLossOfItsStep() throws {
        let (o, t, batch) = try finishedThreeStepRun()
        let monitor = ProbeMonitor(batch: batch, config: o.model)
        let copy = try t.copyModelState()
        XCTAssertEqual(copy.step, 3)
        let r = try monitor.evaluate(state: copy.state, step: copy.step, lossWeights: copy.lossWeights)
        XCTAssertEqual(r.terms, ProbeBatch.evaluate(t.model, batch, lossWeights: o.lossWeights))
        XCTAssertEqual(r.pairs, 2)
    }

    func testAdaptiveIntervalSpendsTheProbeBudget() {
        let next = ProbeMonitor.nextStep(after: 100, seconds: 0.5, stepsPerSecond: 4, every: nil, budget: 0.02)
        XCTAssertEqual(0.5 / (0.5 + Double(next - 100) / 4), 0.02, accuracy: 0.001)
        XCTAssertEqual(ProbeMonitor.nextStep(after: 100, seconds: 0.001, stepsPerSecond: 4, every: nil, budget: 0.02), 110)
        XCTAssertEqual(ProbeMonitor.nextStep(after: 100, seconds: 9, stepsPerSecond: 4, every: 7, budget: 0.02), 107)
    }

    // MARK: the metrics log's kinds

    private func stepRecord(_ s: Int) -> StepRecord {
        var t = LossTerms(); t.total = Float(s); t.loc = 1
        return StepRecord(step: s, time: Double(s), epoch: 0, terms: t, lr: 1e-3, lossWeights: LossWeights(), stepsPerSecond: 2, skipped: false)
    }
    private func validationRecord(_ s: Int) -> ValidationRecord {
        var sum = HPatchesSummary.of([]); sum.repeatability = 0.5; sum.localizationError = 1.25; sum.c3 = 0.25; sum.matchingScore = Double(s) / 100; sum.pairs = 30
        return ValidationRecord(step: s, summary: sum, seconds: 1.5)
    }
    private func probeRecord(_ s: Int) -> ProbeRecord {
        var t = LossTerms(); t.total = 2.5; t.loc = 1.25; t.desc = 0.5; t.usp = -0.1; t.consistency = 0.01; t.io = 0.75; t.recall = 0.3; t.ioInliers = 40
        return ProbeRecord(step: s, pairs: 8, terms: t, lossWeights: LossWeights(alpha: 1, beta: 2, lambda: 1, gamma: 1), seconds: 0.25)
    }

    /// Step, validation and probe records in one file: written, read back by kind; `read` gives steps only; a
    /// torn last line (any kind) is skipped with a warning; a kind this build does not know is skipped.
    func testLogRoundTripOfEveryKind() throws {
        let path = try tempDir() + "/metrics.jsonl"
        let log = try MetricsLog(path: path, truncate: true)
        try log.append(.validation(validationRecord(0)))
        try log.append(stepRecord(1))
        try log.append(.probe(probeRecord(1)))
        try log.append(stepRecord(2))
        try log.append(.validation(validationRecord(2)))
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 5)
        XCTAssertTrue(lines[0].contains("\"kind\":\"validation\"") && lines[2].contains("\"kind\":\"probe\""), "\(lines)")
        XCTAssertFalse(lines[1].contains("\"kind\""), "step records keep their old form")
        let all = try MetricsLog.readAll(path)
        XCTAssertEqual(all.steps, [stepRecord(1), stepRecord(2)])
        XCTAssertEqual(all.validation, [validationRecord(0), validationRecord(2)])
        XCTAssertEqual(all.probes, [probeRecord(1)])
        XCTAssertEqual(try MetricsLog.read(path), [stepRecord(1), stepRecord(2)])
        // A future kind and a torn probe line at the end.
        let h = try XCTUnwrap(FileHandle(forWritingAtPath: path)); try h.seekToEnd()
        try h.write(contentsOf: Data("{\"kind\":\"future\",\"step\":2,\"x\":1}\n{\"kind\":\"probe\",\"step\":3,\"ter".utf8)); try h.close()
        var warnings: [String] = []
        let again = try MetricsLog.readAll(path, warn: { warnings.append($0) })
        XCTAssertEqual(again.steps.count, 2); XCTAssertEqual(again.probes, [probeRecord(1)]); XCTAssertEqual(again.otherKinds, 1)
        XCTAssertEqual(warnings.count, 1); XCTAssertTrue(warnings[0].contains("torn last line"), "\(warnings)")
        // A kind without a step is a bad line, not silently kept.
        try (String(contentsOfFile: path, encoding: .utf8) + "\n{\"kind\":\"probe\"}\n{\"step\":9}\n").write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try MetricsLog.read(path))
    }

    /// Resume: records of every kind past the checkpoint's step move to the side file, earlier ones stay.
    func testResumeSetsAsideLaterRecordsOfEveryKind() throws {
        let path = try tempDir() + "/metrics.jsonl"
        let log = try MetricsLog(path: path, truncate: true)
        try log.append(.validation(validationRecord(0)))
        try log.append(.probe(probeRecord(0)))
        for s in 1...5 {
            try log.append(stepRecord(s))
            if s % 2 == 0 { try log.append(.probe(probeRecord(s))) }
        }
        try log.append(.validation(validationRecord(4)))
        let resumed = try MetricsLog(path: path, truncate: false, keepThroughStep: 3)
        let side = (path as NSString).deletingLastPathComponent + "/metrics.after-step-3.jsonl"
        let kept = try MetricsLog.readAll(path), moved = try MetricsLog.readAll(side)
        XCTAssertEqual(kept.steps.map(\.step), [1, 2, 3])
        XCTAssertEqual(kept.validation.map(\.step), [0])
        XCTAssertEqual(kept.probes.map(\.step), [0, 2])
        XCTAssertEqual(moved.steps.map(\.step), [4, 5])
        XCTAssertEqual(moved.validation.map(\.step), [4])
        XCTAssertEqual(moved.probes.map(\.step), [4])
        XCTAssertEqual(resumed.notices.count, 1)
        XCTAssertTrue(resumed.notices[0].contains("2 records of steps 4-5") && resumed.notices[0].contains("2 probe/validation records of later steps"),
                      resumed.notices[0])
        // The resumed run appends after the kept lines.
        try resumed.append(stepRecord(4))
        try resumed.append(.probe(probeRecord(4)))
        let after = try MetricsLog.readAll(path)
        XCTAssertEqual(after.steps.map(\.step), [1, 2, 3, 4]); XCTAssertEqual(after.probes.map(\.step), [0, 2, 4])
    }

    /// The trainer thread and the monitors' threads append at once: every line stays whole.
    func testConcurrentAppendsKeepWholeLines() throws {
        let path = try tempDir() + "/metrics.jsonl"
        let log = try MetricsLog(path: path, truncate: true)
        let group = DispatchGroup()
        for kind in 0..<3 {
            group.enter()
            Thread {
                for s in 1...200 {
                    switch kind {
                    case 0: try! log.append(self.stepRecord(s))
                    case 1: try! log.append(.probe(self.probeRecord(s)))
                    default: try! log.append(.validation(self.validationRecord(s)))
                    }
                }
                group.leave()
            }.start()
        }
        group.wait()
        let all = try MetricsLog.readAll(path, warn: { XCTFail($0) })
        XCTAssertEqual(all.steps.map(\.step), Array(1...200))
        XCTAssertEqual(all.probes.count, 200); XCTAssertEqual(all.validation.count, 200)
    }

    /// `snapshot` / `--compare-run` read a run's probe and validation records from its log, and a legacy
    /// validation.jsonl beside it.
    func testRecordedRunReadsProbeAndValidationRecords() throws {
        let dir = try tempDir()
        let log = try MetricsLog(path: dir + "/metrics.jsonl", truncate: true)
        try log.append(stepRecord(1)); try log.append(.probe(probeRecord(1))); try log.append(.validation(validationRecord(1)))
        try log.append(stepRecord(2))
        try ValidationLog.append(validationRecord(0), to: dir + "/validation.jsonl")
        try ValidationLog.append(validationRecord(1), to: dir + "/validation.jsonl")   // the log's record of step 1 wins
        let run = try RecordedRun.load(runDirectory: dir)
        XCTAssertEqual(run.history.map(\.step), [1, 2])
        XCTAssertEqual(run.probes, [probeRecord(1)])
        XCTAssertEqual(run.validation.map(\.step), [0, 1])
        XCTAssertEqual(ValidationLog.records(ofRun: dir + "/metrics.jsonl").map(\.step), [0, 1])
    }

    /// A probe that is due when the run ends is taken, of the final weights, even if the run ended before the probe
    /// thread looked (a resumed run of a few steps, or stop() right after the end): here the run has ended before
    /// the monitor starts, with a record at step 0 from "before", every 2 steps, so step 3's probe is due.
    func testAProbeDueWhenTheRunEndsIsTaken() throws {
        let (o, t, batch) = try finishedThreeStepRun()
        let earlier = ProbeRecord(step: 0, pairs: 2, terms: ProbeBatch.evaluate(t.model, batch, lossWeights: o.lossWeights),
                                  lossWeights: o.lossWeights, seconds: 0)
        let monitor = ProbeMonitor(batch: batch, config: o.model, every: 2, previous: [earlier])
        monitor.start(trainer: t)
        monitor.stop()
        XCTAssertEqual(monitor.probeRecords.map(\.step), [0, 3])
        XCTAssertEqual(monitor.probeRecords.last?.terms, ProbeBatch.evaluate(t.model, batch, lossWeights: o.lossWeights))
    }

    /// A run that logs: the monitors' records land in its metrics log beside its steps, and a resumed run's
    /// trainer sees only the step records as its history.
    func testMonitorsLogIntoTheRunsMetricsLog() throws {
        let data = try folder()
        let dir = try tempDir()
        var o = tinyOptions(data: data)
        o.steps = 4
        o.checkpointPath = dir + "/ck.safetensors"; o.logPath = dir + "/metrics.jsonl"
        let t = try Trainer(options: o)
        let monitor = ProbeMonitor(batch: try ProbeBatch.make(folder: t.folder, augmentation: o.augmentation, pairs: 2), config: o.model, every: 2)
        t.start(); monitor.start(trainer: t)
        t.waitUntilFinished(); monitor.stop()
        let all = try MetricsLog.readAll(dir + "/metrics.jsonl")
        XCTAssertEqual(all.steps.map(\.step), [1, 2, 3, 4])
        XCTAssertEqual(all.probes, monitor.probeRecords)
        XCTAssertGreaterThanOrEqual(all.probes.count, 1)
        var r = o; r.resumePath = o.checkpointPath; r.steps = 6
        let resumed = try Trainer(options: r)
        XCTAssertEqual(resumed.snapshot().history.map(\.step), [1, 2, 3, 4])
    }
}
