import Foundation

// The safetensors container, read and written by our own code:
//   8 bytes little-endian u64 n | n bytes UTF-8 JSON header (may be space-padded) | raw data.
// The header maps tensor names to {"dtype", "shape", "data_offsets": [begin, end]} (offsets into the
// data part) and may hold "__metadata__": {string: string}. We store F32 and I64 tensors.

public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case corrupt(path: String, reason: String)
    case unsupportedDType(path: String, name: String, dtype: String)
    case missingTensor(path: String, name: String)
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path): cannot read (\(reason)); check the path and permissions"
        case let .corrupt(path, reason):
            return "\(path): not a valid safetensors file (\(reason)); the file is truncated or damaged, use another copy"
        case let .unsupportedDType(path, name, dtype):
            return "\(path): tensor '\(name)' has dtype \(dtype); only F32 and I64 are supported, convert it to float32 first"
        case let .missingTensor(path, name):
            return "\(path): no tensor named '\(name)'"
        case let .unwritable(path, reason):
            return "\(path): cannot write (\(reason)); check that the folder exists, is writable and has free space"
        }
    }
}

/// One stored tensor: float32 or int64 values with a shape.
public enum StoredTensor: Equatable, Sendable {
    case f32(shape: [Int], values: [Float])
    case i64(shape: [Int], values: [Int64])

    public var shape: [Int] {
        switch self { case let .f32(s, _), let .i64(s, _): return s }
    }
    public var count: Int { shape.reduce(1, *) }
    public var dtype: String {
        switch self { case .f32: return "F32"; case .i64: return "I64" }
    }
    /// Values as Float (an I64 tensor is converted).
    public var floats: [Float] {
        switch self {
        case let .f32(_, v): return v
        case let .i64(_, v): return v.map { Float($0) }
        }
    }
    /// Values as Int64 (an F32 tensor is truncated).
    public var ints: [Int64] {
        switch self {
        case let .f32(_, v):
            // Saturating (a NaN or huge float in a damaged file must not trap): NaN -> 0.
            return v.map { $0.isNaN ? 0 : ($0 >= 0x1p63 ? Int64.max : ($0 < -0x1p63 ? Int64.min : Int64($0))) }
        case let .i64(_, v): return v
        }
    }
    public var isInteger: Bool { if case .i64 = self { return true }; return false }

    /// As an engine tensor (I64 converted to float).
    public func tensor() -> Tensor { Tensor(shape: shape, values: floats) }
    public init(_ t: Tensor) { self = .f32(shape: t.shape, values: t.array) }
}

public struct SafeTensorsFile: Sendable {
    public let path: String
    /// Tensors by name.
    public var tensors: [String: StoredTensor]
    /// Names in file (offset) order.
    public var names: [String]
    public var metadata: [String: String]

    public subscript(name: String) -> StoredTensor? { tensors[name] }

    public func require(_ name: String) throws -> StoredTensor {
        guard let t = tensors[name] else { throw SafeTensorsError.missingTensor(path: path, name: name) }
        return t
    }
}

public enum SafeTensors {
    /// Read a whole file. Throws SafeTensorsError with the path and what is wrong.
    public static func read(_ path: String) throws -> SafeTensorsFile {
        var st = stat()
        if stat(path, &st) == 0 {
            if (st.st_mode & S_IFMT) == S_IFDIR {
                throw SafeTensorsError.unreadable(path: path, reason: "is a folder, not a .safetensors file; pass the file inside it")
            }
            if (st.st_mode & S_IFMT) != S_IFREG {
                throw SafeTensorsError.unreadable(path: path, reason: "not a regular file (a pipe, socket or device); pass a .safetensors file")
            }
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe) }
        catch {
            // Foundation's message ("NSCocoaErrorDomain error 256") says nothing: ask the OS why.
            let fd = open(path, O_RDONLY)
            let reason = fd < 0 ? String(cString: strerror(errno)) : (error as NSError).localizedDescription
            if fd >= 0 { close(fd) }
            throw SafeTensorsError.unreadable(path: path, reason: reason)
        }
        return try parse(data, path: path)
    }

    public static func parse(_ data: Data, path: String = "<memory>") throws -> SafeTensorsFile {
        // Index from 0 even if `data` is a slice of a larger Data.
        let data = data.startIndex == 0 ? data : Data(data)
        func corrupt(_ r: String) -> SafeTensorsError { .corrupt(path: path, reason: r) }
        guard data.count >= 8 else { throw corrupt("file is \(data.count) bytes, shorter than the 8-byte header length") }
        let n: UInt64 = data.withUnsafeBytes { raw in
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(raw[i]) << (8 * UInt64(i)) }
            return v
        }
        guard n <= UInt64(data.count - 8) else { throw corrupt("header length \(n) runs past the end of the file (\(data.count) bytes)") }
        let headerEnd = 8 + Int(n)
        let headerData = data.subdata(in: 8..<headerEnd)
        guard let json = try? JSONSerialization.jsonObject(with: headerData), let header = json as? [String: Any] else {
            throw corrupt("header is not a JSON object")
        }
        let bufferCount = data.count - headerEnd
        var tensors: [String: StoredTensor] = [:]
        var order: [(String, Int)] = []
        var extents: [(name: String, begin: Int, end: Int)] = []
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw corrupt("__metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v as? String else { throw corrupt("__metadata__ value for '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let entry = value as? [String: Any],
                  let dtype = entry["dtype"] as? String,
                  let shapeAny = entry["shape"] as? [Any],
                  let offsAny = entry["data_offsets"] as? [Any], offsAny.count == 2 else {
                throw corrupt("entry '\(name)' lacks dtype, shape or data_offsets")
            }
            // Non-negative integers only (a fractional or huge number is corruption, not something to round).
            func integer(_ v: Any) -> Int? {
                guard let d = (v as? NSNumber)?.doubleValue, d >= 0, d == d.rounded(), d < 0x1p62 else { return nil }
                return Int(d)
            }
            let shape = try shapeAny.map { v -> Int in
                guard let i = integer(v) else { throw corrupt("entry '\(name)' has a bad shape") }
                return i
            }
            let offs = try offsAny.map { v -> Int in
                guard let i = integer(v) else { throw corrupt("entry '\(name)' has bad data_offsets") }
                return i
            }
            let (begin, end) = (offs[0], offs[1])
            guard begin <= end, end <= bufferCount else {
                throw corrupt("tensor '\(name)' data [\(begin), \(end)) lies outside the \(bufferCount)-byte data section")
            }
            var count = 1
            for d in shape {
                let (c, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, c <= bufferCount else {
                    throw corrupt("tensor '\(name)' has shape \(shape), larger than the \(bufferCount)-byte data section")
                }
                count = c
            }
            let elemSize: Int
            switch dtype {
            case "F32": elemSize = 4
            case "I64": elemSize = 8
            default: throw SafeTensorsError.unsupportedDType(path: path, name: name, dtype: dtype)
            }
            guard end - begin == count * elemSize else {
                throw corrupt("tensor '\(name)' has \(end - begin) bytes, shape \(shape) of \(dtype) needs \(count * elemSize)")
            }
            let start = headerEnd + begin
            let t: StoredTensor = data.withUnsafeBytes { raw in
                if dtype == "F32" {
                    var v = [Float](repeating: 0, count: count)
                    v.withUnsafeMutableBytes { dst in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[start..<(start + count * 4)])) }
                    return .f32(shape: shape, values: v.map { Float(bitPattern: $0.bitPattern.littleEndian) })
                } else {
                    var v = [Int64](repeating: 0, count: count)
                    v.withUnsafeMutableBytes { dst in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[start..<(start + count * 8)])) }
                    return .i64(shape: shape, values: v.map { Int64(littleEndian: $0) })
                }
            }
            tensors[name] = t
            order.append((name, begin))
            extents.append((name, begin, end))
        }
        // Tensors must not share bytes: the format lays them out one after another.
        extents.sort { $0.begin == $1.begin ? $0.end < $1.end : $0.begin < $1.begin }
        for (a, b) in zip(extents, extents.dropFirst()) where b.begin < a.end && b.end > b.begin && a.end > a.begin {
            throw corrupt("tensors '\(a.name)' [\(a.begin), \(a.end)) and '\(b.name)' [\(b.begin), \(b.end)) overlap in the data section")
        }
        let names = order.sorted { $0.1 == $1.1 ? $0.0 < $1.0 : $0.1 < $1.1 }.map { $0.0 }
        return SafeTensorsFile(path: path, tensors: tensors, names: names, metadata: metadata)
    }

    /// Serialise tensors (in the given order) and metadata.
    public static func serialize(_ tensors: [(String, StoredTensor)], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for (name, t) in tensors {
            let n: Int
            switch t { case let .f32(_, v): n = v.count; case let .i64(_, v): n = v.count }
            guard n == t.count else {
                throw SafeTensorsError.corrupt(path: "<serialize>", reason: "tensor '\(name)' has \(n) values for shape \(t.shape) (\(t.count) elements)")
            }
            let bytes = t.count * (t.isInteger ? 8 : 4)
            header[name] = ["dtype": t.dtype, "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }   // pad with spaces so data is 8-byte aligned
        var out = Data(capacity: 8 + json.count + offset)
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(json)
        for (_, t) in tensors {
            switch t {
            case let .f32(_, v):
                let le = v.map { Float(bitPattern: $0.bitPattern.littleEndian) }
                le.withUnsafeBytes { out.append(contentsOf: $0) }
            case let .i64(_, v):
                let le = v.map { $0.littleEndian }
                le.withUnsafeBytes { out.append(contentsOf: $0) }
            }
        }
        return out
    }

    /// Write atomically: to a temporary file beside `path`, flushed, then renamed into place, so a
    /// crash never leaves a half-written file under the final name.
    public static func write(_ tensors: [(String, StoredTensor)], metadata: [String: String] = [:], to path: String) throws {
        let data = try serialize(tensors, metadata: metadata)
        try AtomicFile.write(data, to: path)
    }
}

/// Atomic file replacement: write a temporary sibling, fsync, rename.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw SafeTensorsError.unwritable(path: path, reason: "it is a folder; pass a file path")
        }
        if !dir.isEmpty, !FileManager.default.fileExists(atPath: dir) {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            catch { throw SafeTensorsError.unwritable(path: path, reason: "cannot create its folder \(dir)") }
        }
        // Unique per call, so two threads saving the same path never share a temporary file. The name
        // (`<target>.tmp-<pid>-<uuid>`) is what `AtomicFile.staleTemporaries` recognises after a crash.
        let tmp = temporaryName(for: path)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw SafeTensorsError.unwritable(path: path, reason: "cannot create a file in its folder: \(String(cString: strerror(errno)))")
        }
        var failure: Int32 = 0   // errno of the first failure, read before close/unlink can change it
        data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let w = Foundation.write(fd, raw.baseAddress! + off, raw.count - off)
                if w <= 0 { failure = w < 0 ? errno : ENOSPC; break }
                off += w
            }
        }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        close(fd)
        guard failure == 0 else {
            unlink(tmp)
            throw SafeTensorsError.unwritable(path: path, reason: "write failed: \(String(cString: strerror(failure)))")
        }
        guard rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw SafeTensorsError.unwritable(path: path, reason: "rename failed: \(reason)")
        }
    }
}

extension AtomicFile {
    /// The temporary sibling a save of `path` writes first.
    public static func temporaryName(for path: String) -> String {
        path + ".tmp-\(getpid())-\(UUID().uuidString)"
    }

    /// Temporary siblings of `path` left by a save that was killed: `<name>.tmp-<pid>-<uuid>` whose process
    /// no longer runs (a live process may be saving right now; its file is left alone).
    public static func staleTemporaries(of path: String) -> [String] {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let prefix = url.lastPathComponent + ".tmp-"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        var out: [String] = []
        for n in names.sorted() where n.hasPrefix(prefix) {
            let rest = n.dropFirst(prefix.count)
            let parts = rest.split(separator: "-", maxSplits: 1)
            guard parts.count == 2, let pid = Int32(parts[0]), pid > 0, UUID(uuidString: String(parts[1])) != nil else { continue }
            if pid == getpid() || kill(pid, 0) == 0 || errno == EPERM { continue }   // ours, or a process still running
            out.append((dir as NSString).appendingPathComponent(n))
        }
        return out
    }
}
