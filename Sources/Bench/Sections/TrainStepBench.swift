import Datasets
import Foundation
import KP2D
import NN
import TensorEngine

/// Times full training steps (two KeypointNet forwards, the loss with IO-Net, backward, Adam) on
/// synthetic textured pairs, for `kp2d-tui bench`.
public enum TrainStepBenchmark {
    public struct Case: Sendable {
        public var name: String
        public var config: KeypointNetConfig
        public var batch: Int
        public var height: Int
        public var width: Int

        public init(name: String, config: KeypointNetConfig, batch: Int, height: Int, width: Int) {
            self.name = name; self.config = config; self.batch = batch; self.height = height; self.width = width
        }
    }

    public struct Result: Sendable {
        public var name: String
        public var steps: Int
        /// Median wall-clock seconds per step (forward, loss, backward, Adam).
        public var secondsPerStep: Double
        /// Means over the timed steps.
        public var timings: StepTimings
        public var optimizerSeconds: Double
        public var lastTerms: LossTerms
    }

    /// Run `warmup` untimed and `steps` timed training steps of `benchCase`.
    public static func run(_ benchCase: Case, steps: Int = 3, warmup: Int = 1, seed: UInt64 = 1) -> Result {
        var rng = SeededRandom(seed: seed)
        let model = KP2DModel(config: benchCase.config, rng: &rng)
        let adam = Adam(groups: model.parameterGroups(lr: 1e-3))
        let (image, imageAug, homography) = SyntheticPairs.batch(benchCase.batch, height: benchCase.height,
                                                                 width: benchCase.width, rng: &rng)
        let graph = Graph()
        var perStep: [Double] = []
        var timings = StepTimings()
        var optimizer = 0.0
        var terms = LossTerms()
        for step in 0..<(warmup + steps) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            adam.zeroGrad()
            let r = model.forwardBackward(image: image, imageAug: imageAug, homography: homography, lossWeights: .official,
                                          graph: graph, training: true)
            let t1 = DispatchTime.now().uptimeNanoseconds
            adam.update()
            let t2 = DispatchTime.now().uptimeNanoseconds
            guard step >= warmup else { continue }
            perStep.append(Double(t2 - t0) / 1e9)
            timings.networkForward += r.timings.networkForward / Double(steps)
            timings.loss += r.timings.loss / Double(steps)
            timings.backward += r.timings.backward / Double(steps)
            optimizer += Double(t2 - t1) / 1e9 / Double(steps)
            terms = r.terms
        }
        let sorted = perStep.sorted()
        let median = sorted.isEmpty ? .nan : sorted[sorted.count / 2]
        return Result(name: benchCase.name, steps: steps, secondsPerStep: median, timings: timings,
                      optimizerSeconds: optimizer, lastTerms: terms)
    }
}

/// `kp2d-tui bench --only trainstep`: full training steps of the paper model at --batch x --height x
/// --width (default 8 x 240 x 320) and at batch 2.
/// Timed steps = min(--repeats, 3) after --warmup untimed ones (a paper step takes seconds).
public struct TrainStepBenchSection: BenchSection {
    public var config: KeypointNetConfig
    public init(config: KeypointNetConfig = .paper) { self.config = config }
    public var name: String { "trainstep" }
    public var abstract: String { "full KP2D training steps (forward x2, losses + IO-Net, backward, Adam), paper widths" }

    public func run(_ context: BenchContext) throws -> BenchReport {
        let o = context.options
        guard o.height % 8 == 0, o.width % 8 == 0, (o.height / 8) * (o.width / 8) >= KP2DLoss.ioPointCount else {
            throw KP2DBenchError.badSize(height: o.height, width: o.width)
        }
        var rows: [BenchRow] = []
        var summary: [(key: String, value: BenchValue)] = []
        for batch in (o.batch == 2 ? [2] : [Swift.max(o.batch, 2), 2]) {
            let c = TrainStepBenchmark.Case(name: "b\(batch) \(o.height)x\(o.width)", config: config, batch: batch,
                                            height: o.height, width: o.width)
            let r = TrainStepBenchmark.run(c, steps: Swift.min(o.repeats, 3), warmup: o.warmup)
            let t = r.timings
            let lossShare = t.loss / r.secondsPerStep
            let row: [(key: String, value: BenchValue)] = [
                ("case", .text(c.name)),
                ("step_s", .number(r.secondsPerStep, format: "%.3f")),
                ("forward_s", .number(t.networkForward, format: "%.3f")),
                ("loss_s", .number(t.loss, format: "%.3f")),
                ("backward_s", .number(t.backward, format: "%.3f")),
                ("adam_s", .number(r.optimizerSeconds, format: "%.3f")),
                ("loss_share", .ratio(lossShare)),
            ]
            summary.append(("step_s_b\(batch)", .number(r.secondsPerStep, format: "%.3f")))
            rows.append(BenchRow(row))
        }
        return BenchReport(section: name, rows: rows, summary: summary,
                           notes: [BenchPeer.note])
    }
}

public enum KP2DBenchError: Error, CustomStringConvertible {
    case badSize(height: Int, width: Int)
    public var description: String {
        switch self {
        case let .badSize(h, w):
            return "bench trainstep: \(h)x\(w) is not usable; --height and --width must be multiples of 8 with (H/8)*(W/8) >= 300 (e.g. 240x320)"
        }
    }
}
