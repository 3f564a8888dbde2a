import Foundation

// BatchNorm2d over (N, H*W) per channel, as torch.nn.functional.batch_norm.
// Training: mean and BIASED variance of the batch normalise; the running statistics are updated
// with momentum and the UNBIASED variance. Eval: the running statistics normalise.
// x, y, dy, dx are (N,C,HW); the per-channel arrays are (C). Work is split over channels.
// Outputs first (for a backward: the gradients it adds into), read-only inputs as UnsafePointer.

public enum BatchNormKernels {
    /// Batch statistics: mean[c] and invStd[c] = 1/sqrt(biasedVar + eps); biasedVar[c] is written
    /// too (the running update needs it). Two-pass, accumulated in Double.
    public static func batchStatistics(_ mean: UnsafeMutablePointer<Float>, _ biasedVar: UnsafeMutablePointer<Float>,
                                       _ invStd: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
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
                                     _ mean: UnsafePointer<Float>, _ biasedVar: UnsafePointer<Float>,
                                     c: Int, count m: Int, momentum: Float) {
        let correction = m > 1 ? Float(m) / Float(m - 1) : 1
        for ch in 0..<c {
            runningMean[ch] = (1 - momentum) * runningMean[ch] + momentum * mean[ch]
            runningVar[ch] = (1 - momentum) * runningVar[ch] + momentum * biasedVar[ch] * correction
        }
    }

    /// invStd[c] = 1/sqrt(runningVar[c] + eps) (eval mode).
    public static func invStd(_ invStd: UnsafeMutablePointer<Float>, _ runningVar: UnsafePointer<Float>, c: Int, eps: Float) {
        for ch in 0..<c { invStd[ch] = Float(1 / (Double(runningVar[ch]) + Double(eps)).squareRoot()) }
    }

    /// Eval-mode BatchNorm as y = scale[c] * x + shift[c]: scale = weight / sqrt(var + eps),
    /// shift = bias - mean * scale (computed in Double).
    public static func foldedAffine(_ scale: UnsafeMutablePointer<Float>, _ shift: UnsafeMutablePointer<Float>,
                                    _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
                                    _ runningMean: UnsafePointer<Float>, _ runningVar: UnsafePointer<Float>, c: Int, eps: Float) {
        for ch in 0..<c {
            let a = Double(weight[ch]) / (Double(runningVar[ch]) + Double(eps)).squareRoot()
            scale[ch] = Float(a)
            shift[ch] = Float(Double(bias[ch]) - Double(runningMean[ch]) * a)
        }
    }

    /// y = (x - mean[c]) * invStd[c] * weight[c] + bias[c]
    public static func forward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                               _ mean: UnsafePointer<Float>, _ invStd: UnsafePointer<Float>,
                               _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
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
    public static func backward(_ dx: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>?,
                                _ dbias: UnsafeMutablePointer<Float>?, _ dy: UnsafePointer<Float>,
                                _ x: UnsafePointer<Float>, _ mean: UnsafePointer<Float>,
                                _ invStd: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
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

    // MARK: BatchNorm fused with LeakyReLU: y = leakyReLU(BN(x)), the pair every KeypointNet block runs.
    // One pass instead of two, and the BN output is never stored: backward recomputes its sign from x.
    // Bit-for-bit the same as batchNorm forward/backward followed by leakyReLU forward/backward (the same
    // float operations in the same order, including KernelSums' blocking), checked by a test.

    /// y = t > 0 ? t : slope*t with t = (x - mean[c]) * (invStd[c] * weight[c]) + bias[c]
    public static func forwardLeakyReLU(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                                        _ mean: UnsafePointer<Float>, _ invStd: UnsafePointer<Float>,
                                        _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
                                        n: Int, c: Int, hw: Int, slope: Float) {
        KernelParallel.forRanges(n * c, costPerItem: hw) { range in
            for plane in range {
                let ch = plane % c
                let mu = mean[ch], sc = invStd[ch] * weight[ch], b = bias[ch]
                let xp = x + plane * hw, yp = y + plane * hw
                for j in 0..<hw {
                    let t = (xp[j] - mu) * sc + b
                    yp[j] = t > 0 ? t : t * slope
                }
            }
        }
    }

    @inline(__always)
    private static func load8(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// Backward of forwardLeakyReLU, adding into dx, dweight, dbias (any may be nil); dy is dL/dy.
    /// With u = dy * (t > 0 ? 1 : slope) (the gradient at the BN output), exactly `backward` applied to u.
    public static func backwardLeakyReLU(_ dx: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>?,
                                         _ dbias: UnsafeMutablePointer<Float>?, _ dy: UnsafePointer<Float>,
                                         _ x: UnsafePointer<Float>, _ mean: UnsafePointer<Float>,
                                         _ invStd: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                                         _ bias: UnsafePointer<Float>,
                                         n: Int, c: Int, hw: Int, training: Bool, slope: Float) {
        let m = Double(n * hw)
        KernelParallel.forRanges(c, costPerItem: 3 * n * hw) { range in
            for ch in range {
                let mu = mean[ch], istd = invStd[ch], sc = invStd[ch] * weight[ch], b = bias[ch]
                let mu8 = SIMD8<Float>(repeating: mu), sc8 = SIMD8<Float>(repeating: sc), b8 = SIMD8<Float>(repeating: b)
                let slope8 = SIMD8<Float>(repeating: slope), zero8 = SIMD8<Float>(repeating: 0)
                // Plane by plane, block by block, as KernelSums.sum and KernelSums.sumProductCentered.
                var sumDy: Double = 0, sumDyXhat: Double = 0
                for i in 0..<n {
                    let xp = x + (i * c + ch) * hw, dp = dy + (i * c + ch) * hw
                    var planeDy: Double = 0, planeDyX: Double = 0
                    var start = 0
                    while start < hw {
                        let end = Swift.min(hw, start + 1024)
                        var acc = SIMD8<Float>(repeating: 0), accX = SIMD8<Float>(repeating: 0)
                        var j = start
                        while j + 8 <= end {
                            let xv = load8(xp, j), d = load8(dp, j)
                            let t = (xv - mu8) * sc8 + b8
                            let u = (d * slope8).replacing(with: d, where: t .> zero8)
                            acc += u
                            accX += u * (xv - mu8)
                            j += 8
                        }
                        var rest: Float = 0, restX: Float = 0
                        while j < end {
                            let t = (xp[j] - mu) * sc + b
                            let u = t > 0 ? dp[j] : dp[j] * slope
                            rest += u
                            restX += u * (xp[j] - mu)
                            j += 1
                        }
                        planeDy += Double(acc.sum()) + Double(rest)
                        planeDyX += Double(accX.sum()) + Double(restX)
                        start = end
                    }
                    sumDy += planeDy
                    sumDyXhat += planeDyX
                }
                sumDyXhat *= Double(istd)
                dbias?[ch] += Float(sumDy)
                dweight?[ch] += Float(sumDyXhat)
                guard let dx else { continue }
                let k = weight[ch] * istd
                let meanDy = Float(sumDy / m), meanDyXhat = Float(sumDyXhat / m)
                for i in 0..<n {
                    let xp = x + (i * c + ch) * hw, dp = dy + (i * c + ch) * hw, gp = dx + (i * c + ch) * hw
                    if training {
                        for j in 0..<hw {
                            let t = (xp[j] - mu) * sc + b
                            let u = t > 0 ? dp[j] : dp[j] * slope
                            let xhat = (xp[j] - mu) * istd
                            gp[j] += k * (u - meanDy - xhat * meanDyXhat)
                        }
                    } else {
                        for j in 0..<hw {
                            let t = (xp[j] - mu) * sc + b
                            let u = t > 0 ? dp[j] : dp[j] * slope
                            gp[j] += k * u
                        }
                    }
                }
            }
        }
    }
}
