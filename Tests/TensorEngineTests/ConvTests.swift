import TestSupport
import Foundation
import XCTest
import TensorEngine

/// The fast conv kernels (im2col + sgemm, 1x1 direct) against their naive twins, and the conv2d op
/// against finite differences.
final class ConvTests: XCTestCase {
    // These test the im2col + sgemm path; the direct kernel for few input channels has DirectConvTests.
    private var directWasEnabled = true
    override func setUp() { directWasEnabled = DirectConvKernels.enabled; DirectConvKernels.enabled = false }
    override func tearDown() { DirectConvKernels.enabled = directWasEnabled }

    /// Fast vs naive forward and backward (which must ADD into pre-filled gradients).
    func compareWithNaive(_ s: Conv2dShape, bias: Bool = true, seed: UInt64 = 1, file: StaticString = #filePath, line: UInt = #line) {
        var rnd = TestRandom(seed)
        let x = rnd.tensor([s.n, s.cin, s.h, s.w]), w = rnd.tensor([s.cout, s.cin, s.kh, s.kw])
        let b = rnd.tensor([s.cout]), dy = rnd.tensor([s.n, s.cout, s.ho, s.wo])
        let yFast = Tensor(shape: dy.shape), yNaive = Tensor(shape: dy.shape)
        ConvKernels.forward(yFast.data, x.data, w.data, bias ? b.data : nil, s)
        ConvKernels.forwardNaive(yNaive.data, x.data, w.data, bias ? b.data : nil, s)
        XCTAssertLessThan(relativeMaxError(yFast.array, yNaive.array), 1e-5, "forward \(s)", file: file, line: line)

        let dx0 = rnd.tensor(x.shape), dw0 = rnd.tensor(w.shape), db0 = rnd.tensor(b.shape)
        let (dxF, dwF, dbF) = (dx0.copy(), dw0.copy(), db0.copy())
        let (dxN, dwN, dbN) = (dx0.copy(), dw0.copy(), db0.copy())
        ConvKernels.backward(dxF.data, dwF.data, bias ? dbF.data : nil, dy.data, x.data, w.data, s)
        ConvKernels.backwardNaive(dxN.data, dwN.data, bias ? dbN.data : nil, dy.data, x.data, w.data, s)
        XCTAssertLessThan(relativeMaxError(dxF.array, dxN.array), 1e-5, "dx \(s)", file: file, line: line)
        XCTAssertLessThan(relativeMaxError(dwF.array, dwN.array), 1e-5, "dw \(s)", file: file, line: line)
        XCTAssertLessThan(relativeMaxError(dbF.array, dbN.array), 1e-5, "db \(s)", file: file, line: line)
        // Only some gradients requested.
        let dxOnly = dx0.copy(), dwOnly = dw0.copy()
        ConvKernels.backward(dxOnly.data, nil, nil, dy.data, x.data, w.data, s)
        ConvKernels.backward(nil, dwOnly.data, nil, dy.data, x.data, w.data, s)
        XCTAssertLessThan(relativeMaxError(dxOnly.array, dxN.array), 1e-5, "dx alone \(s)", file: file, line: line)
        XCTAssertLessThan(relativeMaxError(dwOnly.array, dwN.array), 1e-5, "dw alone \(s)", file: file, line: line)
    }

    func testFastMatchesNaiveOnManyShapes() {
        let shapes = [
            Conv2dShape(n: 2, cin: 3, h: 9, w: 11, cout: 4, kh: 3, kw: 3, pad: 1),
            Conv2dShape(n: 1, cin: 5, h: 7, w: 6, cout: 7, kh: 3, kw: 3, pad: 0),
            Conv2dShape(n: 2, cin: 5, h: 17, w: 1, cout: 7, kh: 1, kw: 1, pad: 0),     // IO-Net (B,C,N,1)
            Conv2dShape(n: 3, cin: 4, h: 300, w: 1, cout: 9, kh: 1, kw: 1, pad: 0),
            Conv2dShape(n: 2, cin: 2, h: 8, w: 10, cout: 3, kh: 5, kw: 5, pad: 2),
            Conv2dShape(n: 1, cin: 3, h: 6, w: 5, cout: 2, kh: 3, kw: 1, pad: 1),      // non-square kernel
            Conv2dShape(n: 1, cin: 2, h: 4, w: 4, cout: 3, kh: 3, kw: 3, pad: 2),      // padding larger than k/2
            Conv2dShape(n: 1, cin: 2, h: 5, w: 5, cout: 3, kh: 1, kw: 1, pad: 1),      // 1x1 with padding: im2col path
            Conv2dShape(n: 2, cin: 16, h: 20, w: 30, cout: 24, kh: 3, kw: 3, pad: 1),  // large enough to run in parallel
            Conv2dShape(n: 1, cin: 1, h: 1, w: 1, cout: 1, kh: 1, kw: 1, pad: 0),
        ]
        for (i, s) in shapes.enumerated() { compareWithNaive(s, bias: i % 2 == 0, seed: UInt64(i + 1)) }
    }

    func testChunkedColumnsMatchNaive() {
        // Force one output row per chunk, then a few rows, then whole images.
        let saved = ConvKernels.columnChunkFloats
        defer { ConvKernels.columnChunkFloats = saved }
        for target in [1, 300, 1 << 22] {
            ConvKernels.columnChunkFloats = target
            compareWithNaive(Conv2dShape(n: 2, cin: 3, h: 13, w: 10, cout: 5, kh: 3, kw: 3, pad: 1), seed: UInt64(target))
        }
    }

    func testPerCoreWorkersMatchNaive() {
        // Force the one-worker-per-core path on small shapes, with image counts that leave a
        // remainder for the serial path, and more workers than cores.
        let (savedMin, savedWorkers, savedChunk) = (ConvKernels.parallelMinFlops, ConvKernels.workers, ConvKernels.columnChunkFloats)
        defer { ConvKernels.parallelMinFlops = savedMin; ConvKernels.workers = savedWorkers; ConvKernels.columnChunkFloats = savedChunk }
        let savedMax = ConvKernels.perCoreMaxWeights
        defer { ConvKernels.perCoreMaxWeights = savedMax }
        ConvKernels.parallelMinFlops = 0
        ConvKernels.perCoreMaxWeights = Int.max
        ConvKernels.columnChunkFloats = 200
        for workers in [2, 3] {
            ConvKernels.workers = workers
            compareWithNaive(Conv2dShape(n: 5, cin: 3, h: 11, w: 9, cout: 4, kh: 3, kw: 3, pad: 1), seed: UInt64(10 + workers))
            compareWithNaive(Conv2dShape(n: 1, cin: 2, h: 12, w: 7, cout: 3, kh: 3, kw: 3, pad: 1), seed: UInt64(20 + workers))
            compareWithNaive(Conv2dShape(n: 3, cin: 4, h: 6, w: 6, cout: 5, kh: 5, kw: 3, pad: 2), bias: false, seed: UInt64(30 + workers))
        }
    }

    func testConcurrentCallersGetCorrectResults() {
        // Two threads convolving at once (per-core path and multi-threaded-sgemm path): the BLAS
        // thread setting and the scratch pool must not let them interfere.
        let (savedMin, savedMax) = (ConvKernels.parallelMinFlops, ConvKernels.perCoreMaxWeights)
        defer { ConvKernels.parallelMinFlops = savedMin; ConvKernels.perCoreMaxWeights = savedMax }
        ConvKernels.parallelMinFlops = 0
        ConvKernels.perCoreMaxWeights = 200
        let shapes = [Conv2dShape(n: 4, cin: 3, h: 30, w: 20, cout: 5, kh: 3, kw: 3, pad: 1),     // 135 weights: per-core
                      Conv2dShape(n: 2, cin: 8, h: 16, w: 24, cout: 8, kh: 3, kw: 3, pad: 1)]     // 576 weights: sgemm threads
        var rnd = TestRandom(77)
        let inputs = shapes.map { s in (rnd.tensor([s.n, s.cin, s.h, s.w]), rnd.tensor([s.cout, s.cin, s.kh, s.kw]), rnd.tensor([s.n, s.cout, s.ho, s.wo])) }
        let expected: [[Float]] = zip(shapes, inputs).map { s, t in
            let y = Tensor(shape: t.2.shape), dx = Tensor(shape: t.0.shape), dw = Tensor(shape: t.1.shape)
            ConvKernels.forwardNaive(y.data, t.0.data, t.1.data, nil, s)
            ConvKernels.backwardNaive(dx.data, dw.data, nil, t.2.data, t.0.data, t.1.data, s)
            return y.array + dx.array + dw.array
        }
        let errors = UnsafeMutablePointer<Double>.allocate(capacity: 2)
        defer { errors.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            var worst = 0.0
            for _ in 0..<20 {
                let (s, t) = (shapes[i], inputs[i])
                let y = Tensor(shape: t.2.shape), dx = Tensor(shape: t.0.shape), dw = Tensor(shape: t.1.shape)
                ConvKernels.forward(y.data, t.0.data, t.1.data, nil, s)
                ConvKernels.backward(dx.data, dw.data, nil, t.2.data, t.0.data, t.1.data, s)
                worst = max(worst, relativeMaxError(y.array + dx.array + dw.array, expected[i]))
            }
            errors[i] = worst
        }
        XCTAssertLessThan(errors[0], 1e-5)
        XCTAssertLessThan(errors[1], 1e-5)
    }

    func testResultsDoNotDependOnTiming() {
        // The same large call twice gives bit-identical results (fixed dW reduction order).
        var rnd = TestRandom(8)
        let s = Conv2dShape(n: 4, cin: 16, h: 40, w: 48, cout: 16, kh: 3, kw: 3, pad: 1)
        let x = rnd.tensor([s.n, s.cin, s.h, s.w]), w = rnd.tensor([s.cout, s.cin, 3, 3]), dy = rnd.tensor([s.n, s.cout, s.ho, s.wo])
        var results: [[Float]] = []
        for _ in 0..<2 {
            let y = Tensor(shape: dy.shape), dx = Tensor(shape: x.shape), dw = Tensor(shape: w.shape)
            ConvKernels.forward(y.data, x.data, w.data, nil, s)
            ConvKernels.backward(dx.data, dw.data, nil, dy.data, x.data, w.data, s)
            results.append(y.array + dx.array + dw.array)
        }
        XCTAssertEqual(results[0], results[1])
    }

    func testScratchBuffersAreReusedInSteadyState() {
        var rnd = TestRandom(3)
        let s = Conv2dShape(n: 2, cin: 4, h: 12, w: 12, cout: 6, kh: 3, kw: 3, pad: 1)
        let x = rnd.tensor([s.n, s.cin, s.h, s.w]), w = rnd.tensor([s.cout, s.cin, 3, 3]), y = Tensor(shape: [s.n, s.cout, s.ho, s.wo])
        let pool = StoragePool.shared
        ConvKernels.forward(y.data, x.data, w.data, nil, s)
        ConvKernels.backward(nil, w.data, nil, y.data, x.data, w.data, s)
        let idle = pool.idleBytes
        for _ in 0..<5 {
            ConvKernels.forward(y.data, x.data, w.data, nil, s)
            ConvKernels.backward(nil, w.data, nil, y.data, x.data, w.data, s)
        }
        XCTAssertEqual(pool.idleBytes, idle, "steady-state convolutions must reuse their scratch buffers")

        let own = StoragePool()
        let big = StoragePool.minPooledCount * 2
        let first = own.with(count: big) { $0 }
        let second = own.with(count: big - 100) { $0 }
        XCTAssertEqual(first, second, "a returned buffer is lent again (same size class)")
        own.with(count: big) { a in own.with(count: big) { b in XCTAssertNotEqual(a, b, "concurrent borrowers get distinct buffers") } }
        XCTAssertEqual(StoragePool.scratchCapacity(big + 1), big * 2)
        XCTAssertEqual(StoragePool.scratchCapacity(5), 5)
    }

    func testConv2dGradients3x3WithBias() {
        var rnd = TestRandom(11)
        let x = Variable(rnd.tensor([2, 3, 6, 5]), requiresGrad: true)
        let w = Variable(rnd.tensor([4, 3, 3, 3]), requiresGrad: true)
        let b = Variable(rnd.tensor([4]), requiresGrad: true)
        checkGradients([x, w, b]) { g in g.conv2d(x, weight: w, bias: b, padding: 1) }
    }

    func testConv2dGradients1x1OnPointSets() {
        var rnd = TestRandom(12)
        let x = Variable(rnd.tensor([2, 5, 17, 1]), requiresGrad: true)
        let w = Variable(rnd.tensor([7, 5, 1, 1]), requiresGrad: true)
        checkGradients([x, w]) { g in g.conv2d(x, weight: w, bias: nil, padding: 0) }
    }

    func testConv2dGradientsNoPadding5x5() {
        var rnd = TestRandom(13)
        let x = Variable(rnd.tensor([1, 2, 7, 8]), requiresGrad: true)
        let w = Variable(rnd.tensor([3, 2, 5, 5]), requiresGrad: true)
        let b = Variable(rnd.tensor([3]), requiresGrad: true)
        checkGradients([x, w, b]) { g in g.conv2d(x, weight: w, bias: b, padding: 0) }
    }

    func testConv2dOpShapeAndKnownValues() {
        // A 3x3 all-ones kernel with padding 1 sums each 3x3 neighbourhood.
        let x = Variable(Tensor(shape: [1, 1, 3, 3], values: [1, 2, 3, 4, 5, 6, 7, 8, 9]))
        let w = Variable(Tensor(shape: [1, 1, 3, 3], repeating: 1))
        let b = Variable(Tensor(shape: [1], values: [0.5]))
        let y = Graph().conv2d(x, weight: w, bias: b, padding: 1)
        XCTAssertEqual(y.shape, [1, 1, 3, 3])
        XCTAssertEqual(y.value.array, [12, 21, 16, 27, 45, 33, 24, 39, 28].map { $0 + 0.5 })
        // Cross-correlation, not convolution: the kernel is not flipped.
        let k = Variable(Tensor(shape: [1, 1, 1, 2], values: [1, 10]))
        let z = Graph().conv2d(x, weight: k, bias: nil, padding: 0)
        XCTAssertEqual(z.shape, [1, 1, 3, 2])
        XCTAssertEqual(z.value.array, [21, 32, 54, 65, 87, 98])
    }

    func testConv2dRecordsNothingWithoutGrad() {
        var rnd = TestRandom(14)
        let g = Graph()
        let y = g.conv2d(Variable(rnd.tensor([1, 2, 4, 4])), weight: Variable(rnd.tensor([3, 2, 3, 3])), bias: nil, padding: 1)
        XCTAssertFalse(y.requiresGrad)
        XCTAssertEqual(g.count, 0)
    }
}

/// The gradient checker itself must catch a wrong backward.
final class GradientCheckTests: XCTestCase {
    func testCheckerDetectsAWrongGradient() {
        var rnd = TestRandom(5)
        let x = Variable(rnd.tensor([10]), requiresGrad: true)
        // y = x^2 with a backward that forgets the factor 2.
        func wrongSquare(_ g: Graph) -> Variable {
            let y = g.output(x.shape, from: x)
            for i in 0..<x.count { y.value.data[i] = x.value.data[i] * x.value.data[i] }
            g.record(y) { dy in for i in 0..<x.count { x.gradient().data[i] += dy.data[i] * x.value.data[i] } }
            return y
        }
        XCTAssertGreaterThan(gradientErrors([x], wrongSquare)[0].error, 0.1)
        XCTAssertLessThan(gradientErrors([x]) { g in g.mul(x, x) }[0].error, 1e-4)
    }
}

/// The conv output epilogue (bias, folded eval BatchNorm + LeakyReLU) against the naive conv followed by
/// the same map applied naively, on every kernel path.
final class ConvEpilogueTests: XCTestCase {
    // These test the im2col + sgemm path; the direct kernel for few input channels has DirectConvTests.
    private var directWasEnabled = true
    override func setUp() { directWasEnabled = DirectConvKernels.enabled; DirectConvKernels.enabled = false }
    override func tearDown() { DirectConvKernels.enabled = directWasEnabled }

    func testAffineLeakyReLUMatchesNaiveConvThenMap() {
        let saved = (ConvKernels.columnChunkFloats, ConvKernels.workers)
        defer { (ConvKernels.columnChunkFloats, ConvKernels.workers) = saved }
        let shapes = [
            Conv2dShape(n: 2, cin: 3, h: 9, w: 11, cout: 4, kh: 3, kw: 3, pad: 1),
            Conv2dShape(n: 2, cin: 16, h: 20, w: 30, cout: 24, kh: 3, kw: 3, pad: 1),
            Conv2dShape(n: 3, cin: 5, h: 17, w: 1, cout: 7, kh: 1, kw: 1, pad: 0),
        ]
        for (i, s) in shapes.enumerated() {
            for (chunk, workers) in [(1 << 20, saved.1), (300, 2), (300, 1)] {
                ConvKernels.columnChunkFloats = chunk; ConvKernels.workers = workers
                var rnd = TestRandom(UInt64(40 + i))
                let x = rnd.tensor([s.n, s.cin, s.h, s.w]), w = rnd.tensor([s.cout, s.cin, s.kh, s.kw])
                let scale = rnd.tensor([s.cout]), shift = rnd.tensor([s.cout])
                let y = Tensor(shape: [s.n, s.cout, s.ho, s.wo]), ref = Tensor(shape: y.shape)
                ConvKernels.forwardAffineLeakyReLU(y.data, x.data, w.data, scale.data, shift.data, s, slope: 0.01)
                ConvKernels.forwardNaive(ref.data, x.data, w.data, nil, s)
                for j in 0..<ref.count {
                    let co = (j / s.p) % s.cout
                    let t = ref.data[j] * scale.data[co] + shift.data[co]
                    ref.data[j] = t > 0 ? t : t * 0.01
                }
                XCTAssertLessThan(relativeMaxError(y.array, ref.array), 1e-5, "\(s) chunk \(chunk) workers \(workers)")
                XCTAssertTrue(y.array.contains { $0 < 0 } && y.array.contains { $0 > 0 }, "both signs exercised")
            }
        }
    }

    func testFoldedBatchNormOpMatchesTheThreeOps() {
        var rnd = TestRandom(77)
        let x = Variable(rnd.tensor([2, 5, 12, 9])), w = Variable(rnd.tensor([6, 5, 3, 3]))
        let gamma = Variable(rnd.tensor([6])), beta = Variable(rnd.tensor([6]))
        let mean = rnd.tensor([6]), variance = Tensor(shape: [6])
        for i in 0..<6 { variance.data[i] = 0.3 + Float(i) * 0.4 }
        let g = Graph(recording: false)
        let fused = g.conv2dFoldedBatchNormLeakyReLU(x, weight: w, padding: 1, bnWeight: gamma, bnBias: beta,
                                                     runningMean: mean, runningVar: variance, eps: 1e-5, slope: 0.01)
        let conv = g.conv2d(x, weight: w, bias: nil, padding: 1)
        let plain = g.batchNormLeakyReLU(conv, weight: gamma, bias: beta, runningMean: mean, runningVar: variance,
                                         training: false, momentum: 0.1, eps: 1e-5, slope: 0.01)
        XCTAssertEqual(fused.shape, plain.shape)
        XCTAssertLessThan(relativeMaxError(fused.value.array, plain.value.array), 1e-5)
    }
}

/// Winograd F(2x2,3x3) forward against the naive twin: odd and even sizes (partial tiles), chunking, epilogue.
final class WinogradTests: XCTestCase {
    func testMatchesNaiveTwin() {
        let saved = (WinogradKernels.minChannels, WinogradKernels.chunkFloats, ConvKernels.workers)
        defer { (WinogradKernels.minChannels, WinogradKernels.chunkFloats, ConvKernels.workers) = saved }
        WinogradKernels.minChannels = 1
        let shapes = [
            Conv2dShape(n: 2, cin: 3, h: 9, w: 11, cout: 4, kh: 3, kw: 3, pad: 1),
            Conv2dShape(n: 1, cin: 5, h: 1, w: 1, cout: 2, kh: 3, kw: 3, pad: 1),
            Conv2dShape(n: 2, cin: 16, h: 12, w: 10, cout: 24, kh: 3, kw: 3, pad: 1),
            Conv2dShape(n: 1, cin: 64, h: 7, w: 8, cout: 70, kh: 3, kw: 3, pad: 1),
            Conv2dShape(n: 2, cin: 6, h: 13, w: 40, cout: 5, kh: 3, kw: 3, pad: 1),    // SIMD blocks of 8 tiles + tails
            Conv2dShape(n: 1, cin: 4, h: 16, w: 37, cout: 3, kh: 3, kw: 3, pad: 1),
        ]
        for (i, s) in shapes.enumerated() {
            XCTAssertTrue(WinogradKernels.applies(s))
            for (chunk, workers) in [(1 << 20, saved.2), (8 * 16 * 70, 2), (1, 1)] {
                WinogradKernels.chunkFloats = chunk; ConvKernels.workers = workers
                var rnd = TestRandom(UInt64(60 + i))
                let x = rnd.tensor([s.n, s.cin, s.h, s.w]), w = rnd.tensor([s.cout, s.cin, 3, 3]), b = rnd.tensor([s.cout])
                let y = Tensor(shape: [s.n, s.cout, s.ho, s.wo], repeating: .nan), ref = Tensor(shape: y.shape)
                ConvKernels.forward(y.data, x.data, w.data, b.data, s)
                ConvKernels.forwardNaive(ref.data, x.data, w.data, b.data, s)
                XCTAssertLessThan(relativeMaxError(y.array, ref.array), 1e-5, "\(s) chunk \(chunk) workers \(workers)")
                let scale = rnd.tensor([s.cout]), shift = rnd.tensor([s.cout])
                ConvKernels.forwardAffineLeakyReLU(y.data, x.data, w.data, scale.data, shift.data, s, slope: 0.01)
                for j in 0..<ref.count {
                    let co = (j / s.p) % s.cout
                    let t = (ref.data[j] - b.data[co]) * scale.data[co] + shift.data[co]
                    ref.data[j] = t > 0 ? t : t * 0.01
                }
                XCTAssertLessThan(relativeMaxError(y.array, ref.array), 1e-5, "epilogue \(s) chunk \(chunk)")
            }
        }
    }

    func testInputGradientMatchesNaiveTwin() {
        let saved = (WinogradKernels.minChannels, WinogradKernels.chunkFloats)
        defer { (WinogradKernels.minChannels, WinogradKernels.chunkFloats) = saved }
        WinogradKernels.minChannels = 1
        for (i, s) in [Conv2dShape(n: 2, cin: 3, h: 9, w: 11, cout: 4, kh: 3, kw: 3, pad: 1),
                       Conv2dShape(n: 2, cin: 6, h: 13, w: 40, cout: 5, kh: 3, kw: 3, pad: 1),
                       Conv2dShape(n: 1, cin: 9, h: 16, w: 37, cout: 12, kh: 3, kw: 3, pad: 1)].enumerated() {
            for chunk in [1 << 20, 1] {
                WinogradKernels.chunkFloats = chunk
                var rnd = TestRandom(UInt64(80 + i))
                let x = rnd.tensor([s.n, s.cin, s.h, s.w]), w = rnd.tensor([s.cout, s.cin, 3, 3]), dy = rnd.tensor([s.n, s.cout, s.ho, s.wo])
                let dx0 = rnd.tensor(x.shape), dw0 = rnd.tensor(w.shape)
                let (dxF, dwF, dxN, dwN) = (dx0.copy(), dw0.copy(), dx0.copy(), dw0.copy())
                ConvKernels.backward(dxF.data, dwF.data, nil, dy.data, x.data, w.data, s)
                ConvKernels.backwardNaive(dxN.data, dwN.data, nil, dy.data, x.data, w.data, s)
                XCTAssertLessThan(relativeMaxError(dxF.array, dxN.array), 1e-5, "dx adds, \(s) chunk \(chunk)")
                XCTAssertLessThan(relativeMaxError(dwF.array, dwN.array), 1e-5, "dw \(s)")
                let dxOnly = dx0.copy()
                ConvKernels.backward(dxOnly.data, nil, nil, dy.data, x.data, w.data, s)
                XCTAssertLessThan(relativeMaxError(dxOnly.array, dxN.array), 1e-5, "dx alone \(s)")
            }
        }
    }

    func testUsedOnlyForWide3x3Pad1() {
        XCTAssertTrue(WinogradKernels.applies(Conv2dShape(n: 1, cin: 64, h: 8, w: 8, cout: 64, kh: 3, kw: 3, pad: 1)))
        XCTAssertFalse(WinogradKernels.applies(Conv2dShape(n: 1, cin: 32, h: 8, w: 8, cout: 64, kh: 3, kw: 3, pad: 1)))
        XCTAssertFalse(WinogradKernels.applies(Conv2dShape(n: 1, cin: 64, h: 8, w: 8, cout: 64, kh: 3, kw: 3, pad: 0)))
        XCTAssertFalse(WinogradKernels.applies(Conv2dShape(n: 1, cin: 64, h: 8, w: 8, cout: 64, kh: 1, kw: 1, pad: 0)))
    }
}
