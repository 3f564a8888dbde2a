import Foundation

// The kinds of record the metrics log holds (MetricsLog.swift). A step record is written as it always was (no
// "kind" key, so older logs and tools read alike); the others carry "kind" beside their own fields:
//   {"kind":"validation","step":300,"repeatability":...}   held-out evaluation (ValidationMonitor)
//   {"kind":"probe","step":300,"terms":{...},...}           fixed probe batch in eval mode (ProbeMonitor)
// A kind this build does not know is kept (and moved on resume by its "step") but not interpreted.

public enum LogEntry: Sendable, Equatable {
    case step(StepRecord)
    case validation(ValidationRecord)
    case probe(ProbeRecord)
    /// A record of a kind this build does not know (a newer build's): its kind and step.
    case other(kind: String, step: Int)

    public var step: Int {
        switch self {
        case let .step(r): return r.step
        case let .validation(r): return r.step
        case let .probe(r): return r.step
        case let .other(_, s): return s
        }
    }

    public var kind: String {
        switch self {
        case .step: return "step"
        case .validation: return "validation"
        case .probe: return "probe"
        case let .other(k, _): return k
        }
    }

    private struct Peek: Decodable { var kind: String?; var step: Int? }

    /// One line of the log (without its newline). Throws if it is not a record.
    static func decode(_ line: Data, with decoder: JSONDecoder) throws -> LogEntry {
        let peek = try decoder.decode(Peek.self, from: line)
        switch peek.kind {
        case nil: return .step(try decoder.decode(StepRecord.self, from: line))
        case "validation": return .validation(try decoder.decode(ValidationRecord.self, from: line))
        case "probe": return .probe(try decoder.decode(ProbeRecord.self, from: line))
        case let k?:
            guard let s = peek.step else { throw LogEntryError.noStep(kind: k) }
            return .other(kind: k, step: s)
        }
    }

    /// The JSON of the record (one line, keys sorted as the encoder does), "kind" added for non-step kinds.
    func encoded(with encoder: JSONEncoder) throws -> Data {
        switch self {
        case let .step(r): return try encoder.encode(r)
        case let .validation(r): return try encoder.encode(Tagged(kind: "validation", record: r))
        case let .probe(r): return try encoder.encode(Tagged(kind: "probe", record: r))
        case let .other(k, _): throw LogEntryError.cannotWrite(kind: k)
        }
    }

    /// A record's own keys plus "kind", in one JSON object.
    private struct Tagged<R: Encodable>: Encodable {
        var kind: String
        var record: R
        enum Key: String, CodingKey { case kind }
        func encode(to encoder: Encoder) throws {
            try record.encode(to: encoder)
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(kind, forKey: .kind)
        }
    }
}

enum LogEntryError: Error, CustomStringConvertible {
    case noStep(kind: String)
    case cannotWrite(kind: String)
    var description: String {
        switch self {
        case let .noStep(k): return "a \"\(k)\" record without a \"step\""
        case let .cannotWrite(k): return "records of kind \"\(k)\" are read, never written, by this build"
        }
    }
}

/// A metrics log split by kind (`MetricsLog.readAll`).
public struct LogContents: Sendable, Equatable {
    public var steps: [StepRecord] = []
    public var validation: [ValidationRecord] = []
    public var probes: [ProbeRecord] = []
    /// Records of kinds this build does not know (skipped).
    public var otherKinds = 0
    public init() {}
}
