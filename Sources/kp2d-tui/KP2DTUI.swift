import ArgumentParser

@main
struct KP2DTUI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kp2d-tui",
        abstract: "A terminal workbench that trains and inspects KP2D (KeyPointNet + IO-Net) on the CPU.",
        subcommands: [
            VerifyCommand.self,
            MakeSequencesCommand.self,
            PrepareImagesCommand.self,
            EvalCommand.self,
            DetectCommand.self,
            TrainCommand.self,
            DemoUICommand.self,
            BenchCommand.self,
        ]
    )
}
