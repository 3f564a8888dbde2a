import Foundation

// BatchNorm2d over (N, H*W) per channel, as torch.nn.functional.batch_norm.
// Training: mean and BIASED variance of the batch normalise; the running statistics are updated
// with momentum and the UNBIASED variance. Eval: the running statistics normalise.
// x, y, dy, dx are (N,C,HW); the per-channel arrays are (C). Work is split over channels.

public enum BatchNormKernels {
    /// Batch statistics: mean[c] and invStd[c] = 1/sqrt(biasedVar + eps); biasedVar[c] is written
    /// too (the running update needs it). Two-pass, accumulated in Double.
    public static func batchStatistics(_ x: UnsafeMutablePointer<Float>, _ mean: UnsafeMutablePointer<Float>,
                                       _ biasedVar: UnsafeMutablePointer<Float>, _ invStd: UnsafeMutablePointer<Float>,
                                       n: Int, c: Int, hw: Int, eps: Float) {
        let m = Double(n * hw)
        KernelParallel.forRanges(c, costPerItem: 2 * n * hw) { range in
            for ch in range {
                var s: Double = 0
                for i in 0..<n { s += KernelSums.sum(x + (i * c + ch) * hw, hw) }
                let muF = Float(s / m)
                var q: Double = 0
                for i in 0..<n { q += KernelSums.sumSquaredDeviation(x + (i * c + ch) * hw, hw, mean: muF) }
                let v = q / m
                mean[ch] = muF
                biasedVar[ch] = Float(v)
                invStd[ch] = Float(1 / (v + Double(eps)).squareRoot())
            }
        }
    }

    /// running = (1-momentum)*running + momentum*batch; the variance uses the unbiased estimate
    /// biasedVar * m/(m-1), m = N*H*W (m == 1 uses the biased one rather than dividing by 0).
    public static func updateRunning(_ runningMean: UnsafeMutablePointer<Float>, _ runningVar: UnsafeMutablePointer<Float>,
                                     _ mean: UnsafeMutablePointer<Float>, _ biasedVar: UnsafeMutablePointer<Float>,
                                     c: Int, count m: Int, momentum: Float) {
        let correction = m > 1 ? Float(m) / Float(m - 1) : 1
        for ch in 0..<c {
            runningMean[ch] = (1 - momentum) * runningMean[ch] + momentum * mean[ch]
            runningVar[ch] = (1 - momentum) * runningVar[ch] + momentum * biasedVar[ch] * correction
        }
    }

    /// invStd[c] = 1/sqrt(runningVar[c] + eps) (eval mode).
    public static func invStd(_ runningVar: UnsafeMutablePointer<Float>, _ invStd: UnsafeMutablePointer<Float>, c: Int, eps: Float) {
        for ch in 0..<c { invStd[ch] = Float(1 / (Double(runningVar[ch]) + Double(eps)).squareRoot()) }
    }

    /// y = (x - mean[c]) * invStd[c] * weight[c] + bias[c]
    public static func forward(_ x: UnsafeMutablePointer<Float>, _ mean: UnsafeMutablePointer<Float>,
                               _ invStd: UnsafeMutablePointer<Float>, _ weight: UnsafeMutablePointer<Float>,
                               _ bias: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                               n: Int, c: Int, hw: Int) {
        KernelParallel.forRanges(n * c, costPerItem: hw) { range in
            for plane in range {
                let ch = plane % c
                let mu = mean[ch], sc = invStd[ch] * weight[ch], b = bias[ch]
                let xp = x + plane * hw, yp = y + plane * hw
                for j in 0..<hw { yp[j] = (xp[j] - mu) * sc + b }
            }
        }
    }

    /// Backward, adding into dx, dweight, dbias (any may be nil). With xhat = (x-mean)*invStd:
    ///   dbias += sum dy, dweight += sum dy*xhat,
    ///   training: dx += weight*invStd * (dy - mean(dy) - xhat*mean(dy*xhat))   (mean over N*H*W)
    ///   eval:     dx += weight*invStd * dy
    public static func backward(_ x: UnsafeMutablePointer<Float>, _ mean: UnsafeMutablePointer<Float>,
                                _ invStd: UnsafeMutablePointer<Float>, _ weight: UnsafeMutablePointer<Float>,
                                _ dy: UnsafeMutablePointer<Float>,
                                _ dx: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>?,
                                _ dbias: UnsafeMutablePointer<Float>?,
                                n: Int, c: Int, hw: Int, training: Bool) {
        let m = Double(n * hw)
        KernelParallel.forRanges(c, costPerItem: 3 * n * hw) { range in
            for ch in range {
                let mu = mean[ch], istd = invStd[ch]
                var sumDy: Double = 0, sumDyXhat: Double = 0
                for i in 0..<n {
                    let xp = x + (i * c + ch) * hw, dp = dy + (i * c + ch) * hw
                    sumDy += KernelSums.sum(dp, hw)
                    sumDyXhat += KernelSums.sumProductCentered(dp, xp, hw, mean: mu)
                }
                sumDyXhat *= Double(istd)
                dbias?[ch] += Float(sumDy)
                dweight?[ch] += Float(sumDyXhat)
                guard let dx else { continue }
                let k = weight[ch] * istd
                if training {
                    let meanDy = Float(sumDy / m), meanDyXhat = Float(sumDyXhat / m)
                    for i in 0..<n {
                        let xp = x + (i * c + ch) * hw, dp = dy + (i * c + ch) * hw, gp = dx + (i * c + ch) * hw
                        for j in 0..<hw {
                            let xhat = (xp[j] - mu) * istd
                            gp[j] += k * (dp[j] - meanDy - xhat * meanDyXhat)
                        }
                    }
                } else {
                    for i in 0..<n {
                        let dp = dy + (i * c + ch) * hw, gp = dx + (i * c + ch) * hw
                        for j in 0..<hw { gp[j] += k * dp[j] }
                    }
                }
            }
        }
    }
}
