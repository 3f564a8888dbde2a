import XCTest
import TUI

final class SeriesTests: XCTestCase {
    func testEMAIsBiasCorrected() {
        // The first output equals the first value (no pull towards 0), a constant stays constant.
        let e = Series.ema([4, 4, 4, 4], smoothing: 0.9)
        for v in e { XCTAssertEqual(v, 4, accuracy: 1e-12) }
        // Two values by hand: m1 = 0.1*1, m2 = 0.9*0.1 + 0.1*3 = 0.39; corrected by 1-0.81 = 0.19.
        let f = Series.ema([1, 3], smoothing: 0.9)
        XCTAssertEqual(f[0], 1, accuracy: 1e-12)
        XCTAssertEqual(f[1], 0.39 / 0.19, accuracy: 1e-12)
        XCTAssertEqual(Series.ema([1, 2, 3], smoothing: 0), [1, 2, 3])
    }

    func testEMASkipsNonFiniteValues() {
        let e = Series.ema([.nan, 2, .infinity, 2, .nan], smoothing: 0.5)
        XCTAssertTrue(e[0].isNaN)
        XCTAssertEqual(e[1], 2); XCTAssertEqual(e[2], 2); XCTAssertEqual(e[3], 2, accuracy: 1e-12); XCTAssertEqual(e[4], 2, accuracy: 1e-12)
    }

    func testDownsampleKeepsEverySpike() {
        var ys = [Double](repeating: 1, count: 10_000)
        ys[4321] = 50; ys[9876] = -7
        let xs = (0..<10_000).map(Double.init)
        let b = Series.downsample(xs: xs, ys: ys, x0: 0, x1: 9999, columns: 10)
        XCTAssertEqual(b.count, 10)
        XCTAssertEqual(b.reduce(0) { $0 + $1.count }, 10_000, "every point lands in one column")
        XCTAssertEqual(b[4].max, 50)
        XCTAssertEqual(b[9].min, -7)
        XCTAssertEqual(b[0].min, 1); XCTAssertEqual(b[0].max, 1)
    }

    func testDownsampleCountsNonFiniteByKind() {
        let b = Series.downsample(xs: [0, 1, 2, 3], ys: [1, .nan, .infinity, -.infinity], x0: 0, x1: 3, columns: 1)
        XCTAssertEqual(b[0].nan, 1); XCTAssertEqual(b[0].posInf, 1); XCTAssertEqual(b[0].negInf, 1)
        XCTAssertEqual(b[0].count, 1); XCTAssertEqual(b[0].nonFinite, 3)
    }

    func testLogScale() {
        XCTAssertEqual(Series.logScaleKind(for: [0.1, 1, 10]), .log)
        XCTAssertEqual(Series.forward(100, .log), 2, accuracy: 1e-12)
        XCTAssertEqual(Series.inverse(-2, .log), 0.01, accuracy: 1e-12)
        XCTAssertTrue(Series.forward(-1, .log).isNaN)
        // Values <= 0 fall back to symlog, which is odd and invertible.
        let k = Series.logScaleKind(for: [-1, 0, 10])
        guard case .symlog(let c) = k else { return XCTFail("expected symlog, got \(k)") }
        XCTAssertEqual(c, 0.01, accuracy: 1e-12)
        for v in [-5.0, -0.001, 0, 0.3, 10] {
            XCTAssertEqual(Series.inverse(Series.forward(v, k), k), v, accuracy: 1e-9)
            XCTAssertEqual(Series.forward(-v, k), -Series.forward(v, k), accuracy: 1e-12)
        }
    }

    func testFormatting() {
        XCTAssertEqual(Series.format(.nan), "NaN")
        XCTAssertEqual(Series.format(.infinity), "+inf")
        XCTAssertEqual(Series.format(0.12345), "0.1235")
        XCTAssertEqual(Series.format(0.0001), "1.00e-04")
        XCTAssertEqual(Series.formatSteps(12345), "12.3k")
        XCTAssertEqual(Series.formatDuration(3725), "1h02m")
        XCTAssertEqual(Series.formatDuration(42), "42s")
    }
}
