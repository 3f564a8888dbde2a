import Foundation
import TensorEngine

// The official spatial_augment_sample on the (resized) target image, before the homography:
// RandomVerticalFlip(0.5), RandomHorizontalFlip(0.5), then RandomAffine(degrees 15, translate 0.1 x 0.1,
// scale 0.9..1.1) about the image centre with nearest-neighbour sampling and zero fill.

public struct SpatialAugmentationConfig: Sendable, Equatable, Codable {
    public var verticalFlip = 0.5
    public var horizontalFlip = 0.5
    public var maxDegrees = 15.0
    public var maxTranslate = 0.1
    public var scaleRange = 0.9...1.1
    public init() {}
    public static let official = SpatialAugmentationConfig()
}

public enum SpatialAugmentation {
    public static func apply(_ image: Image, config c: SpatialAugmentationConfig = .official,
                             rng: inout SeededRandom) -> Image {
        var img = image
        if rng.uniform() < c.verticalFlip { img = flipVertical(img) }
        if rng.uniform() < c.horizontalFlip { img = flipHorizontal(img) }
        let angle = rng.uniform(-c.maxDegrees, c.maxDegrees) * Double.pi / 180
        let maxDx = c.maxTranslate * Double(img.width), maxDy = c.maxTranslate * Double(img.height)
        let tx = rng.uniform(-maxDx, maxDx).rounded(), ty = rng.uniform(-maxDy, maxDy).rounded()
        let scale = rng.uniform(c.scaleRange.lowerBound, c.scaleRange.upperBound)
        return affine(img, angle: angle, translation: (tx, ty), scale: scale)
    }

    public static func flipHorizontal(_ image: Image) -> Image {
        var out = image
        let w = image.width
        for c in 0..<image.channels { for y in 0..<image.height {
            let row = (c * image.height + y) * w
            for x in 0..<w { out.pixels[row + x] = image.pixels[row + w - 1 - x] }
        } }
        return out
    }

    public static func flipVertical(_ image: Image) -> Image {
        var out = image
        let w = image.width, h = image.height
        for c in 0..<image.channels { for y in 0..<h {
            let dst = (c * h + y) * w, src = (c * h + h - 1 - y) * w
            for x in 0..<w { out.pixels[dst + x] = image.pixels[src + x] }
        } }
        return out
    }

    /// Rotate by `angle` (radians, counter-clockwise on screen), scale, then translate (pixels), about
    /// the image centre. Each output pixel centre is mapped back to the input and sampled nearest.
    public static func affine(_ image: Image, angle: Double, translation: (Double, Double), scale: Double) -> Image {
        let w = image.width, h = image.height
        var out = Image(width: w, height: h, channels: image.channels)
        let cx = Double(w) * 0.5, cy = Double(h) * 0.5
        // Forward (y down): p' = c + t + s * R(-angle) (p - c); inverse below.
        let co = cos(angle), si = sin(angle)
        image.pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    for x in 0..<w {
                        let dx = (Double(x) + 0.5 - cx - translation.0) / scale
                        let dy = (Double(y) + 0.5 - cy - translation.1) / scale
                        // Inverse rotation of the on-screen counter-clockwise rotation.
                        let ix = co * dx - si * dy + cx, iy = si * dx + co * dy + cy
                        let px = Int(ix.rounded(.down)), py = Int(iy.rounded(.down))
                        guard px >= 0, py >= 0, px < w, py < h else { continue }
                        for c in 0..<image.channels { dst[(c * h + y) * w + x] = src[(c * h + py) * w + px] }
                    }
                }
            }
        }
        return out
    }
}
