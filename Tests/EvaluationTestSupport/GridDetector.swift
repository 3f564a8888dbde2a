import Datasets
import Foundation
import KP2D

// Test doubles for the HPatches evaluation (EvaluationTests, and the TUI's browser tests): a detector whose
// output is known without a network, and a smooth synthetic photo to make sequences from.

/// Fixed grid detector: one point per 8x8 cell centre (8 px from the border), scored by its index,
/// descriptor = the normalised 5x5 patch of the summed channels (zero mean, unit length).
public func gridDetector(_ img: Image) -> KeypointSet {
    var kps = [Keypoint](), desc = [Float]()
    for cy in stride(from: 8, to: img.height - 8, by: 8) { for cx in stride(from: 8, to: img.width - 8, by: 8) {
        var d = [Float]()
        for dy in -2...2 { for dx in -2...2 { d.append((0..<3).reduce(0) { $0 + img.at($1, cy + dy, cx + dx) }) } }
        let mean = d.reduce(0, +) / 25
        d = d.map { $0 - mean }
        let norm = max(d.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-6)
        desc += d.map { $0 / norm }
        kps.append(Keypoint(x: Float(cx), y: Float(cy), score: Float(kps.count + 1)))
    } }
    return KeypointSet(keypoints: kps, descriptors: desc, dimension: 25)
}

/// A smooth w x h RGB test photo; `phase` shifts the pattern (different photos for different sequences).
public func syntheticPhoto(_ w: Int, _ h: Int, phase: Int = 0) -> Image {
    var img = Image(width: w, height: h, channels: 3)
    for c in 0..<3 { for y in 0..<h { for x in 0..<w {
        img.pixels[(c * h + y) * w + x] = Float(0.5 + 0.3 * sin(Double(x) * 0.2 + Double(c + phase)) * cos(Double(y) * 0.13))
    } } }
    return img
}
