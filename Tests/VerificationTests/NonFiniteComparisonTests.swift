import XCTest
import Verification

/// Issue 13 item 11: NaN on either side fails, unless both sides hold NaN (the fixture expects NaN there).
final class NonFiniteComparisonTests: XCTestCase {
    let rule = ToleranceRule(abs: 1e-5, rel: 1e-4)

    func testNaNExpectedButFiniteActualFails() {
        let r = Comparison.compare(name: "x", actual: [0, 0], expected: [.nan, .nan], rule: rule)
        XCTAssertFalse(r.passed)
        XCTAssertTrue(r.note.contains("2 NaN/Inf"), r.note)
    }

    func testNaNActualFails() {
        XCTAssertFalse(Comparison.compare(name: "x", actual: [.nan, 1], expected: [1, 1], rule: rule).passed)
    }

    func testNaNWhereNaNIsExpectedPasses() {
        let r = Comparison.compare(name: "x", actual: [.nan, 1, .infinity], expected: [.nan, 1, .infinity], rule: rule)
        XCTAssertTrue(r.passed, r.note)
        XCTAssertEqual(r.maxAbsError, 0)
        XCTAssertFalse(Comparison.compare(name: "x", actual: [-.infinity], expected: [.infinity], rule: rule).passed)
    }
}
