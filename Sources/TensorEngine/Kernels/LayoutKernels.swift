// Channel re-arrangements, forward and backward side by side: outputs first, read-only inputs as
// UnsafePointer; backward ADDS into dx.
//   pixelShuffle:    y[n, c, r*h+i, r*w+j] = x[n, r*r*c + r*i + j, h, w]; x (N,C*r*r,H,W) -> y (N,C,H*r,W*r)
//   concatChannels:  a (N,Ci,HW) block placed at channel offset c0 of (N,Ctotal,HW), and back.
//   dropout2d:       whole (n,c) planes scaled by a per-plane factor (0 or 1/(1-p)).
//   concatenateFlat: a block of `count` elements placed at `offset` of a flat array, and back.

public enum LayoutKernels {
    /// Output rows are written contiguously; each reads r source rows in step.
    public static func pixelShuffleForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                                           n: Int, c: Int, h: Int, w: Int, r: Int) {
        KernelParallel.forRanges(n * c, costPerItem: r * r * h * w) { range in
            for plane in range {
                let src = x + plane * r * r * h * w, dst = y + plane * h * r * w * r
                for hh in 0..<h {
                    for i in 0..<r {
                        let drow = dst + (r * hh + i) * w * r
                        let srow = src + (r * i) * h * w + hh * w
                        if r == 2 {
                            let s0 = srow, s1 = srow + h * w
                            for ww in 0..<w { drow[2 * ww] = s0[ww]; drow[2 * ww + 1] = s1[ww] }
                        } else {
                            for ww in 0..<w { for j in 0..<r { drow[r * ww + j] = srow[j * h * w + ww] } }
                        }
                    }
                }
            }
        }
    }

    public static func pixelShuffleBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                            n: Int, c: Int, h: Int, w: Int, r: Int) {
        KernelParallel.forRanges(n * c, costPerItem: r * r * h * w) { range in
            for plane in range {
                let g = dx + plane * r * r * h * w, src = dy + plane * h * r * w * r
                for hh in 0..<h {
                    for i in 0..<r {
                        let srow = src + (r * hh + i) * w * r
                        let grow = g + (r * i) * h * w + hh * w
                        if r == 2 {
                            let g0 = grow, g1 = grow + h * w
                            for ww in 0..<w { g0[ww] += srow[2 * ww]; g1[ww] += srow[2 * ww + 1] }
                        } else {
                            for ww in 0..<w { for j in 0..<r { grow[j * h * w + ww] += srow[r * ww + j] } }
                        }
                    }
                }
            }
        }
    }

    /// Plain-loop twin of pixelShuffleForward (no r == 2 path, no threads), for tests.
    public static func pixelShuffleForwardNaive(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                                                n: Int, c: Int, h: Int, w: Int, r: Int) {
        for b in 0..<n {
            for ch in 0..<c {
                for i in 0..<r {
                    for j in 0..<r {
                        for hh in 0..<h {
                            for ww in 0..<w {
                                y[((b * c + ch) * h * r + r * hh + i) * w * r + r * ww + j] =
                                    x[((b * c * r * r + r * r * ch + r * i + j) * h + hh) * w + ww]
                            }
                        }
                    }
                }
            }
        }
    }

    /// y[n, c0 ..< c0+ci, :] = x[n, :, :]
    public static func concatChannelsForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                                             n: Int, ci: Int, cTotal: Int, c0: Int, hw: Int) {
        for b in 0..<n { (y + (b * cTotal + c0) * hw).update(from: x + b * ci * hw, count: ci * hw) }
    }

    /// dx[n, :, :] += dy[n, c0 ..< c0+ci, :]
    public static func concatChannelsBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                              n: Int, ci: Int, cTotal: Int, c0: Int, hw: Int) {
        KernelParallel.forRanges(n * ci, costPerItem: hw) { range in
            for plane in range {
                let b = plane / ci, c = plane % ci
                let s = dy + (b * cTotal + c0 + c) * hw, d = dx + plane * hw
                for i in 0..<hw { d[i] += s[i] }
            }
        }
    }

    /// The dropout2d factor of each of `planes` (n,c) planes: one uniform draw per plane in order, 0 when
    /// the draw is < p (dropped), else keepScale.
    public static func dropout2dScales(_ scale: UnsafeMutablePointer<Float>, planes: Int, p: Float, keepScale: Float,
                                       rng: inout SeededRandom) {
        for i in 0..<planes { scale[i] = rng.uniform() < Double(p) ? 0 : keepScale }
    }

    /// y[plane, :] = x[plane, :] * scale[plane] for (N*C) planes of hw elements.
    public static func dropout2dForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ scale: UnsafePointer<Float>,
                                        planes: Int, hw: Int) {
        KernelParallel.forRanges(planes, costPerItem: hw) { range in
            for plane in range {
                let s = scale[plane], xp = x + plane * hw, yp = y + plane * hw
                for i in 0..<hw { yp[i] = xp[i] * s }
            }
        }
    }

    /// dx[plane, :] += dy[plane, :] * scale[plane]
    public static func dropout2dBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ scale: UnsafePointer<Float>,
                                         planes: Int, hw: Int) {
        KernelParallel.forRanges(planes, costPerItem: hw) { range in
            for plane in range {
                let s = scale[plane], dyp = dy + plane * hw, dxp = dx + plane * hw
                for i in 0..<hw { dxp[i] += dyp[i] * s }
            }
        }
    }

    /// y[offset ..< offset+count] = x[0 ..< count]
    public static func concatenateFlatForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, offset: Int, count: Int) {
        (y + offset).update(from: x, count: count)
    }

    /// dx[0 ..< count] += dy[offset ..< offset+count]
    public static func concatenateFlatBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, offset: Int, count: Int) {
        ArithmeticKernels.accumulate(dx, dy + offset, count: count)
    }
}
