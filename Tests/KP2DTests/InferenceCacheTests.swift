import Foundation
import NN
import TensorEngine
import TestSupport
import XCTest
@testable import KP2D

/// Eval-mode inference keeps the Winograd-transformed weights with each weight tensor (TensorStorage.derived):
/// the weights a model gets afterwards (a loaded state dict, an Adam step) must be the ones the next inference uses.
final class InferenceCacheTests: XCTestCase {
    private func net(seed: UInt64) -> KeypointNet {
        var rng = SeededRandom(seed: seed)
        return KeypointNet(config: .reduced, rng: &rng)   // c4 = c5 = 64: the H/8 layers run as Winograd
    }

    private func outputs(_ n: KeypointNet, _ x: Tensor) -> [[Float]] {
        let o = n.infer(x)
        return [o.score.value.array, o.coord.value.array, o.feat.value.array]
    }

    private func state(_ n: KeypointNet) -> [String: StoredTensor] { Dictionary(uniqueKeysWithValues: n.stateDict()) }

    func testInferenceUsesTheCache() {
        let a = net(seed: 1)
        let x = randn([1, 3, 32, 48], seed: 3, scale: 0.2)
        _ = outputs(a, x)
        XCTAssertEqual(a.convFa.conv.weight.value.storage.derivedKeys, [WinogradKernels.transformedWeightsKey])
        XCTAssertEqual(a.convFbb.weight.value.storage.derivedKeys, [WinogradKernels.transformedWeightsKey], "plain conv2d with bias")
        XCTAssertEqual(a.conv1a.conv.weight.value.storage.derivedKeys, [], "3 -> 8 channels: not Winograd")
    }

    func testLoadedWeightsAreUsedByTheNextInference() throws {
        let a = net(seed: 1), b = net(seed: 2)
        let x = randn([1, 3, 32, 48], seed: 3, scale: 0.2)
        let before = outputs(a, x)
        let expected = outputs(b, x)
        XCTAssertNotEqual(before, expected)
        try a.loadStateDict(state(b), source: "test")
        XCTAssertEqual(outputs(a, x), expected)
    }

    func testAdamStepIsSeenByTheNextInference() throws {
        let a = net(seed: 1)
        let x = randn([1, 3, 32, 48], seed: 3, scale: 0.2)
        let before = outputs(a, x)
        let params = a.parameters()
        for (i, p) in params.enumerated() {
            let g = randn(p.shape, seed: UInt64(100 + i))
            p.gradient().assign(g)
        }
        let adam = Adam(groups: [ParameterGroup(name: "all", parameters: params, lr: 0.01)])
        adam.update()
        let after = outputs(a, x)
        XCTAssertNotEqual(after, before)
        // A model that never ran inference, with the updated weights: same bits.
        let c = net(seed: 9)
        try c.loadStateDict(state(a), source: "test")
        XCTAssertEqual(after, outputs(c, x))
    }
}
