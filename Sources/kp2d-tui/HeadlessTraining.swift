import ArgumentParser
import Dispatch
import Foundation
import KP2D
import Training

/// `kp2d-tui --headless` (`kp2d-tui train --headless`): training without the workbench, progress on stderr.
enum HeadlessTraining {
    /// `kp2d-tui train --headless` and `kp2d-tui --headless`: train, print progress to stderr, save at the end.
    static func run(_ flags: TrainingFlags, dataOverride: String? = nil, progressEvery: Int, validation: ValidationFlags) throws {
        var flags = flags
        let launch = try DistributedLaunch.prepare(&flags)
        let options: TrainingOptions, trainer: Trainer
        do {
            options = try flags.makeOptions(dataOverride: dataOverride)
            trainer = try flags.makeTrainer(options, coordinator: launch.coordinator)
        } catch where launch.communicator != nil {
            throw CommandFailure(launch.prefix + "\(error)")
        }
        launch.cleanUp()
        let total = trainer.totalSteps
        let say: @Sendable (String) -> Void = { stderrLine($0) }
        if launch.isFollower {
            // The other ranks train quietly: rank 0 prints progress; they only report their own errors.
            let termination = launch.handleTermination(trainer: trainer)
            trainer.onMessage = { m in say(launch.prefix + m) }
            trainer.start()
            trainer.waitUntilFinished()
            termination?.cancel()
            if case let .failed(reason) = trainer.snapshot().status.state { say("error: \(reason)"); throw ExitCode(1) }
            launch.finish()
            return
        }

        if let comm = launch.communicator, comm.size > 1 {
            say("kp2d-tui train: \(comm.size) ranks (MPI) x batch \(options.batchSize) = global batch \(comm.size * options.batchSize); gradients averaged every step (\(trainer.model.parameterCount) parameters)")
        }
        say("kp2d-tui train: \(options.preset.rawValue) preset, \(options.height)x\(options.width), batch \(options.batchSize), widths \(options.model.widthsDescription), lr \(options.learningRate), seed \(options.seed)\(flags.weights.map { ", initial weights \($0)" } ?? "")")
        say("data: \(trainer.folder.count) images in \(trainer.folder.root) (\(trainer.loader.stepsPerEpoch) steps per epoch)")
        say("checkpoint: \(options.checkpointPath ?? "none")\(options.resolvedExportPath.map { ", weights export: \($0)" } ?? ""); log: \(options.logPath ?? "none")")
        for n in trainer.startNotices { say(n) }
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

        // Ctrl-C, SIGTERM, SIGHUP: ask the trainer to finish the step, save and stop; a second signal exits at once.
        let signals = StopSignals { name in
            say("\(name == "SIGINT" ? "interrupted" : "received \(name)"): finishing the step and writing a final checkpoint (send it again to exit now)")
            trainer.send(.save)
            trainer.send(.quit)
        }
        // Under mpirun, SIGTERM is the launcher stopping the job: the distributed handler takes it over.
        let termination = launch.handleTermination(trainer: trainer)

        let monitor = try validation.makeMonitor(options, byDefault: false)
        monitor?.onRecord = { r in
            say(String(format: "validation at step %d (%d pairs, %.1f s): Rep %.3f  LocErr %.2f  C1 %.3f  C3 %.3f  C5 %.3f  MScore %.3f",
                       r.step, r.pairs, r.seconds, r.repeatability, r.localizationError, r.c1, r.c3, r.c5, r.matchingScore))
        }
        if let monitor {
            say("validation: \(monitor.dataset.root) at \(options.height)x\(options.width), top 300, " +
                (monitor.every.map { "every \($0) steps" } ?? "adaptive (at most 5% of the wall time)") +
                (monitor.logPath.map { "; logged in \($0)" } ?? ""))
        }
        let probe = try validation.makeProbe(trainer, byDefault: false)
        probe?.onRecord = { r in
            let t = r.terms
            say(String(format: "probe at step %d (%d pairs, eval mode, %.1f s): loss %.4f (loc %.3f desc %.4f score %.4f io %.4f)  recall %.3f  inliers %d",
                       r.step, r.pairs, r.seconds, t.total, t.loc, t.desc, r.scoreLoss, t.io, t.recall, t.ioInliers))
        }
        if let probe {
            say("probe: \(probe.pairs) fixed training pairs, eval mode, " +
                (probe.every.map { "every \($0) steps" } ?? "adaptive (at most 2% of the wall time)") + (options.logPath.map { "; log: \($0)" } ?? ""))
        }
        for c in flags.resumeCommands(options) { trainer.send(c) }
        probe?.start(trainer: trainer)   // before the trainer: its first record is step 0
        trainer.start()
        monitor?.start(trainer: trainer)
        defer { monitor?.stop(); probe?.stop() }
        trainer.waitUntilFinished()
        signals.cancel()
        termination?.cancel()
        if case let .failed(reason) = trainer.snapshot().status.state {
            say("error: \(reason)")
            throw ExitCode(1)
        }
        launch.finish()
    }
}

