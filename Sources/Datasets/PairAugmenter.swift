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
        var target = AntialiasResize.resize(decoded.asRGB(), width: c.width, height: c.height)
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
}
