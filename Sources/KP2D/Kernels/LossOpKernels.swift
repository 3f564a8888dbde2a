import TensorEngine

// Kernels of the KP2D loss ops (Ops/LossOps.swift): keypoint coordinate conversions (pixels <-> normalised,
// homography warp), the nearest-point association, and the descriptor distance of chosen pairs.
// Forward and backward side by side, outputs first, read-only inputs as UnsafePointer; backward ADDS into
// input gradients.
//
// Coordinates are (x, y). Normalised coordinates use align_corners=True: xn = x / ((W-1)/2) - 1.
// The float32 operation order follows the official code (divide by (W-1)/2, subtract 1; warp with
// H[:, :2] then add H[:, 2], multiply by the reciprocal of w').

enum LossOpKernels {
    // MARK: - pixels (B,2,h,w) -> normalised (B,h,w,2)

    @inline(__always)
    static func normalizeCoordinatesForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
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
    static func normalizeCoordinatesBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
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
    static func denormalizeCoordinatesForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
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
    static func denormalizeCoordinatesBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
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
    static func warpPointsForward(_ y: UnsafeMutablePointer<Float>, _ reciprocal: UnsafeMutablePointer<Float>,
                                  _ x: UnsafePointer<Float>, _ h: UnsafePointer<Float>, _ b: Int, _ n: Int) {
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
    static func warpPointsBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                                   _ reciprocal: UnsafePointer<Float>, _ h: UnsafePointer<Float>, _ b: Int, _ n: Int) {
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
    static func nearestPointForward(_ dist: UnsafeMutablePointer<Float>, _ index: UnsafeMutablePointer<Int>,
                                    _ a: UnsafePointer<Float>, _ p: UnsafePointer<Float>, _ b: Int, _ n: Int, _ m: Int) {
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
    static func nearestPointBackward(_ da: UnsafeMutablePointer<Float>?, _ dp: UnsafeMutablePointer<Float>?,
                                     _ ddist: UnsafePointer<Float>, _ dist: UnsafePointer<Float>, _ index: UnsafePointer<Int>,
                                     _ a: UnsafePointer<Float>, _ p: UnsafePointer<Float>, _ b: Int, _ n: Int, _ m: Int) {
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
    static func pairDistanceForward(_ y: UnsafeMutablePointer<Float>, _ dots: UnsafeMutablePointer<Float>,
                                    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ pairs: UnsafePointer<Int>,
                                    _ d: Int, _ n: Int, _ m: Int) {
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
    static func pairDistanceBackward(_ da: UnsafeMutablePointer<Float>?, _ db: UnsafeMutablePointer<Float>?,
                                     _ dy: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dots: UnsafePointer<Float>,
                                     _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ pairs: UnsafePointer<Int>,
                                     _ d: Int, _ n: Int, _ m: Int) {
        for i in 0..<n {
            let s = dots[i]
            guard s >= -1 && s <= 1 && y[i] > 0 else { continue }
            let ds = -dy[i] / y[i]
            let j = pairs[i]
            if let da = da { for k in 0..<d { da[k * n + i] += ds * b[k * m + j] } }
            if let db = db { for k in 0..<d { db[k * m + j] += ds * a[k * n + i] } }
        }
    }
}
