import Foundation
import ArgumentParser
import TensorEngine

@main
struct KP2DTUI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kp2d-tui",
        abstract: "A terminal workbench that trains and inspects KP2D (KeyPointNet + IO-Net) on the CPU.",
        discussion: "Without a subcommand, kp2d-tui opens the workbench and starts training on the bundled sample data; its options (--data, --hpatches, --weights, --preset, --headless, --once, ...) are listed by `kp2d-tui help workbench`.",
        version: versionText,
        subcommands: [
            WorkbenchCommand.self,
            SnapshotCommand.self,
            VerifyCommand.self,
            MakeSequencesCommand.self,
            PrepareImagesCommand.self,
            EvalCommand.self,
            InspectCommand.self,
            DetectCommand.self,
            LearningCurveCommand.self,
            BenchCommand.self,
        ],
        defaultSubcommand: WorkbenchCommand.self
    )

    /// Entry point: check that this CPU can run the engine's kernels (CPUCheck), choose OpenBLAS's kernels (may
    /// re-execute the process once, see BLASCore), then parse the command line.
    static func main() {
        CPUCheck.requireEngineExtensions()
        BLASCore.configureAtStartup()
        var command: ParsableCommand
        do { command = try parseAsRoot() } catch { exit(withError: error) }
        do {
            try command.run()
        } catch let error as ValidationError {
            // A flag check inside a subcommand's run() (after parsing): ArgumentParser would print the root's usage
            // ("kp2d-tui <subcommand>"); show the subcommand's own, as for a check made while parsing.
            let sub = type(of: command)
            let name = sub.configuration.commandName ?? String(describing: sub)
            FileHandle.standardError.write(Data("""
                Error: \(error.message)
                Usage: \(usageString(for: sub))
                  See 'kp2d-tui \(name) --help' for more information.

                """.utf8))
            Foundation.exit(ExitCode.validationFailure.rawValue)
        } catch {
            exit(withError: error)
        }
    }

    /// The release number (semantic versioning; raise it with every release, note it in the README).
    static let toolVersion = "0.5.0"

    /// `kp2d-tui --version`: the tool and its version, and the BLAS kernels and CPU features in use (diagnoses
    /// slow runs).
    static var versionText: String {
        "kp2d-tui \(toolVersion)\nBLAS: \(BLASCore.about)\nEngine compiled for: \(CPUCheck.summary)"
    }
}
