import Bench
import XCTest

/// The cycle model of `bench --only validation` (the measured inputs come from a real run; this checks the arithmetic).
final class ValidationBenchTests: XCTestCase {
    func testCycleModel() {
        // Training stops entirely while evaluating (r_during 0): the overhead is e / (I / r0), the evaluation's share
        // of the cycle is e / (e + I / r0).
        var c = ValidationBenchSection.cost(seconds: 10, during: 0, alone: 2, interval: 380)
        XCTAssertEqual(c.overheadShare, 10.0 / 190, accuracy: 1e-9)
        XCTAssertEqual(c.evalShareOfWall, 10.0 / 200, accuracy: 1e-9)
        // Training goes on at full speed beside it: no overhead at all.
        c = ValidationBenchSection.cost(seconds: 10, during: 2, alone: 2, interval: 380)
        XCTAssertEqual(c.overheadShare, 0, accuracy: 1e-9)
        // Half speed while evaluating: half of the evaluation's time is lost.
        c = ValidationBenchSection.cost(seconds: 10, during: 1, alone: 2, interval: 380)
        XCTAssertEqual(c.overheadShare, 5.0 / 190, accuracy: 1e-9)
    }
}
