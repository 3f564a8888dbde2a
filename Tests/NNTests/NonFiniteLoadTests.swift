import Foundation
import XCTest
import NN
import TensorEngine

/// Issue 13 item 12: NaN/Inf weights are refused at load with the tensor's name.
final class NonFiniteLoadTests: XCTestCase {
    func testNaNWeightIsRefusedWithItsName() {
        var rng = SeededRandom(seed: 1)
        let conv = Conv2d(inputChannels: 1, outputChannels: 2, kernelSize: 1, padding: 0, rng: &rng)
        var state = Dictionary(uniqueKeysWithValues: conv.stateEntries().map { ($0.key, StoredTensor($0.tensor)) })
        let good = state
        XCTAssertNoThrow(try conv.loadStateDict(good, source: "w.safetensors"))
        state["bias"] = .f32(shape: [2], values: [0, .infinity])
        XCTAssertThrowsError(try conv.loadStateDict(state, source: "w.safetensors")) { e in
            XCTAssertEqual("\(e)", "w.safetensors: tensor 'bias' holds inf at index 1; the weights are broken (a diverged run?), use an earlier checkpoint")
        }
    }
}
