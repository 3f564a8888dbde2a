import Datasets
import Evaluation
import Foundation
import KP2D
import TensorEngine
import Training
import XCTest

final class LearningCurveTests: XCTestCase {
    /// A small HPatches-format set (one v_ and one i_ sequence) from two generated photos.
    func makeHeldout() throws -> String {
        let photos = try makeImageFolder(count: 2, width: 160, height: 120)
        let root = photos + "/heldout"
        try SequenceGenerator.generate(photos: [photos + "/img0.png", photos + "/img1.png"], viewpoint: 1, illumination: 1, root: root,
                                       options: SequenceGeneratorOptions(width: 96, height: 72, seed: 3, format: .png))
        return root
    }

    func testRowsAtStartEveryNAndEndWithoutChangingTheRun() throws {
        let data = try makeImageFolder(count: 2)
        let heldout = try makeHeldout()
        var o = tinyOptions(data: data)
        o.steps = 5
        o.model.withDrop = true
        let settings = [HPatchesEvalSettings(width: 64, height: 48, topK: 50)]
        let trainer = try Trainer(options: o)
        let curve = try LearningCurve(trainer: trainer, options: LearningCurveOptions(heldout: heldout, evalEvery: 2, settings: settings))
        var streamed = [Int]()
        curve.onRow = { streamed.append($0.step) }
        let rows = try curve.run()
        XCTAssertEqual(rows.map { $0.step }, [0, 2, 4, 5])
        XCTAssertEqual(streamed, [0, 2, 4, 5])
        XCTAssertNil(rows[0].loc); XCTAssertNil(rows[0].recall); XCTAssertEqual(rows[0].minutes, 0)
        for r in rows.dropFirst() {
            XCTAssertNotNil(r.loc); XCTAssertNotNil(r.desc); XCTAssertGreaterThan(r.stepsPerSecond, 0)
        }
        XCTAssertGreaterThan(rows[3].minutes, rows[1].minutes)
        // Row 2 averages steps 1-2 of the trainer's own records.
        let h = trainer.snapshot().history
        XCTAssertEqual(rows[1].loc!, Double(h[0].terms.loc + h[1].terms.loc) / 2, accuracy: 1e-6)
        XCTAssertEqual(rows[3].desc!, Double(h[4].terms.desc), accuracy: 1e-6)
        for r in rows {
            XCTAssertEqual(r.evaluations.count, 1)
            XCTAssertEqual(r.evaluations[0].setting, "48x64 top50")
            XCTAssertEqual(r.evaluations[0].all.pairs, 10)
            XCTAssertEqual(r.evaluations[0].viewpoint?.pairs, 5)
        }
        // The untrained row is what an independent evaluation of the seed's initial weights gives.
        var rng = SeededRandom(seed: o.seed)
        let fresh = KP2DModel(config: o.model, rng: &rng)
        let state = Dictionary(fresh.keypointNet.stateDict().map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
        let direct = try LearningCurve.evaluate(state: state, config: o.model, dataset: HPatchesDataset(root: heldout), settings: settings)
        XCTAssertEqual(direct[0].all, rows[0].evaluations[0].all)

        // Evaluating between steps changes nothing in the run: same losses and weights as a run without it.
        let plain = try Trainer(options: o)
        plain.start()
        XCTAssertTrue(plain.waitUntilFinished(timeout: 300))
        XCTAssertEqual(plain.snapshot().history.map { $0.terms.total }, h.map { $0.terms.total })
        let a = trainer.model.keypointNet.stateDict(), b = plain.model.keypointNet.stateDict()
        for ((ka, ta), (kb, tb)) in zip(a, b) {
            XCTAssertEqual(ka, kb)
            XCTAssertEqual(ta, tb, ka)
        }
    }

    /// A run stopped before its budget (quit, Ctrl-C) still ends with a row at the step it reached.
    func testStoppedRunEndsWithARowAtTheStepReached() throws {
        let data = try makeImageFolder(count: 2)
        let heldout = try makeHeldout()
        var o = tinyOptions(data: data)
        o.steps = 50
        let trainer = try Trainer(options: o)
        trainer.onStep = { r in if r.step == 3 { trainer.send(.quit) } }
        let curve = try LearningCurve(trainer: trainer, options: LearningCurveOptions(heldout: heldout, evalEvery: 100,
                                                                                   settings: [HPatchesEvalSettings(width: 64, height: 48, topK: 50)]))
        let rows = try curve.run()
        let end = trainer.snapshot().status
        XCTAssertLessThan(end.step, 50)
        XCTAssertGreaterThanOrEqual(end.step, 3)
        XCTAssertEqual(rows.map { $0.step }, [0, end.step])
        let h = trainer.snapshot().history
        XCTAssertEqual(rows[1].loc!, h.map { Double($0.terms.loc) }.reduce(0, +) / Double(h.count), accuracy: 1e-6)
        XCTAssertEqual(rows[1].evaluations[0].all.pairs, 10)
    }

    func testNeedsABudgetAndAValidEvalEvery() throws {
        let data = try makeImageFolder(count: 1)
        let heldout = try makeHeldout()
        let o = tinyOptions(data: data)
        XCTAssertThrowsError(try LearningCurve(trainer: Trainer(options: o), options: LearningCurveOptions(heldout: heldout, settings: [.official240]))) {
            XCTAssertTrue("\($0)".contains("--steps N or --minutes M"), "\($0)")
        }
        var s = o; s.steps = 2
        XCTAssertThrowsError(try LearningCurve(trainer: Trainer(options: s), options: LearningCurveOptions(heldout: heldout, evalEvery: 0, settings: [.official240])))
        XCTAssertThrowsError(try LearningCurve(trainer: Trainer(options: s), options: LearningCurveOptions(heldout: data + "/nope", settings: [.official240])))
    }

    func testMinutesBudgetStopsAndSaves() throws {
        let data = try makeImageFolder(count: 2)
        var o = tinyOptions(data: data)
        o.minutes = 0.002   // 0.12 s of training
        o.checkpointPath = tempPath("ck.safetensors")
        var messages = [String]()
        let t = try Trainer(options: o)
        t.onMessage = { messages.append($0) }
        t.start()
        XCTAssertTrue(t.waitUntilFinished(timeout: 300))
        let st = t.snapshot().status
        XCTAssertEqual(st.state, .finished)
        XCTAssertGreaterThanOrEqual(st.elapsed, 0.12)
        XCTAssertGreaterThanOrEqual(st.step, 1)
        XCTAssertEqual(st.lastSavedStep, st.step)
        XCTAssertTrue(FileManager.default.fileExists(atPath: o.checkpointPath!))
        XCTAssertTrue(messages.contains { $0.contains("0.002 minutes of training reached at step \(st.step)") }, "\(messages)")
        // Validation: a budget must be a positive number.
        var bad = o; bad.minutes = 0
        XCTAssertThrowsError(try bad.validate()) { XCTAssertTrue("\($0)".contains("--minutes")) }
        bad.minutes = .nan
        XCTAssertThrowsError(try bad.validate())
    }
}
