// Ops of the KP2D losses that the general op set does not cover: keypoint coordinate conversions
// (pixels <-> normalised, homography warp), the nearest-point association, and flat concatenation.
// Forward and backward side by side; backward ADDS into input gradients.
//
// Coordinates are (x, y). Normalised coordinates use align_corners=True: xn = x / ((W-1)/2) - 1.
// The float32 operation order follows the official code (divide by (W-1)/2, subtract 1; warp with
// H[:, :2] then add H[:, 2], multiply by the reciprocal of w').

// MARK: - pixels (B,2,h,w) -> normalised (B,h,w,2)

@inline(__always)
func normalizeCoordinatesForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                 _ b: Int, _ cells: Int, _ halfW: Float, _ halfH: Float) {
    // x (B,2,cells) -> y (B,cells,2)
    for n in 0..<b {
        let xs = x + n * 2 * cells, ys = y + n * 2 * cells
        for i in 0..<cells {
            ys[2 * i] = xs[i] / halfW - 1
            ys[2 * i + 1] = xs[cells + i] / halfH - 1
        }
    }
}

@inline(__always)
func normalizeCoordinatesBackward(_ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                  _ b: Int, _ cells: Int, _ halfW: Float, _ halfH: Float) {
    for n in 0..<b {
        let dxs = dx + n * 2 * cells, dys = dy + n * 2 * cells
        for i in 0..<cells {
            dxs[i] += dys[2 * i] / halfW
            dxs[cells + i] += dys[2 * i + 1] / halfH
        }
    }
}

// MARK: - normalised (B,h,w,2) -> pixels (B,2,h,w)

@inline(__always)
func denormalizeCoordinatesForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                   _ b: Int, _ cells: Int, _ halfW: Float, _ halfH: Float) {
    for n in 0..<b {
        let xs = x + n * 2 * cells, ys = y + n * 2 * cells
        for i in 0..<cells {
            ys[i] = (xs[2 * i] + 1) * halfW
            ys[cells + i] = (xs[2 * i + 1] + 1) * halfH
        }
    }
}

@inline(__always)
func denormalizeCoordinatesBackward(_ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                    _ b: Int, _ cells: Int, _ halfW: Float, _ halfH: Float) {
    for n in 0..<b {
        let dxs = dx + n * 2 * cells, dys = dy + n * 2 * cells
        for i in 0..<cells {
            dxs[2 * i] += dys[i] * halfW
            dxs[2 * i + 1] += dys[cells + i] * halfH
        }
    }
}

// MARK: - homography warp of (B,N,2) points

/// y (B,N,2) = dehomogenise(H_b [x, y, 1]); `reciprocal` (B,N) saves 1/w' for backward.
func warpPointsForward(_ x: UnsafePointer<Float>, _ h: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                       _ reciprocal: UnsafeMutablePointer<Float>, _ b: Int, _ n: Int) {
    for bi in 0..<b {
        let m = h + 9 * bi
        for i in 0..<n {
            let o = (bi * n + i) * 2
            let px = x[o], py = x[o + 1]
            let u = m[2] + (px * m[0] + py * m[1])
            let v = m[5] + (px * m[3] + py * m[4])
            let w = m[8] + (px * m[6] + py * m[7])
            let r = 1 / w
            reciprocal[bi * n + i] = r
            y[o] = u * r
            y[o + 1] = v * r
        }
    }
}

/// out = (u r, v r) with r = 1/w: d/dp = r (du/dp) - (out) r (dw/dp).
func warpPointsBackward(_ dy: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ h: UnsafePointer<Float>,
                        _ reciprocal: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ b: Int, _ n: Int) {
    for bi in 0..<b {
        let m = h + 9 * bi
        for i in 0..<n {
            let o = (bi * n + i) * 2
            let r = reciprocal[bi * n + i]
            let gu = dy[o] * r, gv = dy[o + 1] * r
            let gw = -(dy[o] * y[o] + dy[o + 1] * y[o + 1]) * r
            dx[o] += gu * m[0] + gv * m[3] + gw * m[6]
            dx[o + 1] += gu * m[1] + gv * m[4] + gw * m[7]
        }
    }
}

// MARK: - nearest point association

/// For each point i of a (B,2,N), the Euclidean distance to the nearest point of b (B,2,M) and its
/// index (first on ties). dist (B,N), index (B,N).
func nearestPointForward(_ a: UnsafePointer<Float>, _ p: UnsafePointer<Float>, _ dist: UnsafeMutablePointer<Float>,
                         _ index: UnsafeMutablePointer<Int>, _ b: Int, _ n: Int, _ m: Int) {
    for bi in 0..<b {
        let ax = a + bi * 2 * n, ay = ax + n
        let bx = p + bi * 2 * m, by = bx + m
        for i in 0..<n {
            let x = ax[i], y = ay[i]
            var best = Float.infinity, bestJ = 0
            for j in 0..<m {
                let dx = x - bx[j], dy = y - by[j]
                let d2 = dx * dx + dy * dy
                if d2 < best { best = d2; bestJ = j }
            }
            dist[bi * n + i] = best.squareRoot()
            index[bi * n + i] = bestJ
        }
    }
}

/// d = ||a_i - b_j*||: da_i += g (a_i - b_j*)/d, db_j* -= the same; 0 where d == 0 (as torch.norm).
func nearestPointBackward(_ ddist: UnsafePointer<Float>, _ a: UnsafePointer<Float>, _ p: UnsafePointer<Float>,
                          _ dist: UnsafePointer<Float>, _ index: UnsafePointer<Int>,
                          _ da: UnsafeMutablePointer<Float>?, _ dp: UnsafeMutablePointer<Float>?,
                          _ b: Int, _ n: Int, _ m: Int) {
    for bi in 0..<b {
        let ax = a + bi * 2 * n, ay = ax + n
        let bx = p + bi * 2 * m, by = bx + m
        for i in 0..<n {
            let d = dist[bi * n + i], g = ddist[bi * n + i]
            if d == 0 || g == 0 { continue }
            let j = index[bi * n + i]
            let gx = g * (ax[i] - bx[j]) / d, gy = g * (ay[i] - by[j]) / d
            if let da = da { da[bi * 2 * n + i] += gx; da[bi * 2 * n + n + i] += gy }
            if let dp = dp { dp[bi * 2 * m + j] -= gx; dp[bi * 2 * m + m + j] -= gy }
        }
    }
}


// MARK: - descriptor distance of chosen pairs

/// y[i] = sqrt(2 - 2 clamp(a[:,i] . b[:,j_i], -1, 1)) for unit columns a (D,N), b (D,M); `dots` saves
/// the unclamped products for backward.
func pairDistanceForward(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ pairs: UnsafePointer<Int>,
                         _ y: UnsafeMutablePointer<Float>, _ dots: UnsafeMutablePointer<Float>, _ d: Int, _ n: Int, _ m: Int) {
    for i in 0..<n {
        let j = pairs[i]
        var s: Float = 0
        for k in 0..<d { s += a[k * n + i] * b[k * m + j] }
        dots[i] = s
        y[i] = (2 - 2 * Swift.min(Swift.max(s, -1), 1)).squareRoot()
    }
}

/// ds = -dy / y inside the clamp range; 0 where the clamp is active or y == 0 (there the true
/// derivative is unbounded; PyTorch would produce inf/NaN).
func pairDistanceBackward(_ dy: UnsafePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                          _ pairs: UnsafePointer<Int>, _ y: UnsafePointer<Float>, _ dots: UnsafePointer<Float>,
                          _ da: UnsafeMutablePointer<Float>?, _ db: UnsafeMutablePointer<Float>?, _ d: Int, _ n: Int, _ m: Int) {
    for i in 0..<n {
        let s = dots[i]
        guard s >= -1 && s <= 1 && y[i] > 0 else { continue }
        let ds = -dy[i] / y[i]
        let j = pairs[i]
        if let da = da { for k in 0..<d { da[k * n + i] += ds * b[k * m + j] } }
        if let db = db { for k in 0..<d { db[k * m + j] += ds * a[k * n + i] } }
    }
}

extension Graph {
    /// Keypoint pixels (B,2,h,w), ch0 = x, of an image of size imageHeight x imageWidth ->
    /// normalised (B,h,w,2): xn = x / ((W-1)/2) - 1, yn = y / ((H-1)/2) - 1.
    public func normalizeCoordinates(_ coord: Variable, imageHeight: Int, imageWidth: Int) -> Variable {
        let (b, c, h, w) = coord.value.nchw
        precondition(c == 2, "normalizeCoordinates: expected (B,2,h,w), got \(coord.shape)")
        let halfW = Float(imageWidth - 1) / 2, halfH = Float(imageHeight - 1) / 2
        let y = output([b, h, w, 2], from: coord)
        normalizeCoordinatesForward(coord.value.data, y.value.data, b, h * w, halfW, halfH)
        record(y) { dy in
            normalizeCoordinatesBackward(dy.data, coord.gradient().data, b, h * w, halfW, halfH)
        }
        return y
    }

    /// Normalised (B,h,w,2) -> pixels (B,2,h,w): x = (xn + 1) * (W-1)/2.
    public func denormalizeCoordinates(_ uv: Variable, imageHeight: Int, imageWidth: Int) -> Variable {
        precondition(uv.shape.count == 4 && uv.shape[3] == 2, "denormalizeCoordinates: expected (B,h,w,2), got \(uv.shape)")
        let (b, h, w) = (uv.shape[0], uv.shape[1], uv.shape[2])
        let halfW = Float(imageWidth - 1) / 2, halfH = Float(imageHeight - 1) / 2
        let y = output([b, 2, h, w], from: uv)
        denormalizeCoordinatesForward(uv.value.data, y.value.data, b, h * w, halfW, halfH)
        record(y) { dy in
            denormalizeCoordinatesBackward(dy.data, uv.gradient().data, b, h * w, halfW, halfH)
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
        warpPointsForward(points.value.data, hs.data, y.value.data, reciprocal.data, b, n)
        record(y) { dy in
            warpPointsBackward(dy.data, y.value.data, hs.data, reciprocal.data, points.gradient().data, b, n)
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
            nearestPointForward(a.value.data, b.value.data, y.value.data, ip.baseAddress!, bs, n, m)
        }
        let saved = indices
        record(y) { dy in
            saved.withUnsafeBufferPointer { ip in
                nearestPointBackward(dy.data, a.value.data, b.value.data, y.value.data, ip.baseAddress!,
                                     a.requiresGrad ? a.gradient().data : nil,
                                     b.requiresGrad ? b.gradient().data : nil, bs, n, m)
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
            pairDistanceForward(a.value.data, b.value.data, pp.baseAddress!, y.value.data, dots.data, d, n, m)
        }
        record(y) { dy in
            pairs.withUnsafeBufferPointer { pp in
                pairDistanceBackward(dy.data, a.value.data, b.value.data, pp.baseAddress!, y.value.data, dots.data,
                                     a.requiresGrad ? a.gradient().data : nil, b.requiresGrad ? b.gradient().data : nil, d, n, m)
            }
        }
        return y
    }

    /// All elements of `xs`, one after another, as a flat tensor [sum of counts].
    public func concatenateFlat(_ xs: [Variable]) -> Variable {
        let total = xs.reduce(0) { $0 + $1.count }
        let y = Variable(Tensor(shape: [total]), requiresGrad: needsGrad(xs))
        var offset = 0
        for x in xs {
            (y.value.data + offset).update(from: x.value.data, count: x.count)
            offset += x.count
        }
        record(y) { dy in
            var o = 0
            for x in xs {
                if x.requiresGrad {
                    let gx = x.gradient().data, src = dy.data + o
                    for i in 0..<x.count { gx[i] += src[i] }
                }
                o += x.count
            }
        }
        return y
    }
}
