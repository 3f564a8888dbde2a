import Datasets
import Foundation
import KP2D
import Training
import XCTest

/// `--io-points`, `--noise-sigma`, `--blur-kernels`, `--max-angle`, `--patch-ratio`: validation, defaults, and what a checkpoint keeps.
final class AugmentationOptionsTests: XCTestCase {
    func testDefaultsAreOfficial() {
        for preset in TrainingPreset.allCases {
            let o = TrainingOptions(preset: preset, dataPath: "x")
            XCTAssertNil(o.ioPoints); XCTAssertEqual(o.effectiveIOPoints, 300)
            XCTAssertEqual(o.augmentation.photometric, .official)
            XCTAssertEqual(o.augmentation.photometric.noiseSigma, 0.05)
            XCTAssertEqual(o.augmentation.photometric.blurKernels, [0, 1, 3, 5])
            XCTAssertEqual(o.augmentation.homography, .training)
            XCTAssertEqual(o.augmentation.homography.maxAngle, Double.pi / 4)
            XCTAssertEqual(o.augmentation.homography.patchRatio, 0.7)
        }
    }

    func testSmallSizesNeedFewerIOPoints() {
        var o = TrainingOptions(preset: .fast, dataPath: "x")
        o.setSize(height: 96, width: 144)   // 216 cells
        XCTAssertThrowsError(try o.validate()) {
            XCTAssertTrue("\($0)".contains("at least 300") && "\($0)".contains("--io-points 162"), "\($0)")
        }
        o.ioPoints = 160
        XCTAssertNoThrow(try o.validate())
        o.ioPoints = 217
        XCTAssertThrowsError(try o.validate()) { XCTAssertTrue("\($0)".contains("only 216 cells"), "\($0)") }
        o.ioPoints = 0
        XCTAssertThrowsError(try o.validate()) { XCTAssertTrue("\($0)".contains("at least 1"), "\($0)") }
    }

    func testPhotometricOptionsAreChecked() {
        var o = TrainingOptions(preset: .fast, dataPath: "x")
        o.augmentation.photometric.noiseSigma = -0.1
        XCTAssertThrowsError(try o.validate()) { XCTAssertTrue("\($0)".contains("--noise-sigma"), "\($0)") }
        o = TrainingOptions(preset: .fast, dataPath: "x")
        o.augmentation.photometric.blurKernels = [0, 4]
        XCTAssertThrowsError(try o.validate()) { XCTAssertTrue("\($0)".contains("--blur-kernels"), "\($0)") }
        o.augmentation.photometric.blurKernels = [0, 1, 3]
        XCTAssertNoThrow(try o.validate())
        o.augmentation.homography.maxAngle = 2
        XCTAssertThrowsError(try o.validate()) { XCTAssertTrue("\($0)".contains("--max-angle"), "\($0)") }
        o.augmentation.homography.maxAngle = 0
        XCTAssertNoThrow(try o.validate())
        for bad in [0.2, 1.01, .nan] {
            o.augmentation.homography.patchRatio = bad
            XCTAssertThrowsError(try o.validate()) { XCTAssertTrue("\($0)".contains("--patch-ratio"), "\($0)") }
        }
        for good in [0.3, 0.85, 1] {
            o.augmentation.homography.patchRatio = good
            XCTAssertNoThrow(try o.validate())
        }
    }

    func testIOPointsSurviveTheCheckpointJSONAndOldJSONStillReads() throws {
        var o = TrainingOptions(preset: .fast, dataPath: "x")
        o.ioPoints = 120
        let data = try JSONEncoder().encode(o)
        XCTAssertEqual(try JSONDecoder().decode(TrainingOptions.self, from: data), o)
        // A checkpoint written before the option has no "ioPoints" key: the official 300.
        var dict = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        dict.removeValue(forKey: "ioPoints")
        let old = try JSONDecoder().decode(TrainingOptions.self, from: JSONSerialization.data(withJSONObject: dict))
        XCTAssertNil(old.ioPoints); XCTAssertEqual(old.effectiveIOPoints, 300)
    }
}
