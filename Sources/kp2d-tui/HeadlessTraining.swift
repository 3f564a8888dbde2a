import ArgumentParser
import Dispatch
import Foundation
import KP2D
import Training

/// `kp2d-tui --headless` (`kp2d-tui train --headless`): training without the workbench, progress on stderr.
enum HeadlessTraining {
    /// `kp2d-tui train --headless` and `kp2d-tui --headless`: train, print progress to stderr, save at the end.
    static func run(_ flags: TrainingFlags, dataOverride: String? = nil, progressEvery: Int) throws {
        let options = try flags.makeOptions(dataOverride: dataOverride)
        let trainer = try flags.makeTrainer(options)
        let total = trainer.totalSteps
        let err = FileHandle.standardError
        func say(_ s: String) { err.write(Data((s + "\n").utf8)) }

        say("kp2d-tui train: \(options.preset.rawValue) preset, \(options.height)x\(options.width), batch \(options.batchSize), widths \(options.model.widthsDescription), lr \(options.learningRate), seed \(options.seed)\(flags.weights.map { ", initial weights \($0)" } ?? "")")
        say("data: \(trainer.folder.count) images in \(trainer.folder.root) (\(trainer.loader.stepsPerEpoch) steps per epoch)")
        say("checkpoint: \(options.checkpointPath ?? "none")\(options.resolvedExportPath.map { ", weights export: \($0)" } ?? ""); log: \(options.logPath ?? "none")")
        if options.resumePath != nil { say(trainer.snapshot().status.message) }
        let every = max(progressEvery, 1)
        trainer.onStep = { [unowned trainer] r in
            guard r.step % every == 0 || r.step == total || r.skipped else { return }
            let st = trainer.snapshot().status
            let t = r.terms
            let of = total.map { "/\($0)" } ?? ""
            say(String(format: "step %d%@ epoch %d  loss %.4f (loc %.3f desc %.4f usp %.4f cons %.4f io %.4f)  recall %.3f  inliers %d  lr %.2e  %.2f steps/s  data wait %.0f ms%@",
                       r.step, of, r.epoch, t.total, t.loc, t.desc, t.usp, t.consistency, t.io, t.recall, t.ioInliers,
                       r.lr, r.stepsPerSecond, st.dataWait * 1000, r.skipped ? "  SKIPPED" : ""))
        }
        trainer.onMessage = { m in if !m.hasPrefix("step ") { say(m) } }

        // Ctrl-C: ask the trainer to save and stop; a second Ctrl-C exits at once.
        signal(SIGINT, SIG_IGN)
        let interrupts = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        let count = InterruptCounter()
        interrupts.setEventHandler {
            if count.increment() == 1 {
                say("interrupted: finishing the step and writing a final checkpoint (Ctrl-C again to exit now)")
                trainer.send(.save)
                trainer.send(.quit)
            } else {
                Foundation.exit(130)
            }
        }
        interrupts.resume()

        for c in flags.resumeCommands(options) { trainer.send(c) }
        trainer.start()
        trainer.waitUntilFinished()
        interrupts.cancel()
        if case let .failed(reason) = trainer.snapshot().status.state {
            say("error: \(reason)")
            throw ExitCode(1)
        }
    }
}

/// Counts SIGINTs (the handler runs on a dispatch queue).
final class InterruptCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func increment() -> Int { lock.lock(); defer { lock.unlock() }; n += 1; return n }
}
