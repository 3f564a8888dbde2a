import XCTest
import KP2D
import TensorEngine
import TestSupport

/// Finite-difference checks of the loss ops in KP2D/Ops/LossOps.swift (forward against
/// hand-written formulas, backward against central differences in Double).
final class LossOpsTests: XCTestCase {
    private func random(_ shape: [Int], _ rng: inout SeededRandom, _ lo: Double = -1, _ hi: Double = 1) -> Tensor {
        let t = Tensor(shape: shape)
        for i in 0..<t.count { t.data[i] = Float(rng.uniform(lo, hi)) }
        return t
    }

    func testNormalizeAndDenormalizeCoordinates() {
        var rng = SeededRandom(seed: 1)
        let coord = random([2, 2, 3, 4], &rng, 0, 60)
        let g = Graph()
        let norm = g.normalizeCoordinates(Variable(coord), imageHeight: 24, imageWidth: 32)
        XCTAssertEqual(norm.shape, [2, 3, 4, 2])
        // (b=1, i=2, j=3): x = coord[1,0,2,3] / 15.5 - 1, y = coord[1,1,2,3] / 11.5 - 1
        XCTAssertEqual(norm.value[1, 2, 3, 0], coord[1, 0, 2, 3] / 15.5 - 1)
        XCTAssertEqual(norm.value[1, 2, 3, 1], coord[1, 1, 2, 3] / 11.5 - 1)
        let back = g.denormalizeCoordinates(norm, imageHeight: 24, imageWidth: 32)
        XCTAssertEqual(back.shape, coord.shape)
        for i in 0..<coord.count { XCTAssertEqual(back.value.data[i], coord.data[i], accuracy: 1e-4) }
        checkGradients(of: [coord]) { g, v in g.normalizeCoordinates(v[0], imageHeight: 24, imageWidth: 32) }
        checkGradients(of: [random([2, 3, 4, 2], &rng)]) { g, v in g.denormalizeCoordinates(v[0], imageHeight: 24, imageWidth: 32) }
    }

    func testWarpPointsMatchesHomographyAndGradient() {
        var rng = SeededRandom(seed: 2)
        let pts = random([2, 3, 5, 2], &rng)
        let h = Tensor(shape: [2, 3, 3], values: [1.1, 0.1, 0.05, -0.08, 0.9, 0.1, 0.2, -0.1, 1,
                                                  0.95, -0.2, 0, 0.15, 1.05, -0.1, -0.1, 0.25, 1.02])
        let g = Graph()
        let y = g.warpPoints(Variable(pts), homographies: h)
        for b in 0..<2 {
            for i in 0..<15 {
                let x = Double(pts.data[(b * 15 + i) * 2]), yy = Double(pts.data[(b * 15 + i) * 2 + 1])
                let m = (0..<9).map { Double(h.data[b * 9 + $0]) }
                let w = m[6] * x + m[7] * yy + m[8]
                XCTAssertEqual(Double(y.value.data[(b * 15 + i) * 2]), (m[0] * x + m[1] * yy + m[2]) / w, accuracy: 1e-5)
                XCTAssertEqual(Double(y.value.data[(b * 15 + i) * 2 + 1]), (m[3] * x + m[4] * yy + m[5]) / w, accuracy: 1e-5)
            }
        }
        checkGradients(of: [pts]) { g, v in g.warpPoints(v[0], homographies: h) }
    }

    func testIdentityWarpIsExact() {
        var rng = SeededRandom(seed: 3)
        let pts = random([1, 4, 4, 2], &rng)
        let eye = Tensor(shape: [1, 3, 3], values: [1, 0, 0, 0, 1, 0, 0, 0, 1])
        let y = Graph().warpPoints(Variable(pts), homographies: eye)
        XCTAssertEqual(y.value.array, pts.array)
    }

    func testNearestPointDistanceAgainstBruteForce() {
        var rng = SeededRandom(seed: 4)
        let a = random([2, 2, 7], &rng, 0, 20), b = random([2, 2, 9], &rng, 0, 20)
        let (d, idx) = Graph().nearestPointDistance(Variable(a), Variable(b))
        XCTAssertEqual(d.shape, [2, 7])
        for bi in 0..<2 {
            for i in 0..<7 {
                var best = Float.infinity, bestJ = -1
                for j in 0..<9 {
                    let dx = a[bi, 0, i] - b[bi, 0, j], dy = a[bi, 1, i] - b[bi, 1, j]
                    let dist = (dx * dx + dy * dy).squareRoot()
                    if dist < best { best = dist; bestJ = j }
                }
                XCTAssertEqual(idx[bi * 7 + i], bestJ)
                XCTAssertEqual(d.value[bi, i], best, accuracy: 1e-5)
            }
        }
        checkGradients(of: [a, b], tolerance: 3e-3) { g, v in g.nearestPointDistance(v[0], v[1]).distances }
    }

    func testNearestPointZeroDistanceHasZeroGradient() {
        let a = Variable(Tensor(shape: [1, 2, 1], values: [3, 4]), requiresGrad: true)
        let b = Variable(Tensor(shape: [1, 2, 2], values: [3, 0, 4, 0]), requiresGrad: true)
        let g = Graph()
        let (d, idx) = g.nearestPointDistance(a, b)
        XCTAssertEqual(idx, [0])
        XCTAssertEqual(d.value.scalar, 0)
        g.backward(g.sum(d))
        XCTAssertEqual(a.grad!.array, [0, 0])
        XCTAssertFalse(b.grad!.array.contains { !$0.isFinite })
    }

    func testConcatenateFlat() {
        var rng = SeededRandom(seed: 5)
        let x = random([2, 3], &rng), y = random([4], &rng)
        let out = Graph().concatenateFlat([Variable(x), Variable(y)])
        XCTAssertEqual(out.value.array, x.array + y.array)
        checkGradients(of: [x, y]) { g, v in g.concatenateFlat(v) }
    }

    func testPairDescriptorDistance() {
        var rng = SeededRandom(seed: 6)
        func unitColumns(_ d: Int, _ n: Int) -> Tensor {
            let t = random([d, n], &rng)
            for i in 0..<n {
                var s: Float = 0
                for k in 0..<d { s += t[k, i] * t[k, i] }
                for k in 0..<d { t[k, i] /= s.squareRoot() }
            }
            return t
        }
        let a = unitColumns(5, 4), b = unitColumns(5, 6)
        let pairs = [2, 0, 5, 2]
        let g = Graph(recording: false)
        let full = g.descriptorDistance(Variable(a), Variable(b))
        let y = g.pairDescriptorDistance(Variable(a), Variable(b), pairs: pairs)
        for i in 0..<4 { XCTAssertEqual(y.value[i], full.value[i, pairs[i]], accuracy: 1e-6) }
        checkGradients(of: [a, b], tolerance: 3e-3) { g, v in g.pairDescriptorDistance(v[0], v[1], pairs: pairs) }
        // Identical columns: distance 0 and a zero (not NaN) gradient.
        let same = Variable(a.copy(), requiresGrad: true)
        let g2 = Graph()
        let z = g2.pairDescriptorDistance(same, same, pairs: [0, 1, 2, 3])
        for i in 0..<4 { XCTAssertEqual(z.value[i], 0, accuracy: 2e-3) }
        g2.backward(g2.sum(z))
        XCTAssertFalse(same.grad!.array.contains { !$0.isFinite })
    }
}
