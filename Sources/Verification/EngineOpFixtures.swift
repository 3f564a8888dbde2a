import Foundation
import NN
import TensorEngine

// Fixture handlers for the tensor-engine ops (fixtures README section 3.1):
// op.grid_sample, op.instance_norm, op.l2_normalize, op.triplet_margin_loss, op.mse_loss,
// op.descriptor_distance, op.adam. Each runs our op on the stored inputs, backpropagates `in.gout`,
// and compares out.y and every grad.in.* the file holds.

public enum EngineOpFixtures {
    /// An input of the fixture as a variable that requires grad.
    static func input(_ f: Fixture, _ name: String) throws -> Variable {
        Variable(try f.tensor("in." + name), requiresGrad: true)
    }

    /// Backpropagate in.gout from `y`, then compare out.y and grad.in.<name> for each named input.
    static func finish(_ f: Fixture, _ r: FixtureReport, _ g: Graph, _ y: Variable, _ inputs: [(String, Variable)]) throws {
        r.check("out.y", y.value)
        let gradNames = inputs.map { "grad.in." + $0.0 }.filter { f.has($0) }
        guard !gradNames.isEmpty else { return }
        let gout = try f.tensor("in.gout")
        guard gout.count == y.count else {
            throw FixtureError.failed(path: f.path, reason: "in.gout has shape \(gout.shape) but the output has \(y.shape)")
        }
        g.backward(y, seed: gout.reshaped(y.shape))
        for (name, v) in inputs where f.has("grad.in." + name) {
            r.check("grad.in." + name, v.grad ?? Tensor(shape: v.shape))
        }
    }

    public static func gridSample(_ f: Fixture, _ r: FixtureReport) throws {
        let mode: GridSampleMode
        switch f.config["mode"]?.string {
        case "bilinear": mode = .bilinear
        case "nearest": mode = .nearest
        case let m: throw FixtureError.failed(path: f.path, reason: "unsupported grid_sample mode \(m ?? "nil")")
        }
        guard f.config["align_corners"]?.bool ?? true, (f.config["padding_mode"]?.string ?? "zeros") == "zeros" else {
            throw FixtureError.failed(path: f.path, reason: "only align_corners=True with zero padding is implemented")
        }
        let g = Graph()
        let x = try input(f, "input"), grid = try input(f, "grid")
        let y = g.gridSample(x, grid: grid, mode: mode)
        try finish(f, r, g, y, [("input", x), ("grid", grid)])
    }

    public static func instanceNorm(_ f: Fixture, _ r: FixtureReport) throws {
        let g = Graph()
        let x = try input(f, "x")
        let y = g.instanceNorm(x, eps: f.config["eps"]?.float ?? 1e-5)
        try finish(f, r, g, y, [("x", x)])
    }

    public static func l2Normalize(_ f: Fixture, _ r: FixtureReport) throws {
        let g = Graph()
        let x = try input(f, "x")
        let y = g.l2Normalize(x)
        try finish(f, r, g, y, [("x", x)])
    }

    public static func tripletMarginLoss(_ f: Fixture, _ r: FixtureReport) throws {
        let g = Graph()
        let a = try input(f, "anchor"), p = try input(f, "positive"), n = try input(f, "negative")
        let y = g.tripletMarginLoss(anchor: a, positive: p, negative: n,
                                    margin: f.config["margin"]?.float ?? 0.2, eps: f.config["eps"]?.float ?? 1e-6)
        try finish(f, r, g, y, [("anchor", a), ("positive", p), ("negative", n)])
    }

    public static func mseLoss(_ f: Fixture, _ r: FixtureReport) throws {
        let g = Graph()
        let a = try input(f, "input"), b = try input(f, "target")
        let y = g.mseLoss(a, b)
        try finish(f, r, g, y, [("input", a), ("target", b)])
    }

    public static func descriptorDistance(_ f: Fixture, _ r: FixtureReport) throws {
        let g = Graph()
        let a = try input(f, "a"), b = try input(f, "b")
        let y = g.descriptorDistance(a, b)
        try finish(f, r, g, y, [("a", a), ("b", b)])
    }

    /// op.adam: parameters param.<p>, gradients in.grad.stepK.<p>; expected after.stepK.<p> and the moments
    /// after the last step, after.stepN.exp_avg.<p> / exp_avg_sq.<p> (read back through stateTensors()).
    public static func adam(_ f: Fixture, _ r: FixtureReport) throws {
        let names = f.names(prefix: "param.").map { String($0.dropFirst("param.".count)) }
        let params = try names.map { n -> Variable in Variable(try f.tensor("param." + n), requiresGrad: true, name: n) }
        let betas = f.config["betas"]?.doubles ?? [0.9, 0.999]
        guard betas.count == 2 else { throw FixtureError.failed(path: f.path, reason: "config.betas must hold two numbers") }
        if let wd = f.config["weight_decay"]?.double, wd != 0 {
            throw FixtureError.failed(path: f.path, reason: "weight_decay \(wd) is not implemented")
        }
        let opt = Adam(groups: [ParameterGroup(name: "params", parameters: params, lr: f.config["lr"]?.float ?? 1e-3)],
                       beta1: Float(betas[0]), beta2: Float(betas[1]), eps: f.config["eps"]?.float ?? 1e-8)
        let steps = f.config["steps"]?.int ?? 0
        guard steps > 0 else { throw FixtureError.failed(path: f.path, reason: "config.steps missing") }
        for k in 1...steps {
            opt.zeroGrad()
            for (n, p) in zip(names, params) { p.gradient().assign(try f.tensor("in.grad.step\(k).\(n)")) }
            opt.update()
            for (n, p) in zip(names, params) where f.has("after.step\(k).\(n)") {
                r.check("after.step\(k).\(n)", p.value)
            }
        }
        let state = Dictionary(uniqueKeysWithValues: opt.stateTensors())
        for n in names {
            for moment in ["exp_avg", "exp_avg_sq"] where f.has("after.step\(steps).\(moment).\(n)") {
                guard let t = state[Adam.statePrefix + moment + "." + n] else {
                    r.fail("after.step\(steps).\(moment).\(n)", "optimizer has no \(moment) for \(n)"); continue
                }
                r.check("after.step\(steps).\(moment).\(n)", t.floats)
            }
        }
    }
}
