import Foundation
import TensorEngine

// The JSON-lines metrics log: one StepRecord per line, appended and handed to the OS after every step
// (so `tail -f` and a crash both see every finished step). The same file holds the run's other records, each
// a line of its own kind tagged `"kind"` (LogEntry): held-out validations (`"validation"`) and fixed probe
// batch evaluations (`"probe"`), written by their monitors' threads through the same lock; a line without
// `"kind"` is a step record. `read` returns the step records, `readAll` every kind.
//
// Nothing in it is ever lost:
// * a fresh run does not touch an existing file until its first step is written (then it starts the file
//   anew; the command refuses an existing log unless --overwrite);
// * a resumed run appends; lines beyond the resumed step (trained after the last checkpoint) and a torn last
//   line (a write cut by a kill or a full disk) are moved to a side file `<log>.after-step-<N>.jsonl` first,
//   so the steps in the log stay unique and consecutive;
// * a failed append is rolled back to the last whole line (no torn line from our own failure) and reported.

public enum MetricsLogError: Error, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case badLine(path: String, line: Int, reason: String)
    case writeFailed(path: String, reason: String)
    public var description: String {
        switch self {
        case let .cannotOpen(p, r): return "\(p): cannot open the metrics log (\(r)); check the folder exists and is writable"
        case let .badLine(p, l, r): return "\(p):\(l): not a metrics record (\(r)); pass another --log file"
        case let .writeFailed(p, r): return "\(p): cannot write the metrics log (\(r)); free space or fix the folder's permissions"
        }
    }
}

public final class MetricsLog {
    public let path: String
    private var fd: Int32 = -1
    /// A fresh log starts the file at the first append (O_TRUNC then), not at open.
    private var startFresh: Bool
    private let encoder = TrainingCheckpoint.jsonEncoder()
    /// Appends come from the trainer thread (steps) and the monitors' threads (validation, probe).
    private let writeLock = NSLock()
    /// What opening did to the file (lines moved to a side file), one line each, for the user.
    public private(set) var notices: [String] = []

    /// `truncate`: a fresh log (the file is replaced when the first record is written).
    /// `keepThroughStep`: resuming; records with a larger step (and a torn last line) move to a side file.
    public init(path: String, truncate: Bool, keepThroughStep: Int? = nil) throws {
        self.path = path
        startFresh = truncate
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw MetricsLogError.cannotOpen(path: path, reason: "it is a folder; pass a file path such as \(path)/metrics.jsonl")
        }
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty && !fm.fileExists(atPath: dir) {
            do { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            catch { throw MetricsLogError.cannotOpen(path: path, reason: "cannot create its folder \(dir)") }
        }
        if truncate {
            // Only check that the file can be written; the old content stays until the first new step.
            if let reason = RunFiles.probeWritable(path) { throw MetricsLogError.cannotOpen(path: path, reason: reason) }
            return
        }
        if let keep = keepThroughStep, fm.fileExists(atPath: path) { try trimForResume(keepThroughStep: keep) }
        try openForAppend(truncating: false)
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Append a record of any kind (thread-safe; see `append(_: StepRecord)` for the failure rules).
    public func append(_ entry: LogEntry) throws {
        var line = try entry.encoded(with: encoder)
        line.append(0x0A)
        try appendLine(line)
    }

    private func openForAppend(truncating: Bool) throws {
        let flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncating ? O_TRUNC : 0)
        fd = open(path, flags, 0o644)
        guard fd >= 0 else { throw MetricsLogError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
    }

    /// Resume: keep the lines up to `keep`, move later ones and a torn last line to a side file.
    private func trimForResume(keepThroughStep keep: Int) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MetricsLogError.cannotOpen(path: path, reason: "cannot read it")
        }
        let parsed = try MetricsLog.parse(data, path: path)
        var moved = parsed.lines.filter { $0.entry.step > keep }.map { $0.raw }
        if let torn = parsed.tornTail { moved.append(torn) }
        let endsWithNewline = data.last == 0x0A || data.isEmpty
        if moved.isEmpty {
            if !endsWithNewline {   // a whole last record without its newline: complete it before appending
                try openForAppend(truncating: false)
                var nl: UInt8 = 0x0A
                _ = write(fd, &nl, 1)
                close(fd); fd = -1
            }
            return
        }
        let side = MetricsLog.sideFileName(for: path, afterStep: keep)
        var sideData = Data()
        for m in moved { sideData.append(m); sideData.append(0x0A) }
        var keptData = Data()
        for l in parsed.lines where l.entry.step <= keep { keptData.append(l.raw); keptData.append(0x0A) }
        // Side file first: if the rewrite then fails, the lines exist twice, never zero times.
        do {
            try AtomicFile.write(sideData, to: side)
            try AtomicFile.write(keptData, to: path)
        } catch {
            throw MetricsLogError.cannotOpen(path: path, reason: "cannot set aside the lines after step \(keep): \(error)")
        }
        let steps = parsed.lines.compactMap { l -> Int? in if case let .step(r) = l.entry, r.step > keep { return r.step }; return nil }
        var what = steps.isEmpty ? "" : "\(steps.count) records of steps \(steps.min()!)-\(steps.max()!) (after the checkpoint's step \(keep))"
        let others = parsed.lines.filter { l in if case .step = l.entry { return false }; return l.entry.step > keep }
        if !others.isEmpty {
            let kinds = Set(others.map(\.entry.kind)).sorted().joined(separator: "/")
            what += (what.isEmpty ? "" : ", ") + "\(others.count) \(kinds) records of later steps"
        }
        if parsed.tornTail != nil { what += (what.isEmpty ? "" : " and ") + "a torn last line" }
        notices.append("\(path): moved \(what) to \(side), so the resumed run continues the log at step \(keep + 1)")
    }

    /// `<log>.after-step-<N>.jsonl`, or `...-2.jsonl`, `-3` ... if taken.
    static func sideFileName(for path: String, afterStep step: Int) -> String {
        let base = path.hasSuffix(".jsonl") ? String(path.dropLast(6)) : path
        var candidate = "\(base).after-step-\(step).jsonl"
        var n = 2
        while FileManager.default.fileExists(atPath: candidate) { candidate = "\(base).after-step-\(step)-\(n).jsonl"; n += 1 }
        return candidate
    }

    public func append(_ record: StepRecord) throws {
        var line = try encoder.encode(record)
        line.append(0x0A)
        try appendLine(line)
    }

    private func appendLine(_ line: Data) throws {
        writeLock.lock(); defer { writeLock.unlock() }
        if fd < 0 {
            do { try openForAppend(truncating: startFresh) } catch {
                throw MetricsLogError.writeFailed(path: path, reason: "\(error)")
            }
            startFresh = false
        }
        let before = lseek(fd, 0, SEEK_END)
        var failure: Int32 = 0
        line.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let w = write(fd, raw.baseAddress! + off, raw.count - off)
                if w <= 0 { failure = w < 0 ? errno : ENOSPC; break }
                off += w
            }
        }
        if failure != 0 {
            if before >= 0 { _ = ftruncate(fd, before) }   // no torn line from our own failure
            throw MetricsLogError.writeFailed(path: path, reason: String(cString: strerror(failure)))
        }
    }

    /// Every record of a log (empty if the file does not exist). A torn last line (a write cut short by a
    /// kill or a full disk) is skipped with a warning through `warn`; a bad line elsewhere is an error.
    /// Only the step records; see `readAll` for the other kinds.
    public static func read(_ path: String, warn: (String) -> Void = MetricsLog.warnOnStderr) throws -> [StepRecord] {
        try readAll(path, warn: warn).steps
    }

    /// Every record of a log by kind, in file order (the same rules as `read`).
    public static func readAll(_ path: String, warn: (String) -> Void = MetricsLog.warnOnStderr) throws -> LogContents {
        guard FileManager.default.fileExists(atPath: path) else { return LogContents() }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MetricsLogError.cannotOpen(path: path, reason: "cannot read it")
        }
        let parsed = try parse(data, path: path)
        if let torn = parsed.tornTail {
            warn("warning: \(path): skipped a torn last line (\(torn.count) bytes, cut off mid-write); the steps before it are intact")
        }
        var out = LogContents()
        for l in parsed.lines {
            switch l.entry {
            case let .step(r): out.steps.append(r)
            case let .validation(r): out.validation.append(r)
            case let .probe(r): out.probes.append(r)
            case .other: out.otherKinds += 1
            }
        }
        return out
    }

    public static func warnOnStderr(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

    struct Parsed {
        var lines: [(raw: Data, entry: LogEntry)]
        var tornTail: Data?
    }

    static func parse(_ data: Data, path: String) throws -> Parsed {
        let decoder = TrainingCheckpoint.jsonDecoder()
        var out = Parsed(lines: [], tornTail: nil)
        let rawLines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
        let last = rawLines.count - 1
        for (i, line) in rawLines.enumerated() {
            if line.isEmpty || line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
            do { out.lines.append((Data(line), try LogEntry.decode(Data(line), with: decoder))) }
            catch {
                // Only the last line, without a newline after it, can be a cut-off write.
                if i == last { out.tornTail = Data(line); continue }
                throw MetricsLogError.badLine(path: path, line: i + 1, reason: "\(error)")
            }
        }
        return out
    }
}
