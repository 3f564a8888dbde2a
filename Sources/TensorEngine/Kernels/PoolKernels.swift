// 2x2 max-pool, stride 2, floor mode. x (N,C,H,W) -> y (N,C,H/2,W/2). The window is scanned in
// row-major order and a later element wins only if strictly greater (or NaN, as PyTorch), so ties
// go to the first maximum. indices[o] is the winner's flat offset h*W+w within its (n,c) plane;
// backward gives that element the whole gradient. Outputs first, read-only inputs as UnsafePointer;
// backward ADDS into dx.

public enum PoolKernels {
    public static func maxPool2x2Forward(_ y: UnsafeMutablePointer<Float>, _ indices: UnsafeMutablePointer<Int32>,
                                         _ x: UnsafePointer<Float>, planes: Int, h: Int, w: Int) {
        let ho = h / 2, wo = w / 2
        KernelParallel.forRanges(planes, costPerItem: h * w) { range in
            for plane in range {
                let xp = x + plane * h * w, yp = y + plane * ho * wo, ip = indices + plane * ho * wo
                for oh in 0..<ho {
                    let row = xp + 2 * oh * w
                    // Eight windows at a time (same rule, lane by lane), then the scalar loop for the rest.
                    var ow0 = 0
                    while ow0 + 8 <= wo {
                        let top = UnsafeRawPointer(row + 2 * ow0).loadUnaligned(as: SIMD16<Float>.self)
                        let bottom = UnsafeRawPointer(row + w + 2 * ow0).loadUnaligned(as: SIMD16<Float>.self)
                        var m = top.evenHalf
                        var best = SIMD8<Int32>(repeating: 0)
                        var take = (m .== m) .& .!(top.oddHalf .<= m)
                        m.replace(with: top.oddHalf, where: take); best.replace(with: 1, where: take)
                        take = (m .== m) .& .!(bottom.evenHalf .<= m)
                        m.replace(with: bottom.evenHalf, where: take); best.replace(with: Int32(w), where: take)
                        take = (m .== m) .& .!(bottom.oddHalf .<= m)
                        m.replace(with: bottom.oddHalf, where: take); best.replace(with: Int32(w + 1), where: take)
                        let base = SIMD8<Int32>(repeating: Int32(2 * oh * w + 2 * ow0)) &+ SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
                        UnsafeMutableRawPointer(yp + oh * wo + ow0).storeBytes(of: m, as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(ip + oh * wo + ow0).storeBytes(of: base &+ best, as: SIMD8<Int32>.self)
                        ow0 += 8
                    }
                    for ow in ow0..<wo {
                        // Row-major order inside the window; a later element must be strictly
                        // greater (or a NaN over a number) to win.
                        let a = row[2 * ow], b = row[2 * ow + 1], c = row[w + 2 * ow], d = row[w + 2 * ow + 1]
                        // "v > m or (v is NaN and m is not)" == "m is a number and !(v <= m)".
                        var best = 0
                        var m = a
                        var take = (m == m) && !(b <= m)
                        m = take ? b : m; best = take ? 1 : best
                        take = (m == m) && !(c <= m)
                        m = take ? c : m; best = take ? w : best
                        take = (m == m) && !(d <= m)
                        m = take ? d : m; best = take ? w + 1 : best
                        yp[oh * wo + ow] = m
                        ip[oh * wo + ow] = Int32(2 * oh * w + 2 * ow + best)
                    }
                }
            }
        }
    }

    /// dx[plane][indices[o]] += dy[o]
    public static func maxPool2x2Backward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                          _ indices: UnsafePointer<Int32>, planes: Int, h: Int, w: Int) {
        let outPlane = (h / 2) * (w / 2)
        KernelParallel.forRanges(planes, costPerItem: outPlane) { range in
            for plane in range {
                let dp = dy + plane * outPlane, ip = indices + plane * outPlane, gp = dx + plane * h * w
                for o in 0..<outPlane { gp[Int(ip[o])] += dp[o] }
            }
        }
    }

    /// Plain-loop twin of the forward (same tie rule), for tests.
    public static func maxPool2x2ForwardNaive(_ y: UnsafeMutablePointer<Float>, _ indices: UnsafeMutablePointer<Int32>,
                                              _ x: UnsafePointer<Float>, planes: Int, h: Int, w: Int) {
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
