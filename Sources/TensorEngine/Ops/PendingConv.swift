// TEMPORARY: signatures of ops being written on branch `engine-conv`. Each is replaced by its real
// implementation (in its own file) and this file is deleted before anything ships.


extension Graph {
    /// 2-D convolution (cross-correlation), stride 1, zero padding `padding` on each side, optional bias.
    /// x (N,Cin,H,W), weight (Cout,Cin,kH,kW), bias (Cout) -> (N,Cout,H+2p-kH+1,W+2p-kW+1)
    public func conv2d(_ x: Variable, weight: Variable, bias: Variable?, padding: Int) -> Variable { fatalError("pending: conv2d") }

    /// BatchNorm2d over (N,H,W) per channel. Training: batch mean and biased variance normalise; the
    /// running stats are updated in place with `momentum` and the UNBIASED variance. Eval: running stats.
    /// The caller increments num_batches_tracked. x (N,C,H,W), weight/bias (C), running stats (C).
    public func batchNorm2d(_ x: Variable, weight: Variable, bias: Variable, runningMean: Tensor, runningVar: Tensor,
                            training: Bool, momentum: Float, eps: Float = 1e-5) -> Variable { fatalError("pending: batchNorm2d") }

    public func leakyReLU(_ x: Variable, slope: Float = 0.01) -> Variable { fatalError("pending: leakyReLU") }
    public func relu(_ x: Variable) -> Variable { fatalError("pending: relu") }
    public func sigmoid(_ x: Variable) -> Variable { fatalError("pending: sigmoid") }
    public func tanh(_ x: Variable) -> Variable { fatalError("pending: tanh") }

    /// 2x2 max-pool, stride 2, floor mode; ties go to the first element in row-major order.
    /// x (N,C,H,W) -> (N,C,H/2,W/2)
    public func maxPool2d(_ x: Variable) -> Variable { fatalError("pending: maxPool2d") }

    /// y[n, c, r*h+i, r*w+j] = x[n, r*r*c + r*i + j, h, w]. x (N,C*r*r,H,W) -> (N,C,H*r,W*r)
    public func pixelShuffle(_ x: Variable, upscale: Int = 2) -> Variable { fatalError("pending: pixelShuffle") }

    /// Concatenate along the channel axis: [(N,Ci,H,W)] -> (N,sum Ci,H,W)
    public func concatChannels(_ xs: [Variable]) -> Variable { fatalError("pending: concatChannels") }

    /// Dropout2d: in training, zero whole (n,c) channels with probability p and scale the rest by 1/(1-p).
    /// Identity when not training or p == 0.
    public func dropout2d(_ x: Variable, p: Float, training: Bool, rng: inout SeededRandom) -> Variable { fatalError("pending: dropout2d") }
}
