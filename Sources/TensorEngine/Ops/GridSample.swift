// grid_sample (zero padding, align_corners=True); kernels in Kernels/GridSampleKernels.swift.

public enum GridSampleMode: Sendable { case bilinear, nearest }

extension Graph {
    /// torch.nn.functional.grid_sample, zero padding, align_corners=True.
    /// input (N,C,Hin,Win), grid (N,Hg,Wg,2) holding normalised (x,y) -> (N,C,Hg,Wg).
    /// Bilinear: gradients w.r.t. input and grid. Nearest: round half to even; gradient to input only.
    public func gridSample(_ input: Variable, grid: Variable, mode: GridSampleMode = .bilinear) -> Variable {
        let (n, c, hIn, wIn) = input.value.nchw
        precondition(grid.shape.count == 4 && grid.shape[0] == n && grid.shape[3] == 2,
                     "gridSample: grid must be (N=\(n),Hg,Wg,2), got \(grid.shape)")
        let hG = grid.shape[1], wG = grid.shape[2]
        let y = output([n, c, hG, wG], from: input, grid)
        let px = input.value.data, pg = grid.value.data, py = y.value.data
        switch mode {
        case .bilinear:
            GridSampleKernels.bilinearForward(py, px, pg, n: n, c: c, hIn: hIn, wIn: wIn, hG: hG, wG: wG)
            record(y) { dy in
                GridSampleKernels.bilinearBackward(input.requiresGrad ? input.gradient().data : nil,
                                                   grid.requiresGrad ? grid.gradient().data : nil,
                                                   dy.data, px, pg,
                                                   n: n, c: c, hIn: hIn, wIn: wIn, hG: hG, wG: wG)
            }
        case .nearest:
            GridSampleKernels.nearestForward(py, px, pg, n: n, c: c, hIn: hIn, wIn: wIn, hG: hG, wG: wG)
            record(y) { dy in
                guard input.requiresGrad else { return }
                GridSampleKernels.nearestBackward(input.gradient().data, dy.data, pg,
                                                  n: n, c: c, hIn: hIn, wIn: wIn, hG: hG, wG: wG)
            }
        }
        return y
    }
}
