import Foundation

// Normalisations without parameters.
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
    public static func instanceNormBackward(_ dy: UnsafePointer<Float>, _ mean: UnsafePointer<Float>,
                                            _ invStd: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                                            _ dx: UnsafeMutablePointer<Float>, rows: Int, len: Int) {
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

    public static func l2NormalizeForward(_ y: UnsafeMutablePointer<Float>, _ norm: UnsafeMutablePointer<Float>,
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
    public static func l2NormalizeBackward(_ dy: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ norm: UnsafePointer<Float>,
                                           _ dx: UnsafeMutablePointer<Float>, outer: Int, c: Int, inner: Int) {
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
