import Foundation
import Training

extension Workbench {
    /// Maximum frame rate of the event loop.
    public static let framesPerSecond = 12.0

    /// Run the interactive UI on the terminal until the user quits (it sends `.quit` before returning).
    /// Keys are read with a 30 ms timeout; a frame is drawn when the snapshot or the UI changed, at most
    /// 12 times a second, copying only changed cells. The terminal is restored on return and on fatal signals.
    /// Throws TerminalError (before touching the screen) when there is no usable terminal.
    public func run(source: SnapshotSource, send: @escaping (TrainerCommand) -> Void) throws {
        let term = try Terminal(forceMode: options.colorMode)
        defer { term.close() }
        // Quitting stops the browser's evaluation between two pairs: no detector work may outlive the UI (OpenBLAS
        // cannot shut down while another thread is inside it, and the process would hang at exit).
        defer { hpatches?.cancelEvaluation(timeout: 30) }
        setTerminalCapabilities(colorMode: term.colorMode, unicode: term.unicode)
        var lastVersion = -1
        var lastFrame = 0.0
        var dirty = true
        var lastSize = term.size
        var lastBrowserState = ""
        var messageShown = state.message
        var messageSince = ProcessInfo.processInfo.systemUptime
        while !finished {
            // Keys: wait up to 30 ms for the first, then drain whatever else is queued.
            var key = term.readKey(wait: true)
            var snapshot = source.latest()
            while let k = key {
                if k == .resize {
                    term.invalidate(); dirty = true
                } else {
                    handle(k, snapshot: snapshot, send: send)
                    dirty = true
                    snapshot = source.latest()
                }
                if finished { break }
                key = term.readKey(wait: false)
            }
            update(snapshot: snapshot, send: send)
            if finished { break }
            // Messages of the UI itself fade after 6 s.
            let now = ProcessInfo.processInfo.systemUptime
            if state.message != messageShown { messageShown = state.message; messageSince = now }
            if !state.message.isEmpty && now - messageSince > 6 { state.message = ""; messageShown = ""; dirty = true }
            // The browser works on its own thread: its progress and results redraw too (a paused trainer,
            // or `inspect` without one, publishes nothing new).
            let browserState = hpatches.map { "\($0.version) \($0.status)" } ?? ""
            if browserState != lastBrowserState { lastBrowserState = browserState; dirty = true }
            let size = term.size
            if size != lastSize { lastSize = size; term.invalidate(); dirty = true }
            if (dirty || snapshot.version != lastVersion) && now - lastFrame >= 1 / Workbench.framesPerSecond {
                term.present(render(snapshot: snapshot, width: size.width, height: size.height))
                lastFrame = now; lastVersion = snapshot.version; dirty = false
            }
        }
    }
}
