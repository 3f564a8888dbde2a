import Foundation

// Normalisations without parameters. Forward and backward side by side: outputs first, read-only
// inputs as UnsafePointer; backward ADDS into dx.
// instanceNorm: x viewed as (rows, len) with rows = N*C; per row y = (x - mean) * invStd,
//   invStd = 1/sqrt(var_biased + eps). Forward saves mean and invStd (rows each); statistics in Double.
// l2Normalize: x viewed as (outer, C, inner); per (outer, inner) column y = x / ||x||_2 over C,
//   no epsilon (a zero column gives NaN, as in PyTorch). Forward saves the norms (outer*inner).

public enum NormKernels {
    public static func instanceNormForward(_ y: UnsafeMutablePointer<Float>, _ mean: UnsafeMutablePointer<Float>,
                                           _ invStd: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                                           rows: Int, len: Int, eps: Float) {
        for r in 0..<rows {
            let xr = x + r * len, yr = y + r * len
            var s: Double = 0
            for i in 0..<len { s += Double(xr[i]) }
            let m = s / Double(len)
            var v: Double = 0
            for i in 0..<len { let d = Double(xr[i]) - m; v += d * d }
            v /= Double(len)
            let rs = Float(1 / (v + Double(eps)).squareRoot())
            let mf = Float(m)
            mean[r] = mf
            invStd[r] = rs
            for i in 0..<len { yr[i] = (xr[i] - mf) * rs }
        }
    }

    /// dx += invStd * (dy - mean(dy) - xhat * mean(dy * xhat)). Same argument order as the forward.
    public static func instanceNormBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                            _ mean: UnsafePointer<Float>, _ invStd: UnsafePointer<Float>,
                                            _ x: UnsafePointer<Float>, rows: Int, len: Int) {
        for r in 0..<rows {
            let xr = x + r * len, dyr = dy + r * len, dxr = dx + r * len
            let m = mean[r], rs = invStd[r]
            var sdy: Double = 0, sdyx: Double = 0
            for i in 0..<len {
                let xh = (xr[i] - m) * rs
                sdy += Double(dyr[i])
                sdyx += Double(dyr[i]) * Double(xh)
            }
            let mdy = Float(sdy / Double(len)), mdyx = Float(sdyx / Double(len))
            for i in 0..<len {
                let xh = (xr[i] - m) * rs
                dxr[i] += rs * (dyr[i] - mdy - xh * mdyx)
            }
        }
    }

    /// Blocks of 64 positions in parallel; each block sums the squares channel by channel (contiguous rows, each
    /// position's sum in channel order as in l2NormalizeForwardNaive: equal results), then divides.
    public static func l2NormalizeForward(_ y: UnsafeMutablePointer<Float>, _ norm: UnsafeMutablePointer<Float>,
                                          _ x: UnsafePointer<Float>, outer: Int, c: Int, inner: Int) {
        let block = 64, blocks = (inner + block - 1) / block
        KernelParallel.forRanges(outer * blocks, costPerItem: 2 * c * block) { range in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: block) { sums in
                for item in range {
                    let o = item / blocks, j0 = (item % blocks) * block, count = min(block, inner - j0)
                    let base = o * c * inner + j0
                    for j in 0..<count { sums[j] = 0 }
                    for k in 0..<c {
                        let row = x + base + k * inner
                        for j in 0..<count { let v = Double(row[j]); sums[j] += v * v }
                    }
                    for j in 0..<count { norm[o * inner + j0 + j] = Float(sums[j].squareRoot()) }
                    let nrm = norm + o * inner + j0
                    for k in 0..<c {
                        let row = x + base + k * inner, out = y + base + k * inner
                        for j in 0..<count { out[j] = row[j] / nrm[j] }
                    }
                }
            }
        }
    }

    /// The forward position by position (the twin of l2NormalizeForward).
    public static func l2NormalizeForwardNaive(_ y: UnsafeMutablePointer<Float>, _ norm: UnsafeMutablePointer<Float>,
                                               _ x: UnsafePointer<Float>, outer: Int, c: Int, inner: Int) {
        for o in 0..<outer {
            for j in 0..<inner {
                let base = o * c * inner + j
                var s: Double = 0
                for k in 0..<c { let v = Double(x[base + k * inner]); s += v * v }
                let nrm = Float(s.squareRoot())
                norm[o * inner + j] = nrm
                for k in 0..<c { y[base + k * inner] = x[base + k * inner] / nrm }
            }
        }
    }

    /// dx += (dy - y * sum_c(dy * y)) / norm. Same argument order as the forward.
    public static func l2NormalizeBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                           _ y: UnsafePointer<Float>, _ norm: UnsafePointer<Float>, outer: Int, c: Int, inner: Int) {
        for o in 0..<outer {
            for j in 0..<inner {
                let base = o * c * inner + j
                var s: Double = 0
                for k in 0..<c { s += Double(dy[base + k * inner]) * Double(y[base + k * inner]) }
                let dot = Float(s), nrm = norm[o * inner + j]
                for k in 0..<c {
                    let i = base + k * inner
                    dx[i] += (dy[i] - y[i] * dot) / nrm
                }
            }
        }
    }
}
