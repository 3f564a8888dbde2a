import TensorEngine

// Ops of the KP2D losses that the general op set does not cover: keypoint coordinate conversions
// (pixels <-> normalised, homography warp), the nearest-point association, and the descriptor distance of
// chosen pairs. Kernels in Kernels/LossOpKernels.swift; backward ADDS into input gradients.
//
// Coordinates are (x, y). Normalised coordinates use align_corners=True: xn = x / ((W-1)/2) - 1.

extension Graph {
    /// Keypoint pixels (B,2,h,w), ch0 = x, of an image of size imageHeight x imageWidth ->
    /// normalised (B,h,w,2): xn = x / ((W-1)/2) - 1, yn = y / ((H-1)/2) - 1.
    public func normalizeCoordinates(_ coord: Variable, imageHeight: Int, imageWidth: Int) -> Variable {
        let (b, c, h, w) = coord.value.nchw
        precondition(c == 2, "normalizeCoordinates: expected (B,2,h,w), got \(coord.shape)")
        let halfW = Float(imageWidth - 1) / 2, halfH = Float(imageHeight - 1) / 2
        let y = output([b, h, w, 2], from: coord)
        LossOpKernels.normalizeCoordinatesForward(y.value.data, coord.value.data, b, h * w, halfW, halfH)
        record(y) { dy in
            LossOpKernels.normalizeCoordinatesBackward(coord.gradient().data, dy.data, b, h * w, halfW, halfH)
        }
        return y
    }

    /// Normalised (B,h,w,2) -> pixels (B,2,h,w): x = (xn + 1) * (W-1)/2.
    public func denormalizeCoordinates(_ uv: Variable, imageHeight: Int, imageWidth: Int) -> Variable {
        precondition(uv.shape.count == 4 && uv.shape[3] == 2, "denormalizeCoordinates: expected (B,h,w,2), got \(uv.shape)")
        let (b, h, w) = (uv.shape[0], uv.shape[1], uv.shape[2])
        let halfW = Float(imageWidth - 1) / 2, halfH = Float(imageHeight - 1) / 2
        let y = output([b, 2, h, w], from: uv)
        LossOpKernels.denormalizeCoordinatesForward(y.value.data, uv.value.data, b, h * w, halfW, halfH)
        record(y) { dy in
            LossOpKernels.denormalizeCoordinatesBackward(uv.gradient().data, dy.data, b, h * w, halfW, halfH)
        }
        return y
    }

    /// Warp points (B,...,2) by per-batch homographies (B,3,3) (constants): [x',y',w'] = H [x,y,1],
    /// then multiplied by 1/w'. Gradient flows to the points.
    public func warpPoints(_ points: Variable, homographies: Tensor) -> Variable {
        precondition(points.shape.count >= 2 && points.shape.last == 2, "warpPoints: expected (B,...,2), got \(points.shape)")
        let b = points.shape[0], n = points.count / (2 * max(b, 1))
        homographies.expectShape([b, 3, 3], "warpPoints homographies")
        let y = output(points.shape, from: points)
        let reciprocal = Tensor(shape: [b, n])
        let hs = homographies.copy()
        LossOpKernels.warpPointsForward(y.value.data, reciprocal.data, points.value.data, hs.data, b, n)
        record(y) { dy in
            LossOpKernels.warpPointsBackward(points.gradient().data, dy.data, y.value.data, reciprocal.data, hs.data, b, n)
        }
        return y
    }

    /// For every point of `a` (B,2,N) (ch0 = x), the distance to the nearest point of `b` (B,2,M) and
    /// its index in 0..<M (first on ties). Distances (B,N); the gradient flows into both point sets
    /// through the chosen pair (like torch.norm(...).min(dim)).
    public func nearestPointDistance(_ a: Variable, _ b: Variable) -> (distances: Variable, indices: [Int]) {
        precondition(a.shape.count == 3 && a.shape[1] == 2 && b.shape.count == 3 && b.shape[1] == 2 && a.shape[0] == b.shape[0],
                     "nearestPointDistance: expected (B,2,N) and (B,2,M), got \(a.shape) and \(b.shape)")
        let (bs, n, m) = (a.shape[0], a.shape[2], b.shape[2])
        precondition(m > 0, "nearestPointDistance: the second point set is empty")
        let y = output([bs, n], from: a, b)
        var indices = [Int](repeating: 0, count: bs * n)
        indices.withUnsafeMutableBufferPointer { ip in
            LossOpKernels.nearestPointForward(y.value.data, ip.baseAddress!, a.value.data, b.value.data, bs, n, m)
        }
        let saved = indices
        record(y) { dy in
            saved.withUnsafeBufferPointer { ip in
                LossOpKernels.nearestPointBackward(a.requiresGrad ? a.gradient().data : nil,
                                                   b.requiresGrad ? b.gradient().data : nil,
                                                   dy.data, y.value.data, ip.baseAddress!, a.value.data, b.value.data, bs, n, m)
            }
        }
        return (y, indices)
    }

    /// The descriptor distance sqrt(2 - 2 clamp(a_i . b_j, -1, 1)) of chosen pairs (i, pairs[i]) of unit
    /// columns a (D,N), b (D,M) -> (N). Equals gathering descriptorDistance(a, b) at the pairs, but
    /// backward touches only those pairs and gives 0 instead of inf/NaN at distance 0.
    public func pairDescriptorDistance(_ a: Variable, _ b: Variable, pairs: [Int]) -> Variable {
        precondition(a.shape.count == 2 && b.shape.count == 2 && a.shape[0] == b.shape[0] && pairs.count == a.shape[1],
                     "pairDescriptorDistance: expected a (D,N), b (D,M), N pairs; got \(a.shape), \(b.shape), \(pairs.count)")
        let (d, n, m) = (a.shape[0], a.shape[1], b.shape[1])
        precondition(pairs.allSatisfy { $0 >= 0 && $0 < m }, "pairDescriptorDistance: pair index outside 0..<\(m)")
        let y = output([n], from: a, b)
        let dots = Tensor(shape: [n])
        pairs.withUnsafeBufferPointer { pp in
            LossOpKernels.pairDistanceForward(y.value.data, dots.data, a.value.data, b.value.data, pp.baseAddress!, d, n, m)
        }
        record(y) { dy in
            pairs.withUnsafeBufferPointer { pp in
                LossOpKernels.pairDistanceBackward(a.requiresGrad ? a.gradient().data : nil, b.requiresGrad ? b.gradient().data : nil,
                                                   dy.data, y.value.data, dots.data, a.value.data, b.value.data, pp.baseAddress!, d, n, m)
            }
        }
        return y
    }
}
