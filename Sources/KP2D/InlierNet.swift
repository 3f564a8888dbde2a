import NN
import TensorEngine

/// IO-Net: the official InlierNet(blocks=4), a 1-D CNN of 1x1 convolutions over point pairs
/// (adapted from NG-RANSAC). Input (B,5,N,1): source (xn, yn), associated target (xn, yn), descriptor
/// distance. Output (B,1,N,1): the inlier score, regressed to +-1; no final activation.
///
///   x = relu(p_in(x))                                  p_in = conv 5->128 (no bias) + BN(momentum 0.9)
///   4x: res = x
///       x = relu(BN_s1(instance_norm(conv_s0(x))))
///       x = relu(BN_s3(instance_norm(conv_s2(x))))
///       x = x + res
///   return p_out(x)                                    conv 128->1 with bias
///
/// State dict keys as PyTorch: p_in.0.weight, p_in.1.*, <i>s0.weight/bias, <i>s1.*, <i>s2.*, <i>s3.*,
/// p_out.weight/bias.
public final class InlierNet: Module {
    public static let width = 128
    public static let inputChannels = 5

    public struct ResidualBlock {
        public let conv0: Conv2d
        public let norm1: BatchNorm2d
        public let conv2: Conv2d
        public let norm3: BatchNorm2d
    }

    public let inputConv: Conv2d
    public let inputNorm: BatchNorm2d
    public let blocks: [ResidualBlock]
    public let outputConv: Conv2d

    public init(blocks blockCount: Int = 4, rng: inout SeededRandom) {
        let c = InlierNet.width
        inputConv = Conv2d(inputChannels: InlierNet.inputChannels, outputChannels: c, kernelSize: 1, padding: 0,
                           bias: false, rng: &rng)
        inputNorm = BatchNorm2d(channels: c, momentum: 0.9)
        var bs: [ResidualBlock] = []
        for _ in 0..<blockCount {
            let c0 = Conv2d(inputChannels: c, outputChannels: c, kernelSize: 1, padding: 0, bias: true, rng: &rng)
            let n1 = BatchNorm2d(channels: c, momentum: 0.1)
            let c2 = Conv2d(inputChannels: c, outputChannels: c, kernelSize: 1, padding: 0, bias: true, rng: &rng)
            let n3 = BatchNorm2d(channels: c, momentum: 0.1)
            bs.append(ResidualBlock(conv0: c0, norm1: n1, conv2: c2, norm3: n3))
        }
        blocks = bs
        outputConv = Conv2d(inputChannels: c, outputChannels: 1, kernelSize: 1, padding: 0, bias: true, rng: &rng)
    }

    /// x (B,5,N,1) -> (B,1,N,1). Training mode uses batch statistics and updates the running ones.
    public func callAsFunction(_ x: Variable, _ g: Graph, training: Bool) -> Variable {
        precondition(x.shape.count == 4 && x.shape[1] == InlierNet.inputChannels,
                     "InlierNet: expected input (B,5,N,1), got \(x.shape)")
        var h = g.relu(inputNorm(inputConv(x, g), g, training: training))
        for block in blocks {
            let residual = h
            h = g.relu(block.norm1(g.instanceNorm(block.conv0(h, g)), g, training: training))
            h = g.relu(block.norm3(g.instanceNorm(block.conv2(h, g)), g, training: training))
            h = g.add(h, residual)
        }
        return outputConv(h, g)
    }

    public func stateEntries(prefix: String) -> [StateEntry] {
        var e = inputConv.stateEntries(prefix: prefix + "p_in.0.")
        e += inputNorm.stateEntries(prefix: prefix + "p_in.1.")
        for (i, b) in blocks.enumerated() {
            e += b.conv0.stateEntries(prefix: prefix + "\(i)s0.")
            e += b.norm1.stateEntries(prefix: prefix + "\(i)s1.")
            e += b.conv2.stateEntries(prefix: prefix + "\(i)s2.")
            e += b.norm3.stateEntries(prefix: prefix + "\(i)s3.")
        }
        e += outputConv.stateEntries(prefix: prefix + "p_out.")
        return e
    }
}
