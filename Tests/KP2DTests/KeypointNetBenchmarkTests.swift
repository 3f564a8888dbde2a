import Foundation
import KP2D
import XCTest

final class KeypointNetBenchmarkTests: XCTestCase {
    /// The benchmark machinery on a tiny case (always runs).
    func testBenchmarkReportsEachSize() {
        var lines: [String] = []
        let r = KeypointNetBenchmark.run(config: .reduced, sizes: [(16, 24), (32, 32)], iterations: 2) { lines.append($0) }
        XCTAssertEqual(r.map { [$0.height, $0.width] }, [[16, 24], [32, 32]])
        XCTAssertTrue(r.allSatisfy { $0.minMs > 0 && $0.minMs <= $0.medianMs && $0.iterations == 2 })
        XCTAssertEqual(lines.count, 2)
    }

    /// Paper widths at 240x320 and 480x640. Opt-in (slow): KP2D_BENCH=1 swift test -c release --filter KeypointNetBenchmarkTests
    func testPaperInferenceSpeed() throws {
        guard ProcessInfo.processInfo.environment["KP2D_BENCH"] == "1" else { throw XCTSkip("set KP2D_BENCH=1 to time inference") }
        let r = KeypointNetBenchmark.run(iterations: 5) { print($0) }
        XCTAssertEqual(r.count, 2)
    }
}
