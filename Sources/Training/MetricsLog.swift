import Foundation
import TensorEngine

// The JSON-lines metrics log: one StepRecord per line, appended and handed to the OS after every step
// (so `tail -f` and a crash both see every finished step). A resumed run appends; records beyond the
// resumed step (trained after the last checkpoint, then lost) are dropped first so steps stay unique.

public enum MetricsLogError: Error, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case badLine(path: String, line: Int, reason: String)
    public var description: String {
        switch self {
        case let .cannotOpen(p, r): return "\(p): cannot open the metrics log (\(r)); check the folder exists and is writable"
        case let .badLine(p, l, r): return "\(p):\(l): not a metrics record (\(r)); pass another --log file"
        }
    }
}

public final class MetricsLog {
    public let path: String
    private let handle: FileHandle
    private let encoder = TrainingCheckpoint.jsonEncoder()

    /// Open for appending. `truncate`: start an empty log. `keepThroughStep`: drop records with a larger step.
    public init(path: String, truncate: Bool, keepThroughStep: Int? = nil) throws {
        self.path = path
        let fm = FileManager.default
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty && !fm.fileExists(atPath: dir) {
            do { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            catch { throw MetricsLogError.cannotOpen(path: path, reason: "\(error.localizedDescription)") }
        }
        if truncate || !fm.fileExists(atPath: path) {
            guard fm.createFile(atPath: path, contents: nil) else { throw MetricsLogError.cannotOpen(path: path, reason: "cannot create the file") }
        } else if let keep = keepThroughStep {
            let records = try MetricsLog.read(path)
            if records.contains(where: { $0.step > keep }) {
                let kept = records.filter { $0.step <= keep }
                var data = Data()
                for r in kept { data.append(try encoder.encode(r)); data.append(0x0A) }
                try AtomicFile.write(data, to: path)
            }
        }
        guard let h = FileHandle(forWritingAtPath: path) else { throw MetricsLogError.cannotOpen(path: path, reason: "not writable") }
        handle = h
        handle.seekToEndOfFile()
    }

    deinit { try? handle.close() }

    public func append(_ record: StepRecord) throws {
        var line = try encoder.encode(record)
        line.append(0x0A)
        try handle.write(contentsOf: line)
    }

    /// Every record of a log (empty if the file does not exist).
    public static func read(_ path: String) throws -> [StepRecord] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let decoder = TrainingCheckpoint.jsonDecoder()
        var out: [StepRecord] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            do { out.append(try decoder.decode(StepRecord.self, from: Data(line.utf8))) }
            catch { throw MetricsLogError.badLine(path: path, line: i + 1, reason: "\(error)") }
        }
        return out
    }
}
