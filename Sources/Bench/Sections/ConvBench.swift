import Foundation
import TensorEngine

// Bench sections of the tensor engine: the plain-sgemm ceiling, and the KeyPointNet convolutions
// (forward and backward through ConvKernels) at the training resolution.

/// The square cblas_sgemm that every other throughput is compared with.
public struct SgemmBenchSection: BenchSection {
    public init() {}
    public var name: String { "sgemm" }
    public var abstract: String { "plain square cblas_sgemm GFLOP/s: the ceiling" }

    public func run(_ context: BenchContext) throws -> BenchReport {
        let (t, gflops) = context.sgemmCeiling()
        let n = context.options.sgemmSize
        return BenchReport(section: name, rows: [BenchRow([
            ("problem", .text("\(n)x\(n)x\(n)")),
            ("best_ms", .ms(t.best)), ("median_ms", .ms(t.median)), ("gflops", .gflops(gflops)),
        ])], summary: [("ceiling_gflops", .gflops(gflops))])
    }
}

/// The 3x3 convolutions of KeyPointNet (paper widths) at batch x height x width.
public struct ConvBenchSection: BenchSection {
    public struct Layer: Sendable {
        public var label: String
        public var cin, cout: Int
        /// Resolution divisor: 1 full, 2 half, ...
        public var scale: Int
        public var kernel: Int = 3
        /// False for the first layer: training never needs the gradient of the input image, so
        /// its backward is dW only (one pass).
        public var inputGradient: Bool = true
    }

    public static let keyPointNetLayers: [Layer] = [
        Layer(label: "conv1a 3->32 @1", cin: 3, cout: 32, scale: 1, inputGradient: false),
        Layer(label: "conv1b 32->32 @1", cin: 32, cout: 32, scale: 1),
        Layer(label: "conv2 64->64 @1/2", cin: 64, cout: 64, scale: 2),
        Layer(label: "conv3 128->128 @1/4", cin: 128, cout: 128, scale: 4),
        Layer(label: "conv4 256->256 @1/8", cin: 256, cout: 256, scale: 8),
        Layer(label: "descF 256->256 @1/4", cin: 256, cout: 256, scale: 4),
        Layer(label: "descF 256->512 @1/8", cin: 256, cout: 512, scale: 8),
    ]

    public var layers: [Layer]
    /// A layer counts as big (for the summary ratio) when Cin*k*k is at least this.
    public var bigK = 576

    public init(layers: [Layer] = ConvBenchSection.keyPointNetLayers) { self.layers = layers }
    public var name: String { "conv" }
    public var abstract: String { "KeyPointNet 3x3 convolutions, forward and backward (dx and dW), GFLOP/s vs the sgemm ceiling" }

    public func run(_ context: BenchContext) throws -> BenchReport {
        let o = context.options
        var rows: [BenchRow] = []
        // Totals: flops, seconds, and seconds x local ceiling (the flops the ceiling sgemm would have done).
        var big = (flops: 0.0, time: 0.0, ceilingWork: 0.0), all = (flops: 0.0, time: 0.0, ceilingWork: 0.0)
        var bestCeiling = 0.0
        for l in layers {
            let s = Conv2dShape(n: o.batch, cin: l.cin, h: o.height / l.scale, w: o.width / l.scale,
                                cout: l.cout, kh: l.kernel, kw: l.kernel, pad: l.kernel / 2)
            let x = Tensor(shape: [s.n, s.cin, s.h, s.w]), w = Tensor(shape: [s.cout, s.cin, s.kh, s.kw])
            let y = Tensor(shape: [s.n, s.cout, s.ho, s.wo]), dy = Tensor(shape: y.shape)
            let dx = l.inputGradient ? Tensor(shape: x.shape) : nil, dw = Tensor(shape: w.shape)
            var rng = SeededRandom(seed: 7)
            for i in 0..<x.count { x.data[i] = Float(rng.uniform(-1, 1)) }
            for i in 0..<w.count { w.data[i] = Float(rng.uniform(-0.1, 0.1)) }
            for i in 0..<dy.count { dy.data[i] = Float(rng.uniform(-1, 1)) }
            let t = context.measureInterleaved([
                { context.runCeilingSgemm() },
                { ConvKernels.forward(y.data, x.data, w.data, nil, s) },
                { ConvKernels.backward(dx?.data, dw.data, nil, dy.data, x.data, w.data, s) },
            ])
            let (sg, fwd, bwd) = (t[0], t[1], t[2])
            let ceiling = context.sgemmFlops / sg.best / 1e9
            bestCeiling = max(bestCeiling, ceiling)
            let f = s.flops, passes: Double = l.inputGradient ? 2 : 1
            let fwdG = f / fwd.best / 1e9, bwdG = passes * f / bwd.best / 1e9
            let fb = (flops: (1 + passes) * f, time: fwd.best + bwd.best)
            let fbG = fb.flops / fb.time / 1e9
            all.flops += fb.flops; all.time += fb.time; all.ceilingWork += fb.time * ceiling * 1e9
            if s.k >= bigK { big.flops += fb.flops; big.time += fb.time; big.ceilingWork += fb.time * ceiling * 1e9 }
            rows.append(BenchRow([
                ("layer", .text(l.label)),
                ("shape", .text("\(s.n)x\(s.cin)x\(s.h)x\(s.w)->\(s.cout)")),
                ("gflop", .number(f / 1e9, format: "%.2f")),
                ("fwd_ms", .ms(fwd.best)), ("fwd_med_ms", .ms(fwd.median)),
                ("bwd_ms", .ms(bwd.best)), ("bwd_med_ms", .ms(bwd.median)), ("bwd_passes", .number(passes, format: "%.0f")),
                ("fwd_gflops", .gflops(fwdG)), ("bwd_gflops", .gflops(bwdG)), ("fb_gflops", .gflops(fbG)),
                ("sgemm_gflops", .gflops(ceiling)), ("fb_ratio", .ratio(fbG / ceiling)),
            ]))
        }
        return BenchReport(section: name, rows: rows, summary: [
            ("sgemm_ceiling_gflops", .gflops(bestCeiling)),
            ("all_layers_fb_gflops", .gflops(all.flops / all.time / 1e9)),
            ("all_layers_fb_ratio", .ratio(all.flops / all.ceilingWork)),
            ("big_layers_fb_gflops", .gflops(big.time > 0 ? big.flops / big.time / 1e9 : .nan)),
            ("big_layers_fb_ratio", .ratio(big.ceilingWork > 0 ? big.flops / big.ceilingWork : .nan)),
            ("all_layers_fb_ms", .ms(all.time)),
        ], notes: [
            "each repetition runs the \(o.sgemmSize)^3 sgemm, the forward and the backward back to back (interleaved, so machine load hits them alike); times are the best of \(o.repeats) after \(o.warmup) warm-up, medians in *_med_ms",
            "sgemm_gflops is the ceiling measured next to that layer and fb_ratio = fb_gflops / sgemm_gflops; summary ratios are total flops / (sum of time x local ceiling)",
            "GFLOP = 2*N*Cout*Cin*k*k*H*W per pass; backward = dx and dW (2 passes), dW only for conv1a; big layers have Cin*k*k >= \(bigK)",
        ])
    }
}

/// The memory-bound ops that sit between the convolutions (BatchNorm, LeakyReLU, max-pool, pixel
/// shuffle), forward and backward through the Graph at the first block's size (N,32,H,W).
public struct ConvLayerOpsBenchSection: BenchSection {
    public var channels = 32
    public init() {}
    public var name: String { "convops" }
    public var abstract: String { "BatchNorm2d (train), LeakyReLU, max-pool, pixel shuffle at (N,32,H,W): forward/backward ms and GB/s" }

    public func run(_ context: BenchContext) throws -> BenchReport {
        let o = context.options
        let shape = [o.batch, channels, o.height, o.width]
        var rng = SeededRandom(seed: 3)
        let xt = Tensor(shape: shape)
        for i in 0..<xt.count { xt.data[i] = Float(rng.normal()) }
        let bytes = Double(xt.count * 4)
        let weight = Variable(Tensor(shape: [channels], repeating: 1), requiresGrad: true)
        let bias = Variable(Tensor(shape: [channels]), requiresGrad: true)
        let runningMean = Tensor(shape: [channels]), runningVar = Tensor(shape: [channels], repeating: 1)

        // (label, op, bytes moved forward, bytes moved backward): reads and writes of full-size tensors.
        let ops: [(String, (Graph, Variable) -> Variable, Double, Double)] = [
            ("batchNorm2d train", { g, x in g.batchNorm2d(x, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar, training: true, momentum: 0.1) }, 4 * bytes, 5 * bytes),
            ("leakyReLU", { g, x in g.leakyReLU(x) }, 2 * bytes, 3 * bytes),
            ("maxPool2d", { g, x in g.maxPool2d(x) }, 1.25 * bytes, 1.5 * bytes),
            ("pixelShuffle r2", { g, x in g.pixelShuffle(x) }, 2 * bytes, 2 * bytes),
        ]
        var rows: [BenchRow] = []
        for (label, op, fBytes, bBytes) in ops {
            let x = Variable(xt, requiresGrad: true)
            var graph = Graph()
            var y: Variable?
            let t = context.measureInterleaved([
                { graph = Graph(); y = op(graph, x) },
                { x.grad?.zero(); graph.backward(y!, seed: y!.value) },
            ])
            rows.append(BenchRow([
                ("op", .text(label)), ("shape", .text(shape.map(String.init).joined(separator: "x"))),
                ("fwd_ms", .ms(t[0].best)), ("bwd_ms", .ms(t[1].best)),
                ("fwd_gbps", .number(fBytes / t[0].best / 1e9, format: "%.1f")),
                ("bwd_gbps", .number(bBytes / t[1].best / 1e9, format: "%.1f")),
            ]))
        }
        return BenchReport(section: name, rows: rows, notes: [
            "forward includes allocating the output; GB/s counts the full-size tensors each pass must read and write (best of \(o.repeats))",
        ])
    }
}
