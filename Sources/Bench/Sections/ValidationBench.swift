import Datasets
import Evaluation
import Foundation
import KP2D
import Training

/// `kp2d-tui bench --only validation`: what validation on the held-out set and the fixed probe batch cost a
/// training run at their default (adaptive) intervals, as a share of training time.
///
/// The real trainer trains the fast preset on the sample data (nothing written) while this thread does what
/// the monitors do (copy the weights between two steps, evaluate the copy), one kind at a time:
/// * r0: training steps/s with nothing else running (measured before and after, averaged);
/// * e, r_during: seconds of one evaluation and the training steps/s while it runs (the cores are shared);
/// * I: the default interval in steps the monitor would choose after it (`ValidationMonitor.nextStep`,
///   `ProbeMonitor.nextStep` at r0).
/// One cycle of I steps then takes e + (I - e r_during) / r0 seconds instead of I / r0: the overhead is the
/// extra time over I / r0 ("share of training time"), and e over the cycle is the evaluation's share of the wall
/// time (what the adaptive interval bounds: 5% for validation, 2% for the probe).
public struct ValidationBenchSection: BenchSection {
    public var dataPath: String?
    public var validationSet: String?
    /// Steps timed for r0 (each side).
    public var steps: Int
    public var probeRepeats: Int
    public init(dataPath: String?, validationSet: String?, steps: Int = 20, probeRepeats: Int = 5) {
        self.dataPath = dataPath; self.validationSet = validationSet; self.steps = steps; self.probeRepeats = probeRepeats
    }
    public var name: String { "validation" }
    public var abstract: String { "validation (held-out set) and probe-batch overhead as a share of training time at the default intervals (fast preset, sample data)" }

    public struct Cost: Sendable {
        public var seconds: Double
        public var stepsPerSecondDuring: Double
        public var intervalSteps: Int
        public var evalShareOfWall: Double
        public var overheadShare: Double
    }

    /// The cycle model above, from measured e, r_during, r0 and the interval I.
    public static func cost(seconds e: Double, during rd: Double, alone r0: Double, interval i: Int) -> Cost {
        let stepsDuring = Swift.min(Double(i), e * rd)
        let wall = e + (Double(i) - stepsDuring) / Swift.max(r0, 1e-9)
        let plain = Double(i) / Swift.max(r0, 1e-9)
        return Cost(seconds: e, stepsPerSecondDuring: rd, intervalSteps: i, evalShareOfWall: e / wall, overheadShare: wall / plain - 1)
    }

    public func run(_ context: BenchContext) throws -> BenchReport {
        guard let data = dataPath, let set = validationSet else {
            return BenchReport(section: name, notes: ["skipped: no sample-data/train or sample-data/heldout (run from the repository)"])
        }
        var o = TrainingOptions(preset: .fast, dataPath: data)
        o.checkpointPath = nil; o.logPath = nil; o.exportPath = nil
        let trainer = try Trainer(options: o)
        let dataset = try HPatchesDataset(root: set)
        let settings = HPatchesEvalSettings(width: o.width, height: o.height, topK: 300)
        let probe = ProbeMonitor(batch: try ProbeBatch.make(folder: trainer.folder, augmentation: o.augmentation, pairs: ProbeBatch.defaultPairs),
                                 config: o.model)
        trainer.start()
        defer { trainer.send(.quit); trainer.waitUntilFinished() }
        func step() -> Int { trainer.snapshot().status.step }
        func waitFor(_ s: Int) { while step() < s && !trainer.isFinished { Thread.sleep(forTimeInterval: 0.005) } }
        func now() -> Double { ProcessInfo.processInfo.systemUptime }
        func alone() -> Double {
            let s0 = step(); waitFor(s0 + 1)
            let a = step(), t0 = now()
            waitFor(a + steps)
            return Double(step() - a) / (now() - t0)
        }
        /// Run `body` while the trainer trains: its seconds and the training steps/s meanwhile.
        func during(_ body: () throws -> Void) rethrows -> (seconds: Double, rate: Double) {
            let s0 = step(), t0 = now()
            try body()
            let t = now() - t0
            return (t, Double(step() - s0) / t)
        }
        waitFor(3)   // warm-up: first batches, buffer pool
        let before = alone()
        // Validation: the monitor's work, once.
        let v = try during {
            let copy = try trainer.copyModelState()
            _ = try ValidationMonitor.evaluate(state: copy.state, step: copy.step, dataset: dataset, settings: settings, config: o.model)
        }
        // Probe: the monitor's work, `probeRepeats` times (median).
        var probeRuns: [(seconds: Double, rate: Double)] = []
        for _ in 0..<Swift.max(1, probeRepeats) {
            probeRuns.append(try during {
                let copy = try trainer.copyModelState()
                _ = try probe.evaluate(state: copy.state, step: copy.step, lossWeights: copy.lossWeights)
            })
        }
        let after = alone()
        let r0 = (before + after) / 2
        let p = probeRuns.sorted { $0.seconds < $1.seconds }[probeRuns.count / 2]
        let vi = ValidationMonitor.nextStep(after: 0, seconds: v.seconds, stepsPerSecond: r0, every: nil, budget: 0.05)
        let pi = ProbeMonitor.nextStep(after: 0, seconds: p.seconds, stepsPerSecond: r0, every: nil, budget: ProbeMonitor.defaultBudget)
        let vc = Self.cost(seconds: v.seconds, during: v.rate, alone: r0, interval: vi)
        let pc = Self.cost(seconds: p.seconds, during: p.rate, alone: r0, interval: pi)
        func row(_ what: String, _ detail: String, _ c: Cost) -> BenchRow {
            BenchRow([("what", .text(what)), ("detail", .text(detail)),
                      ("eval_s", .number(c.seconds, format: "%.2f")),
                      ("steps_per_s_during", .number(c.stepsPerSecondDuring, format: "%.2f")),
                      ("default_interval_steps", .number(Double(c.intervalSteps), format: "%.0f")),
                      ("eval_share_of_wall", .ratio(c.evalShareOfWall)),
                      ("overhead_share", .ratio(c.overheadShare))])
        }
        let rows = [
            row("validation", "\(dataset.pairs.count) pairs at \(o.height)x\(o.width) top 300", vc),
            row("probe", "\(probe.pairs) pairs, eval mode", pc),
        ]
        return BenchReport(section: name, rows: rows, summary: [
            ("steps_per_s_alone", .number(r0, format: "%.2f")),
            ("steps_per_s_alone_before_after", .text(String(format: "%.2f / %.2f", before, after))),
            ("validation_overhead_share", .ratio(vc.overheadShare)),
            ("probe_overhead_share", .ratio(pc.overheadShare)),
            ("both_overhead_share", .ratio(vc.overheadShare + pc.overheadShare)),
        ], notes: [
            "fast preset on \(data), batch \(o.batchSize); validation set \(set)",
            "overhead_share: extra wall time per training step over training alone, one evaluation every default_interval_steps (the evaluation runs beside training on the same cores: steps_per_s_during)",
            "eval_share_of_wall: evaluation seconds / cycle seconds (the adaptive interval aims at 0.05 for validation, 0.02 for the probe)",
        ])
    }
}
