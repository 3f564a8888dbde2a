import Foundation
import Datasets
import Evaluation
import KP2D
import NN
import TensorEngine

// Loading KeypointNet weights from a safetensors file and running it as an HPatches detector.

public enum KeypointNetWeightsError: Error, CustomStringConvertible {
    case notKeypointNet(path: String, missing: String)
    case badShape(path: String, key: String, shape: [Int])

    public var description: String {
        switch self {
        case let .notKeypointNet(p, k):
            return "\(p): not KeypointNet weights (no tensor '\(k)'); pass a .safetensors saved from KeypointNet (keys like conv1a.0.weight)"
        case let .badShape(p, k, s):
            return "\(p): tensor '\(k)' has shape \(s), not a 4-D convolution weight; these are not KeypointNet weights"
        }
    }
}

public enum KeypointNetWeights {
    /// The KeypointNet state dict inside a safetensors file. Accepts bare keys (conv1a.0.weight), the
    /// KeypointNetwithIOLoss prefix `keypoint_net.` and the fixture prefix `param.`.
    public static func stateDict(_ file: SafeTensorsFile) -> [String: StoredTensor] {
        for prefix in ["", "keypoint_net.", "param.", "param.keypoint_net."] where file.tensors["\(prefix)conv1a.0.weight"] != nil {
            var out = [String: StoredTensor]()
            for (k, v) in file.tensors where k.hasPrefix(prefix) {
                let key = String(k.dropFirst(prefix.count))
                if prefix == "param." && key.hasPrefix("io_net.") { continue }
                out[key] = v
            }
            return out
        }
        return file.tensors
    }

    /// Channel widths read off the convolution shapes (c1 = conv1a out, c2 = conv2a, c3 = conv3a, c4 = conv4a,
    /// c5 = convDa, d1 = convFb, descriptor = convFbb).
    public static func inferConfig(_ dict: [String: StoredTensor], source: String) throws -> KeypointNetConfig {
        func out(_ key: String) throws -> Int {
            guard let t = dict[key] else { throw KeypointNetWeightsError.notKeypointNet(path: source, missing: key) }
            guard t.shape.count == 4 else { throw KeypointNetWeightsError.badShape(path: source, key: key, shape: t.shape) }
            return t.shape[0]
        }
        var c = KeypointNetConfig()
        c.c1 = try out("conv1a.0.weight"); c.c2 = try out("conv2a.0.weight"); c.c3 = try out("conv3a.0.weight")
        c.c4 = try out("conv4a.0.weight"); c.c5 = try out("convDa.0.weight"); c.d1 = try out("convFb.0.weight")
        c.descriptorDim = try out("convFbb.weight")
        return c
    }

    /// Read `path`, build a KeypointNet of the matching widths and load the weights (strict: every key and shape).
    public static func load(_ path: String) throws -> KeypointNet {
        let file = try SafeTensors.read(path)
        let dict = stateDict(file)
        let config = try inferConfig(dict, source: path)
        var rng = SeededRandom(seed: 0)
        let net = KeypointNet(config: config, rng: &rng)
        try net.loadStateDict(dict, strict: true, source: path)
        return net
    }
}

public enum KeypointNetDetector {
    /// Eval-mode forward on one image (values in [0,1], 3 channels in the order the net expects; gray is
    /// replicated), then every cell with score > 0 (no NMS), as the official evaluate_keypoint_net.
    /// Width and height must be multiples of 8.
    public static func detect(_ net: KeypointNet, _ image: Image) -> KeypointSet {
        let img = image.asRGB()
        let x = Tensor(shape: [1, 3, img.height, img.width], values: img.pixels)
        let g = Graph(recording: false)
        let out = net(Variable(KeypointNet.normalize(x)), g, training: false)
        let hc = out.score.shape[2], wc = out.score.shape[3], d = out.feat.shape[1]
        return KeypointSet.fromDense(score: out.score.value.array, coord: out.coord.value.array, descriptors: out.feat.value.array,
                                     cellsHigh: hc, cellsWide: wc, dimension: d)
    }
}
