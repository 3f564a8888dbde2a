// Loss kernels, forward and backward side by side: outputs first (the scalar loss y[0], then what
// forward saves for backward), read-only inputs as UnsafePointer; backward ADDS dy[0] * d(loss)/d(input)
// into the input gradients (any may be nil).
//
// mse: loss = mean((a - b)^2) over n elements.
// triplet margin (PyTorch semantics): per row i of (rows, d), dp = a - p + eps and dn = a - n + eps
//   (eps added to every component of the DIFFERENCE), loss = mean_i max(0, |dp| - |dn| + margin).
//   The hinge passes the gradient where its argument is >= 0 (PyTorch's clamp_min rule); a zero
//   distance has gradient 0 (PyTorch's norm rule). Forward saves the two distances per row.

public enum LossKernels {
    public static func mseForward(_ y: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, n: Int) {
        var s: Double = 0
        for i in 0..<n { let d = a[i] - b[i]; s += Double(d * d) }
        y[0] = Float(s / Double(n))
    }

    public static func mseBackward(_ da: UnsafeMutablePointer<Float>?, _ db: UnsafeMutablePointer<Float>?,
                                   _ dy: UnsafePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, n: Int) {
        let k = 2 * dy[0] / Float(n)
        for i in 0..<n {
            let g = k * (a[i] - b[i])
            da?[i] += g
            db?[i] -= g
        }
    }

    public static func tripletForward(_ y: UnsafeMutablePointer<Float>,
                                      _ distPos: UnsafeMutablePointer<Float>, _ distNeg: UnsafeMutablePointer<Float>,
                                      _ a: UnsafePointer<Float>, _ p: UnsafePointer<Float>, _ ng: UnsafePointer<Float>,
                                      rows: Int, d: Int, margin: Float, eps: Float) {
        var total: Double = 0
        for r in 0..<rows {
            var sp: Double = 0, sn: Double = 0
            for k in 0..<d {
                let i = r * d + k
                let dp = Double(a[i] - p[i] + eps), dn = Double(a[i] - ng[i] + eps)
                sp += dp * dp
                sn += dn * dn
            }
            distPos[r] = Float(sp.squareRoot())
            distNeg[r] = Float(sn.squareRoot())
            total += Double(Swift.max(0, margin + distPos[r] - distNeg[r]))
        }
        y[0] = Float(total / Double(rows))
    }

    public static func tripletBackward(_ da: UnsafeMutablePointer<Float>?, _ dp: UnsafeMutablePointer<Float>?,
                                       _ dn: UnsafeMutablePointer<Float>?, _ dy: UnsafePointer<Float>,
                                       _ distPos: UnsafePointer<Float>, _ distNeg: UnsafePointer<Float>,
                                       _ a: UnsafePointer<Float>, _ p: UnsafePointer<Float>, _ ng: UnsafePointer<Float>,
                                       rows: Int, d: Int, margin: Float, eps: Float) {
        let g = dy[0] / Float(rows)
        for r in 0..<rows where margin + distPos[r] - distNeg[r] >= 0 {
            let kp: Float = distPos[r] > 0 ? g / distPos[r] : 0
            let kn: Float = distNeg[r] > 0 ? g / distNeg[r] : 0
            for k in 0..<d {
                let i = r * d + k
                let gp = kp * (a[i] - p[i] + eps), gn = kn * (a[i] - ng[i] + eps)
                da?[i] += gp - gn
                dp?[i] -= gp
                dn?[i] += gn
            }
        }
    }

    /// Descriptor distance after the similarity s = a^T b: y = sqrt(2 - 2 clamp(s, -1, 1)) elementwise.
    public static func descriptorDistanceForward(_ y: UnsafeMutablePointer<Float>, _ s: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = (2 - 2 * Swift.min(Swift.max(s[i], -1), 1)).squareRoot() }
    }

    /// ds += dy * dy/ds: -dy / y where -1 <= s <= 1, else nothing (clamp kills the gradient). At y = 0 this
    /// is -inf (or NaN when dy = 0), exactly as PyTorch's sqrt backward grad / (2 * result) gives.
    public static func descriptorDistanceBackward(_ ds: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                                  _ y: UnsafePointer<Float>, _ s: UnsafePointer<Float>, count: Int) {
        for i in 0..<count where s[i] >= -1 && s[i] <= 1 {
            ds[i] += -2 * (dy[i] / (2 * y[i]))
        }
    }
}
