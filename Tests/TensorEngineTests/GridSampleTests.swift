import TestSupport
import XCTest
import TensorEngine

/// gridSample (Ops/GridSample.swift) against an independent "tent" formulation of bilinear sampling:
/// y = sum over all pixels of value * max(0, 1-|ix-x|) * max(0, 1-|iy-y|), which is bilinear with zero padding.
final class GridSampleTests: XCTestCase {
    let (n, c, h, w, hg, wg) = (2, 3, 5, 9, 3, 4)

    func refBilinear(_ x: [[Double]], n: Int, c: Int, h: Int, w: Int, points: Int) -> [Double] {
        var out = [Double](repeating: 0, count: n * c * points)
        for b in 0..<n { for p in 0..<points {
            let gx = x[1][(b * points + p) * 2], gy = x[1][(b * points + p) * 2 + 1]
            let ix = (gx + 1) / 2 * Double(w - 1), iy = (gy + 1) / 2 * Double(h - 1)
            for ch in 0..<c {
                var s = 0.0
                for yy in 0..<h { for xx in 0..<w {
                    let wgt = max(0, 1 - abs(ix - Double(xx))) * max(0, 1 - abs(iy - Double(yy)))
                    if wgt > 0 { s += x[0][((b * c + ch) * h + yy) * w + xx] * wgt }
                } }
                out[(b * c + ch) * points + p] = s
            }
        } }
        return out
    }

    func testBilinearForwardAndGradientsAtGenericPoints() {
        let input = randn([n, c, h, w], seed: 51)
        let grid = uniform([n, hg, wg, 2], -1.3, 1.3, seed: 52)   // some points outside, partly or fully
        let points = hg * wg
        checkOp([input, grid], { g, v in g.gridSample(v[0], grid: v[1]) },
                { x in self.refBilinear(x, n: self.n, c: self.c, h: self.h, w: self.w, points: points) }, ownH: 1e-4)
    }

    /// Value and one-sided (towards +x / +y) grid derivative at a single point, from the reference.
    func oneSided(_ input: Tensor, _ gx: Double, _ gy: Double, gout: [Double]) -> (dx: Double, dy: Double) {
        let x0 = input.array.map(Double.init)
        func f(_ gx: Double, _ gy: Double) -> Double {
            let y = refBilinear([x0, [gx, gy]], n: 1, c: input.shape[1], h: input.shape[2], w: input.shape[3], points: 1)
            return zip(y, gout).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let hStep = 1e-7
        return ((f(gx + hStep, gy) - f(gx, gy)) / hStep, (f(gx, gy + hStep) - f(gx, gy)) / hStep)
    }

    func testGridGradientAtExactPixelCentresIsOneSidedTowardsPlus() {
        let input = randn([1, 2, h, w], seed: 53)
        // Pixel centres: interior, last column, last row, the last corner, the first corner.
        let centres: [(Float, Float)] = [(-0.5, 0), (1, 0.5), (0.25, 1), (1, 1), (-1, -1)]
        for (gx, gy) in centres {
            let g = Graph()
            let iv = Variable(input.copy(), requiresGrad: true)
            let gv = Variable(Tensor(shape: [1, 1, 1, 2], values: [gx, gy]), requiresGrad: true)
            let y = g.gridSample(iv, grid: gv)
            let gout: [Float] = [0.7, -1.3]
            g.backward(y, seed: Tensor(shape: [1, 2, 1, 1], values: gout))
            // The value is the pixel itself.
            let px = Int((gx + 1) / 2 * Float(w - 1)), py = Int((gy + 1) / 2 * Float(h - 1))
            XCTAssertEqual(y.value.array, [input[0, 0, py, px], input[0, 1, py, px]])
            let (dx, dy) = oneSided(input, Double(gx), Double(gy), gout: gout.map(Double.init))
            assertClose(gv.grad!.array, [dx, dy], atol: 1e-4, rtol: 1e-4, "grid gradient at centre (\(gx), \(gy))")
        }
    }

    func testLastColumnDerivativeGoesTowardsTheZeroNeighbour() {
        // Single channel 1x1x2x3 input, point on the last column centre: d/dx = (0 - v) * (W-1)/2.
        let input = Tensor(shape: [1, 1, 2, 3], values: [1, 2, 3, 4, 5, 6])
        let g = Graph()
        let gv = Variable(Tensor(shape: [1, 1, 1, 2], values: [1, -1]), requiresGrad: true)
        let y = g.gridSample(Variable(input), grid: gv)
        XCTAssertEqual(y.value.array, [3])
        g.backward(g.sum(y))
        XCTAssertEqual(gv.grad?.array, [-3 * 1, (6 - 3) * 0.5])
    }

    func testPointsOutsideGiveZeroAndNoGradient() {
        let input = randn([1, 1, h, w], seed: 54)
        let g = Graph()
        let iv = Variable(input.copy(), requiresGrad: true)
        let gv = Variable(Tensor(shape: [1, 1, 3, 2], values: [2.5, 0, 0, -1.6, -3, 3]), requiresGrad: true)
        let y = g.gridSample(iv, grid: gv)
        XCTAssertEqual(y.value.array, [0, 0, 0])
        g.backward(g.sum(y))
        XCTAssertEqual(iv.grad?.array.allSatisfy { $0 == 0 }, true)
        XCTAssertEqual(gv.grad?.array.allSatisfy { $0 == 0 }, true)
    }

    func testNearestForwardAndInputGradient() {
        let input = randn([n, c, h, w], seed: 55)
        let grid = uniform([n, hg, wg, 2], -1.2, 1.2, seed: 56)
        let points = hg * wg
        checkOp([input, grid], { g, v in g.gridSample(v[0], grid: v[1], mode: .nearest) }, { x in
            var out = [Double](repeating: 0, count: self.n * self.c * points)
            for b in 0..<self.n { for p in 0..<points {
                let ix = ((x[1][(b * points + p) * 2] + 1) / 2 * Double(self.w - 1)).rounded(.toNearestOrEven)
                let iy = ((x[1][(b * points + p) * 2 + 1] + 1) / 2 * Double(self.h - 1)).rounded(.toNearestOrEven)
                guard ix >= 0, ix < Double(self.w), iy >= 0, iy < Double(self.h) else { continue }
                for ch in 0..<self.c {
                    out[(b * self.c + ch) * points + p] = x[0][((b * self.c + ch) * self.h + Int(iy)) * self.w + Int(ix)]
                }
            } }
            return out
        }, grads: [true, false])
    }

    func testNearestRoundsHalfToEven() {
        // W = 9: x = -1 + k/4 gives ix = k/2 ... ix = 0.5, 1.5, 2.5, 3.5 -> 0, 2, 2, 4.
        let input = Tensor(shape: [1, 1, 1, 9], values: (0..<9).map(Float.init))
        let xs: [Float] = [-0.875, -0.625, -0.375, -0.125, 0.999, 1.2, -1.2]   // ix 0.5, 1.5, 2.5, 3.5, ~8, 8.8, -0.8
        let grid = Tensor(shape: [1, 1, xs.count, 2], values: xs.flatMap { [$0, 0] })
        let g = Graph()
        let iv = Variable(input, requiresGrad: true)
        let y = g.gridSample(iv, grid: Variable(grid), mode: .nearest)
        // 8.8 rounds to 9 (outside) -> 0; -0.8 rounds to -1 (outside) -> 0.
        XCTAssertEqual(y.value.array, [0, 2, 2, 4, 8, 0, 0])
        g.backward(g.sum(y))
        XCTAssertEqual(iv.grad?.array, [1, 0, 2, 0, 1, 0, 0, 0, 1])
    }
}
