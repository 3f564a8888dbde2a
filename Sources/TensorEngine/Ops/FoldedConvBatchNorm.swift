// Inference op: conv2d (no bias) -> eval-mode batchNorm2d -> LeakyReLU as ONE convolution whose output
// pass applies the BatchNorm's affine map and the activation (kernels: ConvKernels.forwardAffineLeakyReLU).
//
// Eval-mode BatchNorm is the per-channel affine map y -> (y - mean) / sqrt(var + eps) * gamma + beta
// = scale * y + shift with scale = gamma / sqrt(var + eps), shift = beta - mean * scale. Because the
// convolution is linear this is the folded convolution (weights scale * W, bias shift); applying scale
// and shift to each output chunk right after its sgemm costs the same as folded weights would, needs no
// copy of the weights (which change in place while training), and leaves no BN output to allocate or
// sweep over. Rounding differs from the three separate ops by a few float ulps.
//
// Where the convolution runs as Winograd (F(4x4,3x3) or F(2x2,3x3)), its transformed weights U = G g G^T are cached
// with the weight tensor's storage (TensorStorage.derived, remade when the weights' version changes), so repeated
// inference with the same weights skips the weight transform (4.5% of a 240x320 inference).

extension Graph {
    /// leakyReLU(batchNorm2d(conv2d(x, weight), running stats, eval), slope), forward only.
    /// x (N,Cin,H,W), weight (Cout,Cin,kH,kW), BN parameters and running stats (Cout) -> (N,Cout,Ho,Wo).
    /// Records nothing: use it only where no gradient is needed (see `canFoldBatchNorm`).
    public func conv2dFoldedBatchNormLeakyReLU(_ x: Variable, weight: Variable, padding: Int,
                                               bnWeight: Variable, bnBias: Variable, runningMean: Tensor, runningVar: Tensor,
                                               eps: Float, slope: Float) -> Variable {
        precondition(!needsGrad([x, weight, bnWeight, bnBias]),
                     "conv2dFoldedBatchNormLeakyReLU is forward-only; use conv2d + batchNormLeakyReLU when recording gradients")
        precondition(x.value.rank == 4 && weight.value.rank == 4, "conv2dFoldedBatchNormLeakyReLU: x \(x.shape), weight \(weight.shape) must be 4-D")
        let (n, cin, h, w) = x.value.nchw
        let (cout, wcin, kh, kw) = weight.value.nchw
        precondition(wcin == cin, "conv2dFoldedBatchNormLeakyReLU: input \(x.shape) has \(cin) channels but weight \(weight.shape) expects \(wcin)")
        precondition(bnWeight.count == cout && bnBias.count == cout && runningMean.count == cout && runningVar.count == cout,
                     "conv2dFoldedBatchNormLeakyReLU: BatchNorm width must be \(cout)")
        let s = Conv2dShape(n: n, cin: cin, h: h, w: w, cout: cout, kh: kh, kw: kw, pad: padding)
        precondition(s.ho > 0 && s.wo > 0, "conv2dFoldedBatchNormLeakyReLU: kernel does not fit input \(x.shape)")
        let scale = Tensor(shape: [cout]), shift = Tensor(shape: [cout])
        BatchNormKernels.foldedAffine(scale.data, shift.data, bnWeight.value.data, bnBias.value.data,
                                      runningMean.data, runningVar.data, c: cout, eps: eps)
        let y = Variable(Tensor(uninitializedShape: [n, cout, s.ho, s.wo]))   // every element written below
        // Where a Winograd kernel runs it, U = G g G^T depends only on the weights: made once per weight tensor and
        // kept with its storage until the weights change (TensorStorage.version: loading, an optimizer step, Tensor's
        // writing methods).
        ConvKernels.forwardCachingTransformedWeights(y.value.data, x.value.data, weight.value, s,
                                                     epilogue: ConvEpilogue(scale: scale.data, shift: shift.data, leakySlope: slope))
        return y
    }
}
