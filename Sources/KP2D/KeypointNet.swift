import NN
import TensorEngine

/// Outputs of one forward. score (B,1,Hc,Wc) with the border ring 0; coord (B,2,Hc,Wc) pixels (ch0 = x).
/// Training: feat is the dense map (B,D,H/4,W/4). Eval: feat is the map sampled at coord and L2-normalised (B,D,Hc,Wc).
/// (Without doUpsample the dense map is at H/8.)
public struct KeypointNetOutput {
    public var score: Variable
    public var coord: Variable
    public var feat: Variable
}

/// KeyPointNet (TRI-ML/KP2D kp2d/networks/keypoint_net.py) with configurable widths.
///
///   encoder  conv1a conv1b [drop] pool  conv2a conv2b [drop] pool  conv3a conv3b=skip [drop] pool  conv4a conv4b [drop]
///            (each: 3x3 conv without bias -> BatchNorm(momentum 0.1) -> LeakyReLU 0.01), features at H/8
///   score    convDa -> LeakyReLU [drop] -> convDb -> sigmoid -> border ring 0                  (B,1,Hc,Wc)
///   location convPa -> LeakyReLU [drop] -> convPb -> tanh -> cell centre + offset, clamped     (B,2,Hc,Wc)
///   desc     convFa -> LeakyReLU [drop] -> (convFb -> pixel shuffle x2 -> concat skip) -> convFaa -> LeakyReLU -> convFbb
///            training: dense map; eval: bilinear samples at the keypoints, L2-normalised
/// [drop] is Dropout2d(0.2) when withDrop and training. State dict keys and order are PyTorch's.
public final class KeypointNet: Module {
    public let config: KeypointNetConfig
    /// Pixels per score cell.
    public static let cell = 8
    public static let leakySlope: Float = 0.01
    public static let dropoutProbability: Float = 0.2

    public let conv1a, conv1b, conv2a, conv2b, conv3a, conv3b, conv4a, conv4b: ConvBNBlock
    public let convDa: ConvBNBlock
    public let convDb: Conv2d
    public let convPa: ConvBNBlock
    public let convPb: Conv2d
    public let convFa, convFb, convFaa: ConvBNBlock
    public let convFbb: Conv2d

    /// Draws of Dropout2d (only used when config.withDrop and training). Reseed for reproducible runs.
    public var dropoutRandom: SeededRandom

    /// Builds the network with PyTorch-style default init drawn from `rng`. The config must be valid
    /// (`config.problem == nil`); use `KeypointNet.make(config:rng:)` to get an error instead of a trap.
    public init(config: KeypointNetConfig = .paper, rng: inout SeededRandom) {
        precondition(config.problem == nil, "KeypointNet widths \(config.widthsDescription): \(config.problem ?? "")")
        self.config = config
        let c = config
        func block(_ cin: Int, _ cout: Int, norm: Int? = nil) -> ConvBNBlock {
            ConvBNBlock(inputChannels: cin, outputChannels: cout, normChannels: norm, momentum: 0.1, rng: &rng)
        }
        conv1a = block(c.inputChannels, c.c1)
        conv1b = block(c.c1, c.c1)
        conv2a = block(c.c1, c.c2)
        conv2b = block(c.c2, c.c2)
        conv3a = block(c.c2, c.c3)
        conv3b = block(c.c3, c.c3)
        conv4a = block(c.c3, c.c4)
        conv4b = block(c.c4, c.c4)
        convDa = block(c.c4, c.c5, norm: c.c4)
        convDb = Conv2d(inputChannels: c.c5, outputChannels: 1, kernelSize: 3, padding: 1, bias: true, rng: &rng)
        convPa = block(c.c4, c.c5, norm: c.c4)
        convPb = Conv2d(inputChannels: c.c5, outputChannels: 2, kernelSize: 3, padding: 1, bias: true, rng: &rng)
        convFa = block(c.c4, c.c5, norm: c.c4)
        convFb = block(c.c5, c.d1)
        convFaa = block(c.c4, c.c5)
        convFbb = Conv2d(inputChannels: c.c5, outputChannels: c.descriptorDim, kernelSize: 3, padding: 1, bias: true,
                         rng: &rng)
        dropoutRandom = rng.fork()
    }

    /// Like init, but throws KeypointNetError.invalidConfig for widths the architecture cannot take.
    public static func make(config: KeypointNetConfig, rng: inout SeededRandom) throws -> KeypointNet {
        if let p = config.problem { throw KeypointNetError.invalidConfig(widths: config.widthsDescription, reason: p) }
        return KeypointNet(config: config, rng: &rng)
    }

    /// Why an input of this shape cannot go through the network, or nil.
    public func inputProblem(_ shape: [Int]) -> String? {
        guard shape.count == 4 else { return "expected images (B,C,H,W), got shape \(shape)" }
        if shape[1] != config.inputChannels {
            return "the network takes \(config.inputChannels)-channel images, got \(shape[1]) channels"
        }
        if shape[2] % 8 != 0 || shape[3] % 8 != 0 || shape[2] < 8 || shape[3] < 8 {
            return "image size \(shape[2])x\(shape[3]) (HxW) must be a positive multiple of 8 in both dimensions"
        }
        return nil
    }

    /// x: normalised images (B,3,H,W) = (image - 0.5) * 0.225; H and W multiples of 8.
    /// `denseDescriptors` (default: `training`) returns the dense descriptor map; an eval-mode loss sets it.
    public func callAsFunction(_ x: Variable, _ g: Graph, training: Bool, denseDescriptors: Bool? = nil) -> KeypointNetOutput {
        if let p = inputProblem(x.shape) { preconditionFailure("KeypointNet: \(p)") }
        let (_, _, imageH, imageW) = x.value.nchw
        let dropping = config.withDrop && training
        func act(_ block: ConvBNBlock, _ v: Variable) -> Variable {
            block(v, g, training: training, leakySlope: KeypointNet.leakySlope)
        }
        func drop(_ v: Variable) -> Variable {
            // In place: every v here is a block's BatchNorm+LeakyReLU output, read by nothing else.
            dropping ? g.dropout2dInPlace(v, p: KeypointNet.dropoutProbability, training: true, rng: &dropoutRandom) : v
        }

        // Encoder: (B,C,H,W) -> (B,c4,H/8,W/8), skip (B,c3,H/4,W/4)
        var h = act(conv1a, x)
        h = drop(act(conv1b, h))
        h = g.maxPool2d(h)
        h = act(conv2a, h)
        h = drop(act(conv2b, h))
        h = g.maxPool2d(h)
        h = act(conv3a, h)
        let skip = drop(act(conv3b, h))
        h = g.maxPool2d(skip)
        h = act(conv4a, h)
        let features = drop(act(conv4b, h))

        // Score head: (B,1,Hc,Wc), outer ring 0
        let score = g.borderMasked(g.sigmoid(convDb(drop(act(convDa, features)), g)))

        // Location head: (B,2,Hc,Wc) pixels
        let shift = g.tanh(convPb(drop(act(convPa, features)), g))
        let coord = g.cellCoordinates(shift, imageHeight: imageH, imageWidth: imageW, cell: KeypointNet.cell,
                                      crossRatio: config.crossRatio)

        // Descriptor head: dense map (B,D,H/4,W/4)
        var f = drop(act(convFa, features))
        if config.doUpsample {
            f = g.pixelShuffle(convFb(f, g, training: training), upscale: 2)
            f = g.concatChannels([f, skip])
        }
        f = act(convFaa, f)
        var feat = convFbb(f, g)

        if !(denseDescriptors ?? training) {
            let grid = g.pixelsToGrid(coord, imageHeight: imageH, imageWidth: imageW)
            feat = g.l2Normalize(g.gridSample(feat, grid: grid, mode: .bilinear))
        }
        return KeypointNetOutput(score: score, coord: coord, feat: feat)
    }

    /// Eval-mode forward of normalised images without recording gradients.
    public func infer(_ x: Tensor) -> KeypointNetOutput {
        let g = Graph(recording: false)
        return self(Variable(x), g, training: false)
    }

    /// PyTorch registration order: conv1a..conv4b, convDa, convDb, convPa, convPb, convFa, convFb, convFaa, convFbb.
    public func stateEntries(prefix: String) -> [StateEntry] {
        let blocks: [(String, Module)] = [
            ("conv1a", conv1a), ("conv1b", conv1b), ("conv2a", conv2a), ("conv2b", conv2b),
            ("conv3a", conv3a), ("conv3b", conv3b), ("conv4a", conv4a), ("conv4b", conv4b),
            ("convDa", convDa), ("convDb", convDb), ("convPa", convPa), ("convPb", convPb),
            ("convFa", convFa), ("convFb", convFb), ("convFaa", convFaa), ("convFbb", convFbb),
        ]
        return blocks.flatMap { name, m in m.stateEntries(prefix: prefix + name + ".") }
    }

    /// (image - 0.5) * 0.225 for images in [0,1] (official to_color_normalized).
    public static func normalize(_ images: Tensor) -> Tensor {
        let y = Tensor(shape: images.shape)
        let px = images.data, py = y.data, n = images.count
        let scale: Float = 0.225
        for i in 0..<n { py[i] = (px[i] - 0.5) * scale }
        return y
    }
}

extension KeypointNet {
    /// Official to_gray_normalized: (image - 0.5) * 0.225, then the mean over the channels.
    /// (B,C,H,W) in [0,1] -> (B,1,H,W).
    public static func normalizeGray(_ images: Tensor) -> Tensor {
        let (b, c, h, w) = images.nchw
        let y = Tensor(shape: [b, 1, h, w])
        let px = images.data, py = y.data, plane = h * w
        let scale: Float = 0.225
        for bi in 0..<b {
            for p in 0..<plane {
                var s: Float = 0
                for ci in 0..<c { s += (px[(bi * c + ci) * plane + p] - 0.5) * scale }
                py[bi * plane + p] = s / Float(c)
            }
        }
        return y
    }

    /// The network input for images in [0,1]: colour normalisation, or the grey one for a gray network.
    public func normalizedInput(_ images: Tensor) -> Tensor {
        config.useColor ? KeypointNet.normalize(images) : KeypointNet.normalizeGray(images)
    }
}

public enum KeypointNetError: Error, CustomStringConvertible {
    case invalidConfig(widths: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidConfig(w, r): return "KeypointNet widths \(w) cannot build the network: \(r)"
        }
    }
}
