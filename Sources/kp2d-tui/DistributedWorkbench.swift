import ArgumentParser
import Foundation
import Training
import TUI

extension WorkbenchCommand {
    /// `mpirun -np N kp2d-tui ...`, rank 0: the workbench on the launching terminal, steering every rank
    /// (its commands reach the other ranks at the next step boundary).
    static func interactiveRank0(_ training: TrainingFlags, dataOverride: String?, hpatches: String?, screen: ScreenFlags,
                                 validation: ValidationFlags) throws {
        var training = training
        let launch = try DistributedLaunch.prepare(&training)
        launch.attachTerminalForWorkbench()
        let o: TrainingOptions, trainer: Trainer
        do {
            o = try training.makeOptions(dataOverride: dataOverride)
            trainer = try training.makeTrainer(o, coordinator: launch.coordinator)
        } catch {
            throw CommandFailure(launch.prefix + "\(error)")
        }
        // The other ranks wait for rank 0's start-up state: start training before any check can fail.
        let termination = launch.handleTermination(trainer: trainer)
        for c in training.resumeCommands(o) { trainer.send(c) }
        trainer.start()
        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
            trainer.send(.quit); trainer.waitUntilFinished()
            throw CommandFailure("rank 0 found no terminal for the workbench (no /dev/tty): use `mpirun ... kp2d-tui train --headless`")
        }
        let browser = try? makeBrowser(trainer: trainer, hpatches: hpatches)
        // Validation copies rank 0's live weights between steps, like the browser.
        let monitor = try? validation.makeMonitor(o, byDefault: true)
        monitor?.start(trainer: trainer)
        let probe = try? validation.makeProbe(trainer, byDefault: true)
        probe?.start(trainer: trainer)
        defer { monitor?.stop(); probe?.stop() }
        let pictures = o.checkpointPath.map { (($0 as NSString).deletingLastPathComponent as NSString).appendingPathComponent("pictures") }
        let wb = Workbench(options: WorkbenchOptions(themeName: screen.theme, ascii: screen.ascii, compareRun: try? screen.comparisonRun(),
                                                     picturesDirectory: pictures ?? "kp2d-pictures"),
                           hpatches: browser ?? nil)
        wb.validation = monitor
        wb.probe = probe
        do { try wb.run(source: trainer, send: trainer.send) } catch { trainer.send(.quit); trainer.waitUntilFinished(); throw error }
        trainer.waitUntilFinished()
        termination?.cancel()
        let status = trainer.snapshot().status
        if case let .failed(reason) = status.state {
            FileHandle.standardError.write(Data("error: \(reason)\n".utf8))
            throw ExitCode(1)
        }
        launch.finish()
        print("stopped at step \(status.step)" + (status.lastSavedStep.map { ", last checkpoint at step \($0): \(status.checkpointPath)" } ?? ""))
    }
}
