import Foundation
import TensorEngine

// The files of a training run (checkpoint, weights export, metrics log) before the run starts:
// * a fresh run never replaces an existing run's files unless asked (--overwrite), and suggests --resume;
// * the log is never the checkpoint itself;
// * every file can be written (checked by creating and removing a sibling temporary file), so a run that
//   cannot save stops at once instead of training for hours;
// * temporary files of an interrupted save (`<file>.tmp-<pid>-<uuid>`, written by AtomicFile, whose process
//   is gone) are removed, with a notice;
// * a resumed run logs beside the checkpoint it resumes (or to --log), never to the path stored inside it.

public enum RunFilesError: Error, CustomStringConvertible, Equatable {
    case exists(path: String, checkpoint: String)
    case sameFile(String)
    case unwritable(path: String, what: String, reason: String)

    public var description: String {
        switch self {
        case let .exists(p, c):
            return "\(p) exists: pass --resume \(c) to continue that run, or --overwrite to start a new one over it (or pick another --checkpoint)"
        case let .sameFile(s): return s
        case let .unwritable(p, what, r):
            return "\(p): the \(what) cannot be written (\(r)); pass another path or fix the folder"
        }
    }
}

public enum RunFiles {
    /// The files a run writes: checkpoint, export, log (those that are set).
    static func paths(_ o: TrainingOptions) -> [(what: String, path: String)] {
        var out: [(String, String)] = []
        if let c = o.checkpointPath { out.append(("checkpoint", c)) }
        if let e = o.resolvedExportPath { out.append(("weights export", e)) }
        if let l = o.logPath { out.append(("metrics log", l)) }
        return out
    }

    /// Absolute, symlink-resolved form of a path (of its folder when the file does not exist yet).
    static func canonical(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let dir = url.deletingLastPathComponent().resolvingSymlinksInPath()
        return dir.appendingPathComponent(url.lastPathComponent).resolvingSymlinksInPath().path
    }

    public static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        if stat(a, &sa) == 0, stat(b, &sb) == 0 { return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino }
        return canonical(a) == canonical(b)
    }

    /// Refuse paths that clash: the log or export being the checkpoint (or each other).
    public static func checkDistinct(_ o: TrainingOptions) throws {
        let p = paths(o)
        for i in p.indices { for j in p.indices where j > i && sameFile(p[i].path, p[j].path) {
            let flag = ["checkpoint": "--checkpoint", "weights export": "the weights export", "metrics log": "--log"]
            throw RunFilesError.sameFile("\(p[j].path): \(flag[p[j].what]!) is the same file as \(flag[p[i].what]!) (\(p[i].path)); pass another --log (default: metrics.jsonl beside the checkpoint)")
        } }
    }

    /// A fresh run (no --resume) whose checkpoint, export or log already exists: refuse unless `overwrite`.
    /// A resumed run that saves somewhere else (`--resume a/ck --checkpoint b/ck`) must not replace another
    /// existing checkpoint or export there either (its log is the resumed run's, appended to).
    public static func refuseExistingRun(_ o: TrainingOptions, overwrite: Bool) throws {
        guard !overwrite else { return }
        if let resume = o.resumePath {
            guard let c = o.checkpointPath, !sameFile(c, resume) else { return }
            for p in [c, o.resolvedExportPath].compactMap({ $0 }) where FileManager.default.fileExists(atPath: p) {
                throw RunFilesError.sameFile("\(p) exists and is not the checkpoint being resumed (\(resume)); pass another --checkpoint, or --overwrite to replace it")
            }
            return
        }
        for (_, p) in paths(o) {
            var st = stat()
            // An empty log (a run that never finished a step) holds nothing to lose.
            if lstat(p, &st) == 0, !(p == o.logPath && (st.st_mode & S_IFMT) == S_IFREG && st.st_size == 0) {
                throw RunFilesError.exists(path: p, checkpoint: o.checkpointPath ?? p)
            }
        }
    }

    /// nil if `path` can be written: not a folder, its folder exists (created if needed) and takes a new file.
    public static func probeWritable(_ path: String) -> String? {
        var isDir: ObjCBool = false
        let fm = FileManager.default
        if fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue { return "it is a folder; pass a file path" }
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty {
            if fm.fileExists(atPath: dir, isDirectory: &isDir) {
                if !isDir.boolValue { return "\(dir) is a file, not a folder" }
            } else {
                do { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) }
                catch { return "cannot create the folder \(dir)" }
            }
        }
        let probe = AtomicFile.temporaryName(for: path)
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return "cannot create a file in \(dir.isEmpty ? "." : dir): \(String(cString: strerror(errno)))" }
        close(fd)
        unlink(probe)
        if fm.fileExists(atPath: path), access(path, W_OK) != 0 { return "the file is read-only" }
        return nil
    }

    /// Every file of the run can be written (see probeWritable); throws naming the first that cannot.
    public static func checkWritable(_ o: TrainingOptions) throws {
        for (what, p) in paths(o) {
            if let r = probeWritable(p) { throw RunFilesError.unwritable(path: p, what: what, reason: r) }
        }
    }

    /// Remove temporaries left by an interrupted save of the run's files; one notice per file removed.
    public static func removeStaleTemporaries(_ o: TrainingOptions) -> [String] {
        var notices: [String] = []
        // The preview beside the checkpoint is written the same way (at every save): a SIGKILL mid-save can leave its temporary too.
        let preview = o.checkpointPath.map { [("training preview", PreviewFile.path(forCheckpoint: $0))] } ?? []
        for (_, p) in paths(o) + preview {
            for t in AtomicFile.staleTemporaries(of: p) {
                var st = stat()
                let size = stat(t, &st) == 0 ? Int(st.st_size) : 0
                if unlink(t) == 0 {
                    notices.append("removed \(t) (\(MemoryLimit.format(size)), left by an interrupted save of \((p as NSString).lastPathComponent))")
                }
            }
        }
        return notices
    }

    /// `base` if it holds no run (no checkpoint.safetensors, export or metrics.jsonl), else the first free
    /// `base-2`, `base-3`, ... (`overwrite`: `base` as is).
    public static func freeRunFolder(base: String, overwrite: Bool) -> String {
        if overwrite { return base }
        let names = ["checkpoint.safetensors", "checkpoint.keypointnet.safetensors", "metrics.jsonl"]
        func taken(_ d: String) -> Bool { names.contains { FileManager.default.fileExists(atPath: d + "/" + $0) } }
        var candidate = base, n = 2
        while taken(candidate) { candidate = "\(base)-\(n)"; n += 1 }
        return candidate
    }

    /// The log of a resumed run: `--log` if given, else beside the checkpoint being resumed, with the file
    /// name the run used (`metrics.jsonl` unless it had its own).
    public static func resumedLogPath(resume: String, given: String?, stored: String?) -> String {
        if let given { return given }
        let name = stored.map { ($0 as NSString).lastPathComponent } ?? "metrics.jsonl"
        let dir = (resume as NSString).deletingLastPathComponent
        return dir.isEmpty ? name : (dir as NSString).appendingPathComponent(name)
    }
}
