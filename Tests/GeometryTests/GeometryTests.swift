import XCTest
@testable import Geometry
import TestSupport

let truthH = Homography([1.02, 0.05, 12.5, -0.03, 0.97, -7.25, 1.0e-4, -2.0e-4, 1])

final class HomographyTests: XCTestCase {
    func testApplyDividesByW() {
        let h = Homography([2, 0, 1, 0, 2, 3, 0, 0, 2])
        let p = h.apply(Point2(1, 1))
        XCTAssertEqual(p.x, 1.5); XCTAssertEqual(p.y, 2.5)
    }

    func testInverseAndProduct() throws {
        let inv = try XCTUnwrap(truthH.inverse())
        let id = truthH * inv
        for i in 0..<9 { XCTAssertEqual(id.m[i], Homography.identity.m[i], accuracy: 1e-12) }
        let p = Point2(100, 50)
        let back = inv.apply(truthH.apply(p))
        XCTAssertEqual(back.x, 100, accuracy: 1e-9); XCTAssertEqual(back.y, 50, accuracy: 1e-9)
        XCTAssertNil(Homography([1, 2, 3, 2, 4, 6, 0, 0, 1]).inverse())
    }

    func testBatchWarpFloatMultipliesByReciprocal() {
        let h: [Float] = [1, 0, 0.5, 0, 1, -0.25, 0, 0, 3]
        let out = PointWarp.warpBatchFloat(points: [1, 1, -1, 0], homography: h)
        XCTAssertEqual(out, [1.5 * (1 / Float(3)), 0.75 * (1 / Float(3)), -0.5 * (1 / Float(3)), -0.25 * (1 / Float(3))])
    }
}

final class DLTTests: XCTestCase {
    func testFourPointRecoversKnownHomography() throws {
        let src = [Point2(-1, -1), Point2(-1, 1), Point2(1, -1), Point2(1, 1)]
        let h = Homography([0.8, 0.1, 0.05, -0.12, 0.7, -0.02, 0.03, -0.04, 1])
        let est = try XCTUnwrap(DLT.fourPoint(from: src, to: h.apply(src)))
        for i in 0..<9 { XCTAssertEqual(est.m[i], h.m[i], accuracy: 1e-12) }
    }

    func testFourPointRejectsDegenerate() {
        let src = [Point2(0, 0), Point2(1, 1), Point2(2, 2), Point2(3, 3)]
        XCTAssertNil(DLT.fourPoint(from: src, to: src))
    }

    /// RANSAC's minimal solver against the least-squares DLT it replaced in the inner loop (its slow twin): the same
    /// homography from 4 points in pixel coordinates, to 1e-9 of each entry, on many random samples; nil for a
    /// collinear sample.
    func testMinimalMatchesLeastSquaresOnFourPoints() throws {
        var rng = TestRNG(state: 3)
        for _ in 0..<200 {
            let src = (0..<4).map { _ in Point2(rng.uniform(0, 320), rng.uniform(0, 240)) }
            let dst = (0..<4).map { _ in Point2(rng.uniform(0, 320), rng.uniform(0, 240)) }
            guard RANSAC.subsetIsValid(src, dst) else { continue }
            let fast = try XCTUnwrap(DLT.minimal(from: src, to: dst)), slow = try XCTUnwrap(DLT.leastSquares(from: src, to: dst))
            let scale = slow.m.map { abs($0) }.max()!
            for i in 0..<9 { XCTAssertEqual(fast.m[i], slow.m[i], accuracy: 1e-9 * scale) }
        }
        let line = [Point2(0, 0), Point2(1, 1), Point2(2, 2), Point2(3, 3)]
        XCTAssertNil(DLT.minimal(from: line, to: line))
    }

    func testLeastSquaresRecoversWithManyPoints() throws {
        var rng = TestRNG(state: 1)
        let src = (0..<40).map { _ in Point2(rng.uniform(0, 320), rng.uniform(0, 240)) }
        let est = try XCTUnwrap(DLT.leastSquares(from: src, to: truthH.apply(src)))
        XCTAssertLessThan(CornerError.meanCornerError(estimate: est, truth: truthH, width: 320, height: 240), 1e-8)
        XCTAssertNil(DLT.leastSquares(from: Array(src.prefix(3)), to: Array(truthH.apply(src).prefix(3))))
    }
}

final class RANSACTests: XCTestCase {
    func testRecoversHomographyWithOutliers() throws {
        var rng = TestRNG(state: 7)
        var src = [Point2](), dst = [Point2](), isInlier = [Bool]()
        for i in 0..<200 {
            let p = Point2(rng.uniform(0, 320), rng.uniform(0, 240))
            src.append(p)
            if i % 10 < 4 {  // 40 % outliers
                dst.append(Point2(rng.uniform(0, 320), rng.uniform(0, 240))); isInlier.append(false)
            } else {
                let q = truthH.apply(p)
                dst.append(Point2(q.x + rng.uniform(-0.5, 0.5), q.y + rng.uniform(-0.5, 0.5))); isInlier.append(true)
            }
        }
        var r1 = TestRNG(state: 42)
        let res = try XCTUnwrap(RANSAC.findHomography(from: src, to: dst, rng: &r1))
        XCTAssertLessThan(CornerError.meanCornerError(estimate: res.homography, truth: truthH, width: 320, height: 240), 0.5)
        XCTAssertGreaterThanOrEqual(res.inlierCount, 115)
        XCTAssertLessThan(res.iterations, 5000, "adaptive stopping should end early at 40% outliers")
        // Every true inlier is found (noise 0.5 px << 3 px).
        for i in 0..<200 where isInlier[i] { XCTAssertTrue(res.inliers[i]) }
        // Same seed, same answer.
        var r2 = TestRNG(state: 42)
        let again = try XCTUnwrap(RANSAC.findHomography(from: src, to: dst, rng: &r2))
        XCTAssertEqual(again.homography, res.homography)
    }

    func testTooFewPoints() {
        var rng = TestRNG(state: 1)
        XCTAssertNil(RANSAC.findHomography(from: [Point2(0, 0), Point2(1, 0), Point2(0, 1)],
                                           to: [Point2(0, 0), Point2(1, 0), Point2(0, 1)], rng: &rng))
    }

    func testExactlyFourPointsFitDirectly() throws {
        var rng = TestRNG(state: 1)
        let src = [Point2(10, 10), Point2(300, 20), Point2(20, 200), Point2(310, 230)]
        let res = try XCTUnwrap(RANSAC.findHomography(from: src, to: truthH.apply(src), rng: &rng))
        XCTAssertLessThan(CornerError.meanCornerError(estimate: res.homography, truth: truthH, width: 320, height: 240), 1e-7)
    }

    func testUpdateNumItersMatchesOpenCVFormula() {
        // log(0.005)/log(1 - 0.5^4) = 82.4 -> 82
        XCTAssertEqual(RANSAC.updateNumIters(confidence: 0.995, outlierRatio: 0.5, modelPoints: 4, maxIters: 5000), 82)
        XCTAssertEqual(RANSAC.updateNumIters(confidence: 0.995, outlierRatio: 0.99, modelPoints: 4, maxIters: 5000), 5000)
        XCTAssertEqual(RANSAC.updateNumIters(confidence: 0.995, outlierRatio: 0, modelPoints: 4, maxIters: 5000), 0)
    }
}

final class CornerErrorTests: XCTestCase {
    func testTranslationGivesItsLength() {
        XCTAssertEqual(CornerError.meanCornerError(estimate: .translation(3, 4), truth: .identity, width: 320, height: 240), 5, accuracy: 1e-12)
        XCTAssertEqual(CornerError.corners(width: 320, height: 240), [Point2(0, 0), Point2(0, 239), Point2(319, 0), Point2(319, 239)])
    }
}
