import Dispatch
import Foundation

/// SIGINT (Ctrl-C), SIGTERM (job schedulers, `timeout`, `kill`) and SIGHUP (a closed terminal or SSH session)
/// all mean "stop, but keep my work": the first one calls `onFirst` (which asks the trainer to finish its
/// step, save and quit); a second one exits at once (the last checkpoint on disk is intact: saves are atomic).
/// SIGPIPE is ignored so a closed output pipe gives a write error instead of killing an unsaved run.
final class StopSignals: @unchecked Sendable {
    static let handled: [(Int32, String)] = [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP")]
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var count = 0
    private var first: String?

    /// The name of the first signal received, if any.
    var received: String? { lock.lock(); defer { lock.unlock() }; return first }

    init(onFirst: @escaping @Sendable (String) -> Void) {
        signal(SIGPIPE, SIG_IGN)
        for (sig, name) in StopSignals.handled {
            signal(sig, SIG_IGN)   // delivered to the dispatch source instead
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                self.lock.lock()
                self.count += 1
                let n = self.count
                if self.first == nil { self.first = name }
                self.lock.unlock()
                if n == 1 { onFirst(name) } else { Foundation.exit(128 + sig) }
            }
            source.resume()
            sources.append(source)
        }
    }

    func cancel() { for s in sources { s.cancel() } }
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
