import Datasets
import Evaluation
import Foundation
import Geometry
import KP2D
import TensorEngine
import Training
import TUI

// A fake trainer for the demo command, tests and the render benchmark: synthetic but plausible losses
// (decaying, noisy, with one NaN step and two parameter changes), procedural images warped by a known
// homography, keypoints and matches. Thread-safe; obeys TrainerCommands like the real trainer.

public final class DemoTrainer: SnapshotSource {
    private let lock = NSLock()
    private var snap = TrainerSnapshot()
    private var lastTick: Double? = nil
    private var carry = 0.0
    /// Simulated steps per second while running.
    public var rate: Double
    private var rng: UInt64 = 0x9E3779B97F4A7C15
    private let baseSource: Image
    public private(set) var received: [TrainerCommand] = []

    public init(steps: Int = 0, rate: Double = 6, totalSteps: Int? = 50_000, running: Bool = true) {
        self.rate = rate
        baseSource = DemoTrainer.makeImage(width: 160, height: 120)
        snap.status.state = running ? .running : .paused
        snap.status.stepsPerEpoch = 1000
        snap.status.totalSteps = totalSteps
        snap.status.lr = 1e-3
        snap.status.lossWeights = .official2020   // the fast preset's weights (descriptor 2)
        snap.status.checkpointPath = "runs/demo/checkpoint.safetensors"
        snap.status.preset = "demo"
        snap.status.dataDescription = "synthetic pairs 160x120"
        advance(steps)
        if steps > 0 { snap.status.lastSavedStep = steps / 2 }
    }

    /// A snapshot with `steps` steps of history and a preview, for tests and benchmarks.
    public static func snapshot(steps: Int) -> TrainerSnapshot {
        DemoTrainer(steps: steps, running: true).latest(advancing: false)
    }

    public func latest() -> TrainerSnapshot { latest(advancing: true) }

    func latest(advancing: Bool) -> TrainerSnapshot {
        lock.lock(); defer { lock.unlock() }
        if advancing {
            let now = ProcessInfo.processInfo.systemUptime
            if let last = lastTick, snap.status.state == .running {
                carry += (now - last) * rate
                let n = Int(carry)
                carry -= Double(n)
                if n > 0 { advanceLocked(min(n, 1000)) }
            }
            lastTick = now
        }
        return snap
    }

    public func send(_ command: TrainerCommand) {
        lock.lock(); defer { lock.unlock() }
        received.append(command)
        let st = snap.status.step
        switch command {
        case .pause: if snap.status.state == .running { snap.status.state = .paused; snap.status.message = "paused at step \(st)" }
        case .resume: if snap.status.state == .paused { snap.status.state = .running; snap.status.message = "" }
        case .step: if snap.status.state == .paused { advanceLocked(1) }
        case .setLossWeights(let w):
            snap.status.lossWeights = w
            snap.changes.append(ParameterChange(step: st, lossWeights: w, lr: snap.status.lr, description: "weights α\(w.alpha) β\(w.beta) λ\(w.lambda) γ\(w.gamma)"))
        case .setLearningRate(let lr):
            snap.status.lr = lr
            snap.changes.append(ParameterChange(step: st, lossWeights: snap.status.lossWeights, lr: lr, description: "lr \(lr)"))
        case .save:
            snap.status.lastSavedStep = st; snap.status.message = "saved \(snap.status.checkpointPath) at step \(st)"
        case .quit: snap.status.state = .finished
        }
        snap.version += 1
    }

    /// Train `n` simulated steps.
    public func advance(_ n: Int) { lock.lock(); advanceLocked(n); lock.unlock() }

    private func noise() -> Float {
        rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17
        return Float(rng % 10_000) / 10_000 - 0.5
    }

    private func advanceLocked(_ n: Int) {
        for _ in 0..<n {
            let s = snap.status.step + 1
            let t = Float(s)
            var terms = LossTerms()
            terms.loc = 0.4 + 2.6 * expf(-t / 900) + 0.25 * noise()
            terms.desc = 0.15 + 1.2 * expf(-t / 1500) + 0.12 * noise()
            terms.usp = -0.3 + 0.8 * expf(-t / 600) + 0.1 * noise()
            terms.consistency = 0.05 + 0.3 * expf(-t / 2000) + 0.03 * noise()
            terms.io = 0.2 + 0.6 * expf(-t / 1200) + 0.08 * noise()
            if s % 37 == 0 { terms.io *= 3 }                 // spikes that downsampling must keep
            let w = snap.status.lossWeights
            terms.total = w.alpha * terms.loc + 2 * w.beta * terms.desc + w.lambda * (terms.usp + 2 * terms.consistency) + w.gamma * terms.io
            var skipped = false
            if s == 777 { terms.total = .nan; terms.loc = .nan; terms.flags = ["non-finite total"]; skipped = true }
            snap.status.step = s
            snap.status.epoch = s / max(1, snap.status.stepsPerEpoch)
            snap.status.elapsed += 1 / max(0.1, rate)
            snap.status.stepsPerSecond = rate
            snap.history.append(StepRecord(step: s, time: snap.status.elapsed, epoch: snap.status.epoch, terms: terms,
                                           lr: snap.status.lr, lossWeights: w, stepsPerSecond: rate, skipped: skipped))
            if s == 1500 { snap.status.lr = 5e-4; snap.changes.append(ParameterChange(step: s, lossWeights: w, lr: 5e-4, description: "lr 0.0005")) }
        }
        if n > 0 || snap.preview == nil { makePreview() }
        snap.version += 1
    }

    /// Procedural RGB image: smooth colour gradients, discs and a checkerboard (corners for keypoints).
    static func makeImage(width: Int, height: Int) -> Image {
        var img = Image(width: width, height: height, channels: 3)
        let plane = width * height
        for y in 0..<height {
            for x in 0..<width {
                let u = Float(x) / Float(width), v = Float(y) / Float(height)
                var r = 0.2 + 0.6 * u, g = 0.3 + 0.5 * v, b = 0.6 - 0.4 * u * v
                if ((x / 16) + (y / 16)) % 2 == 0 && x > width / 2 && y > height / 3 { r *= 0.3; g *= 0.3; b *= 0.3 }
                let dx = Float(x - width / 4), dy = Float(y - height / 2)
                if dx * dx + dy * dy < Float(width * width) / 64 { r = 0.95; g = 0.85; b = 0.2 }
                img.pixels[y * width + x] = r; img.pixels[plane + y * width + x] = g; img.pixels[2 * plane + y * width + x] = b
            }
        }
        return img
    }

    private func makePreview() {
        let src = baseSource
        let w = src.width, h = src.height, plane = w * h
        let phase = Double(snap.status.step % 200) / 200 * 2 * Double.pi
        // Source -> target: slight rotation, scale, shift and perspective.
        let a = 0.12 * sin(phase), s = 1.0 + 0.05 * cos(phase)
        let H = Homography([s * cos(a), -s * sin(a), 8, s * sin(a), s * cos(a), 4, 0.0004 * sin(phase), 0.0002, 1])
        let inv = H.inverse() ?? .identity
        var tgt = Image(width: w, height: h, channels: 3)
        for y in 0..<h {
            for x in 0..<w {
                guard let p = inv.applyIfVisible(Point2(Double(x), Double(y))) else { continue }
                let sx = Int(p.x.rounded()), sy = Int(p.y.rounded())
                guard sx >= 0, sy >= 0, sx < w, sy < h else { continue }
                for c in 0..<3 { tgt.pixels[c * plane + y * w + x] = src.pixels[c * plane + sy * w + sx] }
            }
        }
        var sk: [Keypoint] = [], tk: [Keypoint] = [], matches: [Match] = []
        for gy in stride(from: 48, to: h - 4, by: 16) {
            for gx in stride(from: 96, to: w - 4, by: 16) {
                let score = 0.3 + 0.7 * (noise() + 0.5)
                sk.append(Keypoint(x: Float(gx), y: Float(gy), score: score))
                if let q = H.applyIfVisible(Point2(Double(gx), Double(gy))), q.x >= 0, q.y >= 0, q.x < Double(w), q.y < Double(h) {
                    let wrong = noise() > 0.3
                    let jx = wrong ? Float(noise() * 40) : 0, jy = wrong ? Float(noise() * 30) : 0
                    tk.append(Keypoint(x: min(Float(w - 1), max(0, Float(q.x) + jx)), y: min(Float(h - 1), max(0, Float(q.y) + jy)), score: score))
                    matches.append(Match(source: sk.count - 1, target: tk.count - 1, correct: !wrong))
                }
            }
        }
        var stats = MatchStats()
        stats.keypoints = Double(sk.count); stats.matches = Double(matches.count)
        stats.correctMatches = Double(matches.filter(\.correct).count)
        stats.repeatability = 0.55 + 0.1 * Double(noise()); stats.localizationError = 1.1 + 0.2 * Double(noise())
        stats.descriptorRecall = 0.7; stats.ioPrecision = 0.8; stats.ioRecall = 0.75; stats.cornerError = 2.5
        snap.preview = PairPreview(step: snap.status.step,
                                   pair: JudgedPair(source: src, target: tgt, sourceKeypoints: sk, targetKeypoints: tk,
                                                    matches: matches, homography: H),
                                   stats: stats)
        var recent = stats
        recent.repeatability = 0.58; recent.localizationError = 1.05
        snap.recentStats = recent
    }
}

/// A fake HPatches source: a few synthetic sequences with deterministic metrics.
public final class DemoHPatches: HPatchesBrowserSource {
    public private(set) var version = 0
    public private(set) var status = "demo data: 6 synthetic sequences"
    public private(set) var evaluationRequests = 0
    let names = ["i_ajuntament", "i_boutique", "i_dome", "v_boat", "v_graffiti", "v_wall"]
    let image = DemoTrainer.makeImage(width: 160, height: 120)
    /// Moves every metric of sequence k by `shift` x (k % 3 - 1) quality steps: a second model for comparisons,
    /// better on some sequences, worse on others, the same on the rest.
    let shift: Double

    public init(shift: Double = 0) { self.shift = shift }

    func metrics(_ k: Int, pair: Int?) -> HPatchesBrowserMetrics {
        let base = Double((k * 7 + (pair ?? 2) * 3) % 10) / 10 + shift * Double(k % 3 - 1)
        return HPatchesBrowserMetrics(repeatability: 0.45 + 0.2 * base, localizationError: 0.9 + 0.6 * (1 - base),
                               cornerError: 1 + 6 * (1 - base), c1: 0.3 + 0.3 * base, c3: 0.6 + 0.3 * base,
                               c5: 0.7 + 0.25 * base, matchingScore: 0.35 + 0.2 * base)
    }

    public func sequences() -> [HPatchesBrowserSequence] {
        names.enumerated().map { HPatchesBrowserSequence(name: $0.element, metrics: metrics($0.offset, pair: nil)) }
    }

    public func pair(sequence: String, index: Int) -> HPatchesBrowserPair? {
        guard let k = names.firstIndex(of: sequence) else { return nil }
        let H = Homography([1, 0.05 * Double(index), 5, -0.03 * Double(index), 1, 3, 0, 0, 1])
        var sk: [Keypoint] = [], tk: [Keypoint] = [], m: [Match] = []
        for i in 0..<20 {
            let x = Float(10 + (i * 37) % 140), y = Float(10 + (i * 53) % 100)
            sk.append(Keypoint(x: x, y: y, score: Float(i) / 20))
            let q = H.apply(Point2(Double(x), Double(y)))
            tk.append(Keypoint(x: min(159, max(0, Float(q.x))), y: min(119, max(0, Float(q.y))), score: Float(i) / 20))
            m.append(Match(source: i, target: i, correct: i % 4 != 0))
        }
        return HPatchesBrowserPair(sequence: sequence, pairIndex: index,
                                   pair: JudgedPair(source: image, target: image, sourceKeypoints: sk, targetKeypoints: tk,
                                                    matches: m, homography: H),
                                   metrics: metrics(k, pair: index))
    }

    public func requestEvaluation() { evaluationRequests += 1; version += 1; status = "demo data re-evaluated (\(evaluationRequests))" }
}
