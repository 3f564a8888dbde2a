import TensorEngine

// Small differentiable ops of KeypointNet's heads (kernels: Kernels/KeypointHeadKernels.swift):
//   borderMasked      score * ring mask (outer ring of cells forced to 0)
//   cellCoordinates   cell centre + tanh offset * cross_ratio * 3.5, clamped to the image
//   pixelsToGrid      pixel coordinates -> grid_sample's normalised (x, y), channels last

extension Graph {
    /// y = x with the outer ring of cells set to 0 (official border_mask). x (B,C,Hc,Wc) -> (B,C,Hc,Wc).
    /// The gradient is masked the same way.
    public func borderMasked(_ x: Variable) -> Variable {
        let (b, c, h, w) = x.value.nchw
        let y = output(x.shape, from: x)
        KeypointHeadKernels.borderMaskedForward(y.value.data, x.value.data, planes: b * c, h: h, w: w)
        record(y) { dy in KeypointHeadKernels.borderMaskedBackward(x.gradient().data, dy.data, planes: b * c, h: h, w: w) }
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
        var passes = [Bool](repeating: false, count: shift.count)   // clamp did not bite (saved for backward)
        passes.withUnsafeMutableBufferPointer { pass in
            KeypointHeadKernels.cellCoordinatesForward(y.value.data, pass.baseAddress!, shift.value.data, b: b, hc: hc, wc: wc,
                                                       cell: cell, step: step, factor: factor, maxX: maxX, maxY: maxY)
        }
        let saved = passes
        record(y) { dy in
            saved.withUnsafeBufferPointer { pass in
                KeypointHeadKernels.cellCoordinatesBackward(shift.gradient().data, dy.data, pass.baseAddress!,
                                                            count: saved.count, factor: factor)
            }
        }
        return y
    }

    /// Pixel coordinates to grid_sample's normalised coordinates (official _process_coord):
    ///   xn = x / ((W-1)/2) - 1, yn = y / ((H-1)/2) - 1, moved to channels-last. The same op as the loss's
    ///   normalizeCoordinates (Ops/LossOps.swift), under the name the network code uses.
    /// coord (B,2,Hc,Wc) -> grid (B,Hc,Wc,2)
    public func pixelsToGrid(_ coord: Variable, imageHeight: Int, imageWidth: Int) -> Variable {
        precondition(coord.value.nchw.c == 2, "pixelsToGrid: coord must have 2 channels (x, y), got shape \(coord.shape)")
        return normalizeCoordinates(coord, imageHeight: imageHeight, imageWidth: imageWidth)
    }
}
