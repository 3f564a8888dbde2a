import XCTest
import TensorEngine

/// SeededRandom: same seed, same draws; different seeds or forks, different draws; sane distributions.
final class RandomTests: XCTestCase {
    func testSameSeedSameSequence() {
        var a = SeededRandom(seed: 42), b = SeededRandom(seed: 42)
        for _ in 0..<100 { XCTAssertEqual(a.next(), b.next()) }
        for _ in 0..<100 { XCTAssertEqual(a.normal(), b.normal()) }
        for _ in 0..<100 { XCTAssertEqual(a.int(17), b.int(17)) }
    }

    func testPinnedSequenceGuardsAgainstSilentChanges() {
        // SplitMix64-seeded xoshiro256** for seed 0, computed independently (Python big integers):
        // a change to the generator would silently change every seeded run.
        var a = SeededRandom(seed: 0)
        XCTAssertEqual((0..<3).map { _ in a.next() }, [11091344671253066420, 13793997310169335082, 1900383378846508768])
    }

    func testDifferentSeedsAndForksDiffer() {
        var a = SeededRandom(seed: 1), b = SeededRandom(seed: 2)
        XCTAssertNotEqual((0..<4).map { _ in a.next() }, (0..<4).map { _ in b.next() })
        var p = SeededRandom(seed: 3)
        var f = p.fork()
        XCTAssertNotEqual((0..<4).map { _ in p.next() }, (0..<4).map { _ in f.next() })
    }

    func testDistributions() {
        var r = SeededRandom(seed: 7)
        let n = 20000
        var s = 0.0, s2 = 0.0
        for _ in 0..<n { let z = r.normal(); s += z; s2 += z * z }
        XCTAssertEqual(s / Double(n), 0, accuracy: 0.03)
        XCTAssertEqual(s2 / Double(n), 1, accuracy: 0.05)
        var lo = 1.0, hi = 0.0
        for _ in 0..<n { let u = r.uniform(); lo = min(lo, u); hi = max(hi, u) }
        XCTAssertGreaterThanOrEqual(lo, 0)
        XCTAssertLessThan(hi, 1)
        var counts = [Int](repeating: 0, count: 5)
        for _ in 0..<n { counts[r.int(5)] += 1 }
        XCTAssertTrue(counts.allSatisfy { abs($0 - n / 5) < n / 25 }, "\(counts)")
    }
}
