import Datasets
import Foundation
import KP2D
import NN
import TensorEngine
import Training
import XCTest

final class TrainingOptionsTests: XCTestCase {
    func testPresetsAndValidation() throws {
        let paper = TrainingOptions(preset: .paper, dataPath: "x")
        XCTAssertEqual([paper.height, paper.width, paper.batchSize], [240, 320, 8])
        XCTAssertEqual(paper.model, .paper); XCTAssertEqual(paper.lossWeights, .official); XCTAssertEqual(paper.learningRate, 1e-3)
        XCTAssertEqual(paper.epochs, 50)
        let fast = TrainingOptions(preset: .fast, dataPath: "x")
        XCTAssertEqual([fast.height, fast.width, fast.batchSize], [128, 192, 4])
        XCTAssertEqual(fast.model.widths, [8, 16, 32, 64, 64, 128, 64])
        XCTAssertNoThrow(try paper.validate()); XCTAssertNoThrow(try fast.validate())

        var o = fast
        o.setSize(height: 100, width: 192)
        XCTAssertThrowsError(try o.validate()) { XCTAssertTrue("\($0)".contains("multiples of 8")) }
        o.setSize(height: 96, width: 128)
        XCTAssertThrowsError(try o.validate()) { XCTAssertTrue("\($0)".contains("at least 300")) }
        o = fast; o.batchSize = 0
        XCTAssertThrowsError(try o.validate())
        o = fast; o.checkpointEvery = 5
        XCTAssertThrowsError(try o.validate()) { XCTAssertTrue("\($0)".contains("--checkpoint")) }
        o = fast; o.lossWeights.beta = .nan
        XCTAssertThrowsError(try o.validate())
        XCTAssertEqual(fast.augmentation.height, 128)
        o = fast; o.checkpointPath = "/r/ck.safetensors"
        XCTAssertEqual(o.resolvedExportPath, "/r/ck.keypointnet.safetensors")
    }

    /// Official adjust_learning_rate: initial * 0.5^min(epoch // 40, 4).
    func testOfficialLearningRateSchedule() {
        let o = TrainingOptions(preset: .paper, dataPath: "x")
        XCTAssertEqual(o.learningRate(epoch: 0), 1e-3)
        XCTAssertEqual(o.learningRate(epoch: 39), 1e-3)
        XCTAssertEqual(o.learningRate(epoch: 40), 5e-4)
        XCTAssertEqual(o.learningRate(epoch: 80), 2.5e-4)
        XCTAssertEqual(o.learningRate(epoch: 1000), 1e-3 / 16)
    }

    /// The fast preset keeps its rate: its epochs are a few steps of the bundled images, not COCO epochs.
    func testFastPresetHasConstantLearningRate() {
        let o = TrainingOptions(preset: .fast, dataPath: "x")
        XCTAssertEqual(o.learningRate(epoch: 0), 1e-3)
        XCTAssertEqual(o.learningRate(epoch: 400), 1e-3)
    }
}

final class TrainerTests: XCTestCase {
    var folders: [String] = []
    override func tearDown() { for f in folders { try? FileManager.default.removeItem(atPath: f) } }

    func testEmptyFolderAndBadResumeAreClearErrors() throws {
        let dir = try makeImageFolder(count: 0); folders.append(dir)
        XCTAssertThrowsError(try Trainer(options: tinyOptions(data: dir))) { XCTAssertTrue("\($0)".contains("no PNG, JPEG or PPM images")) }
        let good = try makeImageFolder(count: 2); folders.append(good)
        var o = tinyOptions(data: good); o.resumePath = good + "/missing.safetensors"
        XCTAssertThrowsError(try Trainer(options: o)) { XCTAssertTrue("\($0)".contains("missing.safetensors")) }
        // A safetensors file that is not a checkpoint.
        let notCk = good + "/weights.safetensors"
        try SafeTensors.write([("a", .f32(shape: [1], values: [1]))], to: notCk)
        o.resumePath = notCk
        XCTAssertThrowsError(try Trainer(options: o)) { XCTAssertTrue("\($0)".contains("not a kp2d-tui training checkpoint")) }
    }

    /// pause / step / resume / setWeights / setLearningRate / save / quit, applied between steps.
    func testCommandsPauseStepResumeAndQuit() throws {
        let dir = try makeImageFolder(count: 3); folders.append(dir)
        var o = tinyOptions(data: dir)
        o.startPaused = true
        o.checkpointPath = dir + "/run/ck.safetensors"
        let trainer = try Trainer(options: o)
        let v0 = trainer.snapshot().version
        trainer.start()
        waitFor(trainer) { $0.status.state == .paused }
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertEqual(trainer.snapshot().status.step, 0, "paused: no step")

        trainer.send(.step)
        var s = waitFor(trainer) { $0.status.step == 1 }
        Thread.sleep(forTimeInterval: 0.5)
        s = trainer.snapshot()
        XCTAssertEqual(s.status.step, 1, "exactly one step while paused")
        XCTAssertEqual(s.status.state, .paused)
        XCTAssertEqual(s.history.map { $0.step }, [1])
        XCTAssertGreaterThan(s.version, v0)
        let preview = try XCTUnwrap(s.preview)
        XCTAssertEqual(preview.step, 1)
        XCTAssertEqual(preview.pair.source.width, 192); XCTAssertEqual(preview.pair.target.height, 128)
        XCTAssertNotNil(preview.pair.homography)
        XCTAssertFalse(preview.pair.sourceKeypoints.isEmpty)
        XCTAssertFalse(s.recentStats.keypoints.isNaN)

        let w = LossWeights(alpha: 0.5, beta: 1, lambda: 2, gamma: 0)
        trainer.send(.setLossWeights(w))
        trainer.send(.setLearningRate(2e-4))
        trainer.send(.resume)
        s = waitFor(trainer) { $0.status.step >= 3 }
        XCTAssertEqual(s.status.lossWeights, w)
        XCTAssertEqual(s.status.lr, 2e-4, accuracy: 1e-9)
        XCTAssertEqual(s.changes.count, 2)
        XCTAssertEqual(s.changes.first?.step, 1)
        XCTAssertEqual(s.history.last?.lossWeights, w)
        XCTAssertEqual(s.history.last?.lr ?? 0, 2e-4, accuracy: 1e-9)

        trainer.send(.pause)
        s = waitFor(trainer) { $0.status.state == .paused }
        let paused = s.status.step
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertEqual(trainer.snapshot().status.step, paused)

        trainer.send(.save)
        s = waitFor(trainer) { $0.status.lastSavedStep == paused }
        XCTAssertTrue(FileManager.default.fileExists(atPath: o.checkpointPath!))
        XCTAssertEqual(s.status.unsavedSteps, 0)

        // Quit does not save: train one more step, then quit; the checkpoint stays at the saved step.
        trainer.send(.step)
        s = waitFor(trainer) { $0.status.step == paused + 1 }
        XCTAssertEqual(s.status.unsavedSteps, 1)
        trainer.send(.quit)
        XCTAssertTrue(trainer.waitUntilFinished(timeout: 60))
        s = trainer.snapshot()
        XCTAssertEqual(s.status.state, .finished)
        XCTAssertEqual(s.status.step, paused + 1)
        XCTAssertEqual(try TrainingCheckpoint.readState(path: o.checkpointPath!).step, paused)
    }

    /// Checkpoint round trip: model + Adam state + run state; resuming continues the step count, the
    /// optimizer state and the exact batches, so the resumed curve equals an uninterrupted run's.
    func testCheckpointRoundTripAndResumeContinueTheSameCurve() throws {
        let dir = try makeImageFolder(count: 3); folders.append(dir)
        var a = tinyOptions(data: dir)
        a.steps = 2
        a.checkpointPath = dir + "/a/ck.safetensors"
        a.logPath = dir + "/a/log.jsonl"
        let ta = try Trainer(options: a)
        ta.start()
        XCTAssertTrue(ta.waitUntilFinished(timeout: 300))
        XCTAssertEqual(ta.snapshot().status.state, .finished)

        // The file: model keys, optimizer state, run state; the export loads as a KeypointNet.
        let file = try SafeTensors.read(a.checkpointPath!)
        XCTAssertTrue(file.names.contains { $0.hasPrefix("keypoint_net.") })
        XCTAssertTrue(file.names.contains { $0.hasPrefix("io_net.") })
        XCTAssertTrue(file.names.contains { $0.hasPrefix("optimizer.exp_avg.") })
        XCTAssertEqual(file["optimizer.step"]?.ints, [2])
        let state = try TrainingCheckpoint.readState(file)
        XCTAssertEqual(state.step, 2); XCTAssertEqual(state.seed, 7); XCTAssertEqual(state.options.model, a.model)
        let exported = try KeypointNetWeights.load(a.resolvedExportPath!)
        XCTAssertEqual(exported.config.widths, a.model.widths)
        XCTAssertEqual(exported.stateDict().first?.1, file["keypoint_net." + exported.stateDict().first!.0])

        // Resume to 4 steps; the log gets records 3 and 4 appended.
        var b = state.options
        b.resumePath = a.checkpointPath
        b.steps = 4
        b.checkpointPath = dir + "/b/ck.safetensors"
        let tb = try Trainer(options: b)
        XCTAssertEqual(tb.optimizer.step, 2, "Adam state restored")
        XCTAssertEqual(tb.snapshot().status.step, 2)
        XCTAssertEqual(tb.snapshot().history.map { $0.step }, [1, 2], "history read back from the log")
        tb.start()
        XCTAssertTrue(tb.waitUntilFinished(timeout: 300))
        let sb = tb.snapshot()
        XCTAssertEqual(sb.status.step, 4)
        XCTAssertEqual(tb.optimizer.step, 4)
        let log = try MetricsLog.read(a.logPath!)
        XCTAssertEqual(log.map { $0.step }, [1, 2, 3, 4], "one record per step")
        XCTAssertTrue(log.allSatisfy { $0.terms.total.isFinite && $0.lr > 0 && $0.time > 0 })

        // An uninterrupted 4-step run gives the same losses at steps 3 and 4 and the same parameters.
        var c = tinyOptions(data: dir)
        c.steps = 4
        let tc = try Trainer(options: c)
        tc.start()
        XCTAssertTrue(tc.waitUntilFinished(timeout: 300))
        let hc = tc.snapshot().history
        for i in 2..<4 {
            XCTAssertEqual(hc[i].terms.total, log[i].terms.total, accuracy: 1e-5 * max(1, abs(hc[i].terms.total)), "step \(i + 1)")
            XCTAssertEqual(hc[i].terms.loc, log[i].terms.loc, accuracy: 1e-5 * max(1, abs(hc[i].terms.loc)))
        }
        let pb = tb.model.stateDict(), pc = tc.model.stateDict()
        XCTAssertEqual(pb.map { $0.0 }, pc.map { $0.0 })
        var worst: Float = 0
        for (x, y) in zip(pb, pc) { for (u, v) in zip(x.1.floats, y.1.floats) { worst = max(worst, abs(u - v)) } }
        XCTAssertLessThan(worst, 1e-4, "resumed parameters match an uninterrupted run")
    }

    /// A final checkpoint that cannot be written makes the run fail with the reason (not a silent success).
    func testUnwritableFinalCheckpointFailsTheRun() throws {
        let dir = try makeImageFolder(count: 1); folders.append(dir)
        var o = tinyOptions(data: dir)
        o.steps = 1
        o.checkpointPath = dir + "/img0.png/ck.safetensors"   // a file where a folder would have to be
        let t = try Trainer(options: o)
        t.start()
        XCTAssertTrue(t.waitUntilFinished(timeout: 120))
        guard case let .failed(reason) = t.snapshot().status.state else { return XCTFail("state \(t.snapshot().status.state)") }
        XCTAssertTrue(reason.contains("final checkpoint"), reason)
    }

    /// A non-finite loss skips the update (parameters unchanged) and is reported in the record.
    func testNonFiniteLossSkipsTheUpdate() throws {
        let dir = try makeImageFolder(count: 2); folders.append(dir)
        var o = tinyOptions(data: dir)
        o.startPaused = true
        let t = try Trainer(options: o)
        t.start()
        waitFor(t) { $0.status.state == .paused }
        t.send(.setLossWeights(LossWeights(alpha: .infinity, beta: 1, lambda: 1, gamma: 1)))
        let before = t.model.stateDict().filter { $0.0.hasSuffix("weight") }
        t.send(.step)
        let s = waitFor(t) { $0.status.step == 1 }
        let r = try XCTUnwrap(s.history.last)
        XCTAssertTrue(r.skipped)
        XCTAssertFalse(r.terms.total.isFinite)
        XCTAssertTrue(s.status.message.contains("skipped"), s.status.message)
        t.send(.quit)
        XCTAssertTrue(t.waitUntilFinished(timeout: 60))
        let after = t.model.stateDict().filter { $0.0.hasSuffix("weight") }
        for (x, y) in zip(before, after) { XCTAssertEqual(x.1, y.1, x.0) }
        XCTAssertEqual(t.optimizer.step, 0)
    }
}

final class ReproducibilityTests: XCTestCase {
    /// Two runs with the same seed and data make the same losses (the seed is the whole random state).
    func testSameSeedSameCurve() throws {
        let dir = try makeImageFolder(count: 2)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var curves: [[StepRecord]] = []
        for _ in 0..<2 {
            var o = tinyOptions(data: dir)
            o.steps = 2
            o.model.withDrop = true
            let t = try Trainer(options: o)
            t.start()
            XCTAssertTrue(t.waitUntilFinished(timeout: 300))
            curves.append(t.snapshot().history)
        }
        XCTAssertEqual(curves[0].count, 2)
        for (a, b) in zip(curves[0], curves[1]) {
            XCTAssertEqual(a.terms.total, b.terms.total, "step \(a.step)")
            XCTAssertEqual(a.terms.loc, b.terms.loc); XCTAssertEqual(a.terms.desc, b.terms.desc)
            XCTAssertEqual(a.terms.ioInliers, b.terms.ioInliers)
        }
    }
}
