import ArgumentParser
import Datasets
import Evaluation
import Foundation
import Training

/// Held-out validation while training (`ValidationMonitor`).
struct ValidationFlags: ParsableArguments {
    @Option(name: .customLong("validate-every"),
            help: "Evaluate the live weights on the held-out set every N steps (workbench default: as often as costs at most 5% of the wall time; --headless: only when given; 0: never).")
    var validateEvery: Int?

    @Option(name: .customLong("validation-set"),
            help: "HPatches-format folder for validation (default: sample-data/heldout, else sample-data/hpatches, if present).")
    var validationSet: String?

    func validate() throws {
        if let v = validateEvery, v < 0 { throw ValidationError("--validate-every must be >= 0 (0 turns validation off)") }
    }

    /// The monitor for a run with `options`, or nil when validation is off or there is no set to validate on.
    /// `byDefault` false (headless scripts): only when --validate-every is given.
    func makeMonitor(_ options: TrainingOptions, byDefault: Bool) throws -> ValidationMonitor? {
        if validateEvery == 0 || (validateEvery == nil && !byDefault) { return nil }
        guard let root = validationSet ?? TrainingFlags.sampleFolderIfPresent("heldout") ?? TrainingFlags.sampleFolderIfPresent("hpatches")
        else { return nil }
        let dataset = try HPatchesDataset(root: root)
        // At the training size: what the network is trained for, and cheap enough to run often.
        let settings = HPatchesEvalSettings(width: options.width, height: options.height, topK: 300)
        return ValidationMonitor(dataset: dataset, settings: settings, config: options.model, every: validateEvery,
                                 logPath: options.logPath.map { ValidationLog.path(besideLog: $0) })
    }
}
