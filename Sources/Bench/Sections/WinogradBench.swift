import Foundation
import TensorEngine

/// `kp2d-tui bench --only winograd`: the forward of each KeyPointNet 3x3 layer with im2col + sgemm and
/// with Winograd F(2x2,3x3), timed interleaved in one run (so machine load hits both alike).
public struct WinogradBenchSection: BenchSection {
    public var layers: [ConvBenchSection.Layer] = ConvBenchSection.keyPointNetLayers.filter { $0.cin >= 32 }
    public init() {}
    public var name: String { "winograd" }
    public var abstract: String { "3x3 conv forward and dx per layer: im2col + sgemm vs Winograd F(2x2,3x3), interleaved A/B" }

    public func run(_ context: BenchContext) throws -> BenchReport {
        let o = context.options
        var rows: [BenchRow] = []
        var total = (direct: 0.0, winograd: 0.0)
        let saved = (WinogradKernels.enabled, WinogradKernels.minChannels)
        defer { (WinogradKernels.enabled, WinogradKernels.minChannels) = saved }
        for l in layers {
            let s = Conv2dShape(n: o.batch, cin: l.cin, h: o.height / l.scale, w: o.width / l.scale,
                                cout: l.cout, kh: 3, kw: 3, pad: 1)
            let x = Tensor(shape: [s.n, s.cin, s.h, s.w]), w = Tensor(shape: [s.cout, s.cin, 3, 3])
            let y = Tensor(shape: [s.n, s.cout, s.ho, s.wo]), dx = Tensor(shape: x.shape)
            var rng = SeededRandom(seed: 7)
            for i in 0..<x.count { x.data[i] = Float(rng.uniform(-1, 1)) }
            for i in 0..<w.count { w.data[i] = Float(rng.uniform(-0.1, 0.1)) }
            for i in 0..<y.count { y.data[i] = Float(rng.uniform(-1, 1)) }
            let t = context.measureInterleaved([
                { WinogradKernels.enabled = false; ConvKernels.forward(y.data, x.data, w.data, nil, s) },
                { WinogradKernels.enabled = true; WinogradKernels.minChannels = 1; ConvKernels.forward(y.data, x.data, w.data, nil, s) },
                { WinogradKernels.enabled = false; ConvKernels.backward(dx.data, nil, nil, y.data, x.data, w.data, s) },
                { WinogradKernels.enabled = true; WinogradKernels.minChannels = 1; ConvKernels.backward(dx.data, nil, nil, y.data, x.data, w.data, s) },
            ])
            total.direct += t[0].best + t[2].best; total.winograd += t[1].best + t[3].best
            rows.append(BenchRow([
                ("layer", .text(l.label)), ("shape", .text("\(s.n)x\(s.cin)x\(s.h)x\(s.w)->\(s.cout)")),
                ("im2col_ms", .ms(t[0].best)), ("winograd_ms", .ms(t[1].best)),
                ("im2col_med_ms", .ms(t[0].median)), ("winograd_med_ms", .ms(t[1].median)),
                ("im2col_gflops", .gflops(s.flops / t[0].best / 1e9)),
                ("winograd_equiv_gflops", .gflops(s.flops / t[1].best / 1e9)),
                ("speedup", .ratio(t[0].best / t[1].best)),
                ("dx_im2col_ms", .ms(t[2].best)), ("dx_winograd_ms", .ms(t[3].best)),
                ("dx_speedup", .ratio(t[2].best / t[3].best)),
            ]))
        }
        return BenchReport(section: name, rows: rows, summary: [
            ("total_im2col_ms (forward + dx)", .ms(total.direct)), ("total_winograd_ms (forward + dx)", .ms(total.winograd)),
            ("speedup", .ratio(total.direct / total.winograd)),
        ], notes: [
            "best of \(o.repeats) interleaved repetitions; *_med_ms are medians; equivalent GFLOP/s = direct-convolution flops / time",
            "the library default uses Winograd from \(saved.1) channels (in and out) up",
        ])
    }
}
