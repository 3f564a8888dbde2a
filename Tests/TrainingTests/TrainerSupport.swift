import Datasets
import Foundation
import KP2D
import TensorEngine
import Training
import XCTest

/// A temp folder of textured PNG images (written and later decoded by ImageIO, the real path).
func makeImageFolder(count: Int, width: Int = 96, height: Int = 64) throws -> String {
    let dir = NSTemporaryDirectory() + "kp2d-training-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var rng = SeededRandom(seed: 99)
    for i in 0..<count {
        var img = Image(width: width, height: height, channels: 3)
        let fx = rng.uniform(0.1, 0.4), fy = rng.uniform(0.1, 0.4), ph = rng.uniform(0, 6)
        for c in 0..<3 { for y in 0..<height { for x in 0..<width {
            let v = 0.5 + 0.25 * sin(Double(x) * fx + ph + Double(c)) + 0.25 * cos(Double(y) * fy * Double(c + 1)) * sin(Double(x * y) * 0.01)
            img.pixels[(c * height + y) * width + x] = Float(max(0, min(1, v)))
        } } }
        // A few solid blocks for corners.
        for _ in 0..<6 {
            let bx = rng.int(width - 12), by = rng.int(height - 12), s = 4 + rng.int(8), col = Float(rng.uniform())
            for c in 0..<3 { for y in by..<(by + s) { for x in bx..<(bx + s) { img.pixels[(c * height + y) * width + x] = col } } }
        }
        try ImageIO.savePNG(img, to: dir + "/img\(i).png")
    }
    return dir
}

/// The smallest useful run: 128x192 (384 cells >= the IO-Net's 300), batch 1, tiny widths, no dropout.
func tinyOptions(data: String) -> TrainingOptions {
    var o = TrainingOptions(preset: .fast, dataPath: data)
    o.batchSize = 1
    o.model = KeypointNetConfig(c1: 4, c2: 8, c3: 16, c4: 32, c5: 32, d1: 64, descriptorDim: 32, withDrop: false)
    o.seed = 7
    o.prefetch = 2
    return o
}

/// Poll the trainer's snapshot until `condition` holds (fails after `timeout` seconds).
@discardableResult
func waitFor(_ trainer: Trainer, timeout: Double = 120, file: StaticString = #filePath, line: UInt = #line,
             _ condition: (TrainerSnapshot) -> Bool) -> TrainerSnapshot {
    let end = Date().addingTimeInterval(timeout)
    while Date() < end {
        let s = trainer.snapshot()
        if condition(s) { return s }
        Thread.sleep(forTimeInterval: 0.01)
    }
    let s = trainer.snapshot()
    XCTFail("timed out; state \(s.status.state), step \(s.status.step), message \(s.status.message)", file: file, line: line)
    return s
}

func tempPath(_ name: String) -> String {
    NSTemporaryDirectory() + "kp2d-training-\(UUID().uuidString)/" + name
}
