// grid_sample with zero padding and align_corners=True, as PyTorch's CPU kernel computes it.
// input (N,C,Hin,Win), grid (N,Hg,Wg,2) holding normalised (x,y), output (N,C,Hg,Wg).
// Pixel position: ix = (x + 1) * ((Win-1)/2), iy likewise; -1 and +1 are the first and last pixel centres.
// Bilinear uses the neighbours floor(ix), floor(ix)+1 (same in y); a neighbour outside the input counts as 0
// in the output and in both gradients. Because the west/north neighbour is floor(), the grid gradient at an
// exact pixel centre is the one-sided derivative towards +x / +y (towards a zero neighbour at the last
// row/column). Nearest rounds half to even (0.5 -> 0, 1.5 -> 2); an index outside the input gives 0.
// Forward and backward side by side: outputs (gradients) first, read-only inputs as UnsafePointer;
// backward ADDS into the gradients.

public enum GridSampleKernels {
    /// Integer position of a (floored or rounded) coordinate, or -1 if it is outside 0...size-1 or not finite.
    @inline(__always) static func index(_ f: Float, _ size: Int) -> Int {
        (f >= 0 && f <= Float(size - 1)) ? Int(f) : -1
    }

    /// One sample point's bilinear neighbourhood, computed the same way by every bilinear kernel: the plane offsets
    /// of its neighbours north-west, north-east, south-west, south-east (-1: outside) and their weights, from the
    /// fractions w = ix - floor(ix) (e = 1 - w) and nn = iy - floor(iy) (s = 1 - nn).
    struct BilinearTap {
        let nw: Int, ne: Int, sw: Int, se: Int
        let w: Float, e: Float, nn: Float, s: Float

        /// gp points at the grid's normalised (x, y).
        @inline(__always) init(_ gp: UnsafePointer<Float>, sx: Float, sy: Float, hIn: Int, wIn: Int) {
            let ix = (gp[0] + 1) * sx, iy = (gp[1] + 1) * sy
            let fx = ix.rounded(.down), fy = iy.rounded(.down)
            w = ix - fx; e = 1 - w; nn = iy - fy; s = 1 - nn
            let x0 = index(fx, wIn), x1 = index(fx + 1, wIn), y0 = index(fy, hIn), y1 = index(fy + 1, hIn)
            nw = (x0 >= 0 && y0 >= 0) ? y0 * wIn + x0 : -1
            ne = (x1 >= 0 && y0 >= 0) ? y0 * wIn + x1 : -1
            sw = (x0 >= 0 && y1 >= 0) ? y1 * wIn + x0 : -1
            se = (x1 >= 0 && y1 >= 0) ? y1 * wIn + x1 : -1
        }

        var wnw: Float { s * e }
        var wne: Float { s * w }
        var wsw: Float { nn * e }
        var wse: Float { nn * w }

        /// The four neighbours' values in one plane (0 outside).
        @inline(__always) func values(_ src: UnsafePointer<Float>) -> (nw: Float, ne: Float, sw: Float, se: Float) {
            (nw >= 0 ? src[nw] : 0, ne >= 0 ? src[ne] : 0, sw >= 0 ? src[sw] : 0, se >= 0 ? src[se] : 0)
        }
    }

    /// The input index nearest mode reads for one grid coordinate (half to even), or -1.
    @inline(__always) static func nearestIndex(_ g: Float, scale: Float, size: Int) -> Int {
        index(((g + 1) * scale).rounded(.toNearestOrEven), size)
    }

    /// Per sample point, its four neighbours' offsets in the plane (-1: outside) and weights, computed once, then
    /// the channels in parallel, each reading one input plane (cache-sized) and writing one output plane
    /// contiguously. Same arithmetic, in the same order, as bilinearForwardNaive (equal results).
    public static func bilinearForward(_ y: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ grid: UnsafePointer<Float>,
                                       n: Int, c: Int, hIn: Int, wIn: Int, hG: Int, wG: Int) {
        let sx = Float(wIn - 1) / 2, sy = Float(hIn - 1) / 2
        let plane = hIn * wIn, outPlane = hG * wG
        if n == 0 || c == 0 || outPlane == 0 { return }
        StoragePool.shared.with(count: 4 * outPlane) { weights in
            let offsets = StoragePool.shared.takeInt32(4 * outPlane)
            defer { StoragePool.shared.giveInt32(offsets, count: 4 * outPlane) }
            for b in 0..<n {
                for p in 0..<outPlane {
                    let t = BilinearTap(grid + (b * outPlane + p) * 2, sx: sx, sy: sy, hIn: hIn, wIn: wIn)
                    let o = offsets + 4 * p, k = weights + 4 * p
                    o[0] = Int32(t.nw); o[1] = Int32(t.ne); o[2] = Int32(t.sw); o[3] = Int32(t.se)
                    k[0] = t.wnw; k[1] = t.wne; k[2] = t.wsw; k[3] = t.wse
                }
                let yb = y + b * c * outPlane, xb = input + b * c * plane
                KernelParallel.forRanges(c, costPerItem: 8 * outPlane) { channels in
                    for ch in channels {
                        let src = xb + ch * plane, dst = yb + ch * outPlane
                        for p in 0..<outPlane {
                            let o = offsets + 4 * p, k = weights + 4 * p
                            let nw: Float = o[0] >= 0 ? src[Int(o[0])] : 0
                            let ne: Float = o[1] >= 0 ? src[Int(o[1])] : 0
                            let sw: Float = o[2] >= 0 ? src[Int(o[2])] : 0
                            let se: Float = o[3] >= 0 ? src[Int(o[3])] : 0
                            dst[p] = nw * k[0] + ne * k[1] + sw * k[2] + se * k[3]
                        }
                    }
                }
            }
        }
    }

    /// The forward as one loop over points and channels (the twin of bilinearForward).
    public static func bilinearForwardNaive(_ y: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ grid: UnsafePointer<Float>,
                                            n: Int, c: Int, hIn: Int, wIn: Int, hG: Int, wG: Int) {
        let sx = Float(wIn - 1) / 2, sy = Float(hIn - 1) / 2
        let plane = hIn * wIn, outPlane = hG * wG
        for b in 0..<n {
            for p in 0..<outPlane {
                let t = BilinearTap(grid + (b * outPlane + p) * 2, sx: sx, sy: sy, hIn: hIn, wIn: wIn)
                for ch in 0..<c {
                    let v = t.values(input + (b * c + ch) * plane)
                    y[(b * c + ch) * outPlane + p] = v.nw * t.wnw + v.ne * t.wne + v.sw * t.wsw + v.se * t.wse
                }
            }
        }
    }

    /// Adds into dInput and/or dGrid (either may be nil). Same argument order as the forward.
    public static func bilinearBackward(_ dInput: UnsafeMutablePointer<Float>?, _ dGrid: UnsafeMutablePointer<Float>?,
                                        _ dy: UnsafePointer<Float>, _ input: UnsafePointer<Float>, _ grid: UnsafePointer<Float>,
                                        n: Int, c: Int, hIn: Int, wIn: Int, hG: Int, wG: Int) {
        let sx = Float(wIn - 1) / 2, sy = Float(hIn - 1) / 2
        let plane = hIn * wIn, outPlane = hG * wG
        for b in 0..<n {
            for p in 0..<outPlane {
                let t = BilinearTap(grid + (b * outPlane + p) * 2, sx: sx, sy: sy, hIn: hIn, wIn: wIn)
                var gx: Float = 0, gy: Float = 0
                for ch in 0..<c {
                    let g = dy[(b * c + ch) * outPlane + p]
                    let off = (b * c + ch) * plane
                    if let dInput {
                        let d = dInput + off
                        if t.nw >= 0 { d[t.nw] += t.wnw * g }
                        if t.ne >= 0 { d[t.ne] += t.wne * g }
                        if t.sw >= 0 { d[t.sw] += t.wsw * g }
                        if t.se >= 0 { d[t.se] += t.wse * g }
                    }
                    if dGrid != nil {
                        let v = t.values(input + off)
                        gx += ((v.ne - v.nw) * t.s + (v.se - v.sw) * t.nn) * g
                        gy += ((v.sw - v.nw) * t.e + (v.se - v.ne) * t.w) * g
                    }
                }
                if let dGrid {
                    let dg = dGrid + (b * outPlane + p) * 2
                    dg[0] += gx * sx
                    dg[1] += gy * sy
                }
            }
        }
    }

    public static func nearestForward(_ y: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ grid: UnsafePointer<Float>,
                                      n: Int, c: Int, hIn: Int, wIn: Int, hG: Int, wG: Int) {
        let sx = Float(wIn - 1) / 2, sy = Float(hIn - 1) / 2
        let plane = hIn * wIn, outPlane = hG * wG
        for b in 0..<n {
            for p in 0..<outPlane {
                let gp = grid + (b * outPlane + p) * 2
                let xi = nearestIndex(gp[0], scale: sx, size: wIn), yi = nearestIndex(gp[1], scale: sy, size: hIn)
                for ch in 0..<c {
                    y[(b * c + ch) * outPlane + p] = (xi >= 0 && yi >= 0) ? input[(b * c + ch) * plane + yi * wIn + xi] : 0
                }
            }
        }
    }

    /// Adds into dInput (the grid gets no gradient in nearest mode, as in PyTorch).
    public static func nearestBackward(_ dInput: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ grid: UnsafePointer<Float>,
                                       n: Int, c: Int, hIn: Int, wIn: Int, hG: Int, wG: Int) {
        let sx = Float(wIn - 1) / 2, sy = Float(hIn - 1) / 2
        let plane = hIn * wIn, outPlane = hG * wG
        for b in 0..<n {
            for p in 0..<outPlane {
                let gp = grid + (b * outPlane + p) * 2
                let xi = nearestIndex(gp[0], scale: sx, size: wIn), yi = nearestIndex(gp[1], scale: sy, size: hIn)
                guard xi >= 0 && yi >= 0 else { continue }
                for ch in 0..<c {
                    dInput[(b * c + ch) * plane + yi * wIn + xi] += dy[(b * c + ch) * outPlane + p]
                }
            }
        }
    }
}
