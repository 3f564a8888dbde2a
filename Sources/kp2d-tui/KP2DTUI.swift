import ArgumentParser

@main
struct KP2DTUI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kp2d-tui",
        abstract: "A terminal workbench that trains and inspects KP2D (KeyPointNet + IO-Net) on the CPU.",
        discussion: "Without a subcommand, kp2d-tui opens the workbench and starts training on the bundled sample data; its options (--data, --hpatches, --weights, --preset, --headless, --once, ...) are listed by `kp2d-tui help workbench`.",
        subcommands: [
            WorkbenchCommand.self,
            SnapshotCommand.self,
            VerifyCommand.self,
            MakeSequencesCommand.self,
            PrepareImagesCommand.self,
            EvalCommand.self,
            InspectCommand.self,
            DetectCommand.self,
            BenchCommand.self,
        ],
        defaultSubcommand: WorkbenchCommand.self
    )
}
