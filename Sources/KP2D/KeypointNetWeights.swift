import Foundation
import NN
import TensorEngine

// KeypointNet weights files: safetensors with the official state_dict keys (`conv1a.0.weight`, ...,
// `convFbb.bias`; num_batches_tracked as I64), exactly the keys of checkpoint['state_dict'] in the released
// model.ckpt files (scripts/ckpt_to_safetensors.py converts them). Keys may also carry the `keypoint_net.`
// prefix of a whole KeypointNetwithIOLoss state dict; other prefixed keys (io_net.*) are then ignored.
// The widths are read from the tensor shapes, so no preset is needed to load a file.

public enum KeypointNetWeightsError: Error, CustomStringConvertible {
    case notKeypointNet(path: String, reason: String)
    case badShape(path: String, key: String, shape: [Int], reason: String)
    case invalidWidths(path: String, widths: String, reason: String)

    public var description: String {
        switch self {
        case let .notKeypointNet(p, r):
            return "\(p): not KeypointNet weights (\(r)); pass a .safetensors made by kp2d-tui or by scripts/ckpt_to_safetensors.py"
        case let .badShape(p, k, s, r):
            return "\(p): tensor '\(k)' has shape \(s), \(r); the file is not a KeypointNet state dict"
        case let .invalidWidths(p, w, r):
            return "\(p): the tensor shapes give widths \(w), which do not fit KeypointNet (\(r)); the file holds another architecture"
        }
    }
}

public enum KeypointNetWeights {
    /// The metadata key under which kp2d-tui stores the config (JSON) so the flags survive a round trip.
    public static let configMetadataKey = "kp2d_keypointnet_config"

    /// The metadata entry for `config` (keys sorted, so equal weights give byte-equal files).
    public static func configMetadata(_ config: KeypointNetConfig) throws -> [String: String] {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return [configMetadataKey: String(decoding: try e.encode(config), as: UTF8.self)]
    }

    public static let checkpointPrefix = "keypoint_net."

    /// The KeypointNet tensors of a file, keyed without prefix.
    public static func keypointNetTensors(_ file: SafeTensorsFile) -> [String: StoredTensor] {
        let prefixed = file.tensors.keys.contains { $0.hasPrefix(checkpointPrefix) }
        guard prefixed else { return file.tensors }
        var out: [String: StoredTensor] = [:]
        for (k, v) in file.tensors where k.hasPrefix(checkpointPrefix) { out[String(k.dropFirst(checkpointPrefix.count))] = v }
        return out
    }

    /// Infer the widths (and use_color) from the tensor shapes. `flags` supplies doCross / doUpsample /
    /// withDrop, which leave no trace in the shapes (a config stored in the metadata wins over `flags`).
    public static func inferConfig(_ tensors: [String: StoredTensor], metadata: [String: String] = [:],
                                   flags: KeypointNetConfig = .paper, path: String) throws -> KeypointNetConfig {
        var config = flags
        if let json = metadata[configMetadataKey], let data = json.data(using: .utf8),
           let stored = try? JSONDecoder().decode(KeypointNetConfig.self, from: data) {
            config = stored
        }
        func conv(_ key: String) throws -> [Int] {
            guard let t = tensors[key] else {
                throw KeypointNetWeightsError.notKeypointNet(path: path, reason: "no tensor '\(key)'")
            }
            guard t.shape.count == 4 else {
                throw KeypointNetWeightsError.badShape(path: path, key: key, shape: t.shape,
                                                       reason: "a convolution weight must be (Cout,Cin,kH,kW)")
            }
            return t.shape
        }
        let first = try conv("conv1a.0.weight")
        guard first[1] == 3 || first[1] == 1 else {
            throw KeypointNetWeightsError.badShape(path: path, key: "conv1a.0.weight", shape: first,
                                                   reason: "the first conv must take 3 (color) or 1 (gray) channels")
        }
        config.useColor = first[1] == 3
        config.c1 = first[0]
        config.c2 = try conv("conv2a.0.weight")[0]
        config.c3 = try conv("conv3a.0.weight")[0]
        config.c4 = try conv("conv4a.0.weight")[0]
        config.c5 = try conv("convDa.0.weight")[0]
        config.d1 = try conv("convFb.0.weight")[0]
        config.descriptorDim = try conv("convFbb.weight")[0]
        if let p = config.problem {
            throw KeypointNetWeightsError.invalidWidths(path: path, widths: config.widthsDescription, reason: p)
        }
        return config
    }

    /// Load a weights file into a new network whose widths come from the file.
    public static func load(_ path: String, flags: KeypointNetConfig = .paper) throws -> KeypointNet {
        let file = try SafeTensors.read(path)
        return try load(file, flags: flags)
    }

    public static func load(_ file: SafeTensorsFile, flags: KeypointNetConfig = .paper) throws -> KeypointNet {
        let tensors = keypointNetTensors(file)
        let config = try inferConfig(tensors, metadata: file.metadata, flags: flags, path: file.path)
        var rng = SeededRandom(seed: 0)
        let net = KeypointNet(config: config, rng: &rng)
        try net.loadStateDict(tensors, strict: true, source: file.path)
        return net
    }

    /// Write the network's state dict (PyTorch keys and order, num_batches_tracked as I64) and its config.
    public static func save(_ net: KeypointNet, to path: String, prefix: String = "") throws {
        try SafeTensors.write(net.stateDict(prefix: prefix), metadata: configMetadata(net.config), to: path)
    }
}
