// conv2d op: stride-1 cross-correlation with zero padding and optional bias (kernels: ConvKernels).

extension Graph {
    /// 2-D convolution (cross-correlation), stride 1, zero padding `padding` on each side, optional bias.
    /// x (N,Cin,H,W), weight (Cout,Cin,kH,kW), bias (Cout) -> (N,Cout,H+2p-kH+1,W+2p-kW+1)
    public func conv2d(_ x: Variable, weight: Variable, bias: Variable?, padding: Int) -> Variable {
        precondition(x.value.rank == 4, "conv2d: input must be (N,C,H,W), got \(x.shape)")
        precondition(weight.value.rank == 4, "conv2d: weight must be (Cout,Cin,kH,kW), got \(weight.shape)")
        let (n, cin, h, w) = x.value.nchw
        let (cout, wcin, kh, kw) = weight.value.nchw
        precondition(wcin == cin, "conv2d: input \(x.shape) has \(cin) channels but weight \(weight.shape) expects \(wcin)")
        precondition(padding >= 0, "conv2d: negative padding \(padding)")
        if let bias { precondition(bias.count == cout, "conv2d: bias \(bias.shape) must have \(cout) elements") }
        let s = Conv2dShape(n: n, cin: cin, h: h, w: w, cout: cout, kh: kh, kw: kw, pad: padding)
        precondition(s.ho > 0 && s.wo > 0, "conv2d: kernel \(kh)x\(kw) with padding \(padding) does not fit input \(x.shape)")

        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        let y = outputUninitialized([n, cout, s.ho, s.wo], from: inputs)   // every path overwrites y
        if !y.requiresGrad {
            // Forward only (inference): a Winograd weight transform is cached with the weights, as in
            // conv2dFoldedBatchNormLeakyReLU.
            ConvKernels.forwardCachingTransformedWeights(y.value.data, x.value.data, weight.value, s,
                                                         epilogue: ConvEpilogue(shift: bias?.value.data))
            return y
        }
        ConvKernels.forward(y.value.data, x.value.data, weight.value.data, bias?.value.data, s)
        record(y) { dy in
            ConvKernels.backward(x.requiresGrad ? x.gradient().data : nil,
                                 weight.requiresGrad ? weight.gradient().data : nil,
                                 bias.flatMap { $0.requiresGrad ? $0.gradient().data : nil },
                                 dy.data, x.value.data, weight.value.data, s)
        }
        return y
    }
}
