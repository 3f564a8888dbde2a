import Foundation
import TensorEngine

/// SIGINT (Ctrl-C), SIGTERM (job schedulers, `timeout`, `kill`) and SIGHUP (a closed terminal or SSH session)
/// all mean "stop, but keep my work": the first one calls `onFirst` (which asks the trainer to finish its
/// step, save and quit); a second one exits at once (the last checkpoint on disk is intact: saves are atomic).
/// SIGPIPE is ignored so a closed output pipe gives a write error instead of killing an unsaved run.
///
/// A real handler (not a DispatchSource: on Linux those only see the signal when the thread it lands on
/// blocks it, and the trainer's threads do not) writes the signal number to a pipe; a watcher thread reads
/// it. The terminal layer leaves signals that already have a handler alone (CNcurses/shim.h).
final class StopSignals: @unchecked Sendable {
    static let handled: [(Int32, String)] = [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP")]
    private let lock = NSLock()
    private var count = 0
    private var first: String?
    private var cancelled = false

    /// The name of the first signal received, if any.
    var received: String? { lock.lock(); defer { lock.unlock() }; return first }

    init(onFirst: @escaping @Sendable (String) -> Void) {
        signal(SIGPIPE, SIG_IGN)
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }
        _ = fcntl(fds[1], F_SETFL, O_NONBLOCK)
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        stopSignalPipe = fds[1]
        let reader = fds[0]
        NamedThread.start("kp2d.signals") { [self] in
            var b: UInt8 = 0
            while read(reader, &b, 1) == 1 {
                let sig = Int32(b)
                let name = StopSignals.handled.first { $0.0 == sig }?.1 ?? "signal \(sig)"
                lock.lock()
                if cancelled { lock.unlock(); continue }
                count += 1
                let n = count
                if first == nil { first = name }
                lock.unlock()
                if n == 1 { onFirst(name) } else { Foundation.exit(128 + sig) }
            }
        }
        for (sig, _) in StopSignals.handled { signal(sig, stopSignalHandler) }
    }

    /// Stop reacting (the run is over); the handlers stay so a late signal cannot kill a process that is
    /// printing its last lines.
    func cancel() { lock.lock(); cancelled = true; lock.unlock() }
}

/// Write end of the StopSignals pipe (set once, before the handlers are installed).
nonisolated(unsafe) private var stopSignalPipe: Int32 = -1

/// Async-signal-safe: one write(2) of the signal number.
private let stopSignalHandler: @convention(c) (Int32) -> Void = { sig in
    var b = UInt8(truncatingIfNeeded: sig)
    _ = write(stopSignalPipe, &b, 1)
}

/// Write a line to stderr without Foundation's FileHandle (which traps on EIO after a hang-up).
func stderrLine(_ s: String) {
    let bytes = Array((s + "\n").utf8)
    bytes.withUnsafeBytes { raw in
        var off = 0
        while off < raw.count {
            let w = write(2, raw.baseAddress! + off, raw.count - off)
            if w <= 0 { return }
            off += w
        }
    }
}
