import TensorEngine

// Small differentiable ops of KeypointNet's heads, written as forward/backward pairs:
//   borderMasked      score * ring mask (outer ring of cells forced to 0)
//   cellCoordinates   cell centre + tanh offset * cross_ratio * 3.5, clamped to the image
//   pixelsToGrid      pixel coordinates -> grid_sample's normalised (x, y), channels last

extension Graph {
    /// y = x with the outer ring of cells set to 0 (official border_mask). x (B,C,Hc,Wc) -> (B,C,Hc,Wc).
    /// The gradient is masked the same way.
    public func borderMasked(_ x: Variable) -> Variable {
        let (b, c, h, w) = x.value.nchw
        let y = output(x.shape, from: x)
        let px = x.value.data, py = y.value.data
        @inline(__always) func inside(_ i: Int, _ j: Int) -> Bool { i > 0 && i < h - 1 && j > 0 && j < w - 1 }
        for p in 0..<(b * c) {
            for i in 0..<h {
                for j in 0..<w {
                    let o = (p * h + i) * w + j
                    py[o] = inside(i, j) ? px[o] : 0
                }
            }
        }
        record(y) { dy in
            let gx = x.gradient().data, pdy = dy.data
            for p in 0..<(b * c) {
                for i in 1..<max(h - 1, 1) {
                    for j in 1..<max(w - 1, 1) {
                        let o = (p * h + i) * w + j
                        gx[o] += pdy[o]
                    }
                }
            }
        }
        return y
    }

    /// Keypoint pixels from the location head's tanh output (official KeypointNet.forward):
    ///   un[b,0,i,j] = (j*cell + (cell-1)/2) + shift[b,0,i,j] * (crossRatio * (cell-1)/2)   (x)
    ///   un[b,1,i,j] = (i*cell + (cell-1)/2) + shift[b,1,i,j] * (crossRatio * (cell-1)/2)   (y)
    ///   coord = clamp(un, 0, W-1) for x, clamp(un, 0, H-1) for y.
    /// The gradient passes where min <= un <= max (PyTorch's clamp backward, bounds inclusive).
    /// shift (B,2,Hc,Wc) -> coord (B,2,Hc,Wc)
    public func cellCoordinates(_ shift: Variable, imageHeight: Int, imageWidth: Int, cell: Int = 8,
                                crossRatio: Float) -> Variable {
        let (b, c, hc, wc) = shift.value.nchw
        precondition(c == 2, "cellCoordinates: shift must have 2 channels (x, y), got shape \(shift.shape)")
        let step = Float(cell - 1) / 2
        let factor = crossRatio * step
        let maxX = Float(imageWidth - 1), maxY = Float(imageHeight - 1)
        let y = output(shift.shape, from: shift)
        let n = shift.count
        var passes = [Bool](repeating: false, count: n)   // clamp did not bite (saved for backward)
        let ps = shift.value.data, py = y.value.data
        passes.withUnsafeMutableBufferPointer { pass in
            for bi in 0..<b {
                for ch in 0..<2 {
                    let hi = ch == 0 ? maxX : maxY
                    for i in 0..<hc {
                        for j in 0..<wc {
                            let o = ((bi * 2 + ch) * hc + i) * wc + j
                            let base = Float((ch == 0 ? j : i) * cell) + step
                            let un = base + ps[o] * factor
                            pass[o] = un >= 0 && un <= hi
                            py[o] = Swift.min(Swift.max(un, 0), hi)
                        }
                    }
                }
            }
        }
        let saved = passes
        record(y) { dy in
            let gs = shift.gradient().data, pdy = dy.data
            saved.withUnsafeBufferPointer { pass in
                for o in 0..<n where pass[o] { gs[o] += pdy[o] * factor }
            }
        }
        return y
    }

    /// Pixel coordinates to grid_sample's normalised coordinates (official _process_coord):
    ///   xn = x / ((W-1)/2) - 1, yn = y / ((H-1)/2) - 1, moved to channels-last.
    /// coord (B,2,Hc,Wc) -> grid (B,Hc,Wc,2)
    public func pixelsToGrid(_ coord: Variable, imageHeight: Int, imageWidth: Int) -> Variable {
        let (b, c, hc, wc) = coord.value.nchw
        precondition(c == 2, "pixelsToGrid: coord must have 2 channels (x, y), got shape \(coord.shape)")
        let sx = Float(Double(imageWidth - 1) / 2), sy = Float(Double(imageHeight - 1) / 2)
        let y = output([b, hc, wc, 2], from: coord)
        let pc = coord.value.data, py = y.value.data
        let plane = hc * wc
        for bi in 0..<b {
            for p in 0..<plane {
                py[(bi * plane + p) * 2] = pc[(bi * 2) * plane + p] / sx - 1
                py[(bi * plane + p) * 2 + 1] = pc[(bi * 2 + 1) * plane + p] / sy - 1
            }
        }
        record(y) { dy in
            let gc = coord.gradient().data, pdy = dy.data
            for bi in 0..<b {
                for p in 0..<plane {
                    gc[(bi * 2) * plane + p] += pdy[(bi * plane + p) * 2] / sx
                    gc[(bi * 2 + 1) * plane + p] += pdy[(bi * plane + p) * 2 + 1] / sy
                }
            }
        }
        return y
    }
}
