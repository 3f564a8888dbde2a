import Foundation
import XCTest
import NN
import TensorEngine

/// Adam (NN/Adam.swift): the fixture, a Double reference, live lr changes, skipping, checkpoints.
final class AdamTests: XCTestCase {
    /// torch.optim.Adam in Double for one parameter, from its gradients; lrs[t] is the lr at step t+1.
    func reference(_ p0: [Float], grads: [[Float]], lrs: [Double], b1: Double = 0.9, b2: Double = 0.999, eps: Double = 1e-8) -> [Double] {
        var p = p0.map(Double.init), m = [Double](repeating: 0, count: p.count), v = m
        for (t, g) in grads.enumerated() {
            let bc1 = 1 - pow(b1, Double(t + 1)), bc2 = 1 - pow(b2, Double(t + 1))
            for i in 0..<p.count {
                let gi = Double(g[i])
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                p[i] -= lrs[t] / bc1 * m[i] / (v[i].squareRoot() / bc2.squareRoot() + eps)
            }
        }
        return p
    }

    func randomValues(_ n: Int, seed: UInt64) -> [Float] {
        var r = SeededRandom(seed: seed)
        return (0..<n).map { _ in Float(r.normal()) }
    }

    func assertNear(_ a: [Float], _ e: [Double], _ tol: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, e.count, what, file: file, line: line)
        for (i, (x, y)) in zip(a, e).enumerated() where abs(Double(x) - y) > tol {
            return XCTFail("\(what)[\(i)]: \(x) vs \(y)", file: file, line: line)
        }
    }

    func testMatchesReferenceIncludingTinyAndZeroGradients() {
        let p0 = randomValues(6, seed: 1)
        var grads = (0..<5).map { randomValues(6, seed: 10 + UInt64($0)) }
        for t in 0..<5 { grads[t][0] = 0; grads[t][1] = 1e-9 }   // eps matters for these
        let p = Variable(Tensor(shape: [6], values: p0), requiresGrad: true)
        let opt = Adam(groups: [ParameterGroup(name: "g", parameters: [p], lr: 0.01)])
        for g in grads {
            opt.zeroGrad()
            p.gradient().assign(Tensor(shape: [6], values: g))
            opt.update()
        }
        XCTAssertEqual(opt.step, 5)
        assertNear(p.value.array, reference(p0, grads: grads, lrs: Array(repeating: 0.01, count: 5)), 1e-6, "p")
        XCTAssertEqual(p.value[0], p0[0], "zero gradient throughout: no move")
    }

    /// A large parameter's update is split over the cores; it must give the same bits as the same values held in
    /// small parameters, which are updated on one thread.
    func testLargeParameterSplitOverCoresGivesTheSameBits() {
        let n = 40_000, piece = 1_000
        let p0 = randomValues(n, seed: 3)
        let big = Variable(Tensor(shape: [n], values: p0), requiresGrad: true)
        let small = (0..<(n / piece)).map { k in
            Variable(Tensor(shape: [piece], values: Array(p0[(k * piece)..<((k + 1) * piece)])), requiresGrad: true)
        }
        let a = Adam(groups: [ParameterGroup(name: "g", parameters: [big], lr: 0.01)])
        let b = Adam(groups: [ParameterGroup(name: "g", parameters: small, lr: 0.01)])
        for t in 0..<3 {
            let g = randomValues(n, seed: 100 + UInt64(t))
            a.zeroGrad(); b.zeroGrad()
            big.gradient().assign(Tensor(shape: [n], values: g))
            for (k, v) in small.enumerated() { v.gradient().assign(Tensor(shape: [piece], values: Array(g[(k * piece)..<((k + 1) * piece)]))) }
            a.update(); b.update()
        }
        XCTAssertEqual(big.value.array, small.flatMap { $0.value.array })
    }

    func testGroupLearningRatesAndLiveChanges() {
        let a0 = randomValues(4, seed: 2), b0 = randomValues(3, seed: 3)
        let a = Variable(Tensor(shape: [4], values: a0), requiresGrad: true)
        let b = Variable(Tensor(shape: [3], values: b0), requiresGrad: true)
        let opt = Adam(groups: [ParameterGroup(name: "net", parameters: [a], lr: 1e-3),
                                ParameterGroup(name: "head", parameters: [b], lr: 5e-2)])
        let ga = (0..<4).map { randomValues(4, seed: 20 + UInt64($0)) }, gb = (0..<4).map { randomValues(3, seed: 30 + UInt64($0)) }
        let lrA: [Double] = [1e-3, 1e-3, 2e-4, 2e-4], lrB: [Double] = [5e-2, 5e-2, 5e-2, 1e-2]
        for t in 0..<4 {
            opt.groups[0].lr = Float(lrA[t])
            opt.groups[1].lr = Float(lrB[t])
            opt.zeroGrad()
            a.gradient().assign(Tensor(shape: [4], values: ga[t]))
            b.gradient().assign(Tensor(shape: [3], values: gb[t]))
            opt.update()
        }
        assertNear(a.value.array, reference(a0, grads: ga, lrs: lrA), 1e-6, "a")
        assertNear(b.value.array, reference(b0, grads: gb, lrs: lrB), 1e-5, "b")
    }

    func testParameterWithoutGradientIsSkippedAndKeepsItsOwnStep() {
        let p0 = randomValues(3, seed: 4)
        let p = Variable(Tensor(shape: [3], values: p0), requiresGrad: true)
        let q = Variable(Tensor(shape: [3], values: p0), requiresGrad: true)
        let opt = Adam(groups: [ParameterGroup(name: "g", parameters: [p, q], lr: 0.1)])
        let g1 = randomValues(3, seed: 40), g2 = randomValues(3, seed: 41)
        opt.zeroGrad()
        p.gradient().assign(Tensor(shape: [3], values: g1))   // q gets nothing: skipped, like PyTorch
        opt.update()
        XCTAssertEqual(q.value.array, p0)
        XCTAssertNil(q.grad)
        opt.zeroGrad()
        XCTAssertNil(p.grad, "zeroGrad sets gradients to none (PyTorch default)")
        p.gradient().assign(Tensor(shape: [3], values: g2))
        q.gradient().assign(Tensor(shape: [3], values: g2))
        opt.update()
        assertNear(p.value.array, reference(p0, grads: [g1, g2], lrs: [0.1, 0.1]), 1e-6, "p")
        // q's first update uses bias correction t = 1, not the global step 2.
        assertNear(q.value.array, reference(p0, grads: [g2], lrs: [0.1]), 1e-6, "q")
        let state = Dictionary(uniqueKeysWithValues: opt.stateTensors())
        XCTAssertEqual(state["optimizer.step"], .i64(shape: [], values: [2]))
        XCTAssertEqual(state["optimizer.param_step.g.0"], .i64(shape: [], values: [2]))
        XCTAssertEqual(state["optimizer.param_step.g.1"], .i64(shape: [], values: [1]))
    }

    func testZeroGradInPlace() {
        let p = Variable(Tensor(shape: [2], values: [1, 2]), requiresGrad: true)
        let opt = Adam(groups: [ParameterGroup(name: "g", parameters: [p], lr: 0.1)])
        p.gradient().fill(3)
        let buffer = p.grad!
        opt.zeroGrad(setToNone: false)
        XCTAssertTrue(p.grad === buffer)
        XCTAssertEqual(p.grad?.array, [0, 0])
    }

    /// Three steps, a checkpoint through a file, then two more steps on both the original and the resumed
    /// optimizer: the curves must be identical bit for bit.
    func testCheckpointResumeContinuesTheSameCurve() throws {
        func make() -> ([Variable], Adam) {
            let w = Variable(Tensor(shape: [2, 3], values: randomValues(6, seed: 5)), requiresGrad: true, name: "conv1a.0.weight")
            let b = Variable(Tensor(shape: [3], values: randomValues(3, seed: 6)), requiresGrad: true)   // unnamed: "head.0"
            return ([w, b], Adam(groups: [ParameterGroup(name: "body", parameters: [w], lr: 2e-3),
                                          ParameterGroup(name: "head", parameters: [b], lr: 1e-2)]))
        }
        func step(_ ps: [Variable], _ opt: Adam, _ t: Int) {
            opt.zeroGrad()
            for (k, p) in ps.enumerated() {
                p.gradient().assign(Tensor(shape: p.shape, values: randomValues(p.count, seed: UInt64(100 * t + k))))
            }
            opt.update()
        }
        let (ps, opt) = make()
        for t in 0..<3 { step(ps, opt, t) }
        opt.groups[1].lr = 3e-3   // changed live before the checkpoint: restored by loadState

        let path = NSTemporaryDirectory() + "kp2d-adam-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let names = opt.stateTensors().map { $0.0 }
        XCTAssertEqual(Set(names), ["optimizer.step", "optimizer.lr.body", "optimizer.lr.head",
                                    "optimizer.exp_avg.conv1a.0.weight", "optimizer.exp_avg_sq.conv1a.0.weight",
                                    "optimizer.param_step.conv1a.0.weight",
                                    "optimizer.exp_avg.head.0", "optimizer.exp_avg_sq.head.0", "optimizer.param_step.head.0"])
        // Model weights share the file: loadState ignores keys outside "optimizer.".
        try SafeTensors.write(opt.stateTensors() + [("conv1a.0.weight", StoredTensor(ps[0].value))], to: path)

        let (ps2, opt2) = make()
        for (p, q) in zip(ps, ps2) { q.value.assign(p.value) }
        try opt2.loadState(try SafeTensors.read(path).tensors)
        XCTAssertEqual(opt2.step, 3)
        XCTAssertEqual(opt2.groups[1].lr, 3e-3)
        for t in 3..<5 { step(ps, opt, t); step(ps2, opt2, t) }
        for (p, q) in zip(ps, ps2) { XCTAssertEqual(p.value.array, q.value.array) }
        // Without the state the curve differs (so the check above can fail).
        let (ps3, opt3) = make()
        for (p, q) in zip(ps, ps3) { q.value.assign(p.value) }
        step(ps3, opt3, 5); step(ps, opt, 5)
        XCTAssertNotEqual(ps[0].value.array, ps3[0].value.array)
    }

    func testLoadStateErrors() throws {
        let p = Variable(Tensor(shape: [2], values: [1, 2]), requiresGrad: true, name: "w")
        let opt = Adam(groups: [ParameterGroup(name: "g", parameters: [p], lr: 0.1)])
        p.gradient().fill(1)
        opt.update()
        let good = Dictionary(uniqueKeysWithValues: opt.stateTensors())

        var noStep = good; noStep["optimizer.step"] = nil
        XCTAssertThrowsError(try opt.loadState(noStep)) { XCTAssertEqual($0 as? AdamStateError, .missing(key: "optimizer.step")) }

        var badShape = good; badShape["optimizer.exp_avg_sq.w"] = .f32(shape: [3], values: [0, 0, 0])
        XCTAssertThrowsError(try opt.loadState(badShape)) {
            XCTAssertEqual($0 as? AdamStateError, .shapeMismatch(key: "optimizer.exp_avg_sq.w", expected: [2], got: [3]))
        }

        var halfMissing = good; halfMissing["optimizer.exp_avg_sq.w"] = nil
        XCTAssertThrowsError(try opt.loadState(halfMissing)) { XCTAssertEqual($0 as? AdamStateError, .missing(key: "optimizer.exp_avg_sq.w")) }

        var stranger = good; stranger["optimizer.exp_avg.other"] = .f32(shape: [1], values: [0])
        XCTAssertThrowsError(try opt.loadState(stranger)) {
            XCTAssertEqual($0 as? AdamStateError, .unexpected(key: "optimizer.exp_avg.other"))
            XCTAssertTrue("\($0)".contains("another model configuration"))
        }
        // Nothing changed by the failed loads: the good state still loads and matches.
        try opt.loadState(good)
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: opt.stateTensors()), good)

    }

    func testDuplicateNamesFallBackToGroupAndIndexConsistently() throws {
        let p = Variable(Tensor(shape: [2], values: [1, 2]), requiresGrad: true, name: "w")
        let twin = Variable(Tensor(shape: [2], values: [3, 4]), requiresGrad: true, name: "w")
        let opt = Adam(groups: [ParameterGroup(name: "g", parameters: [p, twin], lr: 0.1)])
        XCTAssertEqual(opt.namedParameters().map { $0.0 }, ["w", "g.1"])
        p.gradient().fill(1); twin.gradient().fill(-1)
        opt.update()
        let saved = opt.stateTensors()
        let opt2 = Adam(groups: [ParameterGroup(name: "g", parameters: [p, twin], lr: 0.1)])
        try opt2.loadState(Dictionary(uniqueKeysWithValues: saved))
        XCTAssertEqual(opt2.stateTensors().map { $0.0 }, saved.map { $0.0 })
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: opt2.stateTensors()), Dictionary(uniqueKeysWithValues: saved))
    }
}
