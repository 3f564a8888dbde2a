// batchNorm2d op, exactly as torch.nn.functional.batch_norm on (N,C,H,W) (kernels: BatchNormKernels).

extension Graph {
    /// BatchNorm2d over (N,H,W) per channel. Training: batch mean and biased variance normalise; the
    /// running stats are updated in place with `momentum` and the UNBIASED variance. Eval: running stats.
    /// The caller increments num_batches_tracked. x (N,C,H,W), weight/bias (C), running stats (C).
    /// Any rank >= 2 works: dimensions after C are flattened, so (B,C,N,1) behaves like (B,C,N).
    public func batchNorm2d(_ x: Variable, weight: Variable, bias: Variable, runningMean: Tensor, runningVar: Tensor,
                            training: Bool, momentum: Float, eps: Float = 1e-5) -> Variable {
        precondition(x.value.rank >= 2, "batchNorm2d: input must be (N,C,...), got \(x.shape)")
        let n = x.shape[0], c = x.shape[1]
        let hw = n * c == 0 ? 0 : x.count / (n * c)
        precondition(weight.count == c && bias.count == c && runningMean.count == c && runningVar.count == c,
                     "batchNorm2d: input \(x.shape) has \(c) channels; weight \(weight.shape), bias \(bias.shape), running stats \(runningMean.shape)/\(runningVar.shape) must have \(c)")
        if training {
            precondition(n * hw > 1, "batchNorm2d: training needs more than one value per channel, got input \(x.shape)")
        }
        let (mean, invStd) = batchNormStatistics(x, runningMean: runningMean, runningVar: runningVar,
                                                  training: training, momentum: momentum, eps: eps)
        let y = outputUninitialized(x.shape, from: [x, weight, bias])   // the kernel writes every element
        BatchNormKernels.forward(y.value.data, x.value.data, mean.data, invStd.data, weight.value.data, bias.value.data,
                                 n: n, c: c, hw: hw)
        record(y) { dy in
            BatchNormKernels.backward(x.requiresGrad ? x.gradient().data : nil,
                                      weight.requiresGrad ? weight.gradient().data : nil,
                                      bias.requiresGrad ? bias.gradient().data : nil,
                                      dy.data, x.value.data, mean.data, invStd.data, weight.value.data,
                                      n: n, c: c, hw: hw, training: training)
        }
        return y
    }

    /// leakyReLU(batchNorm2d(x, ...), slope) in one op (same arguments as batchNorm2d, same numbers bit for
    /// bit): one pass over the activations, and the BN output is neither allocated nor kept for backward.
    public func batchNormLeakyReLU(_ x: Variable, weight: Variable, bias: Variable, runningMean: Tensor, runningVar: Tensor,
                                   training: Bool, momentum: Float, eps: Float = 1e-5, slope: Float) -> Variable {
        precondition(x.value.rank >= 2, "batchNormLeakyReLU: input must be (N,C,...), got \(x.shape)")
        let n = x.shape[0], c = x.shape[1]
        let hw = n * c == 0 ? 0 : x.count / (n * c)
        precondition(weight.count == c && bias.count == c && runningMean.count == c && runningVar.count == c,
                     "batchNormLeakyReLU: input \(x.shape) has \(c) channels; weight \(weight.shape), bias \(bias.shape), running stats \(runningMean.shape)/\(runningVar.shape) must have \(c)")
        if training {
            precondition(n * hw > 1, "batchNormLeakyReLU: training needs more than one value per channel, got input \(x.shape)")
        }
        let (mean, invStd) = batchNormStatistics(x, runningMean: runningMean, runningVar: runningVar,
                                                  training: training, momentum: momentum, eps: eps)
        let y = outputUninitialized(x.shape, from: [x, weight, bias])   // the kernel writes every element
        BatchNormKernels.forwardLeakyReLU(y.value.data, x.value.data, mean.data, invStd.data, weight.value.data,
                                          bias.value.data, n: n, c: c, hw: hw, slope: slope)
        record(y) { dy in
            BatchNormKernels.backwardLeakyReLU(x.requiresGrad ? x.gradient().data : nil,
                                               weight.requiresGrad ? weight.gradient().data : nil,
                                               bias.requiresGrad ? bias.gradient().data : nil,
                                               dy.data, x.value.data, mean.data, invStd.data, weight.value.data,
                                               bias.value.data,
                                               n: n, c: c, hw: hw, training: training, slope: slope)
        }
        return y
    }

    /// Per-channel (mean, invStd) that normalise x: the batch's (updating the running stats) in training,
    /// the running ones in eval. Shared by batchNorm2d and batchNormLeakyReLU.
    private func batchNormStatistics(_ x: Variable, runningMean: Tensor, runningVar: Tensor,
                                     training: Bool, momentum: Float, eps: Float) -> (mean: Tensor, invStd: Tensor) {
        let n = x.shape[0], c = x.shape[1]
        let hw = n * c == 0 ? 0 : x.count / (n * c)
        // Saved for backward: the per-channel mean and 1/sqrt(var+eps) that normalised x.
        let mean = Tensor(shape: [c]), invStd = Tensor(shape: [c])
        if training {
            let biasedVar = Tensor(shape: [c])
            BatchNormKernels.batchStatistics(mean.data, biasedVar.data, invStd.data, x.value.data, n: n, c: c, hw: hw, eps: eps)
            BatchNormKernels.updateRunning(runningMean.data, runningVar.data, mean.data, biasedVar.data,
                                           c: c, count: n * hw, momentum: momentum)
        } else {
            mean.assign(runningMean)
            BatchNormKernels.invStd(invStd.data, runningVar.data, c: c, eps: eps)
        }
        return (mean, invStd)
    }
}
