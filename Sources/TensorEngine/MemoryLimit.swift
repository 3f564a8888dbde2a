import Foundation

// Sizes given by the user (image sizes, batch sizes, frame sizes, matrix sizes) are checked against the
// machine's memory before anything is allocated: a typo such as --size 100000x100000 must be a one-line
// error, not "Fatal error: failed to allocate 480000000000 bytes" or an overflow trap.

public struct MemoryLimitError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ d: String) { description = d }
}

public enum MemoryLimit {
    /// Physical memory of this machine in bytes.
    public static var physicalBytes: Int { Int(clamping: ProcessInfo.processInfo.physicalMemory) }

    /// `a * b * ...` or nil on overflow (negative factors give nil too).
    public static func product(_ factors: [Int]) -> Int? {
        var p = 1
        for f in factors {
            guard f >= 0 else { return nil }
            let (r, o) = p.multipliedReportingOverflow(by: f)
            if o { return nil }
            p = r
        }
        return p
    }

    /// "12.3 GB" style.
    public static func format(_ bytes: Int) -> String {
        let b = Double(bytes)
        if b >= 1e12 { return String(format: "%.1f TB", b / 1e12) }
        if b >= 1e9 { return String(format: "%.1f GB", b / 1e9) }
        if b >= 1e6 { return String(format: "%.0f MB", b / 1e6) }
        return String(format: "%.0f KB", b / 1e3)
    }

    /// Throws unless `bytes` (nil: overflowed) fits in this machine's memory. `what` names the request
    /// ("--size 100000x100000 with --batch-size 4"), `fix` says what to change.
    public static func check(bytes: Int?, what: String, fix: String) throws {
        let mem = physicalBytes
        guard let bytes else {
            throw MemoryLimitError("\(what) is too large to compute with (integer overflow); \(fix)")
        }
        if bytes > mem {
            throw MemoryLimitError("\(what) needs at least \(format(bytes)), more than this machine's \(format(mem)) of memory; \(fix)")
        }
    }
}
