import Foundation
import TensorEngine

// A reference fixture (../shared/fixtures/README.md): a safetensors file whose metadata key
// "kp2d_fixture" holds a JSON document {kind, version, config, tolerance, notes}.

public enum FixtureError: Error, CustomStringConvertible {
    case badMetadata(path: String, reason: String)
    case missing(path: String, tensor: String)
    case unknownKind(path: String, kind: String)
    case failed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .badMetadata(p, r): return "\(p): not a KP2D fixture (\(r)); pass a file from the fixtures folder"
        case let .missing(p, t): return "\(p): fixture lacks tensor '\(t)'"
        case let .unknownKind(p, k): return "\(p): unknown fixture kind '\(k)': this build cannot check it"
        case let .failed(p, r): return "\(p): \(r)"
        }
    }
}

public struct Fixture {
    public let path: String
    /// File name without folder and `.safetensors`, e.g. "op.conv2d_3x3_bias".
    public let name: String
    public let kind: String
    public let version: Int
    public let config: JSON
    public let tolerance: JSON
    public let notes: String
    public let file: SafeTensorsFile

    public static func load(_ path: String) throws -> Fixture {
        let file = try SafeTensors.read(path)
        guard let meta = file.metadata["kp2d_fixture"] else {
            throw FixtureError.badMetadata(path: path, reason: "no __metadata__.kp2d_fixture entry")
        }
        let doc: JSON
        do { doc = try JSON(parsing: meta) } catch {
            throw FixtureError.badMetadata(path: path, reason: "kp2d_fixture metadata is not JSON")
        }
        guard let kind = doc["kind"]?.string else { throw FixtureError.badMetadata(path: path, reason: "no kind") }
        let version = doc["version"]?.int ?? 0
        guard version == 1 else { throw FixtureError.badMetadata(path: path, reason: "version \(version), expected 1") }
        var name = (path as NSString).lastPathComponent
        if name.hasSuffix(".safetensors") { name = String(name.dropLast(".safetensors".count)) }
        return Fixture(path: path, name: name, kind: kind, version: version,
                       config: doc["config"] ?? .null, tolerance: doc["tolerance"] ?? .null,
                       notes: doc["notes"]?.string ?? "", file: file)
    }

    public func stored(_ name: String) throws -> StoredTensor {
        guard let t = file.tensors[name] else { throw FixtureError.missing(path: path, tensor: name) }
        return t
    }
    public func tensor(_ name: String) throws -> Tensor { try stored(name).tensor() }
    public func has(_ name: String) -> Bool { file.tensors[name] != nil }
    /// Tensor names starting with `prefix`, in file order.
    public func names(prefix: String) -> [String] { file.names.filter { $0.hasPrefix(prefix) } }

    /// The comparison rule for a tensor: its per_tensor entry, else the file-level abs/rel.
    public func rule(for name: String) -> ToleranceRule {
        let fileAbs = tolerance["abs"]?.double ?? 1e-5
        let fileRel = tolerance["rel"]?.double ?? 1e-4
        guard let e = tolerance["per_tensor"]?[name] else { return ToleranceRule(abs: fileAbs, rel: fileRel) }
        return ToleranceRule(abs: e["abs"]?.double ?? fileAbs, rel: e["rel"]?.double ?? fileRel,
                             maxRelL2: e["max_rel_l2"]?.double,
                             gradThreshold: e["grad_threshold"]?.double,
                             absSmallGrad: e["abs_small_grad"]?.double,
                             absGivenStoredGrad: e["abs_given_stored_grad"]?.double)
    }
}

public struct ToleranceRule: Sendable {
    public var abs: Double
    public var rel: Double
    public var maxRelL2: Double? = nil
    public var gradThreshold: Double? = nil
    public var absSmallGrad: Double? = nil
    public var absGivenStoredGrad: Double? = nil

    public init(abs: Double, rel: Double, maxRelL2: Double? = nil, gradThreshold: Double? = nil,
                absSmallGrad: Double? = nil, absGivenStoredGrad: Double? = nil) {
        self.abs = abs; self.rel = rel; self.maxRelL2 = maxRelL2; self.gradThreshold = gradThreshold
        self.absSmallGrad = absSmallGrad; self.absGivenStoredGrad = absGivenStoredGrad
    }
}

/// Where the reference fixtures live: $KP2D_FIXTURES, else ../shared/fixtures beside the checkout.
public enum FixtureLocator {
    /// `anchor` is any path inside the repository (tests pass #filePath); the current directory is tried too.
    public static func directory(anchor: String? = nil) -> String? {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["KP2D_FIXTURES"], !env.isEmpty {
            return fm.fileExists(atPath: env) ? env : nil
        }
        var starts = [fm.currentDirectoryPath]
        if let a = anchor { starts.insert((a as NSString).deletingLastPathComponent, at: 0) }
        for start in starts {
            var dir = start
            for _ in 0..<8 {
                let candidate = (dir as NSString).appendingPathComponent("../shared/fixtures")
                if fm.fileExists(atPath: (candidate as NSString).appendingPathComponent("README.md")) {
                    return (candidate as NSString).standardizingPath
                }
                let parent = (dir as NSString).deletingLastPathComponent
                if parent == dir { break }
                dir = parent
            }
        }
        return nil
    }

    public static func path(_ file: String, anchor: String? = nil) -> String? {
        guard let d = directory(anchor: anchor) else { return nil }
        let p = (d as NSString).appendingPathComponent(file.hasSuffix(".safetensors") ? file : file + ".safetensors")
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }
}
