import ArgumentParser
import Foundation
import KP2D
import TensorEngine
import Training
import Bench
import TUI

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the speed of the engine's hot paths (build with -c release; the BLAS core and CPU features in use are printed first).",
        discussion: "Sections run in the order listed by --list. Throughputs are compared with a plain square sgemm measured in the same run.")

    /// Every benchmark section, in run order. Add new sections (from any module) here.
    static let sections: [BenchSection] = [
        SgemmBenchSection(),
        ConvBenchSection(),
        ConvLayerOpsBenchSection(),
        WinogradBenchSection(),
        TrainStepBenchSection(),
        InferenceBenchSection(),
        HPatchesEvalBenchSection(root: TrainingFlags.sampleFolderIfPresent("hpatches")),
        RenderBenchSection(),
        WorkbenchTrainingBenchSection(dataPath: TrainingFlags.sampleFolderIfPresent("train")),
        ValidationBenchSection(dataPath: TrainingFlags.sampleFolderIfPresent("train"),
                               validationSet: TrainingFlags.sampleFolderIfPresent("heldout") ?? TrainingFlags.sampleFolderIfPresent("hpatches")),
        MPIBenchSection(executable: Bundle.main.executablePath ?? CommandLine.arguments[0],
                        dataPath: TrainingFlags.sampleFolderIfPresent("train")),
    ]

    @Option(name: .long, help: "Comma-separated section names to run (default: all).")
    var only: String = ""

    @Flag(name: .long, help: "Print one JSON object instead of tables.")
    var json = false

    @Flag(name: .long, help: "List the sections and exit.")
    var list = false

    @Option(name: .long, help: "Batch size.") var batch = 8
    @Option(name: .long, help: "Image height.") var height = 240
    @Option(name: .long, help: "Image width.") var width = 320
    @Option(name: .long, help: "Timed repetitions per measurement.") var repeats = 5
    @Option(name: .long, help: "Untimed warm-up runs per measurement.") var warmup = 1
    @Option(name: .long, help: "Side of the square sgemm ceiling problem.") var sgemmSize = 2048
    @Option(name: .long, help: "Conv tuning: floats per im2col chunk and worker (default \(ConvKernels.columnChunkFloats)).")
    var convChunk: Int?
    @Option(name: .long, help: "Conv tuning: largest weight count (Cout*Cin*k*k) that uses one worker per core (default \(ConvKernels.perCoreMaxWeights)).")
    var convPerCoreMaxWeights: Int?
    @Option(name: .long, help: "Conv A/B: smallest channel count that uses the Winograd forward; 0 turns it off (default \(WinogradKernels.minChannels)).")
    var convWinogradMinChannels: Int?
    @Option(name: .long, help: "Conv A/B: largest input channel count whose 3x3 convolutions use the direct kernel (no im2col); 0 turns it off (default \(DirectConvKernels.maxInputChannels)).")
    var convDirectMaxChannels: Int?

    func validate() throws {
        guard batch >= 1, height >= 8, width >= 8, repeats >= 1, warmup >= 0, sgemmSize >= 16 else {
            throw ValidationError("bench: need --batch >= 1, --height/--width >= 8, --repeats >= 1, --warmup >= 0, --sgemm-size >= 16")
        }
        // Three n x n float matrices for the sgemm ceiling; batch x 3 x H x W floats (and much more) for the model.
        do {
            try MemoryLimit.check(bytes: MemoryLimit.product([3, sgemmSize, sgemmSize, 4]), what: "--sgemm-size \(sgemmSize)",
                                  fix: "pass a smaller --sgemm-size (default 2048)")
            try MemoryLimit.check(bytes: MemoryLimit.product([batch, height, width, 4, 3 + 4 * 32]),
                                  what: "--batch \(batch) at \(height)x\(width)", fix: "pass a smaller --batch, --height or --width")
        } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        if list {
            for s in Self.sections { print("\(s.name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(s.abstract)") }
            return
        }
        if let c = convChunk { ConvKernels.columnChunkFloats = max(1, c) }
        if let m = convPerCoreMaxWeights { ConvKernels.perCoreMaxWeights = m }
        if let m = convWinogradMinChannels {
            WinogradKernels.enabled = m > 0
            WinogradKernels.minChannels = max(1, m)
        }
        if let m = convDirectMaxChannels {
            DirectConvKernels.enabled = m > 0
            DirectConvKernels.maxInputChannels = max(1, m)
        }
        var options = BenchOptions()
        options.batch = batch; options.height = height; options.width = width
        options.repeats = repeats; options.warmup = warmup; options.sgemmSize = sgemmSize
        let selected: [BenchSection]
        do { selected = try BenchRunner.select(Self.sections, only: only.split(separator: ",").map(String.init)) }
        catch { throw ValidationError("\(error)") }
        _ = try BenchRunner.run(selected, context: BenchContext(options: options), json: json)
    }
}
