import Foundation
import ProcessSupport
import XCTest

/// `--io-points`, `--noise-sigma`, `--blur-kernels`, `--max-angle`, `--patch-ratio` through `kp2d-tui train --headless`, and the top-300 L_loc
/// diagnostic in metrics.jsonl.
final class AugmentationFlagsTests: TempDirTestCase {
    /// Two textured binary PPM images.
    private func makeData() throws -> String { try texturedImages(2, tag: "augflags") }

    func testSmallSizeWithFewerIOPointsAndLightAugmentationTrains() throws {
        let data = try makeData()
        let ck = data + "/out/ck.safetensors", log = data + "/out/metrics.jsonl"
        var r = try Binary.run(["train", "--headless", data, "--steps", "2", "--batch-size", "1", "--size", "96x144"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--io-points 162"), r.stderr)
        r = try Binary.run(["train", "--headless", data, "--steps", "2", "--size", "96x144", "--io-points", "300"])
        XCTAssertTrue(r.stderr.contains("only 216 cells"), r.stderr)
        r = try Binary.run(["train", "--headless", data, "--steps", "2", "--blur-kernels", "3,x"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.split(separator: "\n").first?.contains("--blur-kernels 3,x: write kernel sizes") == true, r.stderr)
        r = try Binary.run(["train", "--headless", data, "--steps", "2", "--patch-ratio", "1.5"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--patch-ratio 1.5: must be 0.3...1"), r.stderr)

        r = try Binary.run(["train", "--headless", data, "--steps", "2", "--batch-size", "1", "--size", "96x144", "--io-points", "100",
                            "--noise-sigma", "0", "--blur-kernels", "0,3", "--max-angle", "20", "--patch-ratio", "0.85", "--checkpoint", ck, "--log", log])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines.allSatisfy { $0.contains("\"locTop300\"") && $0.contains("\"locTop100\"") }, String(lines[0]))
        // The checkpoint keeps the options: resuming may not change them.
        r = try Binary.run(["train", "--headless", "--resume", ck, "--steps", "3", "--io-points", "50"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--io-points cannot change when resuming"), r.stderr)
        r = try Binary.run(["train", "--headless", "--resume", ck, "--steps", "3", "--patch-ratio", "0.7"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--patch-ratio cannot change when resuming"), r.stderr)
        r = try Binary.run(["train", "--headless", "--resume", ck, "--steps", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
    }
}
