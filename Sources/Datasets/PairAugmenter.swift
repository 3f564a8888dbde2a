import Geometry
import TensorEngine

// One training pair made as the official train transform does:
//   resize to the training size -> spatial augmentation (target) -> sample H -> source = warp(target, H)
//   -> photometric augmentation of target and source (shared channel order / gray flag).

public struct AugmentationConfig: Sendable, Equatable, Codable {
    public var height: Int
    public var width: Int
    public var spatial: Bool = true
    public var spatialConfig = SpatialAugmentationConfig.official
    public var homography = HomographyConfig.training
    public var photometric = PhotometricConfig.official
    /// Random crops at several scales before the resize (not in the official code, which resizes each whole
    /// image): nil resizes the whole photo; s in (0, 1] takes a crop with the training aspect ratio whose side is
    /// a uniform fraction in [s, 1] of the largest such crop, at a uniform position. More distinct views of a
    /// small folder of photos.
    public var cropMinScale: Double?
    /// Texture-aware crops (not official): nil or 1 keeps the crop as drawn; K > 1 draws K crops (scale range
    /// `cropMinScale`, or `TextureCrop.defaultMinScale` when that is nil) and keeps the one with the largest share
    /// of textured 8x8 cells at the training size (`TextureCrop`).
    public var cropTextureCandidates: Int?

    public init(height: Int, width: Int) { self.height = height; self.width = width }
}

/// A target image, its warped source, and H mapping normalised source points to normalised target points.
public struct TrainingPair: Sendable {
    public var image: Image
    public var imageAug: Image
    public var homography: Homography
}

public enum PairAugmenter {
    /// `decoded` is any decoded image (1 or 3 channels, any size).
    public static func makePair(from decoded: Image, config c: AugmentationConfig, rng: inout SeededRandom) -> TrainingPair {
        makePair(fromTrainingSize: trainingSizePhoto(decoded, config: c, rng: &rng), config: c, rng: &rng)
    }

    /// The first stage of `makePair`: the photo as RGB at the training size, cropped first if the config asks for
    /// crops (the only draws from `rng` in this stage).
    public static func trainingSizePhoto(_ decoded: Image, config c: AugmentationConfig, rng: inout SeededRandom) -> Image {
        var photo = decoded.asRGB()
        let aspect = Double(c.width) / Double(c.height)
        if let k = c.cropTextureCandidates, k > 1 {
            photo = TextureCrop.crop(photo, aspect: aspect, minScale: c.cropMinScale ?? TextureCrop.defaultMinScale, candidates: k,
                                     outWidth: c.width, outHeight: c.height, rng: &rng)
        } else if let s = c.cropMinScale ?? (c.cropTextureCandidates != nil ? TextureCrop.defaultMinScale : nil) {
            photo = randomCrop(photo, aspect: aspect, minScale: s, rng: &rng)
        }
        return AntialiasResize.resize(photo, width: c.width, height: c.height)
    }

    /// Whether `trainingSizePhoto` depends on the photo alone (no crops, no draws): then a loader may keep it
    /// instead of decoding and resizing the same file every epoch.
    public static func usesWholePhoto(_ c: AugmentationConfig) -> Bool { c.cropMinScale == nil && c.cropTextureCandidates == nil }

    /// The rest of `makePair`, from the photo at the training size (`trainingSizePhoto`).
    public static func makePair(fromTrainingSize photo: Image, config c: AugmentationConfig, rng: inout SeededRandom) -> TrainingPair {
        var target = photo
        if c.spatial { target = SpatialAugmentation.apply(target, config: c.spatialConfig, rng: &rng) }
        let h = HomographySampler.sample(height: c.height, width: c.width, config: c.homography, rng: &rng)
        var source = HomographyWarp.warp(target, homography: h)
        if c.photometric.enabled {
            let (order, gray) = PhotometricAugmentation.drawPairParameters(c.photometric, rng: &rng)
            target = PhotometricAugmentation.apply(target, order: order, gray: gray, config: c.photometric, rng: &rng)
            source = PhotometricAugmentation.apply(source, order: order, gray: gray, config: c.photometric, rng: &rng)
        }
        return TrainingPair(image: target, imageAug: source, homography: h)
    }

    /// A crop of `image` with aspect ratio `aspect` (width / height): side a uniform fraction in [minScale, 1]
    /// of the largest crop of that ratio that fits, at a uniform position. At least 8x8 pixels.
    public static func randomCrop(_ image: Image, aspect: Double, minScale: Double, rng: inout SeededRandom) -> Image {
        let w = randomWindow(image, aspect: aspect, minScale: minScale, rng: &rng)
        return image.cropped(x: w.x, y: w.y, width: w.width, height: w.height)
    }

    /// The window `randomCrop` takes (the same draws).
    public static func randomWindow(_ image: Image, aspect: Double, minScale: Double, rng: inout SeededRandom) -> TextureCrop.Window {
        let fullW = min(Double(image.width), Double(image.height) * aspect)
        let scale = rng.uniform(min(max(minScale, 0.01), 1), 1)
        let w = max(8, min(image.width, Int((fullW * scale).rounded())))
        let h = max(8, min(image.height, Int((fullW * scale / aspect).rounded())))
        let x = rng.int(image.width - w + 1), y = rng.int(image.height - h + 1)
        return TextureCrop.Window(x: x, y: y, width: w, height: h)
    }
}
