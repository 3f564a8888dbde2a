import Foundation
import TensorEngine

/// torch.nn.Conv2d with stride 1. Keys: `weight` (Cout,Cin,kH,kW), `bias` (Cout).
/// Default init as PyTorch: kaiming_uniform(a=sqrt(5)) -> U(-1/sqrt(fan_in), 1/sqrt(fan_in)), bias likewise.
public final class Conv2d: Module {
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernelSize: Int
    public let padding: Int
    public let weight: Variable
    public let bias: Variable?

    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, padding: Int, bias: Bool = true,
                rng: inout SeededRandom) {
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        self.padding = padding
        let fanIn = Double(inputChannels * kernelSize * kernelSize)
        let bound = 1 / fanIn.squareRoot()
        let w = Tensor(shape: [outputChannels, inputChannels, kernelSize, kernelSize])
        for i in 0..<w.count { w.data[i] = Float(rng.uniform(-bound, bound)) }
        weight = Variable(w, requiresGrad: true)
        if bias {
            let b = Tensor(shape: [outputChannels])
            for i in 0..<b.count { b.data[i] = Float(rng.uniform(-bound, bound)) }
            self.bias = Variable(b, requiresGrad: true)
        } else {
            self.bias = nil
        }
    }

    /// x (N,Cin,H,W) -> (N,Cout,H',W')
    public func callAsFunction(_ x: Variable, _ g: Graph) -> Variable {
        g.conv2d(x, weight: weight, bias: bias, padding: padding)
    }

    public func stateEntries(prefix: String) -> [StateEntry] {
        var e = [StateEntry.parameter(prefix + "weight", weight)]
        if let b = bias { e.append(.parameter(prefix + "bias", b)) }
        return e
    }
}

/// torch.nn.BatchNorm2d (affine, track_running_stats). Keys: weight, bias, running_mean, running_var,
/// num_batches_tracked (I64). Training mode normalises with batch statistics and updates the running
/// ones with `momentum` (unbiased variance); eval mode uses the running statistics.
public final class BatchNorm2d: Module {
    public let channels: Int
    public var momentum: Float
    public let eps: Float
    public let weight: Variable
    public let bias: Variable
    public let runningMean: Tensor
    public let runningVar: Tensor
    /// Scalar counter, saved as I64.
    public let numBatchesTracked: Tensor

    public init(channels: Int, momentum: Float = 0.1, eps: Float = 1e-5) {
        self.channels = channels
        self.momentum = momentum
        self.eps = eps
        weight = Variable(Tensor(shape: [channels], repeating: 1), requiresGrad: true)
        bias = Variable(Tensor(shape: [channels]), requiresGrad: true)
        runningMean = Tensor(shape: [channels])
        runningVar = Tensor(shape: [channels], repeating: 1)
        numBatchesTracked = Tensor(shape: [])
    }

    /// x (N,C,H,W) -> (N,C,H,W)
    public func callAsFunction(_ x: Variable, _ g: Graph, training: Bool) -> Variable {
        if training { numBatchesTracked.data[0] += 1 }
        return g.batchNorm2d(x, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                             training: training, momentum: momentum, eps: eps)
    }

    /// leakyReLU(self(x), leakySlope) as one fused op (same numbers, one pass, BN output not stored).
    public func callAsFunction(_ x: Variable, _ g: Graph, training: Bool, leakySlope: Float) -> Variable {
        if training { numBatchesTracked.data[0] += 1 }
        return g.batchNormLeakyReLU(x, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                                    training: training, momentum: momentum, eps: eps, slope: leakySlope)
    }

    public func stateEntries(prefix: String) -> [StateEntry] {
        [.parameter(prefix + "weight", weight), .parameter(prefix + "bias", bias),
         .buffer(prefix + "running_mean", runningMean), .buffer(prefix + "running_var", runningVar),
         .counter(prefix + "num_batches_tracked", numBatchesTracked)]
    }
}
