// Channel re-arrangements, forward and backward (backward adds into dx).
//   pixelShuffle: y[n, c, r*h+i, r*w+j] = x[n, r*r*c + r*i + j, h, w]; x (N,C*r*r,H,W) -> y (N,C,H*r,W*r)
//   channel copy: a (N,Ci,HW) block placed at channel offset c0 of (N,Ctotal,HW), and back.

public enum LayoutKernels {
    /// Output rows are written contiguously; each reads r source rows in step.
    public static func pixelShuffleForward(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>,
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

    public static func pixelShuffleBackward(_ dy: UnsafeMutablePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
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

    /// y[n, c0 ..< c0+ci, :] = x[n, :, :]
    public static func copyChannels(_ x: UnsafeMutablePointer<Float>, into y: UnsafeMutablePointer<Float>,
                                    n: Int, ci: Int, cTotal: Int, c0: Int, hw: Int) {
        for b in 0..<n { (y + (b * cTotal + c0) * hw).update(from: x + b * ci * hw, count: ci * hw) }
    }

    /// dx[n, :, :] += dy[n, c0 ..< c0+ci, :]
    public static func addChannels(from dy: UnsafeMutablePointer<Float>, into dx: UnsafeMutablePointer<Float>,
                                   n: Int, ci: Int, cTotal: Int, c0: Int, hw: Int) {
        KernelParallel.forRanges(n * ci, costPerItem: hw) { range in
            for plane in range {
                let b = plane / ci, c = plane % ci
                let s = dy + (b * cTotal + c0 + c) * hw, d = dx + plane * hw
                for i in 0..<hw { d[i] += s[i] }
            }
        }
    }

    /// y[plane, :] = x[plane, :] * scale[plane] for (N*C) planes of hw elements (dropout2d; its
    /// backward is the same with dy, dx, adding).
    public static func scalePlanes(_ x: UnsafeMutablePointer<Float>, _ scale: UnsafeMutablePointer<Float>,
                                   _ y: UnsafeMutablePointer<Float>, planes: Int, hw: Int, accumulate: Bool) {
        KernelParallel.forRanges(planes, costPerItem: hw) { range in
            for plane in range {
                let s = scale[plane], xp = x + plane * hw, yp = y + plane * hw
                if accumulate { for i in 0..<hw { yp[i] += xp[i] * s } }
                else { for i in 0..<hw { yp[i] = xp[i] * s } }
            }
        }
    }
}
