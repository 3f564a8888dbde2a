import Foundation
import KP2D
import NN
import TensorEngine

/// Fixture kind `kp2d.train_step` (README section 3.5): one official training step. Loads param.* into
/// KeypointNet (keypoint_net.) and IO-Net (io_net.), runs KP2DModel.loss and backward on in.*, then one
/// Adam step, and compares every out.*, grad.*, after.* buffer and after.param.* tensor.
public enum TrainStepFixture {
    public static func run(_ f: Fixture, _ report: FixtureReport) throws {
        let cfg = f.config
        guard let widths = cfg["widths"]?.ints, widths.count == 7 else {
            throw FixtureError.failed(path: f.path, reason: "config.widths must list the 7 KeypointNet widths")
        }
        var netConfig = KeypointNetConfig()
        (netConfig.c1, netConfig.c2, netConfig.c3, netConfig.c4, netConfig.c5, netConfig.d1, netConfig.descriptorDim) =
            (widths[0], widths[1], widths[2], widths[3], widths[4], widths[5], widths[6])
        netConfig.withDrop = cfg["with_drop"]?.bool ?? false
        netConfig.doCross = cfg["do_cross"]?.bool ?? true
        netConfig.doUpsample = cfg["do_upsample"]?.bool ?? true
        netConfig.useColor = cfg["use_color"]?.bool ?? true

        var rng = SeededRandom(seed: 0)
        let model = KP2DModel(config: netConfig, rng: &rng)
        var params: [String: StoredTensor] = [:]
        for name in f.names(prefix: "param.") { params[String(name.dropFirst("param.".count))] = try f.stored(name) }
        try model.loadStateDict(params, strict: true, source: f.path)

        let kw = cfg["keypoint_loss_weight"]?.float ?? 1
        let lossWeights = LossWeights(alpha: kw, beta: cfg["descriptor_loss_weight"]?.float ?? 1,
                                  lambda: cfg["score_loss_weight"]?.float ?? 1, gamma: kw)
        let graph = Graph()
        var evaluation = model.loss(
            image: try f.tensor("in.image"), imageAug: try f.tensor("in.image_aug"), homography: try f.tensor("in.homography"),
            lossWeights: lossWeights, graph: graph, training: true)
        model.backward(&evaluation, graph: graph)
        try compareOutputs(f, report, evaluation.terms, evaluation.details)
        graph.reset()

        // Gradients of every parameter (nil = never reached = zero).
        var gradientPassedElementwise: [String: Bool] = [:]
        for (key, p) in model.namedParameters() {
            let actual = p.grad?.array ?? [Float](repeating: 0, count: p.count)
            let r = report.check("grad." + key, actual)
            gradientPassedElementwise[key] = r.passed && r.note.isEmpty
        }
        // Buffers after both forwards.
        for e in model.stateEntries() {
            switch e.kind {
            case .buffer: report.check("after." + e.key, e.tensor)
            case .counter: report.checkExact("after." + e.key, e.tensor.array.map { Int64($0) })
            case .parameter: break
            }
        }

        // One Adam step over the two official parameter groups.
        let lr = cfg["adam"]?["lr"]?.float ?? 1e-3
        let adam = Adam(groups: model.parameterGroups(lr: lr))
        adam.update()
        var storedGradOnly: [(String, Variable)] = []
        for (key, p) in model.namedParameters() {
            if gradientPassedElementwise[key] == true {
                report.add(try afterParamCheck(f, key: key, actual: p.value.array))
            } else {
                storedGradOnly.append((key, p))
            }
        }
        // Gradients that only passed through the rel-L2 fallback (or failed): check the optimizer on
        // the stored gradients (README 1.4 rule 5).
        for r in try storedGradientAdamChecks(f, keys: storedGradOnly.map { $0.0 }, lr: lr) { report.add(r) }
    }

    /// Optimizer-only check of after.param.<key>: one Adam step applied to the stored param.<key> and
    /// grad.<key>, compared within abs_given_stored_grad.
    public static func storedGradientAdamChecks(_ f: Fixture, keys: [String], lr: Float) throws -> [CheckResult] {
        guard !keys.isEmpty else { return [] }
        var copies: [(String, Variable)] = []
        for key in keys {
            let v = Variable(try f.tensor("param." + key), requiresGrad: true)
            v.grad = try f.tensor("grad." + key)
            copies.append((key, v))
        }
        Adam(groups: [ParameterGroup(name: "stored", parameters: copies.map { $0.1 }, lr: lr)]).update()
        return try copies.map { key, v in
            let rule = f.rule(for: "after.param." + key)
            var r = Comparison.compare(name: "after.param." + key, actual: v.value.array,
                                       expected: try f.stored("after.param." + key).floats,
                                       rule: ToleranceRule(abs: rule.absGivenStoredGrad ?? rule.abs, rel: 0))
            r.note = "optimizer-only check on the stored grad" + (r.note.isEmpty ? "" : "; " + r.note)
            return r
        }
    }

    /// after.param.<key>: within `abs` where |expected grad| >= grad_threshold, else within abs_small_grad.
    public static func afterParamCheck(_ f: Fixture, key: String, actual: [Float]) throws -> CheckResult {
        let name = "after.param." + key
        let rule = f.rule(for: name)
        let expected = try f.stored(name).floats
        let grad = try f.stored("grad." + key).floats
        guard expected.count == actual.count, grad.count == actual.count else {
            return CheckResult(name: name, count: expected.count, maxAbsError: .nan, maxRelError: .nan, passed: false,
                               note: "count \(actual.count) vs expected \(expected.count)")
        }
        let threshold = rule.gradThreshold ?? 0
        let loose = rule.absSmallGrad ?? rule.abs
        var maxAbs = 0.0, maxRel = 0.0, failures = 0, small = 0
        for i in 0..<expected.count {
            let d = Double(Swift.abs(actual[i] - expected[i]))
            if !d.isFinite { failures += 1; continue }
            maxAbs = Swift.max(maxAbs, d)
            if expected[i] != 0 { maxRel = Swift.max(maxRel, d / Double(Swift.abs(expected[i]))) }
            let isSmall = Double(Swift.abs(grad[i])) < threshold
            if isSmall { small += 1 }
            if d > (isSmall ? loose : rule.abs) { failures += 1 }
        }
        let note = failures == 0 ? (small > 0 ? "\(small) small-grad elements within \(loose)" : "")
            : "\(failures) of \(expected.count) elements outside the bound"
        return CheckResult(name: name, count: expected.count, maxAbsError: maxAbs, maxRelError: maxRel,
                           passed: failures == 0, note: note)
    }

    /// Every out.* tensor of the file, matched by name.
    static func compareOutputs(_ f: Fixture, _ report: FixtureReport, _ terms: LossTerms, _ d: LossDetails) throws {
        func ints(_ bools: [Bool]) -> [Int64] { bools.map { $0 ? 1 : 0 } }
        func ints(_ xs: [Int]) -> [Int64] { xs.map { Int64($0) } }
        for name in f.names(prefix: "out.") {
            switch name {
            case "out.source_score": report.check(name, d.sourceScore)
            case "out.source_coord": report.check(name, d.sourceCoord)
            case "out.target_score": report.check(name, d.targetScore)
            case "out.target_coord": report.check(name, d.targetCoord)
            case "out.source_uv_warped": report.check(name, d.sourceUVWarped)
            case "out.border_mask": report.checkExact(name, ints(d.borderMask))
            case "out.d_uv_l2_min": report.check(name, d.nearestDistance)
            case "out.d_uv_l2_min_index": report.checkExact(name, ints(d.nearestIndex))
            case "out.dist_valid_mask": report.checkExact(name, ints(d.distValidMask))
            case "out.n_border_valid": report.checkExact(name, ints(d.borderValidCount))
            case "out.n_dist_valid": report.checkExact(name, ints(d.distValidCount))
            case "out.loss_desc_per_image": report.check(name, d.descriptorLossPerImage)
            case "out.io_topk_mask_source": report.checkExact(name, ints(d.ioTopKMaskSource))
            case "out.io_topk_mask_target": report.checkExact(name, ints(d.ioTopKMaskTarget))
            case "out.io_nn_index": report.checkExact(name, ints(d.ioNearestIndex))
            case "out.io_nn_dist": report.check(name, d.ioNearestDistance)
            case "out.io_pred": report.check(name, d.ioPrediction)
            case "out.io_gt": report.checkExact(name, ints(d.ioLabel))
            case "out.io_inliers": report.checkExact(name, [Int64(terms.ioInliers)])
            case "out.loss": report.check(name, [terms.total])
            case "out.loss_loc": report.check(name, [terms.loc])
            case "out.loss_desc": report.check(name, [terms.desc])
            case "out.loss_usp": report.check(name, [terms.usp])
            case "out.loss_score_consistency": report.check(name, [terms.consistency])
            case "out.loss_io": report.check(name, [terms.io])
            case "out.recall": report.check(name, [terms.recall])
            default:
                let prefix = "out.desc_negative_index.b"
                if name.hasPrefix(prefix), let b = Int(name.dropFirst(prefix.count)), b >= 0, b < d.descriptorNegativeIndex.count {
                    report.checkExact(name, ints(d.descriptorNegativeIndex[b]))
                } else {
                    report.fail(name, "this build computes no value for this output")
                }
            }
        }
    }
}
