import Foundation

/// A parsed JSON value, for reading fixture configs and tolerances.
public enum JSON: Sendable, Decodable, CustomStringConvertible {
    case null, bool(Bool), number(Double), string(String), array([JSON]), object([String: JSON])

    public init(parsing text: String) throws {
        self = try JSONDecoder().decode(JSON.self, from: Data(text.utf8))
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSON].self)) }
    }

    public subscript(key: String) -> JSON? {
        if case let .object(d) = self { return d[key] }
        return nil
    }
    public subscript(index: Int) -> JSON? {
        if case let .array(a) = self, index >= 0, index < a.count { return a[index] }
        return nil
    }
    public var double: Double? {
        switch self {
        case let .number(d): return d
        case let .bool(b): return b ? 1 : 0
        default: return nil
        }
    }
    public var float: Float? { double.map { Float($0) } }
    public var int: Int? { double.map { Int($0) } }
    public var bool: Bool? {
        switch self {
        case let .bool(b): return b
        case let .number(d): return d != 0
        default: return nil
        }
    }
    public var string: String? { if case let .string(s) = self { return s }; return nil }
    public var array: [JSON]? { if case let .array(a) = self { return a }; return nil }
    public var object: [String: JSON]? { if case let .object(d) = self { return d }; return nil }
    public var ints: [Int]? { array?.compactMap { $0.int } }
    public var doubles: [Double]? { array?.compactMap { $0.double } }

    public var description: String {
        switch self {
        case .null: return "null"
        case let .bool(b): return "\(b)"
        case let .number(d): return d == d.rounded() && abs(d) < 1e15 ? "\(Int(d))" : "\(d)"
        case let .string(s): return "\"\(s)\""
        case let .array(a): return "[" + a.map { $0.description }.joined(separator: ", ") + "]"
        case let .object(d): return "{" + d.keys.sorted().map { "\"\($0)\": \(d[$0]!)" }.joined(separator: ", ") + "}"
        }
    }
}
