import KP2D
import TensorEngine
import XCTest
@testable import Training

/// Trainer.copyKeypointNetState: the live model's KeypointNet weights, copied by the trainer thread between
/// steps (what the HPatches browser evaluates), before start, while paused, while running and after the end.
final class TrainerWeightCopyTests: XCTestCase {
    var folders: [String] = []
    override func tearDown() { for f in folders { try? FileManager.default.removeItem(atPath: f) } }

    func testCopiesBeforeStartPausedRunningAndAfterTheEnd() throws {
        let dir = try makeImageFolder(count: 3); folders.append(dir)
        var o = tinyOptions(data: dir)
        o.startPaused = true
        let trainer = try Trainer(options: o)
        let keys = Set(trainer.model.keypointNet.stateDict().map { $0.0 })

        let initial = try trainer.copyKeypointNetState(timeout: 10)
        XCTAssertEqual(Set(initial.keys), keys)

        trainer.start()
        waitFor(trainer) { $0.status.state == .paused }
        let paused = try trainer.copyKeypointNetState(timeout: 30)
        XCTAssertEqual(Self.flat(paused), Self.flat(initial), "no step yet: the same weights")

        trainer.send(.step)
        waitFor(trainer) { $0.status.step == 1 }
        let afterStep = try trainer.copyKeypointNetState(timeout: 30)
        XCTAssertNotEqual(Self.flat(afterStep), Self.flat(initial), "one Adam step changes the weights")

        // While training runs: every copy is a complete, loadable state dict.
        trainer.send(.resume)
        waitFor(trainer) { $0.status.step >= 2 }
        for _ in 0..<3 {
            let copy = try trainer.copyKeypointNetState(timeout: 60)
            var rng = SeededRandom(seed: 1)
            let net = KeypointNet(config: o.model, rng: &rng)
            XCTAssertNoThrow(try net.loadStateDict(copy, strict: true, source: "copy"))
            XCTAssertTrue(Self.flat(copy).allSatisfy { $0.isFinite })
        }

        trainer.send(.quit)
        XCTAssertTrue(trainer.waitUntilFinished(timeout: 60))
        let end = try trainer.copyKeypointNetState(timeout: 10)
        XCTAssertEqual(Self.flat(end), Self.flat(Dictionary(uniqueKeysWithValues: trainer.model.keypointNet.stateDict())))
    }

    /// All values in key order.
    static func flat(_ d: [String: StoredTensor]) -> [Float] { d.keys.sorted().flatMap { d[$0]!.floats } }
}
