import Foundation
import Geometry
import TensorEngine

// Synthetic training pairs for benchmarks and tests that must not depend on image files: textured target
// images (sums of random sinusoids plus noise), random mild homographies (normalised source -> target), and
// the source images warped from the targets exactly as the training augmentation does (HomographyWarp:
// bilinear grid_sample of the target at H * source grid).

public enum SyntheticPairs {
    /// A textured RGB image in [0, 1].
    public static func texture(width: Int, height: Int, rng: inout SeededRandom) -> Image {
        var waves: [(Double, Double, Double, Double)] = []
        for _ in 0..<12 {
            waves.append((rng.uniform(0.02, 0.4), rng.uniform(0.02, 0.4), rng.uniform(0, 6.3), rng.uniform(0.2, 1)))
        }
        var image = Image(width: width, height: height, channels: 3)
        for c in 0..<3 {
            let tint = rng.uniform(0.7, 1.0)
            for y in 0..<height {
                for x in 0..<width {
                    var v = 0.0
                    for (fx, fy, ph, a) in waves { v += a * sin(fx * Double(x) + fy * Double(y) + ph) }
                    v = 0.5 + 0.08 * v * tint + rng.uniform(-0.05, 0.05)
                    image.pixels[(c * height + y) * width + x] = Float(Swift.min(1, Swift.max(0, v)))
                }
            }
        }
        return image
    }

    /// A mild random homography on normalised coordinates: rotation up to 0.3 rad, scale 0.85-1.15, small
    /// translation and perspective.
    public static func homography(rng: inout SeededRandom) -> Homography {
        let angle = rng.uniform(-0.3, 0.3), scale = rng.uniform(0.85, 1.15)
        return Homography([scale * cos(angle), -scale * sin(angle), rng.uniform(-0.1, 0.1),
                           scale * sin(angle), scale * cos(angle), rng.uniform(-0.1, 0.1),
                           rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1), 1])
    }

    /// A batch: image (B,3,H,W) targets, imageAug (B,3,H,W) sources warped from them, homography (B,3,3)
    /// float32 normalised source -> target.
    public static func batch(_ batch: Int, height: Int, width: Int, rng: inout SeededRandom)
        -> (image: Tensor, imageAug: Tensor, homography: Tensor) {
        let image = Tensor(shape: [batch, 3, height, width])
        let imageAug = Tensor(shape: [batch, 3, height, width])
        let homography = Tensor(shape: [batch, 3, 3])
        let plane = 3 * height * width
        for b in 0..<batch {
            let target = texture(width: width, height: height, rng: &rng)
            let h = SyntheticPairs.homography(rng: &rng)
            let source = HomographyWarp.warp(target, homography: h)
            for i in 0..<plane {
                image.data[b * plane + i] = target.pixels[i]
                imageAug.data[b * plane + i] = source.pixels[i]
            }
            for (i, v) in h.floats.enumerated() { homography.data[b * 9 + i] = v }
        }
        return (image, imageAug, homography)
    }
}
