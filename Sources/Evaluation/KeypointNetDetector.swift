import Datasets
import KP2D
import TensorEngine

// What HPatches evaluation runs on each image, and KeypointNet as one.

/// A detector: keypoints with descriptors of one image (values in [0,1], channels in the caller's order), in
/// pixels of that image. HPatchesEvaluation.run and the HPatches browser take one.
public typealias KeypointDetector = (Image) throws -> KeypointSet

public enum KeypointNetDetector {
    /// Eval-mode forward on one image (values in [0,1], channels in the order the caller chose; gray is
    /// replicated for colour nets and colour is converted for gray nets), then every cell with score > 0 in
    /// raster order (no NMS), as the official evaluate_keypoint_net. Width and height must be multiples of 8.
    public static func detect(_ net: KeypointNet, _ image: Image) -> KeypointSet {
        let img = image.asRGB()
        let x = net.normalizedInput(Tensor(shape: [1, 3, img.height, img.width], values: img.pixels))
        return KeypointSet.extract(net.infer(x))
    }
}
