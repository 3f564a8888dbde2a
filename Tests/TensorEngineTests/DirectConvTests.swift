import TestSupport
import XCTest
import TensorEngine

/// The direct 3x3 kernel (DirectConvKernels) against the naive twin: pixel blocks with tails, channel blocks
/// with fewer than 8 channels, bands of 1..8 rows, 1 and 2 workers, bias and folded-BatchNorm epilogues, and
/// the input gradient (which must ADD into dx).
final class DirectConvTests: XCTestCase {
    private var saved = (enabled: true, maxInputChannels: 32, bandRows: 8, workers: 1, winograd: true)

    override func setUp() {
        saved = (DirectConvKernels.enabled, DirectConvKernels.maxInputChannels, DirectConvKernels.bandRows,
                 ConvKernels.workers, WinogradKernels.enabled)
        DirectConvKernels.enabled = true
        DirectConvKernels.maxInputChannels = 32
        WinogradKernels.enabled = false
    }

    override func tearDown() {
        (DirectConvKernels.enabled, DirectConvKernels.maxInputChannels, DirectConvKernels.bandRows,
         ConvKernels.workers, WinogradKernels.enabled) = saved
    }

    static let shapes = [
        Conv2dShape(n: 2, cin: 3, h: 9, w: 11, cout: 4, kh: 3, kw: 3, pad: 1),
        Conv2dShape(n: 1, cin: 5, h: 1, w: 1, cout: 2, kh: 3, kw: 3, pad: 1),
        Conv2dShape(n: 1, cin: 32, h: 12, w: 70, cout: 32, kh: 3, kw: 3, pad: 1),   // 32-pixel blocks + a tail of 6
        Conv2dShape(n: 2, cin: 3, h: 17, w: 33, cout: 9, kh: 3, kw: 3, pad: 1),     // 8 + 1 channels, 32 + 1 pixels
        Conv2dShape(n: 1, cin: 1, h: 24, w: 64, cout: 16, kh: 3, kw: 3, pad: 1),     // whole blocks only
        Conv2dShape(n: 3, cin: 7, h: 5, w: 48, cout: 13, kh: 3, kw: 3, pad: 1),
    ]

    func testForwardMatchesNaiveTwin() {
        for (i, s) in Self.shapes.enumerated() {
            XCTAssertTrue(DirectConvKernels.applies(s), "\(s)")
            for (rows, workers) in [(8, saved.workers), (3, 2), (1, 1)] {
                DirectConvKernels.bandRows = rows; ConvKernels.workers = workers
                var rnd = TestRandom(UInt64(100 + i))
                let x = rnd.tensor([s.n, s.cin, s.h, s.w]), w = rnd.tensor([s.cout, s.cin, 3, 3]), b = rnd.tensor([s.cout])
                let y = Tensor(shape: [s.n, s.cout, s.ho, s.wo], repeating: .nan), ref = Tensor(shape: y.shape)
                ConvKernels.forward(y.data, x.data, w.data, b.data, s)
                ConvKernels.forwardNaive(ref.data, x.data, w.data, b.data, s)
                XCTAssertLessThan(relativeMaxError(y.array, ref.array), 1e-5, "\(s) band \(rows) workers \(workers)")

                let scale = rnd.tensor([s.cout]), shift = rnd.tensor([s.cout])
                y.data.update(repeating: .nan, count: y.count)
                ConvKernels.forwardAffineLeakyReLU(y.data, x.data, w.data, scale.data, shift.data, s, slope: 0.01)
                for j in 0..<ref.count {
                    let co = (j / s.p) % s.cout
                    let t = (ref.data[j] - b.data[co]) * scale.data[co] + shift.data[co]
                    ref.data[j] = t > 0 ? t : t * 0.01
                }
                XCTAssertLessThan(relativeMaxError(y.array, ref.array), 1e-5, "epilogue \(s) band \(rows)")
            }
        }
    }

    func testInputGradientAddsAndMatchesNaiveTwin() {
        for (i, s) in Self.shapes.enumerated() {
            XCTAssertTrue(DirectConvKernels.appliesTransposed(s), "\(s)")
            for (rows, workers) in [(8, saved.workers), (2, 2)] {
                DirectConvKernels.bandRows = rows; ConvKernels.workers = workers
                let c = ConvBackwardCase(s, seed: UInt64(200 + i))
                let (x, w, dy, dx0, dxF, dwF, dxN, dwN) = (c.x, c.w, c.dy, c.dx0, c.dxFast, c.dwFast, c.dxNaive, c.dwNaive)
                XCTAssertLessThan(relativeMaxError(dxF.array, dxN.array), 1e-5, "dx adds, \(s) band \(rows)")
                XCTAssertLessThan(relativeMaxError(dwF.array, dwN.array), 1e-5, "dw \(s)")
                let dxOnly = dx0.copy()
                ConvKernels.backward(dxOnly.data, nil, nil, dy.data, x.data, w.data, s)
                XCTAssertLessThan(relativeMaxError(dxOnly.array, dxN.array), 1e-5, "dx alone \(s)")
            }
        }
    }

    func testUsedOnlyForFewInputChannels3x3Pad1() {
        XCTAssertTrue(DirectConvKernels.applies(Conv2dShape(n: 1, cin: 3, h: 8, w: 8, cout: 32, kh: 3, kw: 3, pad: 1)))
        XCTAssertTrue(DirectConvKernels.applies(Conv2dShape(n: 1, cin: 32, h: 8, w: 8, cout: 64, kh: 3, kw: 3, pad: 1)))
        XCTAssertFalse(DirectConvKernels.applies(Conv2dShape(n: 1, cin: 33, h: 8, w: 8, cout: 32, kh: 3, kw: 3, pad: 1)))
        XCTAssertFalse(DirectConvKernels.applies(Conv2dShape(n: 1, cin: 3, h: 8, w: 8, cout: 32, kh: 3, kw: 3, pad: 0)))
        XCTAssertFalse(DirectConvKernels.applies(Conv2dShape(n: 1, cin: 3, h: 8, w: 8, cout: 32, kh: 1, kw: 1, pad: 0)))
        // dx of 32 -> 64 is a 64-channel-input convolution: im2col (or Winograd) keeps it.
        XCTAssertFalse(DirectConvKernels.appliesTransposed(Conv2dShape(n: 1, cin: 32, h: 8, w: 8, cout: 64, kh: 3, kw: 3, pad: 1)))
        // The weight gradient: few output channels, any number of input channels.
        XCTAssertTrue(DirectConvKernels.appliesToWeights(Conv2dShape(n: 1, cin: 64, h: 8, w: 8, cout: 1, kh: 3, kw: 3, pad: 1)))
        XCTAssertTrue(DirectConvKernels.appliesToWeights(Conv2dShape(n: 1, cin: 16, h: 8, w: 8, cout: 32, kh: 3, kw: 3, pad: 1)))
        XCTAssertFalse(DirectConvKernels.appliesToWeights(Conv2dShape(n: 1, cin: 16, h: 8, w: 8, cout: 33, kh: 3, kw: 3, pad: 1)))
        XCTAssertFalse(DirectConvKernels.appliesToWeights(Conv2dShape(n: 1, cin: 3, h: 8, w: 8, cout: 8, kh: 3, kw: 3, pad: 0)))
        DirectConvKernels.enabled = false
        XCTAssertFalse(DirectConvKernels.applies(Conv2dShape(n: 1, cin: 3, h: 8, w: 8, cout: 32, kh: 3, kw: 3, pad: 1)))
        XCTAssertFalse(DirectConvKernels.appliesToWeights(Conv2dShape(n: 1, cin: 3, h: 8, w: 8, cout: 8, kh: 3, kw: 3, pad: 1)))
    }

    /// The direct weight gradient against the naive twin: rows that are whole multiples of 16 pixels (dy read in
    /// place) and rows with tails (dy copied), an odd number of output channels (the last pair has one), one
    /// and two workers; it must ADD into dW, alone and beside dx.
    func testWeightGradientAddsAndMatchesNaiveTwin() {
        let shapes = Self.shapes + [
            Conv2dShape(n: 2, cin: 8, h: 64, w: 96, cout: 8, kh: 3, kw: 3, pad: 1),     // the fast preset's conv1b, smaller
            Conv2dShape(n: 1, cin: 64, h: 16, w: 24, cout: 1, kh: 3, kw: 3, pad: 1),    // the score head's last conv
            Conv2dShape(n: 3, cin: 2, h: 3, w: 17, cout: 3, kh: 3, kw: 3, pad: 1),
        ]
        for (i, s) in shapes.enumerated() {
            XCTAssertTrue(DirectConvKernels.appliesToWeights(s), "\(s)")
            for workers in [1, 2] {
                ConvKernels.workers = workers
                let c = ConvBackwardCase(s, seed: UInt64(300 + i))
                XCTAssertLessThan(relativeMaxError(c.dwFast.array, c.dwNaive.array), 1e-5, "dw beside dx, \(s) workers \(workers)")
                XCTAssertLessThan(relativeMaxError(c.dxFast.array, c.dxNaive.array), 1e-5, "dx beside dw, \(s) workers \(workers)")
                var rnd = TestRandom(UInt64(400 + i))
                let dw0 = rnd.tensor([s.cout, s.cin, 3, 3])
                let dwOnly = dw0.copy(), dwDirect = dw0.copy(), dwNaive = dw0.copy()
                ConvKernels.backward(nil, dwOnly.data, nil, c.dy.data, c.x.data, c.w.data, s)
                DirectConvKernels.weightGradient(dwDirect.data, c.dy.data, c.x.data, s)
                ConvKernels.backwardNaive(nil, dwNaive.data, nil, c.dy.data, c.x.data, c.w.data, s)
                XCTAssertLessThan(relativeMaxError(dwOnly.array, dwNaive.array), 1e-5, "dw alone, \(s)")
                XCTAssertLessThan(relativeMaxError(dwDirect.array, dwNaive.array), 1e-5, "direct dw, \(s)")
                if !WinogradWeightGradientKernels.applies(s) {   // Winograd keeps 32 -> 32 and wider
                    XCTAssertEqual(dwOnly.array, dwDirect.array, "ConvKernels.backward takes the direct kernel for \(s)")
                }
            }
        }
    }
}
