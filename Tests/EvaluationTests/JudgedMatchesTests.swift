import Geometry
import KP2D
import XCTest
@testable import Evaluation

/// Matches judged against the truth: the radius, the horizon, and the top-K mutual-nearest pipeline.
final class JudgedMatchesTests: XCTestCase {
    func testCorrectnessRadiusIsInclusive() {
        let shift = Homography.translation(10, 0)
        let s = Keypoint(x: 5, y: 5, score: 1)
        XCTAssertTrue(JudgedMatches.isCorrect(s, Keypoint(x: 15, y: 8, score: 1), truth: shift))     // 3 px away
        XCTAssertFalse(JudgedMatches.isCorrect(s, Keypoint(x: 15, y: 8.01, score: 1), truth: shift))
        XCTAssertTrue(JudgedMatches.isCorrect(s, Keypoint(x: 16, y: 5, score: 1), truth: shift, radius: 1))
    }

    func testPointBeyondTheHorizonIsNeverCorrect() {
        // w' = 1 - 0.1 x: the point x = 20 lands behind the camera.
        let h = Homography([1, 0, 0, 0, 1, 0, -0.1, 0, 1])
        XCTAssertNil(h.applyIfVisible(Point2(20, 0)))
        XCTAssertFalse(JudgedMatches.isCorrect(Keypoint(x: 20, y: 0, score: 1), Keypoint(x: -20, y: 0, score: 1), truth: h))
    }

    func testMutualNearestKeepsTopKAndJudgesEachMatch() {
        // Four points with one-hot descriptors; the second set is the first shifted by (2, 0), listed in reverse.
        func set(_ dx: Float, reversed: Bool) -> KeypointSet {
            var idx = Array(0..<4); if reversed { idx.reverse() }
            let kps = idx.map { Keypoint(x: Float($0 * 10) + dx, y: 7, score: Float($0 + 1)) }
            var d = [Float](repeating: 0, count: 16)
            for (row, i) in idx.enumerated() { d[row * 4 + i] = 1 }
            return KeypointSet(keypoints: kps, descriptors: d, dimension: 4)
        }
        let a = set(0, reversed: false), b = set(2, reversed: true)
        let right = JudgedMatches.mutualNearest(a, b, topK: 3, truth: .translation(2, 0))
        XCTAssertEqual(right.first.count, 3)
        XCTAssertEqual(right.first.keypoints.map(\.score), [2, 3, 4])   // official select_k_best: ascending
        XCTAssertEqual(right.matches.count, 3)
        XCTAssertTrue(right.matches.allSatisfy(\.correct))
        for m in right.matches { XCTAssertEqual(right.first.keypoints[m.source].score, right.second.keypoints[m.target].score) }
        let wrong = JudgedMatches.mutualNearest(a, b, topK: 3, truth: .translation(8, 0))
        XCTAssertTrue(wrong.matches.allSatisfy { !$0.correct })
    }
}
