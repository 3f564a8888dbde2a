import Foundation
import KP2D
import NN
import TensorEngine

// Fixture kinds keypointnet.train / keypointnet.eval / keypointnet.full_eval (fixtures README 3.2-3.4):
// load param.* into our KeypointNet by PyTorch key, run the forward (and backward), compare.

public enum KeypointNetFixtures {
    /// The network described by the fixture's config (widths, flags) with the stored parameters loaded.
    static func network(_ f: Fixture) throws -> KeypointNet {
        let c = f.config
        var config = KeypointNetConfig.paper
        if let w = c["widths"]?.ints {
            guard w.count == 7 else { throw FixtureError.failed(path: f.path, reason: "config.widths has \(w.count) entries, expected 7") }
            config = KeypointNetConfig(c1: w[0], c2: w[1], c3: w[2], c4: w[3], c5: w[4], d1: w[5], descriptorDim: w[6])
        }
        config.doCross = c["do_cross"]?.bool ?? true
        config.doUpsample = c["do_upsample"]?.bool ?? true
        config.withDrop = c["with_drop"]?.bool ?? true
        config.useColor = c["use_color"]?.bool ?? true
        if let p = config.problem { throw FixtureError.failed(path: f.path, reason: "config widths: \(p)") }
        var rng = SeededRandom(seed: 0)
        let net = KeypointNet(config: config, rng: &rng)
        var params: [String: StoredTensor] = [:]
        for name in f.names(prefix: "param.") { params[String(name.dropFirst("param.".count))] = try f.stored(name) }
        try net.loadStateDict(params, strict: true, source: f.path)
        return net
    }

    /// keypointnet.train: training-mode forward, backward of sum(out * in.gout.out), every grad and after.* buffer.
    public static func runTrain(_ f: Fixture, _ report: FixtureReport) throws {
        let net = try network(f)
        let x = Variable(try f.tensor("in.x"), requiresGrad: true)
        let g = Graph()
        let out = net(x, g, training: true)
        report.check("out.score", out.score.value)
        report.check("out.coord", out.coord.value)
        report.check("out.feat", out.feat.value)

        let gouts = [("in.gout.score", out.score), ("in.gout.coord", out.coord), ("in.gout.feat", out.feat)]
        for (name, v) in gouts {
            let seed = try f.tensor(name)
            guard seed.count == v.count else {
                throw FixtureError.failed(path: f.path, reason: "\(name) has shape \(seed.shape), the output has \(v.shape)")
            }
            v.gradient().add(seed)
        }
        g.backwardFromSeeded()

        for (key, p) in net.namedParameters() {
            let name = "grad." + key
            guard f.has(name) else { report.fail(name, "fixture has no gradient for parameter \(key)"); continue }
            report.check(name, p.grad?.array ?? [Float](repeating: 0, count: p.count))
        }
        report.check("grad.in.x", x.grad?.array ?? [Float](repeating: 0, count: x.count))
        checkBuffers(f, report, net)
    }

    /// after.<buffer>: running stats (float rule) and num_batches_tracked (exact).
    static func checkBuffers(_ f: Fixture, _ report: FixtureReport, _ net: KeypointNet) {
        for e in net.stateEntries() {
            let name = "after." + e.key
            switch e.kind {
            case .parameter: continue
            case .buffer: report.check(name, e.tensor)
            case .counter: report.checkExact(name, e.tensor.array.map { Int64($0) })
            }
        }
    }

    /// keypointnet.eval: eval-mode forward of in.x (already normalised).
    public static func runEval(_ f: Fixture, _ report: FixtureReport) throws {
        let net = try network(f)
        try checkEval(f, report, net, input: try f.tensor("in.x"))
    }

    /// keypointnet.full_eval: the official full-width network on un-normalised in.image.
    public static func runFullEval(_ f: Fixture, _ report: FixtureReport) throws {
        let net = try network(f)
        try checkEval(f, report, net, input: KeypointNet.normalize(try f.tensor("in.image")))
    }

    static func checkEval(_ f: Fixture, _ report: FixtureReport, _ net: KeypointNet, input: Tensor) throws {
        if let p = net.inputProblem(input.shape) { throw FixtureError.failed(path: f.path, reason: "input: \(p)") }
        let before = net.stateEntries().map { $0.tensor.array }
        let out = net.infer(input)
        report.check("out.score", out.score.value)
        report.check("out.coord", out.coord.value)
        report.check("out.desc", out.feat.value)
        // Eval mode must leave every buffer untouched.
        let changed = zip(net.stateEntries(), before).filter { $0.0.tensor.array != $0.1 }.map { $0.0.key }
        if !changed.isEmpty { report.fail("eval.buffers_unchanged", "eval forward changed \(changed.joined(separator: ", "))") }
    }
}
