import Foundation
import TensorEngine

// torch.optim.Adam (single-tensor CPU path, no weight decay, no amsgrad), per parameter at its step t:
//   m = m + (1-b1) (g - m)                  (PyTorch: exp_avg.lerp_(g, 1-b1))
//   v = b2 v + (1-b2) g^2
//   p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)      eps AFTER the bias correction
// Hyper-parameters are used as the decimal values given (PyTorch keeps them as Python doubles); the
// bias corrections and step size are computed in Double, the tensor arithmetic in Float, as PyTorch does.
//
// Checkpoint naming (stateTensors / loadState), all under the prefix "optimizer.":
//   optimizer.step                   I64 scalar: number of update() calls
//   optimizer.lr.<group>             F32 scalar: the group's current lr
//   optimizer.exp_avg.<param>        F32, the parameter's shape
//   optimizer.exp_avg_sq.<param>     F32, the parameter's shape
//   optimizer.param_step.<param>     I64 scalar: that parameter's own step t (it differs from
//                                    optimizer.step only if it was skipped for lack of a gradient)
// <param> is the Variable's `name` when set (e.g. its state_dict key), else "<group name>.<index in group>"
// (also used for a parameter whose name an earlier one already took).
// A parameter that never received a gradient has no state and no entries, as in PyTorch.

/// A named group of parameters with its own learning rate (like a torch param_group).
public struct ParameterGroup {
    public var name: String
    public var parameters: [Variable]
    public var lr: Float
    public init(name: String, parameters: [Variable], lr: Float) {
        self.name = name; self.parameters = parameters; self.lr = lr
    }
}

public enum AdamStateError: Error, CustomStringConvertible, Equatable {
    case missing(key: String)
    case shapeMismatch(key: String, expected: [Int], got: [Int])
    case unexpected(key: String)
    case invalid(key: String, reason: String)

    public var description: String {
        switch self {
        case let .missing(k): return "optimizer state lacks '\(k)'; the checkpoint was not written by this trainer, resume without --resume or use a matching checkpoint"
        case let .shapeMismatch(k, e, g): return "optimizer state '\(k)' has shape \(g), the parameter has \(e); the checkpoint belongs to another model configuration"
        case let .unexpected(k): return "optimizer state '\(k)' matches no parameter of this model; the checkpoint belongs to another model configuration"
        case let .invalid(k, r): return "optimizer state '\(k)' \(r); the checkpoint is damaged, resume from another copy"
        }
    }
}

/// torch.optim.Adam: betas (0.9, 0.999), eps 1e-8 added after the bias correction of sqrt(v), no weight decay.
/// Group learning rates may be changed between updates (`groups[i].lr = ...`).
public final class Adam {
    public static let statePrefix = "optimizer."

    public var groups: [ParameterGroup]
    public let beta1: Float, beta2: Float, eps: Float
    /// Number of update() calls.
    public private(set) var step: Int = 0

    final class Moments {
        let expAvg: Tensor, expAvgSq: Tensor
        var step: Int = 0
        init(shape: [Int]) { expAvg = Tensor(shape: shape); expAvgSq = Tensor(shape: shape) }
    }
    private var state: [ObjectIdentifier: Moments] = [:]

    public init(groups: [ParameterGroup], beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8) {
        self.groups = groups; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
    }

    /// The decimal value a Float was written as (0.9 -> 0.9, not 0.89999997615814).
    static func decimal(_ f: Float) -> Double { Double("\(f)") ?? Double(f) }

    /// One update from each parameter's .grad (nil grad = skipped, like PyTorch).
    public func update() {
        step += 1
        let b1 = Adam.decimal(beta1), b2 = Adam.decimal(beta2)
        let w1 = Float(1 - b1), w2 = Float(1 - b2), b2f = Float(b2)
        let epsF = eps
        for group in groups {
            let lr = Adam.decimal(group.lr)
            for p in group.parameters {
                guard let grad = p.grad else { continue }
                let id = ObjectIdentifier(p)
                let st: Moments
                if let s = state[id] { st = s } else { st = Moments(shape: p.shape); state[id] = st }
                st.step += 1
                let t = Double(st.step)
                let bc1 = 1 - pow(b1, t), bc2Sqrt = (1 - pow(b2, t)).squareRoot()
                let stepSize = Float(lr / bc1), bc2 = Float(bc2Sqrt)
                let n = p.count, pp = p.value.data, g = grad.data, m = st.expAvg.data, v = st.expAvgSq.data
                // Element by element, so splitting the elements over the cores changes no bit.
                KernelParallel.forRanges(n, costPerItem: 8) { range in
                    for i in range {
                        let gi = g[i]
                        m[i] = m[i] + w1 * (gi - m[i])
                        v[i] = v[i] * b2f + w2 * (gi * gi)
                        let denom = v[i].squareRoot() / bc2 + epsF
                        pp[i] = pp[i] + (-stepSize) * (m[i] / denom)
                    }
                }
                p.value.markModified()   // cached values derived from the weights (inference) are remade
            }
        }
    }

    /// Drop every gradient (PyTorch's zero_grad(set_to_none=True), the default): a parameter that gets
    /// no gradient in the next step is skipped by update(). With setToNone false, zero in place instead.
    public func zeroGrad(setToNone: Bool = true) {
        for g in groups { for p in g.parameters { if setToNone { p.grad = nil } else { p.zeroGrad() } } }
    }

    /// Every parameter with its checkpoint name, in group order: its `name`, or "<group>.<index>" when it
    /// has none or when an earlier parameter already uses that name.
    public func namedParameters() -> [(String, Variable)] {
        var out: [(String, Variable)] = []
        var seen = Set<String>()
        for g in groups {
            for (i, p) in g.parameters.enumerated() {
                var name = p.name ?? "\(g.name).\(i)"
                if !seen.insert(name).inserted { name = "\(g.name).\(i)"; seen.insert(name) }
                out.append((name, p))
            }
        }
        return out
    }

    /// Moments for checkpoints (naming at the top of this file).
    public func stateTensors() -> [(String, StoredTensor)] {
        let pre = Adam.statePrefix
        var out: [(String, StoredTensor)] = [(pre + "step", .i64(shape: [], values: [Int64(step)]))]
        for g in groups { out.append((pre + "lr." + g.name, .f32(shape: [], values: [g.lr]))) }
        for (name, p) in namedParameters() {
            guard let st = state[ObjectIdentifier(p)] else { continue }
            out.append((pre + "exp_avg." + name, StoredTensor(st.expAvg)))
            out.append((pre + "exp_avg_sq." + name, StoredTensor(st.expAvgSq)))
            out.append((pre + "param_step." + name, .i64(shape: [], values: [Int64(st.step)])))
        }
        return out
    }

    /// Restore moments, steps and group learning rates written by stateTensors(). Keys without the
    /// "optimizer." prefix are ignored (so a whole checkpoint file can be passed). Throws AdamStateError
    /// for a missing step, a shape mismatch or optimizer state that matches no parameter; nothing is
    /// changed when it throws.
    public func loadState(_ tensors: [String: StoredTensor]) throws {
        let pre = Adam.statePrefix
        guard let stepT = tensors[pre + "step"], stepT.count == 1 else { throw AdamStateError.missing(key: pre + "step") }
        guard let s0 = stepT.ints.first, s0 >= 0, s0 <= Int64(Int32.max) else {
            throw AdamStateError.invalid(key: pre + "step", reason: "is \(stepT.ints.first ?? -1) (must be a step count >= 0)")
        }
        let params = namedParameters()
        var newState: [ObjectIdentifier: Moments] = [:]
        var used: Set<String> = [pre + "step"]
        for (name, p) in params {
            let kAvg = pre + "exp_avg." + name, kSq = pre + "exp_avg_sq." + name, kStep = pre + "param_step." + name
            guard let avg = tensors[kAvg] else {
                if tensors[kSq] != nil { throw AdamStateError.missing(key: kAvg) }
                continue   // never updated
            }
            guard let sq = tensors[kSq] else { throw AdamStateError.missing(key: kSq) }
            for (k, t) in [(kAvg, avg), (kSq, sq)] where t.shape != p.shape {
                throw AdamStateError.shapeMismatch(key: k, expected: p.shape, got: t.shape)
            }
            if let i = avg.floats.firstIndex(where: { !$0.isFinite }) {
                throw AdamStateError.invalid(key: kAvg, reason: "holds a non-finite value (\(avg.floats[i]) at index \(i))")
            }
            if let i = sq.floats.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
                throw AdamStateError.invalid(key: kSq, reason: "holds \(sq.floats[i]) at index \(i) (must be finite and >= 0)")
            }
            if let s = tensors[kStep]?.ints.first ?? stepT.ints.first, s < 0 || s > Int64(Int32.max) {
                throw AdamStateError.invalid(key: kStep, reason: "is \(s) (must be a step count >= 0)")
            }
            let st = Moments(shape: p.shape)
            avg.floats.withUnsafeBufferPointer { st.expAvg.data.update(from: $0.baseAddress!, count: p.count) }
            sq.floats.withUnsafeBufferPointer { st.expAvgSq.data.update(from: $0.baseAddress!, count: p.count) }
            st.step = Int(tensors[kStep]?.ints.first ?? stepT.ints[0])
            newState[ObjectIdentifier(p)] = st
            used.formUnion([kAvg, kSq, kStep])
        }
        var lrs: [Int: Float] = [:]
        for (i, g) in groups.enumerated() {
            let k = pre + "lr." + g.name
            if let t = tensors[k], t.count == 1 { lrs[i] = t.floats[0]; used.insert(k) }
        }
        for k in tensors.keys.sorted() where k.hasPrefix(pre) && !used.contains(k) {
            throw AdamStateError.unexpected(key: k)
        }
        state = newState
        step = Int(stepT.ints[0])
        for (i, lr) in lrs { groups[i].lr = lr }
    }
}
