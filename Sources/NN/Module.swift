import TensorEngine

// Modules hold parameters (Variables that require grad) and buffers (running statistics, counters),
// each under its PyTorch state_dict key, so checkpoints load into the official model and back.
// Swift names in code (`inputChannels`), PyTorch keys on disk (`running_mean`).

/// One entry of a module's state: a parameter, a float buffer, or an integer counter (I64 on disk).
public struct StateEntry {
    public enum Kind { case parameter(Variable), buffer, counter }
    public let key: String
    public let tensor: Tensor
    public let kind: Kind

    public static func parameter(_ key: String, _ v: Variable) -> StateEntry { StateEntry(key: key, tensor: v.value, kind: .parameter(v)) }
    public static func buffer(_ key: String, _ t: Tensor) -> StateEntry { StateEntry(key: key, tensor: t, kind: .buffer) }
    public static func counter(_ key: String, _ t: Tensor) -> StateEntry { StateEntry(key: key, tensor: t, kind: .counter) }
}

public enum StateDictError: Error, CustomStringConvertible {
    case missingKey(source: String, key: String)
    case unexpectedKey(source: String, key: String)
    case shapeMismatch(source: String, key: String, expected: [Int], got: [Int])
    case nonFinite(source: String, key: String, index: Int, value: Float)

    public var description: String {
        switch self {
        case let .missingKey(s, k): return "\(s): no tensor '\(k)'; these weights do not belong to this model (check --preset / widths)"
        case let .unexpectedKey(s, k): return "\(s): unexpected tensor '\(k)'; these weights do not belong to this model (check --preset / widths)"
        case let .shapeMismatch(s, k, e, g): return "\(s): tensor '\(k)' has shape \(g), the model needs \(e); pick the preset/widths the weights were trained with"
        case let .nonFinite(s, k, i, v): return "\(s): tensor '\(k)' holds \(v) at index \(i); the weights are broken (a diverged run?), use an earlier checkpoint"
        }
    }
}

public protocol Module: AnyObject {
    /// Every parameter and buffer, keys prefixed with `prefix` (e.g. "conv1a.0."), in PyTorch order.
    func stateEntries(prefix: String) -> [StateEntry]
}

extension Module {
    public func stateEntries() -> [StateEntry] { stateEntries(prefix: "") }

    public func namedParameters(prefix: String = "") -> [(String, Variable)] {
        stateEntries(prefix: prefix).compactMap { e in
            if case let .parameter(v) = e.kind { return (e.key, v) }
            return nil
        }
    }

    public func parameters() -> [Variable] { namedParameters().map { $0.1 } }

    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    /// The state_dict as stored tensors (counters as I64).
    public func stateDict(prefix: String = "") -> [(String, StoredTensor)] {
        stateEntries(prefix: prefix).map { e in
            switch e.kind {
            case .counter: return (e.key, .i64(shape: e.tensor.shape, values: e.tensor.array.map { Int64($0) }))
            default: return (e.key, StoredTensor(e.tensor))
            }
        }
    }

    /// Copy values in from `tensors` (keys with `prefix`). `strict`: every key must be present and no
    /// other key with this prefix may exist. Shapes must match. `source` names the file for errors.
    public func loadStateDict(_ tensors: [String: StoredTensor], prefix: String = "", strict: Bool = true, source: String) throws {
        let entries = stateEntries(prefix: prefix)
        for e in entries {
            guard let t = tensors[e.key] else {
                if strict { throw StateDictError.missingKey(source: source, key: e.key) }
                continue
            }
            guard t.shape == e.tensor.shape || (t.count == 1 && e.tensor.count == 1) else {
                throw StateDictError.shapeMismatch(source: source, key: e.key, expected: e.tensor.shape, got: t.shape)
            }
            let values = t.floats
            // NaN or Inf weights would give 0 keypoints, NaN metrics or skipped steps without a word: refuse them.
            if let i = values.firstIndex(where: { !$0.isFinite }) {
                throw StateDictError.nonFinite(source: source, key: e.key, index: i, value: values[i])
            }
            values.withUnsafeBufferPointer { e.tensor.data.update(from: $0.baseAddress!, count: e.tensor.count) }
            e.tensor.markModified()
        }
        if strict {
            let known = Set(entries.map { $0.key })
            for k in tensors.keys.sorted() where k.hasPrefix(prefix) && !known.contains(k) {
                throw StateDictError.unexpectedKey(source: source, key: k)
            }
        }
    }

    public func zeroGrad() { for p in parameters() { p.zeroGrad() } }
}
