import Foundation
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
        /// Seconds per step of the official PyTorch code on this case, if known.
        public var referenceSecondsPerStep: Double?

        public init(name: String, config: KeypointNetConfig, batch: Int, height: Int, width: Int,
                    referenceSecondsPerStep: Double? = nil) {
            self.name = name; self.config = config; self.batch = batch; self.height = height; self.width = width
            self.referenceSecondsPerStep = referenceSecondsPerStep
        }

        /// The paper setting: full widths, batch 8, 240x320 (official PyTorch on this machine: 7.9 s/step).
        public static let paper = Case(name: "paper b8 240x320", config: .paper, batch: 8, height: 240, width: 320,
                                       referenceSecondsPerStep: 7.9)
        /// Full widths, batch 2, 240x320 (official PyTorch: 1.46 s/step).
        public static let paperBatch2 = Case(name: "paper b2 240x320", config: .paper, batch: 2, height: 240, width: 320,
                                             referenceSecondsPerStep: 1.46)
    }

    public struct Result: Sendable {
        public var name: String
        public var steps: Int
        /// Median wall-clock seconds per step (forward, loss, backward, Adam).
        public var secondsPerStep: Double
        /// Means over the timed steps.
        public var timings: StepTimings
        public var optimizerSeconds: Double
        public var referenceSecondsPerStep: Double?
        public var lastTerms: LossTerms

        /// One line: "paper b8 240x320: 6.1 s/step (net 2.0, loss 0.05, backward 3.9, adam 0.1) vs 7.9 s reference".
        public var summary: String {
            var s = String(format: "%@: %.3f s/step (forward %.3f, loss %.3f, backward %.3f, adam %.3f)", name, secondsPerStep,
                           timings.networkForward, timings.loss, timings.backward, optimizerSeconds)
            if let r = referenceSecondsPerStep { s += String(format: " vs official PyTorch %.2f s (x%.2f)", r, r / secondsPerStep) }
            return s
        }
    }

    /// Peak resident set size of this process so far, in MiB (getrusage ru_maxrss).
    public static func peakResidentMegabytes() -> Double {
        var usage = rusage()
        guard getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 else { return .nan }
        return Double(usage.ru_maxrss) / 1024
    }

    /// Run `warmup` untimed and `steps` timed training steps of `benchCase`.
    public static func run(_ benchCase: Case, steps: Int = 3, warmup: Int = 1, seed: UInt64 = 1) -> Result {
        var rng = SeededRandom(seed: seed)
        let model = KP2DModel(config: benchCase.config, rng: &rng)
        let adam = Adam(groups: model.parameterGroups(lr: 1e-3))
        let (image, imageAug, homography) = syntheticPair(batch: benchCase.batch, height: benchCase.height,
                                                          width: benchCase.width, rng: &rng)
        let graph = Graph()
        var perStep: [Double] = []
        var timings = StepTimings()
        var optimizer = 0.0
        var terms = LossTerms()
        for step in 0..<(warmup + steps) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            adam.zeroGrad()
            let r = model.forwardBackward(image: image, imageAug: imageAug, homography: homography, weights: .official,
                                          graph: graph, training: true, rng: &rng)
            let t1 = DispatchTime.now().uptimeNanoseconds
            adam.update()
            let t2 = DispatchTime.now().uptimeNanoseconds
            guard step >= warmup else { continue }
            perStep.append(Double(t2 - t0) / 1e9)
            timings.networkForward += r.timings.networkForward / Double(steps)
            timings.loss += r.timings.loss / Double(steps)
            timings.backward += r.timings.backward / Double(steps)
            timings.diagnostics += r.timings.diagnostics / Double(steps)
            optimizer += Double(t2 - t1) / 1e9 / Double(steps)
            terms = r.terms
        }
        let sorted = perStep.sorted()
        let median = sorted.isEmpty ? .nan : sorted[sorted.count / 2]
        return Result(name: benchCase.name, steps: steps, secondsPerStep: median, timings: timings,
                      optimizerSeconds: optimizer, referenceSecondsPerStep: benchCase.referenceSecondsPerStep, lastTerms: terms)
    }

    /// Textured target images in [0,1] (sums of random sinusoids plus noise), random mild homographies
    /// (normalised source -> target) and the source images warped from the targets as the official
    /// augmentation does (bilinear grid_sample of the target at H * source grid).
    public static func syntheticPair(batch: Int, height: Int, width: Int, rng: inout SeededRandom)
        -> (image: Tensor, imageAug: Tensor, homography: Tensor) {
        let image = Tensor(shape: [batch, 3, height, width])
        let p = image.data
        for b in 0..<batch {
            var waves: [(Double, Double, Double, Double)] = []
            for _ in 0..<12 {
                waves.append((rng.uniform(0.02, 0.4), rng.uniform(0.02, 0.4), rng.uniform(0, 6.3), rng.uniform(0.2, 1)))
            }
            for c in 0..<3 {
                let tint = rng.uniform(0.7, 1.0)
                for y in 0..<height {
                    for x in 0..<width {
                        var v = 0.0
                        for (fx, fy, ph, a) in waves { v += a * sin(fx * Double(x) + fy * Double(y) + ph) }
                        v = 0.5 + 0.08 * v * tint + rng.uniform(-0.05, 0.05)
                        p[((b * 3 + c) * height + y) * width + x] = Float(Swift.min(1, Swift.max(0, v)))
                    }
                }
            }
        }
        let homography = Tensor(shape: [batch, 3, 3])
        for b in 0..<batch {
            let angle = rng.uniform(-0.3, 0.3), scale = rng.uniform(0.85, 1.15)
            let h: [Double] = [scale * cos(angle), -scale * sin(angle), rng.uniform(-0.1, 0.1),
                               scale * sin(angle), scale * cos(angle), rng.uniform(-0.1, 0.1),
                               rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1), 1]
            for i in 0..<9 { homography.data[b * 9 + i] = Float(h[i]) }
        }
        // Source pixel grid, normalised, warped by H: where each source pixel samples the target.
        let grid = Tensor(shape: [batch, height, width, 2])
        for b in 0..<batch {
            let m = (0..<9).map { homography.data[b * 9 + $0] }
            for y in 0..<height {
                for x in 0..<width {
                    let xn = Float(x) / (Float(width - 1) / 2) - 1, yn = Float(y) / (Float(height - 1) / 2) - 1
                    let w = m[6] * xn + m[7] * yn + m[8]
                    let o = ((b * height + y) * width + x) * 2
                    grid.data[o] = (m[0] * xn + m[1] * yn + m[2]) / w
                    grid.data[o + 1] = (m[3] * xn + m[4] * yn + m[5]) / w
                }
            }
        }
        let imageAug = Graph(recording: false).gridSample(Variable(image), grid: Variable(grid)).value
        return (image, imageAug, homography)
    }
}

/// `kp2d-tui bench --only trainstep`: full training steps of the paper model at --batch x --height x
/// --width (default 8 x 240 x 320) and at batch 2, with the official PyTorch times where known.
/// Timed steps = min(--repeats, 3) after --warmup untimed ones (a paper step takes seconds).
public struct TrainStepBenchSection: BenchSection {
    public var config: KeypointNetConfig
    public init(config: KeypointNetConfig = .paper) { self.config = config }
    public var name: String { "trainstep" }
    public var abstract: String { "full KP2D training steps (forward x2, losses + IO-Net, backward, Adam), paper widths, vs official PyTorch" }

    /// Official PyTorch seconds per step on this machine (paper widths).
    static func reference(batch: Int, height: Int, width: Int) -> Double? {
        guard height == 240 && width == 320 else { return nil }
        return [8: 7.9, 2: 1.46][batch]
    }

    public func run(_ context: BenchContext) throws -> BenchReport {
        let o = context.options
        guard o.height % 8 == 0, o.width % 8 == 0, (o.height / 8) * (o.width / 8) >= KP2DLoss.ioPointCount else {
            throw KP2DBenchError.badSize(height: o.height, width: o.width)
        }
        var rows: [BenchRow] = []
        var summary: [(key: String, value: BenchValue)] = []
        for batch in (o.batch == 2 ? [2] : [Swift.max(o.batch, 2), 2]) {
            let c = TrainStepBenchmark.Case(name: "b\(batch) \(o.height)x\(o.width)", config: config, batch: batch,
                                            height: o.height, width: o.width,
                                            referenceSecondsPerStep: TrainStepBenchSection.reference(batch: batch, height: o.height, width: o.width))
            let r = TrainStepBenchmark.run(c, steps: Swift.min(o.repeats, 3), warmup: o.warmup)
            let t = r.timings
            let lossShare = (t.loss + t.diagnostics) / r.secondsPerStep
            var row: [(key: String, value: BenchValue)] = [
                ("case", .text(c.name)),
                ("step_s", .number(r.secondsPerStep, format: "%.3f")),
                ("forward_s", .number(t.networkForward, format: "%.3f")),
                ("loss_s", .number(t.loss, format: "%.3f")),
                ("backward_s", .number(t.backward, format: "%.3f")),
                ("adam_s", .number(r.optimizerSeconds, format: "%.3f")),
                ("loss_share", .ratio(lossShare)),
                // Process peak resident set so far (getrusage ru_maxrss): the first case's value is its own peak.
                ("peak_rss_mb", .number(TrainStepBenchmark.peakResidentMegabytes(), format: "%.0f")),
            ]
            if let ref = c.referenceSecondsPerStep {
                row.append(("pytorch_s", .number(ref, format: "%.2f")))
                row.append(("speedup", .ratio(ref / r.secondsPerStep)))
                summary.append(("speedup_b\(batch)", .ratio(ref / r.secondsPerStep)))
            }
            rows.append(BenchRow(row))
        }
        return BenchReport(section: name, rows: rows, summary: summary,
                           notes: ["speedup = official PyTorch seconds per step / ours (> 1 is faster); loss_share includes the preview diagnostics; peak_rss_mb = process peak so far (the first case runs first)"])
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
