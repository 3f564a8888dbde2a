import Geometry
import KP2D

// Plain-array inputs of the official HPatches metrics: two keypoint sets (KP2D.KeypointSet) and the truth.

/// One image pair as the official metrics see it.
public struct EvaluationPair: Sendable {
    /// Image-1 points and descriptors (`prob`, `desc`).
    public var first: KeypointSet
    /// Image-2 points and descriptors (`warped_prob`, `warped_desc`).
    public var second: KeypointSet
    /// Ground truth, image-1 pixels -> image-2 pixels.
    public var homography: Homography
    /// Evaluation image size. The official code passes image_shape = (W, H) (README 3.6): x is tested against
    /// the width and y against the height.
    public var width: Int
    public var height: Int

    public init(first: KeypointSet, second: KeypointSet, homography: Homography, width: Int, height: Int) {
        self.first = first; self.second = second; self.homography = homography; self.width = width; self.height = height
    }
}
