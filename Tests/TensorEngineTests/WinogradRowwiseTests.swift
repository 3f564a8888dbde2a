import TestSupport
import Foundation
import XCTest
@testable import TensorEngine

/// The row-wise Winograd transforms (groups of 16 tiles, overlapping last groups, zero-bordered input rows,
/// cut tiles one by one) against the naive twin, the chunking, the inference cache of the transformed weights,
/// and the ops whose outputs are left uninitialised (poisoned with NaN here, so an unwritten element shows).
final class WinogradRowwiseTests: XCTestCase {
    private var saved = (minChannels: 64, chunkFloats: 1 << 20, workers: 2, poison: false, cache: true, direct: true)

    override func setUp() {
        saved = (WinogradKernels.minChannels, WinogradKernels.chunkFloats, ConvKernels.workers,
                 TensorStorage.poisonUninitialized, WinogradKernels.cachesInferenceWeights, DirectConvKernels.enabled)
        TensorStorage.poisonUninitialized = true
    }

    override func tearDown() {
        WinogradKernels.minChannels = saved.minChannels; WinogradKernels.chunkFloats = saved.chunkFloats
        ConvKernels.workers = saved.workers; TensorStorage.poisonUninitialized = saved.poison
        WinogradKernels.cachesInferenceWeights = saved.cache; DirectConvKernels.enabled = saved.direct
    }

    private func assertNoNaN(_ t: Tensor, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let i = t.array.firstIndex { $0.isNaN }
        XCTAssertNil(i, "\(what): element \(i ?? -1) of \(t.shape) not written", file: file, line: line)
    }

    /// Every path of the transforms: rows of 35 tiles (two groups and an overlapping one), 20 (a group and an
    /// overlapping one: the 240x320 H/8 geometry), 17 with an odd width (a group, an overlapping group, a cut
    /// tile), fewer than 16, odd heights (a cut tile row), chunks starting mid-row, one and two workers.
    func testMatchesNaiveTwinOnEveryTilePath() {
        WinogradKernels.minChannels = 1
        let shapes = [
            Conv2dShape(n: 1, cin: 5, h: 6, w: 70, cout: 3, kh: 3, kw: 3, pad: 1),
            Conv2dShape(n: 1, cin: 6, h: 30, w: 40, cout: 5, kh: 3, kw: 3, pad: 1),
            Conv2dShape(n: 2, cin: 3, h: 7, w: 33, cout: 4, kh: 3, kw: 3, pad: 1),
            Conv2dShape(n: 1, cin: 4, h: 4, w: 32, cout: 2, kh: 3, kw: 3, pad: 1),
            Conv2dShape(n: 2, cin: 2, h: 3, w: 2, cout: 3, kh: 3, kw: 3, pad: 1),
            Conv2dShape(n: 1, cin: 3, h: 9, w: 64, cout: 17, kh: 3, kw: 3, pad: 1),
        ]
        for (i, s) in shapes.enumerated() {
            for (chunk, workers) in [(1 << 20, 2), (16 * 17 * 9, 2), (16 * 17 * 21, 1), (1, 2)] {
                WinogradKernels.chunkFloats = chunk; ConvKernels.workers = workers
                let (perChunk, chunks) = WinogradKernels.chunking(s, workers: workers)
                XCTAssertGreaterThanOrEqual(perChunk * chunks, ((s.ho + 1) / 2) * ((s.wo + 1) / 2))
                var rnd = TestRandom(UInt64(300 + i))
                let x = rnd.tensor([s.n, s.cin, s.h, s.w]), w = rnd.tensor([s.cout, s.cin, 3, 3])
                let scale = rnd.tensor([s.cout]), shift = rnd.tensor([s.cout])
                let ref = Tensor(shape: [s.n, s.cout, s.ho, s.wo])
                ConvKernels.forwardNaive(ref.data, x.data, w.data, nil, s)
                let what = "\(s) chunk \(chunk) workers \(workers)"

                let y = Tensor(uninitializedShape: ref.shape)
                WinogradKernels.forward(y.data, x.data, w.data, s, epilogue: ConvEpilogue())
                assertNoNaN(y, what)
                XCTAssertLessThan(relativeMaxError(y.array, ref.array), 1e-5, what)

                // Epilogue, with U given (as the inference cache does).
                let u = Tensor(uninitializedShape: [WinogradKernels.transformedWeightCount(cout: s.cout, cin: s.cin)])
                WinogradKernels.transformWeights(u.data, w.data, cout: s.cout, cin: s.cin)
                let ye = Tensor(uninitializedShape: ref.shape)
                WinogradKernels.forward(ye.data, x.data, w.data, s,
                                        epilogue: ConvEpilogue(scale: scale.data, shift: shift.data, leakySlope: 0.01),
                                        transformedWeights: u.data)
                assertNoNaN(ye, "epilogue " + what)
                let refE = ref.array.enumerated().map { j, v -> Float in
                    let co = (j / s.p) % s.cout
                    let t = v * scale.data[co] + shift.data[co]
                    return t > 0 ? t : t * 0.01
                }
                XCTAssertLessThan(relativeMaxError(ye.array, refE), 1e-5, "epilogue " + what)

                // Accumulating (the input gradient's use): adds into y exactly once per element.
                let base = rnd.tensor(ref.shape), ya = base.copy()
                WinogradKernels.forward(ya.data, x.data, w.data, s, epilogue: ConvEpilogue(), accumulate: true)
                let refA = zip(base.array, ref.array).map { $0 + $1 }
                XCTAssertLessThan(relativeMaxError(ya.array, refA), 1e-5, "accumulate " + what)
            }
        }
    }

    /// The same tiles give the same bits whichever group or chunk computed them (overlapping groups rewrite
    /// equal values; a tile's arithmetic does not depend on its neighbours).
    func testResultDoesNotDependOnChunkingOrWorkers() {
        WinogradKernels.minChannels = 1
        let s = Conv2dShape(n: 2, cin: 7, h: 30, w: 40, cout: 9, kh: 3, kw: 3, pad: 1)
        var rnd = TestRandom(401)
        let x = rnd.tensor([s.n, s.cin, s.h, s.w]), w = rnd.tensor([s.cout, s.cin, 3, 3])
        var first: [Float]?
        for (chunk, workers) in [(1 << 20, 1), (1 << 20, 2), (16 * 9 * 8, 2), (16 * 9 * 37, 1)] {
            WinogradKernels.chunkFloats = chunk; ConvKernels.workers = workers
            let y = Tensor(uninitializedShape: [s.n, s.cout, s.ho, s.wo])
            WinogradKernels.forward(y.data, x.data, w.data, s, epilogue: ConvEpilogue())
            if let first { XCTAssertEqual(y.array, first, "chunk \(chunk) workers \(workers)") } else { first = y.array }
        }
    }

    /// A single 240x320 image's H/8 layers (300 tiles) split evenly over two workers, not 256 + 44.
    func testChunkingGivesEveryWorkerAnEqualShare() {
        let h8 = Conv2dShape(n: 1, cin: 256, h: 30, w: 40, cout: 256, kh: 3, kw: 3, pad: 1)
        XCTAssertEqual(WinogradKernels.chunking(h8, workers: 2).perChunk, 150)
        XCTAssertEqual(WinogradKernels.chunking(h8, workers: 2).chunks, 2)
        let h4 = Conv2dShape(n: 1, cin: 384, h: 60, w: 80, cout: 256, kh: 3, kw: 3, pad: 1)
        let (per4, chunks4) = WinogradKernels.chunking(h4, workers: 2)
        XCTAssertEqual(chunks4 % 2, 0)
        XCTAssertLessThanOrEqual(per4 * 16 * 384, WinogradKernels.chunkFloats)
        XCTAssertEqual(WinogradKernels.chunking(h8, workers: 1).chunks, 2)   // 256 tiles at most per chunk
        let b8 = Conv2dShape(n: 8, cin: 256, h: 30, w: 40, cout: 256, kh: 3, kw: 3, pad: 1)
        XCTAssertEqual(WinogradKernels.chunking(b8, workers: 2).chunks, 2)
    }

    // MARK: inference cache of U

    private func foldedOp(_ x: Tensor, _ w: Variable, _ bn: (Variable, Variable, Tensor, Tensor)) -> Tensor {
        let g = Graph(recording: false)
        return g.conv2dFoldedBatchNormLeakyReLU(Variable(x), weight: w, padding: 1, bnWeight: bn.0, bnBias: bn.1,
                                                runningMean: bn.2, runningVar: bn.3, eps: 1e-5, slope: 0.01).value
    }

    func testFoldedInferenceCachesTransformedWeightsUntilTheyChange() {
        let cin = 64, cout = 64
        var rnd = TestRandom(500)
        let x = rnd.tensor([1, cin, 10, 12])
        let w = Variable(rnd.tensor([cout, cin, 3, 3], -0.1, 0.1))
        let bn = (Variable(rnd.tensor([cout], 0.5, 1.5)), Variable(rnd.tensor([cout])), rnd.tensor([cout]), rnd.tensor([cout], 0.5, 2))
        func uncached() -> [Float] {
            WinogradKernels.cachesInferenceWeights = false
            defer { WinogradKernels.cachesInferenceWeights = true }
            return foldedOp(x, w, bn).array
        }
        WinogradKernels.cachesInferenceWeights = true
        XCTAssertTrue(WinogradKernels.applies(Conv2dShape(n: 1, cin: cin, h: 10, w: 12, cout: cout, kh: 3, kw: 3, pad: 1)))
        XCTAssertEqual(w.value.storage.derivedKeys, [])
        let y1 = foldedOp(x, w, bn)
        assertNoNaN(y1, "folded output")
        XCTAssertEqual(w.value.storage.derivedKeys, [WinogradKernels.transformedWeightsKey])
        XCTAssertEqual(y1.array, uncached(), "cached U gives the same bits as computing it")
        XCTAssertEqual(foldedOp(x, w, bn).array, y1.array)

        // The cache is really used: a raw write that is not marked is not seen ...
        let old = w.value.data[5]
        w.value.data[5] = old + 3
        XCTAssertEqual(foldedOp(x, w, bn).array, y1.array)
        // ... and once marked, the new weights are.
        w.value.markModified()
        let y2 = foldedOp(x, w, bn).array
        XCTAssertNotEqual(y2, y1.array)
        XCTAssertEqual(y2, uncached())

        // Tensor's writing methods mark by themselves.
        w.value[flat: 7] = -1
        XCTAssertEqual(foldedOp(x, w, bn).array, uncached())
        let other = rnd.tensor(w.shape, -0.1, 0.1)
        w.value.assign(other)
        let y3 = foldedOp(x, w, bn).array
        XCTAssertEqual(y3, uncached())
        let fresh = Variable(other.copy())
        XCTAssertEqual(y3, foldedOp(x, fresh, bn).array)
        w.value.fill(0.01)
        XCTAssertEqual(foldedOp(x, w, bn).array, uncached())

        // BatchNorm statistics are not part of U: changing them changes the output at once.
        bn.2.fill(0.3)
        XCTAssertEqual(foldedOp(x, w, bn).array, uncached())
    }

    func testForwardOnlyConv2dCachesTransformedWeights() {
        var rnd = TestRandom(550)
        let x = Variable(rnd.tensor([1, 64, 9, 14])), w = Variable(rnd.tensor([64, 64, 3, 3], -0.1, 0.1)), b = Variable(rnd.tensor([64]))
        func conv(recording: Bool, cache: Bool = true) -> [Float] {
            WinogradKernels.cachesInferenceWeights = cache
            defer { WinogradKernels.cachesInferenceWeights = true }
            let wv = recording ? Variable(w.value, requiresGrad: true) : w
            return Graph(recording: recording).conv2d(x, weight: wv, bias: b, padding: 1).value.array
        }
        let reference = conv(recording: false, cache: false)
        XCTAssertEqual(w.value.storage.derivedKeys, [])
        XCTAssertEqual(conv(recording: true), reference)
        XCTAssertEqual(w.value.storage.derivedKeys, [], "a convolution that records its backward does not cache")
        XCTAssertEqual(conv(recording: false), reference)
        XCTAssertEqual(w.value.storage.derivedKeys, [WinogradKernels.transformedWeightsKey])
        w.value[flat: 0] += 1
        XCTAssertNotEqual(conv(recording: false), reference)
        XCTAssertEqual(conv(recording: false), conv(recording: false, cache: false))
    }

    func testDerivedValueIsRemadeOnlyAfterAModification() {
        let t = Tensor(shape: [4], values: [1, 2, 3, 4])
        var made = 0
        func doubled() -> [Float] {
            let d = t.storage.derived("test.double", count: 4) { p in made += 1; for i in 0..<4 { p[i] = 2 * t.data[i] } }
            return Array(UnsafeBufferPointer(start: d.pointer, count: 4))
        }
        XCTAssertEqual(doubled(), [2, 4, 6, 8])
        XCTAssertEqual(doubled(), [2, 4, 6, 8])
        XCTAssertEqual(made, 1)
        let v0 = t.storage.version
        t[1] = 10
        XCTAssertGreaterThan(t.storage.version, v0)
        XCTAssertEqual(doubled(), [2, 20, 6, 8])
        XCTAssertEqual(made, 2)
        t.reshaped([2, 2]).add(Tensor(shape: [2, 2], values: [1, 1, 1, 1]))   // a view shares the storage and its version
        XCTAssertEqual(doubled(), [4, 22, 8, 10])
        XCTAssertEqual(made, 3)
    }

    // MARK: uninitialised outputs

    /// Each op that allocates its output without zero-filling it writes every element (poisoned with NaN here).
    func testOpsWithUninitialisedOutputsWriteEveryElement() {
        var rnd = TestRandom(600)
        // conv2d on each kernel path: Winograd, direct, im2col per-core, im2col single buffer, pointwise.
        let convs: [(Conv2dShape, Bool, String)] = [
            (Conv2dShape(n: 1, cin: 64, h: 9, w: 13, cout: 64, kh: 3, kw: 3, pad: 1), true, "winograd"),
            (Conv2dShape(n: 2, cin: 3, h: 11, w: 37, cout: 10, kh: 3, kw: 3, pad: 1), true, "direct"),
            (Conv2dShape(n: 2, cin: 40, h: 33, w: 40, cout: 33, kh: 3, kw: 3, pad: 1), false, "im2col"),
            (Conv2dShape(n: 1, cin: 5, h: 6, w: 7, cout: 4, kh: 3, kw: 3, pad: 0), false, "im2col small"),
            (Conv2dShape(n: 2, cin: 6, h: 5, w: 7, cout: 9, kh: 1, kw: 1, pad: 0), false, "pointwise"),
        ]
        for (s, direct, what) in convs {
            DirectConvKernels.enabled = direct
            let x = rnd.tensor([s.n, s.cin, s.h, s.w]), w = rnd.tensor([s.cout, s.cin, s.kh, s.kw]), b = rnd.tensor([s.cout])
            let ref = Tensor(shape: [s.n, s.cout, s.ho, s.wo])
            ConvKernels.forwardNaive(ref.data, x.data, w.data, b.data, s)
            let g = Graph(recording: false)
            let y = g.conv2d(Variable(x), weight: Variable(w), bias: Variable(b), padding: s.pad).value
            assertNoNaN(y, "conv2d " + what)
            XCTAssertLessThan(relativeMaxError(y.array, ref.array), 1e-5, "conv2d " + what)
            if s.kh == 3 && s.pad == 1 {
                let ones = Tensor(shape: [s.cout], repeating: 1), zeros = Tensor(shape: [s.cout])
                let yf = g.conv2dFoldedBatchNormLeakyReLU(Variable(x), weight: Variable(w), padding: 1,
                                                          bnWeight: Variable(ones), bnBias: Variable(zeros),
                                                          runningMean: zeros, runningVar: ones, eps: 0, slope: 1).value
                assertNoNaN(yf, "folded " + what)
                let refNoBias = ref.array.enumerated().map { $1 - b.data[($0 / s.p) % s.cout] }
                XCTAssertLessThan(relativeMaxError(yf.array, refNoBias), 1e-5, "folded " + what)
            }
        }
        DirectConvKernels.enabled = saved.direct

        let g = Graph(recording: false)
        let a = rnd.tensor([2, 3, 7, 9]), c = rnd.tensor([2, 5, 7, 9])
        let cat = g.concatChannels([Variable(a), Variable(c)]).value
        assertNoNaN(cat, "concatChannels")
        XCTAssertEqual(Array(cat.array[0..<(3 * 63)]), Array(a.array[0..<(3 * 63)]))
        XCTAssertEqual(Array(cat.array[(3 * 63)..<(8 * 63)]), Array(c.array[0..<(5 * 63)]))

        let p = rnd.tensor([2, 3, 9, 11])
        let pooled = g.maxPool2d(Variable(p)).value
        assertNoNaN(pooled, "maxPool2d")
        XCTAssertEqual(pooled[1, 2, 3, 4], [p[1, 2, 6, 8], p[1, 2, 6, 9], p[1, 2, 7, 8], p[1, 2, 7, 9]].max()!)

        let q = rnd.tensor([2, 8, 3, 5])
        let shuffled = g.pixelShuffle(Variable(q), upscale: 2).value
        assertNoNaN(shuffled, "pixelShuffle")
        let ref = Tensor(shape: shuffled.shape)
        LayoutKernels.pixelShuffleForwardNaive(ref.data, q.data, n: 2, c: 2, h: 3, w: 5, r: 2)
        XCTAssertEqual(shuffled.array, ref.array)

        // Batch norm (training and eval) and batch norm + LeakyReLU: y = (x - mean) * invStd * w + b, every element.
        for training in [true, false] {
            let xb = rnd.tensor([2, 3, 4, 5]), wb = rnd.tensor([3]), bb = rnd.tensor([3])
            let rm = Tensor(shape: [3]), rv = Tensor(shape: [3], repeating: 1)
            let bn = g.batchNorm2d(Variable(xb), weight: Variable(wb), bias: Variable(bb), runningMean: rm, runningVar: rv,
                                   training: training, momentum: 0.1).value
            assertNoNaN(bn, "batchNorm2d training \(training)")
            let bnl = g.batchNormLeakyReLU(Variable(xb), weight: Variable(wb), bias: Variable(bb), runningMean: rm,
                                           runningVar: rv, training: training, momentum: 0.1, slope: 0.1).value
            assertNoNaN(bnl, "batchNormLeakyReLU training \(training)")
            if !training { XCTAssertEqual(bn[1, 2, 3, 4], xb[1, 2, 3, 4] / (1 + 1e-5).squareRoot() * wb[2] + bb[2], accuracy: 1e-5) }
        }
    }

    /// The vectorised weight transforms (eight filters at a time) against the scalar one, bit for bit, for channel
    /// counts with and without a remainder; the flipped-transposed one (dx) against the transform of explicitly
    /// flipped, transposed filters.
    func testWeightTransformsMatchTheScalarTransformBitForBit() {
        for (cout, cin) in [(16, 24), (5, 13), (9, 8), (1, 7), (64, 32)] {
            var rnd = TestRandom(UInt64(700 + cout * 31 + cin))
            let w = rnd.tensor([cout, cin, 3, 3])
            let n = WinogradKernels.transformedWeightCount(cout: cout, cin: cin)
            let u = Tensor(shape: [n]), ref = Tensor(shape: [n])
            WinogradKernels.transformWeights(u.data, w.data, cout: cout, cin: cin)
            for co in 0..<cout {
                for ci in 0..<cin {
                    WinogradKernels.transformFilterNaive(ref.data + co * cin + ci, plane: cout * cin,
                                                         w.data + (co * cin + ci) * 9, flipped: false)
                }
            }
            XCTAssertEqual(u.array, ref.array, "U of (\(cout), \(cin), 3, 3)")

            let flipped = Tensor(shape: [cin, cout, 3, 3])
            for co in 0..<cout {
                for ci in 0..<cin {
                    for k in 0..<9 { flipped.data[(ci * cout + co) * 9 + k] = w.data[(co * cin + ci) * 9 + 8 - k] }
                }
            }
            let uf = Tensor(shape: [n]), refF = Tensor(shape: [n])
            WinogradKernels.transformFlippedTransposedWeights(uf.data, w.data, cout: cout, cin: cin)
            WinogradKernels.transformWeights(refF.data, flipped.data, cout: cin, cin: cout)
            XCTAssertEqual(uf.array, refF.array, "U of the flipped, transposed (\(cout), \(cin), 3, 3)")
        }
    }
}
