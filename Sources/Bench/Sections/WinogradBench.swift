import Foundation
import TensorEngine

/// `kp2d-tui bench --only winograd`: the forward and dx of each KeyPointNet 3x3 layer with im2col + sgemm, with
/// Winograd F(2x2,3x3) and with Winograd F(4x4,3x3), timed interleaved in one run (so machine load hits all alike).
public struct WinogradBenchSection: BenchSection {
    public var layers: [ConvBenchSection.Layer] = ConvBenchSection.keyPointNetLayers.filter { $0.cin >= 32 }
    public init() {}
    public var name: String { "winograd" }
    public var abstract: String { "3x3 conv forward and dx per layer: im2col + sgemm vs Winograd F(2x2,3x3) vs F(4x4,3x3), interleaved" }

    public func run(_ context: BenchContext) throws -> BenchReport {
        let o = context.options
        var rows: [BenchRow] = []
        var total = (direct: 0.0, winograd: 0.0, f43: 0.0, library: 0.0)
        let saved = (WinogradKernels.enabled, WinogradKernels.minChannels)
        let savedF43 = (WinogradF43Kernels.enabled, WinogradF43Kernels.minTiles, WinogradF43Kernels.minChannels)
        defer {
            (WinogradKernels.enabled, WinogradKernels.minChannels) = saved
            (WinogradF43Kernels.enabled, WinogradF43Kernels.minTiles, WinogradF43Kernels.minChannels) = savedF43
        }
        /// 0: im2col + sgemm, 1: F(2x2), 2: F(4x4)
        func use(_ kernel: Int) {
            WinogradKernels.enabled = kernel > 0; WinogradKernels.minChannels = 1
            WinogradF43Kernels.enabled = kernel == 2; WinogradF43Kernels.minTiles = 1; WinogradF43Kernels.minChannels = 1
        }
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
                { use(0); ConvKernels.forward(y.data, x.data, w.data, nil, s) },
                { use(1); ConvKernels.forward(y.data, x.data, w.data, nil, s) },
                { use(2); ConvKernels.forward(y.data, x.data, w.data, nil, s) },
                { use(0); ConvKernels.backward(dx.data, nil, nil, y.data, x.data, w.data, s) },
                { use(1); ConvKernels.backward(dx.data, nil, nil, y.data, x.data, w.data, s) },
                { use(2); ConvKernels.backward(dx.data, nil, nil, y.data, x.data, w.data, s) },
            ])
            total.direct += t[0].best + t[3].best; total.winograd += t[1].best + t[4].best; total.f43 += t[2].best + t[5].best
            // What the library default picks for this layer: F(4x4) where it applies, else F(2x2) (for layers where
            // neither applies, e.g. below 64 channels, the total counts F(2x2) and is not the library's time).
            let libraryUsesF43 = savedF43.0 && saved.0 && s.cin >= savedF43.2 && s.cout >= savedF43.2
                && WinogradF43Kernels.tiles(s) >= savedF43.1
            total.library += libraryUsesF43 ? t[2].best + t[5].best : t[1].best + t[4].best
            rows.append(BenchRow([
                ("layer", .text(l.label)), ("shape", .text("\(s.n)x\(s.cin)x\(s.h)x\(s.w)->\(s.cout)")),
                ("tiles4x4", .number(Double(WinogradF43Kernels.tiles(s)), format: "%.0f")),
                ("im2col_ms", .ms(t[0].best)), ("winograd_ms", .ms(t[1].best)), ("f43_ms", .ms(t[2].best)),
                ("im2col_med_ms", .ms(t[0].median)), ("winograd_med_ms", .ms(t[1].median)), ("f43_med_ms", .ms(t[2].median)),
                ("im2col_gflops", .gflops(s.flops / t[0].best / 1e9)),
                ("winograd_equiv_gflops", .gflops(s.flops / t[1].best / 1e9)),
                ("f43_equiv_gflops", .gflops(s.flops / t[2].best / 1e9)),
                ("speedup", .ratio(t[0].best / t[1].best)),
                ("f43_vs_f22", .ratio(t[1].best / t[2].best)),
                ("dx_im2col_ms", .ms(t[3].best)), ("dx_winograd_ms", .ms(t[4].best)), ("dx_f43_ms", .ms(t[5].best)),
                ("dx_speedup", .ratio(t[3].best / t[4].best)),
                ("dx_f43_vs_f22", .ratio(t[4].best / t[5].best)),
                ("default", .text(libraryUsesF43 ? "F43" : "F22")),
            ]))
        }
        return BenchReport(section: name, rows: rows, summary: [
            ("total_im2col_ms (forward + dx)", .ms(total.direct)), ("total_winograd_ms (forward + dx)", .ms(total.winograd)),
            ("speedup", .ratio(total.direct / total.winograd)),
            ("total_f43_ms (forward + dx)", .ms(total.f43)),
            ("total_default_ms (forward + dx, the library's F43/F22 choice)", .ms(total.library)),
            ("f43_vs_f22", .ratio(total.winograd / total.f43)),
        ], notes: [
            "best of \(o.repeats) interleaved repetitions; *_med_ms are medians; equivalent GFLOP/s = direct-convolution flops / time",
            "the library default uses Winograd from \(saved.1) channels (in and out) up, F(4x4,3x3) from \(savedF43.2) channels and \(savedF43.1) 4x4 tiles per image up"
                + (savedF43.0 ? "" : " (F(4x4) off: KP2D_WINOGRAD_F43=0)"),
        ])
    }
}
