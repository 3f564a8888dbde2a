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

    @Option(name: .customLong("probe-pairs"),
            help: "Pairs of the fixed probe batch (training pairs drawn once from a fixed seed, evaluated in eval mode with the live weights; default \(ProbeBatch.defaultPairs); 0: no probe).")
    var probePairs: Int?

    @Option(name: .customLong("probe-every"),
            help: "Evaluate the probe batch every N steps (workbench default: as often as costs at most 2% of the wall time, at least every 10 steps; --headless: only when this or --probe-pairs is given; 0: never).")
    var probeEvery: Int?

    func validate() throws {
        if let v = validateEvery, v < 0 { throw ValidationError("--validate-every must be >= 0 (0 turns validation off)") }
        if let p = probePairs, p < 0 || p > 256 { throw ValidationError("--probe-pairs \(p): must be 0 (no probe) to 256") }
        if let p = probeEvery, p < 0 { throw ValidationError("--probe-every must be >= 0 (0 turns the probe off)") }
    }

    /// The probe monitor for `trainer`, or nil when the probe is off. `byDefault` false (headless scripts): only
    /// when --probe-pairs or --probe-every is given.
    func makeProbe(_ trainer: Trainer, byDefault: Bool) throws -> ProbeMonitor? {
        if probePairs == 0 || probeEvery == 0 || (probePairs == nil && probeEvery == nil && !byDefault) { return nil }
        let o = trainer.options
        let batch: TrainingBatch
        do { batch = try ProbeBatch.make(folder: trainer.folder, augmentation: o.augmentation, pairs: probePairs ?? ProbeBatch.defaultPairs) }
        catch { throw CommandFailure("probe batch: \(error); pass --probe-pairs 0 to train without it") }
        // A resumed run keeps its probe curve (its log's records up to the resumed step; later ones were set aside).
        let previous = o.logPath.map { (try? MetricsLog.readAll($0, warn: { _ in }).probes) ?? [] } ?? []
        return ProbeMonitor(batch: batch, config: o.model, every: probeEvery, previous: previous.filter { $0.step <= trainer.snapshot().status.step },
                            ioPoints: o.effectiveIOPoints)
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
                                 logPath: options.logPath)
    }
}
