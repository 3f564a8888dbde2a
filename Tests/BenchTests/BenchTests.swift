import Foundation
import XCTest
import Bench
import TensorEngine

/// The bench framework at a tiny size: sections run, select by name, and the JSON parses.
final class BenchTests: XCTestCase {
    func testBenchSectionsProduceParsableJSON() throws {
        var o = BenchOptions()
        o.batch = 1; o.height = 16; o.width = 16; o.repeats = 1; o.warmup = 0; o.sgemmSize = 64
        let context = BenchContext(options: o)
        let sections: [BenchSection] = [SgemmBenchSection(), ConvBenchSection(), ConvLayerOpsBenchSection()]
        var lines: [String] = []
        let reports = try BenchRunner.run(sections, context: context, json: true) { lines.append($0) }
        XCTAssertEqual(reports.map(\.section), ["sgemm", "conv", "convops"])
        XCTAssertEqual(reports[1].rows.count, ConvBenchSection.keyPointNetLayers.count)
        let object = try JSONSerialization.jsonObject(with: Data(lines.joined().utf8)) as? [String: Any]
        let conv = (object?["sections"] as? [String: Any])?["conv"] as? [String: Any]
        let summary = conv?["summary"] as? [String: Any]
        XCTAssertNotNil(summary?["big_layers_fb_ratio"] as? Double)
        XCTAssertGreaterThan(summary?["sgemm_ceiling_gflops"] as? Double ?? 0, 0)

        XCTAssertEqual(try BenchRunner.select(sections, only: ["conv"]).map(\.name), ["conv"])
        XCTAssertThrowsError(try BenchRunner.select(sections, only: ["nope"]))
        let text = BenchRunner.text(reports[1])
        XCTAssertTrue(text.contains("fb_ratio"))
    }
}
