import Foundation
import KP2D
import TensorEngine

/// Inference time of KeypointNet at one input size.
public struct InferenceTiming: Sendable, Equatable, Codable {
    public var height: Int
    public var width: Int
    public var iterations: Int
    /// Median and fastest wall time of one eval-mode forward of one image, in milliseconds.
    public var medianMs: Double
    public var minMs: Double
}

public enum KeypointNetBenchmark {
    /// Time eval-mode inference (forward without recording, descriptors sampled and normalised) of one
    /// random image per size, after one warm-up run. `progress` receives a line per measured size.
    public static func run(config: KeypointNetConfig = .paper, sizes: [(height: Int, width: Int)] = [(240, 320), (480, 640)],
                           iterations: Int = 5, seed: UInt64 = 0,
                           progress: ((String) -> Void)? = nil) -> [InferenceTiming] {
        var rng = SeededRandom(seed: seed)
        let net = KeypointNet(config: config, rng: &rng)
        var results: [InferenceTiming] = []
        for (h, w) in sizes {
            let image = Tensor(shape: [1, config.inputChannels, h, w])
            for i in 0..<image.count { image.data[i] = Float(rng.uniform()) }
            let x = KeypointNet.normalize(image)
            _ = net.infer(x)   // warm-up
            var times: [Double] = []
            for _ in 0..<max(iterations, 1) {
                let t0 = DispatchTime.now().uptimeNanoseconds
                _ = net.infer(x)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            }
            times.sort()
            let t = InferenceTiming(height: h, width: w, iterations: times.count, medianMs: times[times.count / 2],
                                    minMs: times[0])
            results.append(t)
            progress?(String(format: "KeypointNet %@ eval %dx%d: median %.1f ms, min %.1f ms per image over %d runs",
                             config.widthsDescription, h, w, t.medianMs, t.minMs, t.iterations))
        }
        return results
    }
}

/// `kp2d-tui bench --only inference`: eval-mode KeypointNet per image at the paper's two evaluation sizes,
/// paper widths.
public struct InferenceBenchSection: BenchSection {
    public var config: KeypointNetConfig
    public init(config: KeypointNetConfig = .paper) { self.config = config }
    public var name: String { "inference" }
    public var abstract: String { "KeypointNet eval forward per image at 240x320 and 480x640, paper widths" }

    public func run(_ context: BenchContext) throws -> BenchReport {
        let timings = KeypointNetBenchmark.run(config: config, iterations: Swift.min(context.options.repeats, 5))
        var rows: [BenchRow] = []
        var summary: [(key: String, value: BenchValue)] = []
        for t in timings {
            let key = "\(t.height)x\(t.width)"
            rows.append(BenchRow([
                ("size", .text(key)), ("median_ms", .number(t.medianMs, format: "%.1f")),
                ("min_ms", .number(t.minMs, format: "%.1f")), ("runs", .number(Double(t.iterations), format: "%.0f")),
            ]))
            summary.append(("median_ms_\(key)", .number(t.medianMs, format: "%.1f")))
        }
        return BenchReport(section: name, rows: rows, summary: summary,
                           notes: ["widths \(config.widthsDescription)", BenchPeer.note])
    }
}
