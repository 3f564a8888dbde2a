// Channel re-arrangement ops: pixelShuffle, concatChannels, dropout2d, concatenateFlat (kernels: LayoutKernels).

extension Graph {
    /// y[n, c, r*h+i, r*w+j] = x[n, r*r*c + r*i + j, h, w]. x (N,C*r*r,H,W) -> (N,C,H*r,W*r)
    public func pixelShuffle(_ x: Variable, upscale: Int = 2) -> Variable {
        precondition(x.value.rank == 4, "pixelShuffle: input must be (N,C,H,W), got \(x.shape)")
        let r = upscale
        let (n, cr, h, w) = x.value.nchw
        precondition(r >= 1 && cr % (r * r) == 0, "pixelShuffle: \(cr) channels of \(x.shape) are not divisible by upscale^2 = \(r * r)")
        let c = cr / (r * r)
        let y = outputUninitialized([n, c, h * r, w * r], from: [x])
        LayoutKernels.pixelShuffleForward(y.value.data, x.value.data, n: n, c: c, h: h, w: w, r: r)
        record(y) { dy in LayoutKernels.pixelShuffleBackward(x.gradient().data, dy.data, n: n, c: c, h: h, w: w, r: r) }
        return y
    }

    /// Concatenate along the channel axis: [(N,Ci,H,W)] -> (N,sum Ci,H,W). Any rank >= 2 with equal
    /// dimensions except axis 1.
    public func concatChannels(_ xs: [Variable]) -> Variable {
        precondition(!xs.isEmpty, "concatChannels: no inputs")
        let first = xs[0].shape
        precondition(first.count >= 2, "concatChannels: inputs must be (N,C,...), got \(first)")
        for x in xs {
            precondition(x.shape.count == first.count && x.shape[0] == first[0] && Array(x.shape.dropFirst(2)) == Array(first.dropFirst(2)),
                         "concatChannels: shapes \(xs.map { $0.shape }) differ outside the channel axis")
        }
        let n = first[0], hw = first.dropFirst(2).reduce(1, *)
        let cTotal = xs.reduce(0) { $0 + $1.shape[1] }
        var shape = first
        shape[1] = cTotal
        let y = outputUninitialized(shape, from: xs)   // the inputs cover every channel
        var offsets: [Int] = []
        var c0 = 0
        for x in xs {
            offsets.append(c0)
            LayoutKernels.concatChannelsForward(y.value.data, x.value.data, n: n, ci: x.shape[1], cTotal: cTotal, c0: c0, hw: hw)
            c0 += x.shape[1]
        }
        record(y) { dy in
            for (x, c0) in zip(xs, offsets) where x.requiresGrad {
                LayoutKernels.concatChannelsBackward(x.gradient().data, dy.data, n: n, ci: x.shape[1], cTotal: cTotal, c0: c0, hw: hw)
            }
        }
        return y
    }

    /// Dropout2d: in training, zero whole (n,c) channels with probability p and scale the rest by 1/(1-p).
    /// Identity when not training or p == 0. One uniform draw per (n,c) channel, in row-major order;
    /// a channel is dropped when the draw is < p.
    public func dropout2d(_ x: Variable, p: Float, training: Bool, rng: inout SeededRandom) -> Variable {
        precondition(p >= 0 && p <= 1, "dropout2d: probability \(p) is outside [0, 1]")
        precondition(x.value.rank >= 2, "dropout2d: input must be (N,C,...), got \(x.shape)")
        if !training || p == 0 { return x }
        let planes = x.shape[0] * x.shape[1]
        let hw = planes == 0 ? 0 : x.count / planes
        let keepScale: Float = p < 1 ? 1 / (1 - p) : 0
        let scale = Tensor(shape: [planes])
        LayoutKernels.dropout2dScales(scale.data, planes: planes, p: p, keepScale: keepScale, rng: &rng)
        let y = output(x.shape, from: x)
        LayoutKernels.dropout2dForward(y.value.data, x.value.data, scale.data, planes: planes, hw: hw)
        record(y) { dy in
            LayoutKernels.dropout2dBackward(x.gradient().data, dy.data, scale.data, planes: planes, hw: hw)
        }
        return y
    }

    /// `dropout2d` written into x's own storage (PyTorch's `Dropout2d(inplace=True)`): the same values, draws and
    /// gradient, without a second tensor of x's size alive until backward. The result is a new variable over
    /// x's storage, so x's values are gone: use it only where nothing reads x after this op, its producer's
    /// backward included (the output of `batchNormLeakyReLU` qualifies: its backward reads its input).
    public func dropout2dInPlace(_ x: Variable, p: Float, training: Bool, rng: inout SeededRandom) -> Variable {
        precondition(p >= 0 && p <= 1, "dropout2dInPlace: probability \(p) is outside [0, 1]")
        precondition(x.value.rank >= 2, "dropout2dInPlace: input must be (N,C,...), got \(x.shape)")
        if !training || p == 0 { return x }
        let planes = x.shape[0] * x.shape[1]
        let hw = planes == 0 ? 0 : x.count / planes
        let keepScale: Float = p < 1 ? 1 / (1 - p) : 0
        let scale = Tensor(shape: [planes])
        LayoutKernels.dropout2dScales(scale.data, planes: planes, p: p, keepScale: keepScale, rng: &rng)
        let y = output(x.value, from: [x])
        LayoutKernels.dropout2dForward(y.value.data, x.value.data, scale.data, planes: planes, hw: hw)
        record(y) { dy in
            LayoutKernels.dropout2dBackward(x.gradient().data, dy.data, scale.data, planes: planes, hw: hw)
        }
        return y
    }

    /// All elements of `xs`, one after another, as a flat tensor [sum of counts].
    public func concatenateFlat(_ xs: [Variable]) -> Variable {
        let total = xs.reduce(0) { $0 + $1.count }
        let y = Variable(Tensor(shape: [total]), requiresGrad: needsGrad(xs))
        var offsets: [Int] = []
        var offset = 0
        for x in xs {
            offsets.append(offset)
            LayoutKernels.concatenateFlatForward(y.value.data, x.value.data, offset: offset, count: x.count)
            offset += x.count
        }
        record(y) { dy in
            for (x, offset) in zip(xs, offsets) where x.requiresGrad {
                LayoutKernels.concatenateFlatBackward(x.gradient().data, dy.data, offset: offset, count: x.count)
            }
        }
        return y
    }
}
