import Foundation
import Datasets
import TensorEngine

/// A smooth RGB test pattern in [0,1] (no flat areas, no sharp edges).
func smoothImage(width: Int, height: Int, phase: Double = 0) -> Image {
    var img = Image(width: width, height: height, channels: 3)
    for c in 0..<3 { for y in 0..<height { for x in 0..<width {
        let v = 0.5 + 0.4 * sin(Double(x) * 0.21 + Double(c) + phase) * cos(Double(y) * 0.17 - phase)
        img.pixels[(c * height + y) * width + x] = Float(v)
    } } }
    return img
}

func makeTempDir() throws -> String {
    let dir = NSTemporaryDirectory() + "kp2d-datasets-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}
