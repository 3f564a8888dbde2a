import NN
import TensorEngine

/// The official conv block `Sequential(Conv2d(cin, cout, 3, padding=1, bias=False), BatchNorm2d(bn, momentum))`.
/// Keys: `0.weight` (conv), `1.weight`, `1.bias`, `1.running_mean`, `1.running_var`, `1.num_batches_tracked`.
/// `normChannels` is the BatchNorm width; the official heads use c4 after a c4 -> c5 conv (equal in practice).
public final class ConvBNBlock: Module {
    public let conv: Conv2d
    public let norm: BatchNorm2d

    public init(inputChannels: Int, outputChannels: Int, normChannels: Int? = nil, momentum: Float = 0.1,
                rng: inout SeededRandom) {
        conv = Conv2d(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 3, padding: 1,
                      bias: false, rng: &rng)
        norm = BatchNorm2d(channels: normChannels ?? outputChannels, momentum: momentum)
    }

    /// x (N,Cin,H,W) -> BN(conv(x)) (N,Cout,H,W); no activation.
    public func callAsFunction(_ x: Variable, _ g: Graph, training: Bool) -> Variable {
        norm(conv(x, g), g, training: training)
    }

    /// x (N,Cin,H,W) -> LeakyReLU(BN(conv(x)), leakySlope) (N,Cout,H,W); BN and LeakyReLU fused (same numbers
    /// as applying them in turn). In eval mode without gradients (inference) the BatchNorm is folded into the
    /// convolution and the activation applied in the convolution's output pass (Graph.conv2dFoldedBatchNormLeakyReLU).
    public func callAsFunction(_ x: Variable, _ g: Graph, training: Bool, leakySlope: Float) -> Variable {
        if !training && conv.bias == nil && norm.channels == conv.outputChannels
            && !g.needsGrad([x, conv.weight, norm.weight, norm.bias]) {
            return g.conv2dFoldedBatchNormLeakyReLU(x, weight: conv.weight, padding: conv.padding,
                                                    bnWeight: norm.weight, bnBias: norm.bias,
                                                    runningMean: norm.runningMean, runningVar: norm.runningVar,
                                                    eps: norm.eps, slope: leakySlope)
        }
        return norm(conv(x, g), g, training: training, leakySlope: leakySlope)
    }

    public func stateEntries(prefix: String) -> [StateEntry] {
        conv.stateEntries(prefix: prefix + "0.") + norm.stateEntries(prefix: prefix + "1.")
    }
}
