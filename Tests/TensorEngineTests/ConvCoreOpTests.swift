import TestSupport
import XCTest
import TensorEngine

/// batchNorm2d, activations, maxPool2d, pixelShuffle, concatChannels and dropout2d: values and
/// finite-difference gradients.
final class ConvCoreOpTests: XCTestCase {
    // MARK: batchNorm2d

    func testBatchNormTrainingGradients() {
        var rnd = TestRandom(21)
        let x = Variable(rnd.tensor([3, 4, 5, 6]), requiresGrad: true)
        let w = Variable(rnd.tensor([4], 0.5, 1.5), requiresGrad: true)
        let b = Variable(rnd.tensor([4]), requiresGrad: true)
        checkGradients([x, w, b]) { g in
            g.batchNorm2d(x, weight: w, bias: b, runningMean: Tensor(shape: [4]), runningVar: Tensor(shape: [4], repeating: 1),
                          training: true, momentum: 0.1)
        }
    }

    func testBatchNormTrainingGradientsOnPointSets() {
        var rnd = TestRandom(22)
        let x = Variable(rnd.tensor([2, 6, 11, 1]), requiresGrad: true)
        let w = Variable(rnd.tensor([6], 0.5, 1.5), requiresGrad: true)
        let b = Variable(rnd.tensor([6]), requiresGrad: true)
        checkGradients([x, w, b]) { g in
            g.batchNorm2d(x, weight: w, bias: b, runningMean: Tensor(shape: [6]), runningVar: Tensor(shape: [6], repeating: 1),
                          training: true, momentum: 0.9)
        }
    }

    func testBatchNormEvalGradients() {
        var rnd = TestRandom(23)
        let x = Variable(rnd.tensor([2, 3, 4, 5]), requiresGrad: true)
        let w = Variable(rnd.tensor([3]), requiresGrad: true)
        let b = Variable(rnd.tensor([3]), requiresGrad: true)
        let rm = rnd.tensor([3]), rv = rnd.tensor([3], 0.5, 2)
        checkGradients([x, w, b]) { g in
            g.batchNorm2d(x, weight: w, bias: b, runningMean: rm, runningVar: rv, training: false, momentum: 0.1)
        }
    }

    func testBatchNormStatisticsAndRunningUpdate() {
        // One channel, values 1..4 (N=2, HW=2): mean 2.5, biased var 1.25, unbiased 5/3.
        let x = Variable(Tensor(shape: [2, 1, 2, 1], values: [1, 2, 3, 4]))
        let w = Variable(Tensor(shape: [1], values: [2])), b = Variable(Tensor(shape: [1], values: [1]))
        let rm = Tensor(shape: [1], values: [1]), rv = Tensor(shape: [1], values: [2])
        let y = Graph().batchNorm2d(x, weight: w, bias: b, runningMean: rm, runningVar: rv, training: true, momentum: 0.25)
        let istd = 1 / (1.25 + 1e-5).squareRoot()
        for (i, v) in [1.0, 2, 3, 4].enumerated() {
            XCTAssertEqual(Double(y.value.data[i]), (v - 2.5) * istd * 2 + 1, accuracy: 1e-5)
        }
        XCTAssertEqual(rm.data[0], 0.75 * 1 + 0.25 * 2.5, accuracy: 1e-6)
        XCTAssertEqual(rv.data[0], 0.75 * 2 + 0.25 * (5.0 / 3.0), accuracy: 1e-6, "running_var uses the unbiased variance")
        // Eval mode uses the running statistics and leaves them alone.
        let ye = Graph().batchNorm2d(x, weight: w, bias: b, runningMean: rm, runningVar: rv, training: false, momentum: 0.25)
        XCTAssertEqual(Double(ye.value.data[0]), (1 - Double(rm.data[0])) / (Double(rv.data[0]) + 1e-5).squareRoot() * 2 + 1, accuracy: 1e-5)
        XCTAssertEqual(rm.data[0], 1.375, accuracy: 1e-6)
    }

    func testBatchNormLongPlanesStayAccurate() {
        // A large offset and long planes: two-pass statistics must not lose the variance.
        var rnd = TestRandom(24)
        let t = rnd.tensor([2, 1, 300, 400])
        for i in 0..<t.count { t.data[i] = 100 + t.data[i] }
        let rm = Tensor(shape: [1]), rv = Tensor(shape: [1])
        _ = Graph().batchNorm2d(Variable(t), weight: Variable(Tensor(shape: [1], values: [1])), bias: Variable(Tensor(shape: [1])),
                                runningMean: rm, runningVar: rv, training: true, momentum: 1)
        var s = 0.0, q = 0.0
        for i in 0..<t.count { s += Double(t.data[i]) }
        let mean = s / Double(t.count)
        for i in 0..<t.count { q += (Double(t.data[i]) - mean) * (Double(t.data[i]) - mean) }
        XCTAssertEqual(Double(rm.data[0]), mean, accuracy: 1e-5)
        XCTAssertEqual(Double(rv.data[0]), q / Double(t.count - 1), accuracy: 1e-5)
    }

    // MARK: activations

    func testActivationGradients() {
        var rnd = TestRandom(31)
        let x = Variable(rnd.awayFromZero([2, 3, 4, 5]), requiresGrad: true)
        checkGradients([x]) { g in g.relu(x) }
        checkGradients([x]) { g in g.leakyReLU(x) }
        checkGradients([x]) { g in g.leakyReLU(x, slope: 0.2) }
        checkGradients([x]) { g in g.sigmoid(g.scale(x, 3)) }
        checkGradients([x]) { g in g.tanh(g.scale(x, 2)) }
    }

    func testActivationValuesAndDerivativesAtZero() {
        let x = Variable(Tensor(shape: [5], values: [-2, -0.0, 0, 1e-8, 25]), requiresGrad: true)
        func run(_ f: (Graph, Variable) -> Variable) -> (y: [Float], dx: [Float]) {
            x.grad = nil
            let g = Graph()
            let y = f(g, x)
            g.backward(y, seed: Tensor(shape: [5], repeating: 1))
            return (y.value.array, x.grad!.array)
        }
        let relu = run { $0.relu($1) }
        XCTAssertEqual(relu.y, [0, 0, 0, 1e-8, 25])
        XCTAssertEqual(relu.dx, [0, 0, 0, 1, 1], "ReLU derivative is 0 at exactly 0")
        let leaky = run { $0.leakyReLU($1) }
        XCTAssertEqual(leaky.y, [-0.02, -0.0, 0, 1e-8, 25])
        XCTAssertEqual(leaky.dx, [0.01, 0.01, 0.01, 1, 1], "LeakyReLU derivative is 0.01 at exactly 0")
        let sig = run { $0.sigmoid($1) }
        XCTAssertEqual(sig.y[2], 0.5)
        XCTAssertEqual(sig.dx[2], 0.25)
        XCTAssertEqual(sig.y[4], 1, accuracy: 1e-7)
        let th = run { $0.tanh($1) }
        XCTAssertEqual(th.y[2], 0)
        XCTAssertEqual(th.dx[2], 1)
        XCTAssertEqual(th.dx[4], 0)
    }

    // MARK: maxPool2d

    func testMaxPoolGradientsAndOddSizes() {
        var rnd = TestRandom(41)
        let x = Variable(rnd.distinct([2, 3, 7, 9]), requiresGrad: true)
        checkGradients([x]) { g in g.maxPool2d(x) }
        let y = Graph().maxPool2d(x)
        XCTAssertEqual(y.shape, [2, 3, 3, 4], "floor mode drops the last row and column")
    }

    func testMaxPoolTiesGoToFirstElementInRowMajorOrder() {
        // Windows: all equal; max at bottom-left and bottom-right tied; NaN wins.
        let x = Variable(Tensor(shape: [1, 1, 2, 6], values: [5, 5, 1, 2, .nan, 0,
                                                              5, 5, 7, 7, 3, 4]), requiresGrad: true)
        let g = Graph()
        let (y, indices) = g.maxPool2dWithIndices(x)
        XCTAssertEqual(indices, [0, 8, 4])
        XCTAssertEqual(y.value.array[0...1], [5, 7])
        XCTAssertTrue(y.value.array[2].isNaN)
        g.backward(y, seed: Tensor(shape: [1, 1, 1, 3], values: [1, 2, 3]))
        XCTAssertEqual(x.grad!.array, [1, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0])
    }

    func testMaxPoolIndexBuffersAreNotSharedWhileAlive() {
        // Index memory is recycled between max-pools of the same size; pools alive at the same
        // time (and pools made after one is released) must keep their own routing.
        var rnd = TestRandom(43)
        let x1 = Variable(rnd.distinct([1, 2, 6, 6]), requiresGrad: true)
        let x2 = Variable(rnd.distinct([1, 2, 6, 6]), requiresGrad: true)
        let (_, i1) = Graph().maxPool2dWithIndices(x1)
        let (_, i2) = Graph().maxPool2dWithIndices(x2)
        XCTAssertNotEqual(i1, i2)
        let g = Graph()
        let y1 = g.maxPool2d(x1)
        _ = Graph().maxPool2dWithIndices(x2)   // takes and releases a buffer of the same size
        let y2 = g.maxPool2d(x2)
        g.backward(g.add(g.sum(y1), g.sum(y2)))
        for (x, idx) in [(x1, i1), (x2, i2)] {
            var expected = [Float](repeating: 0, count: 72)
            for (o, i) in idx.enumerated() { expected[(o / 9) * 36 + i] += 1 }
            XCTAssertEqual(x.grad!.array, expected)
        }
    }

    func testMaxPoolMatchesNaiveTwin() {
        var rnd = TestRandom(42)
        let x = rnd.tensor([3, 4, 33, 21])
        for i in stride(from: 0, to: x.count, by: 7) { x.data[i] = 0.5 }   // plenty of ties
        let planes = 12, outCount = planes * 16 * 10
        let y = Tensor(shape: [outCount]), yn = Tensor(shape: [outCount])
        let idx = UnsafeMutablePointer<Int32>.allocate(capacity: outCount), idxn = UnsafeMutablePointer<Int32>.allocate(capacity: outCount)
        defer { idx.deallocate(); idxn.deallocate() }
        PoolKernels.maxPool2x2Forward(x.data, y.data, idx, planes: planes, h: 33, w: 21)
        PoolKernels.maxPool2x2ForwardNaive(x.data, yn.data, idxn, planes: planes, h: 33, w: 21)
        XCTAssertEqual(y.array, yn.array)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: idx, count: outCount)), Array(UnsafeBufferPointer(start: idxn, count: outCount)))
    }

    /// Rows wide enough for the eight-window SIMD path plus a scalar tail (wo = 20), odd height, ties.
    func testMaxPoolWideRowsMatchNaiveTwin() {
        var rnd = TestRandom(43)
        let (planes, h, w) = (5, 9, 41)
        let x = rnd.tensor([1, planes, h, w])
        for i in stride(from: 0, to: x.count, by: 5) { x.data[i] = 0.25 }
        for i in stride(from: 3, to: x.count, by: 11) { x.data[i] = x.data[i - 1] }
        let outCount = planes * (h / 2) * (w / 2)
        let y = Tensor(shape: [outCount]), yn = Tensor(shape: [outCount])
        let idx = UnsafeMutablePointer<Int32>.allocate(capacity: outCount), idxn = UnsafeMutablePointer<Int32>.allocate(capacity: outCount)
        defer { idx.deallocate(); idxn.deallocate() }
        PoolKernels.maxPool2x2Forward(x.data, y.data, idx, planes: planes, h: h, w: w)
        PoolKernels.maxPool2x2ForwardNaive(x.data, yn.data, idxn, planes: planes, h: h, w: w)
        XCTAssertEqual(y.array, yn.array)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: idx, count: outCount)), Array(UnsafeBufferPointer(start: idxn, count: outCount)))
    }

    /// NaN wins its window (PyTorch), in the SIMD lanes as in the scalar tail.
    func testMaxPoolNaNWinsInSIMDAndTail() {
        let (h, w) = (2, 20)   // wo = 10: eight SIMD windows + two scalar ones
        let x = Tensor(shape: [1, 1, h, w])
        for i in 0..<x.count { x.data[i] = Float(i % 7) }
        x.data[w + 3] = .nan       // window 1, bottom-right
        x.data[w + 18] = .nan      // window 9 (tail), bottom-left
        let y = Tensor(shape: [10])
        let idx = UnsafeMutablePointer<Int32>.allocate(capacity: 10)
        defer { idx.deallocate() }
        PoolKernels.maxPool2x2Forward(x.data, y.data, idx, planes: 1, h: h, w: w)
        XCTAssertTrue(y.data[1].isNaN && y.data[9].isNaN)
        XCTAssertEqual(idx[1], Int32(w + 3))
        XCTAssertEqual(idx[9], Int32(w + 18))
        XCTAssertFalse(y.data[0].isNaN || y.data[2].isNaN)
    }

    // MARK: pixelShuffle, concatChannels, dropout2d

    func testPixelShuffleLayoutAndGradients() {
        var rnd = TestRandom(51)
        let x = Variable(rnd.tensor([2, 8, 3, 5]), requiresGrad: true)
        let y = Graph().pixelShuffle(x)
        XCTAssertEqual(y.shape, [2, 2, 6, 10])
        for n in 0..<2 { for c in 0..<2 { for h in 0..<3 { for w in 0..<5 { for i in 0..<2 { for j in 0..<2 {
            XCTAssertEqual(y.value[n, c, 2 * h + i, 2 * w + j], x.value[n, 4 * c + 2 * i + j, h, w])
        } } } } } }
        checkGradients([x]) { g in g.pixelShuffle(x) }
        let x3 = Variable(rnd.tensor([1, 18, 2, 2]), requiresGrad: true)
        XCTAssertEqual(Graph().pixelShuffle(x3, upscale: 3).value[0, 1, 4, 5], x3.value[0, 9 + 3 * 1 + 2, 1, 1])
        checkGradients([x3]) { g in g.pixelShuffle(x3, upscale: 3) }
    }

    func testConcatChannelsValuesAndGradients() {
        var rnd = TestRandom(52)
        let a = Variable(rnd.tensor([2, 1, 3, 2]), requiresGrad: true)
        let b = Variable(rnd.tensor([2, 3, 3, 2]), requiresGrad: true)
        let c = Variable(rnd.tensor([2, 2, 3, 2]), requiresGrad: false)
        let y = Graph().concatChannels([a, b, c])
        XCTAssertEqual(y.shape, [2, 6, 3, 2])
        XCTAssertEqual(y.value[1, 0, 2, 1], a.value[1, 0, 2, 1])
        XCTAssertEqual(y.value[1, 3, 0, 1], b.value[1, 2, 0, 1])
        XCTAssertEqual(y.value[0, 5, 1, 0], c.value[0, 1, 1, 0])
        checkGradients([a, b]) { g in g.concatChannels([a, b, c]) }
        XCTAssertNil(c.grad)
    }

    func testDropout2dDropsWholeChannelsAndScales() {
        var rnd = TestRandom(53)
        let x = Variable(rnd.awayFromZero([4, 16, 3, 3]), requiresGrad: true)
        var rng = SeededRandom(seed: 5)
        let g = Graph()
        XCTAssertTrue(g.dropout2d(x, p: 0.5, training: false, rng: &rng) === x, "identity in eval")
        XCTAssertTrue(g.dropout2d(x, p: 0, training: true, rng: &rng) === x, "identity at p = 0")
        let y = g.dropout2d(x, p: 0.25, training: true, rng: &rng)
        var dropped = 0
        for plane in 0..<64 {
            let ratios = (0..<9).map { y.value.data[plane * 9 + $0] / x.value.data[plane * 9 + $0] }
            XCTAssertTrue(ratios.allSatisfy { $0 == 0 } || ratios.allSatisfy { Swift.abs($0 - 1 / 0.75) < 1e-6 },
                          "channel \(plane) must be dropped whole or scaled by 1/(1-p)")
            if ratios[0] == 0 { dropped += 1 }
        }
        XCTAssertTrue(dropped > 4 && dropped < 32, "about a quarter of 64 channels dropped, got \(dropped)")
        checkGradients([x]) { g in
            var r = SeededRandom(seed: 9)
            return g.dropout2d(x, p: 0.3, training: true, rng: &r)
        }
        let all = g.dropout2d(x, p: 1, training: true, rng: &rng)
        XCTAssertTrue(all.value.array.allSatisfy { $0 == 0 })
    }
}
