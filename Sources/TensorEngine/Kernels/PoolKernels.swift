// 2x2 max-pool, stride 2, floor mode. x (N,C,H,W) -> y (N,C,H/2,W/2). The window is scanned in
// row-major order and a later element wins only if strictly greater (or NaN, as PyTorch), so ties
// go to the first maximum. indices[o] is the winner's flat offset h*W+w within its (n,c) plane;
// backward gives that element the whole gradient.

public enum PoolKernels {
    public static func maxPool2x2Forward(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                         _ indices: UnsafeMutablePointer<Int32>, planes: Int, h: Int, w: Int) {
        let ho = h / 2, wo = w / 2
        KernelParallel.forRanges(planes, costPerItem: h * w) { range in
            for plane in range {
                let xp = x + plane * h * w, yp = y + plane * ho * wo, ip = indices + plane * ho * wo
                for oh in 0..<ho {
                    for ow in 0..<wo {
                        let i0 = (2 * oh) * w + 2 * ow
                        var best = i0
                        var bestValue = xp[i0]
                        @inline(__always) func visit(_ idx: Int) {
                            let v = xp[idx]
                            if v > bestValue || (v.isNaN && !bestValue.isNaN) { best = idx; bestValue = v }
                        }
                        visit(i0 + 1)
                        visit(i0 + w)
                        visit(i0 + w + 1)
                        yp[oh * wo + ow] = bestValue
                        ip[oh * wo + ow] = Int32(best)
                    }
                }
            }
        }
    }

    /// dx[plane][indices[o]] += dy[o]
    public static func maxPool2x2Backward(_ dy: UnsafeMutablePointer<Float>, _ indices: UnsafeMutablePointer<Int32>,
                                          _ dx: UnsafeMutablePointer<Float>, planes: Int, h: Int, w: Int) {
        let outPlane = (h / 2) * (w / 2)
        KernelParallel.forRanges(planes, costPerItem: outPlane) { range in
            for plane in range {
                let dp = dy + plane * outPlane, ip = indices + plane * outPlane, gp = dx + plane * h * w
                for o in 0..<outPlane { gp[Int(ip[o])] += dp[o] }
            }
        }
    }

    /// Plain-loop twin of the forward (same tie rule), for tests.
    public static func maxPool2x2ForwardNaive(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                              _ indices: UnsafeMutablePointer<Int32>, planes: Int, h: Int, w: Int) {
        let ho = h / 2, wo = w / 2
        for plane in 0..<planes {
            for oh in 0..<ho {
                for ow in 0..<wo {
                    var best = -1
                    for dh in 0..<2 {
                        for dw in 0..<2 {
                            let idx = (2 * oh + dh) * w + 2 * ow + dw
                            if best < 0 || x[plane * h * w + idx] > x[plane * h * w + best] { best = idx }
                        }
                    }
                    y[(plane * ho + oh) * wo + ow] = x[plane * h * w + best]
                    indices[(plane * ho + oh) * wo + ow] = Int32(best)
                }
            }
        }
    }
}
