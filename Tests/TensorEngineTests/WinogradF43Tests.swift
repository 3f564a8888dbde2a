import TestSupport
import Foundation
import XCTest
@testable import TensorEngine

/// Winograd F(4x4, 3x3) (WinogradF43Kernels) against the naive twin (ConvKernels.forwardNaive / backwardNaive):
/// every tile path of the row-wise transforms (groups of 16 and 8, overlapping last groups, short segments, tiles cut
/// by the bottom and right edges, 1x1 and tiny images), chunks starting mid-row, 1-3 workers, the epilogue, the
/// accumulating (input-gradient) path, the dispatch in ConvKernels and its switches, and the rounding error at 256
/// input channels. Outputs are NaN-poisoned, so an unwritten element fails.
final class WinogradF43Tests: XCTestCase {
    private var saved = (minChannels: 64, chunkFloats: 1 << 20, workers: 2, poison: false, enabled: true, minTiles: 64,
                         f43MinChannels: 32)

    override func setUp() {
        saved = (WinogradKernels.minChannels, WinogradF43Kernels.chunkFloats, ConvKernels.workers,
                 TensorStorage.poisonUninitialized, WinogradF43Kernels.enabled, WinogradF43Kernels.minTiles,
                 WinogradF43Kernels.minChannels)
        TensorStorage.poisonUninitialized = true
    }

    override func tearDown() {
        WinogradKernels.minChannels = saved.minChannels; WinogradF43Kernels.chunkFloats = saved.chunkFloats
        ConvKernels.workers = saved.workers; TensorStorage.poisonUninitialized = saved.poison
        WinogradF43Kernels.enabled = saved.enabled; WinogradF43Kernels.minTiles = saved.minTiles
        WinogradF43Kernels.minChannels = saved.f43MinChannels
    }

    private func assertNoNaN(_ t: Tensor, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let i = t.array.firstIndex { $0.isNaN }
        XCTAssertNil(i, "\(what): element \(i ?? -1) of \(t.shape) not written", file: file, line: line)
    }

    /// Rows of 35 tiles (two groups of 16 and an overlapping group of 8), 20 tiles (a 16-group and an overlapping
    /// 8-group: the 240x320 H/4 geometry), 17 with a cut last tile (w = 67), fewer than 8 tiles, heights that cut the
    /// last tile row after 1, 2 and 3 rows, 1x1, 1xW, Hx1 and 2x3 images; chunk sizes that start chunks mid-row
    /// (down to the 8-tile minimum), one to three workers.
    func testMatchesNaiveTwinOnEveryTilePath() {
        let shapes = [
            Conv2dShape(n: 1, cin: 5, h: 8, w: 140, cout: 3, kh: 3, kw: 3, pad: 1),
            Conv2dShape(n: 2, cin: 6, h: 60, w: 80, cout: 5, kh: 3, kw: 3, pad: 1),
            Conv2dShape(n: 1, cin: 3, h: 9, w: 67, cout: 4, kh: 3, kw: 3, pad: 1),
            Conv2dShape(n: 2, cin: 4, h: 10, w: 23, cout: 2, kh: 3, kw: 3, pad: 1),
            Conv2dShape(n: 1, cin: 2, h: 11, w: 37, cout: 3, kh: 3, kw: 3, pad: 1),
            Conv2dShape(n: 2, cin: 3, h: 1, w: 1, cout: 2, kh: 3, kw: 3, pad: 1),
            Conv2dShape(n: 1, cin: 3, h: 1, w: 45, cout: 2, kh: 3, kw: 3, pad: 1),
            Conv2dShape(n: 1, cin: 2, h: 30, w: 1, cout: 3, kh: 3, kw: 3, pad: 1),
            Conv2dShape(n: 3, cin: 2, h: 2, w: 3, cout: 2, kh: 3, kw: 3, pad: 1),
            Conv2dShape(n: 1, cin: 17, h: 15, w: 64, cout: 19, kh: 3, kw: 3, pad: 1),
        ]
        for (i, s) in shapes.enumerated() {
            for (chunk, workers) in [(1 << 20, 2), (36 * 19 * 11, 2), (36 * 19 * 27, 1), (1, 3)] {
                WinogradF43Kernels.chunkFloats = chunk; ConvKernels.workers = workers
                let (perChunk, chunks) = WinogradF43Kernels.chunking(s, workers: workers)
                XCTAssertGreaterThanOrEqual(perChunk * chunks, WinogradF43Kernels.tiles(s))
                XCTAssertLessThan(perChunk * (chunks - 1), WinogradF43Kernels.tiles(s), "no empty chunk")
                var rnd = TestRandom(UInt64(900 + i))
                let x = rnd.tensor([s.n, s.cin, s.h, s.w]), w = rnd.tensor([s.cout, s.cin, 3, 3])
                let scale = rnd.tensor([s.cout]), shift = rnd.tensor([s.cout])
                let ref = Tensor(shape: [s.n, s.cout, s.ho, s.wo])
                ConvKernels.forwardNaive(ref.data, x.data, w.data, nil, s)
                let what = "\(s) chunk \(chunk) workers \(workers)"

                let y = Tensor(uninitializedShape: ref.shape)
                WinogradF43Kernels.forward(y.data, x.data, w.data, s, epilogue: ConvEpilogue())
                assertNoNaN(y, what)
                XCTAssertLessThan(relativeMaxError(y.array, ref.array), 1e-5, what)

                // Epilogue (scale, shift, LeakyReLU), with U given.
                let u = Tensor(uninitializedShape: [WinogradF43Kernels.transformedWeightCount(cout: s.cout, cin: s.cin)])
                WinogradF43Kernels.transformWeights(u.data, w.data, cout: s.cout, cin: s.cin)
                assertNoNaN(u, "U " + what)
                let ye = Tensor(uninitializedShape: ref.shape)
                WinogradF43Kernels.forward(ye.data, x.data, w.data, s,
                                           epilogue: ConvEpilogue(scale: scale.data, shift: shift.data, leakySlope: 0.01),
                                           transformedWeights: u.data)
                assertNoNaN(ye, "epilogue " + what)
                let refE = ref.array.enumerated().map { j, v -> Float in
                    let co = (j / s.p) % s.cout
                    let t = v * scale.data[co] + shift.data[co]
                    return t > 0 ? t : t * 0.01
                }
                XCTAssertLessThan(relativeMaxError(ye.array, refE), 1e-5, "epilogue " + what)

                // Bias only (shift), no activation.
                let yb = Tensor(uninitializedShape: ref.shape)
                WinogradF43Kernels.forward(yb.data, x.data, w.data, s, epilogue: ConvEpilogue(shift: shift.data))
                let refB = ref.array.enumerated().map { j, v in v + shift.data[(j / s.p) % s.cout] }
                XCTAssertLessThan(relativeMaxError(yb.array, refB), 1e-5, "bias " + what)

                // Accumulating (the input gradient's use): adds into y exactly once per element, epilogue ignored.
                let base = rnd.tensor(ref.shape), ya = base.copy()
                WinogradF43Kernels.forward(ya.data, x.data, w.data, s,
                                           epilogue: ConvEpilogue(scale: scale.data, shift: shift.data, leakySlope: 0.01),
                                           accumulate: true)
                let refA = zip(base.array, ref.array).map { $0 + $1 }
                XCTAssertLessThan(relativeMaxError(ya.array, refA), 1e-5, "accumulate " + what)
            }
        }
    }

    /// Input channel counts that are not a multiple of the weight transform's 16 lanes, and one that is.
    func testWeightTransformTailsMatchNaiveTwin() {
        for (i, cin) in [1, 15, 16, 33].enumerated() {
            let s = Conv2dShape(n: 1, cin: cin, h: 13, w: 21, cout: 3, kh: 3, kw: 3, pad: 1)
            var rnd = TestRandom(UInt64(950 + i))
            let x = rnd.tensor([s.n, s.cin, s.h, s.w]), w = rnd.tensor([s.cout, s.cin, 3, 3])
            let ref = Tensor(shape: [s.n, s.cout, s.ho, s.wo]), y = Tensor(uninitializedShape: ref.shape)
            ConvKernels.forwardNaive(ref.data, x.data, w.data, nil, s)
            WinogradF43Kernels.forward(y.data, x.data, w.data, s, epilogue: ConvEpilogue())
            XCTAssertLessThan(relativeMaxError(y.array, ref.array), 1e-5, "cin \(cin)")
        }
    }

    /// ConvKernels picks F(4x4) for forward and dx where `applies` (enough channels and tiles), F(2x2) below the tile
    /// threshold, and neither with the switch off; every choice matches the naive twin (dx added into a pre-filled
    /// gradient, dW beside it).
    func testDispatchAndInputGradientMatchNaiveTwin() {
        WinogradKernels.minChannels = 8; WinogradF43Kernels.minChannels = 8
        let s = Conv2dShape(n: 2, cin: 8, h: 21, w: 30, cout: 9, kh: 3, kw: 3, pad: 1)   // 6 x 8 = 48 tiles
        for (enabled, minTiles, expected) in [(true, 48, true), (true, 49, false), (false, 1, false)] {
            WinogradF43Kernels.enabled = enabled; WinogradF43Kernels.minTiles = minTiles
            XCTAssertEqual(WinogradF43Kernels.applies(s), expected)
            var rnd = TestRandom(77)
            let x = rnd.tensor([s.n, s.cin, s.h, s.w]), w = rnd.tensor([s.cout, s.cin, 3, 3]), b = rnd.tensor([s.cout])
            let ref = Tensor(shape: [s.n, s.cout, s.ho, s.wo]), y = Tensor(uninitializedShape: ref.shape)
            ConvKernels.forwardNaive(ref.data, x.data, w.data, b.data, s)
            ConvKernels.forward(y.data, x.data, w.data, b.data, s)
            XCTAssertLessThan(relativeMaxError(y.array, ref.array), 1e-5, "forward, F43 \(expected)")
            let c = ConvBackwardCase(s, seed: 78)
            XCTAssertLessThan(relativeMaxError(c.dxFast.array, c.dxNaive.array), 1e-5, "dx, F43 \(expected)")
            XCTAssertLessThan(relativeMaxError(c.dwFast.array, c.dwNaive.array), 1e-4, "dW, F43 \(expected)")
        }
        // Below F(4x4)'s minChannels it does not apply, whatever the tile count; nor for other kernels or padding,
        // nor with all Winograd off (KP2D_WINOGRAD=0).
        WinogradF43Kernels.enabled = true; WinogradF43Kernels.minTiles = 1; WinogradF43Kernels.minChannels = 64
        XCTAssertFalse(WinogradF43Kernels.applies(Conv2dShape(n: 1, cin: 32, h: 64, w: 64, cout: 64, kh: 3, kw: 3, pad: 1)))
        XCTAssertFalse(WinogradF43Kernels.applies(Conv2dShape(n: 1, cin: 64, h: 64, w: 64, cout: 32, kh: 3, kw: 3, pad: 1)))
        XCTAssertFalse(WinogradF43Kernels.applies(Conv2dShape(n: 1, cin: 64, h: 64, w: 64, cout: 64, kh: 3, kw: 3, pad: 0)))
        XCTAssertFalse(WinogradF43Kernels.applies(Conv2dShape(n: 1, cin: 64, h: 64, w: 64, cout: 64, kh: 1, kw: 1, pad: 0)))
        XCTAssertTrue(WinogradF43Kernels.applies(Conv2dShape(n: 1, cin: 64, h: 64, w: 64, cout: 64, kh: 3, kw: 3, pad: 1)))
        let savedWinograd = WinogradKernels.enabled
        WinogradKernels.enabled = false
        XCTAssertFalse(WinogradF43Kernels.applies(Conv2dShape(n: 1, cin: 64, h: 64, w: 64, cout: 64, kh: 3, kw: 3, pad: 1)))
        WinogradKernels.enabled = savedWinograd
    }

    /// dx's U made straight from w has the same bits as the U of w' written out (rot180, transposed), including the
    /// 16-lane tails; so inputGradient matches the forward of dy with w', bit for bit.
    func testFlippedTransposedWeightTransformHasTheSameBits() {
        for (cout, cin) in [(5, 3), (16, 33), (40, 17)] {
            var rnd = TestRandom(UInt64(cout * 100 + cin))
            let w = rnd.tensor([cout, cin, 3, 3]), wt = Tensor(shape: [cin, cout, 3, 3])
            for co in 0..<cout { for ci in 0..<cin { for k in 0..<9 { wt.data[(ci * cout + co) * 9 + k] = w.data[(co * cin + ci) * 9 + 8 - k] } } }
            let count = WinogradF43Kernels.transformedWeightCount(cout: cin, cin: cout)
            let a = Tensor(uninitializedShape: [count]), b = Tensor(uninitializedShape: [count])
            WinogradF43Kernels.transformWeights(a.data, wt.data, cout: cin, cin: cout)
            WinogradF43Kernels.transformFlippedTransposedWeights(b.data, w.data, cout: cout, cin: cin)
            XCTAssertEqual(a.array, b.array, "\(cout)x\(cin)")

            let s = Conv2dShape(n: 2, cin: cin, h: 13, w: 22, cout: cout, kh: 3, kw: 3, pad: 1)
            let t = Conv2dShape(n: 2, cin: cout, h: 13, w: 22, cout: cin, kh: 3, kw: 3, pad: 1)
            let dy = rnd.tensor([s.n, s.cout, s.ho, s.wo]), base = rnd.tensor([s.n, s.cin, s.h, s.w])
            let viaGradient = base.copy(), viaForward = base.copy()
            WinogradF43Kernels.inputGradient(viaGradient.data, dy.data, w.data, s)
            WinogradF43Kernels.forward(viaForward.data, dy.data, wt.data, t, epilogue: ConvEpilogue(), accumulate: true)
            XCTAssertEqual(viaGradient.array, viaForward.array, "dx \(cout)x\(cin)")
        }
    }

    /// The same bits whatever the chunking and number of workers (a tile's value depends only on its own products).
    func testResultDoesNotDependOnChunkingOrWorkers() {
        let s = Conv2dShape(n: 2, cin: 7, h: 17, w: 45, cout: 6, kh: 3, kw: 3, pad: 1)
        var rnd = TestRandom(31)
        let x = rnd.tensor([s.n, s.cin, s.h, s.w]), w = rnd.tensor([s.cout, s.cin, 3, 3])
        var results: [[Float]] = []
        for (chunk, workers) in [(1 << 20, 1), (1 << 20, 2), (36 * 7 * 9, 2), (1, 3)] {
            WinogradF43Kernels.chunkFloats = chunk; ConvKernels.workers = workers
            let y = Tensor(uninitializedShape: [s.n, s.cout, s.ho, s.wo])
            WinogradF43Kernels.forward(y.data, x.data, w.data, s, epilogue: ConvEpilogue())
            results.append(y.array)
        }
        for r in results.dropFirst() { XCTAssertEqual(r, results[0]) }
    }

    /// The rounding error at 256 input channels (the check before optimising): F(4x4)'s error relative to the
    /// output's largest magnitude stays below 2e-5 (measured 1.0e-5 here, F(2x2) 6.9e-7: the points ±2 and the
    /// fractions of G cost ~15x; the fixtures' tolerance is rel 1e-4 / abs 1e-5). Weights scaled like an initialised
    /// layer's (1/sqrt(9 Cin)).
    func testRoundingErrorAt256Channels() {
        let s = Conv2dShape(n: 1, cin: 256, h: 16, w: 20, cout: 8, kh: 3, kw: 3, pad: 1)
        var rnd = TestRandom(256)
        let x = rnd.tensor([s.n, s.cin, s.h, s.w])
        let bound = 1 / (9 * Double(s.cin)).squareRoot()
        let w = rnd.tensor([s.cout, s.cin, 3, 3], -bound, bound)
        let ref = Tensor(shape: [s.n, s.cout, s.ho, s.wo])
        ConvKernels.forwardNaive(ref.data, x.data, w.data, nil, s)
        func error(_ y: Tensor) -> Double {
            var m = 0.0, top = 0.0
            for (a, b) in zip(y.array, ref.array) { m = max(m, Double(abs(a - b))); top = max(top, Double(abs(b))) }
            return m / top
        }
        let y43 = Tensor(uninitializedShape: ref.shape), y22 = Tensor(uninitializedShape: ref.shape)
        WinogradF43Kernels.forward(y43.data, x.data, w.data, s, epilogue: ConvEpilogue())
        WinogradKernels.forward(y22.data, x.data, w.data, s, epilogue: ConvEpilogue())
        let e43 = error(y43), e22 = error(y22)
        XCTAssertLessThan(e43, 2e-5, "F(4x4) error \(e43), F(2x2) \(e22)")
        XCTAssertLessThan(e22, 2e-6, "F(2x2) error \(e22)")
        print("WinogradF43Tests: error relative to max |y| at 256 channels: F(4x4) \(e43), F(2x2) \(e22)")
    }

    /// Forward-only convolutions where F(4x4) applies keep its U (36 planes) with the weights: the same bits as
    /// computing it, remade after the weights change.
    func testForwardOnlyConvolutionCachesTheF43TransformedWeights() {
        var rnd = TestRandom(560)
        let x = Variable(rnd.tensor([1, 64, 32, 40])), w = Variable(rnd.tensor([64, 64, 3, 3], -0.1, 0.1))
        let b = Variable(rnd.tensor([64]))
        XCTAssertTrue(WinogradF43Kernels.applies(Conv2dShape(n: 1, cin: 64, h: 32, w: 40, cout: 64, kh: 3, kw: 3, pad: 1)))
        func conv(cache: Bool) -> [Float] {
            WinogradKernels.cachesInferenceWeights = cache
            defer { WinogradKernels.cachesInferenceWeights = true }
            return Graph(recording: false).conv2d(x, weight: w, bias: b, padding: 1).value.array
        }
        let reference = conv(cache: false)
        XCTAssertEqual(w.value.storage.derivedKeys, [])
        XCTAssertEqual(conv(cache: true), reference)
        XCTAssertEqual(w.value.storage.derivedKeys, [WinogradF43Kernels.transformedWeightsKey])
        w.value[flat: 0] += 1
        XCTAssertNotEqual(conv(cache: true), reference)
        XCTAssertEqual(conv(cache: true), conv(cache: false))
    }
}
