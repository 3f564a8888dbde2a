// Kernels of KeypointNet's head ops (Ops/KeypointHeadOps.swift), forward and backward side by side:
// outputs first (for a backward: the gradient it adds into), read-only inputs as UnsafePointer;
// backward ADDS into the input gradient.

enum KeypointHeadKernels {
    // MARK: - border mask: y = x with the outer ring of cells set to 0

    /// x, y (planes, h, w)
    static func borderMaskedForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, planes: Int, h: Int, w: Int) {
        @inline(__always) func inside(_ i: Int, _ j: Int) -> Bool { i > 0 && i < h - 1 && j > 0 && j < w - 1 }
        for p in 0..<planes {
            for i in 0..<h {
                for j in 0..<w {
                    let o = (p * h + i) * w + j
                    y[o] = inside(i, j) ? x[o] : 0
                }
            }
        }
    }

    /// dx += dy inside the ring (the mask applied to the gradient).
    static func borderMaskedBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, planes: Int, h: Int, w: Int) {
        for p in 0..<planes {
            for i in 1..<max(h - 1, 1) {
                for j in 1..<max(w - 1, 1) {
                    let o = (p * h + i) * w + j
                    dx[o] += dy[o]
                }
            }
        }
    }

    // MARK: - cell coordinates: cell centre + shift * factor, clamped to the image

    /// shift, y (B,2,Hc,Wc), channel 0 = x. y = clamp(j*cell + step + shift*factor, 0, maxX) for x (i*cell for y,
    /// up to maxY); `passes` (B*2*Hc*Wc) records where the clamp did not bite (saved for backward).
    static func cellCoordinatesForward(_ y: UnsafeMutablePointer<Float>, _ passes: UnsafeMutablePointer<Bool>,
                                       _ shift: UnsafePointer<Float>, b: Int, hc: Int, wc: Int, cell: Int,
                                       step: Float, factor: Float, maxX: Float, maxY: Float) {
        for bi in 0..<b {
            for ch in 0..<2 {
                let hi = ch == 0 ? maxX : maxY
                for i in 0..<hc {
                    for j in 0..<wc {
                        let o = ((bi * 2 + ch) * hc + i) * wc + j
                        let base = Float((ch == 0 ? j : i) * cell) + step
                        let un = base + shift[o] * factor
                        passes[o] = un >= 0 && un <= hi
                        y[o] = Swift.min(Swift.max(un, 0), hi)
                    }
                }
            }
        }
    }

    /// dshift += dy * factor where the clamp passed (PyTorch's clamp backward, bounds inclusive).
    static func cellCoordinatesBackward(_ dshift: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                        _ passes: UnsafePointer<Bool>, count n: Int, factor: Float) {
        for o in 0..<n where passes[o] { dshift[o] += dy[o] * factor }
    }
}
