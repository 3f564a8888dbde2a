// TEMPORARY: signatures of ops being written on branch `engine-ops`. Each is replaced by its real
// implementation (in its own file) and this file is deleted before anything ships.

public enum GridSampleMode: Sendable { case bilinear, nearest }

extension Graph {
    /// torch.nn.functional.grid_sample, zero padding, align_corners=True.
    /// input (N,C,Hin,Win), grid (N,Hg,Wg,2) holding normalised (x,y) -> (N,C,Hg,Wg).
    /// Bilinear: gradients w.r.t. input and grid. Nearest: round half to even; gradient to input only.
    public func gridSample(_ input: Variable, grid: Variable, mode: GridSampleMode = .bilinear) -> Variable { fatalError("pending") }

    /// Instance norm without affine: per (n,c) over the H*W positions, biased variance, eps.
    public func instanceNorm(_ x: Variable, eps: Float = 1e-5) -> Variable { fatalError("pending") }

    /// x / ||x||_2 over axis 1 (channels) of (N,C,...) with no epsilon.
    public func l2Normalize(_ x: Variable) -> Variable { fatalError("pending") }

    /// 2-D matrix product op(a) @ op(b) where op transposes when asked. a (M,K) b (K,N) -> (M,N).
    public func matmul(_ a: Variable, _ b: Variable, transposeA: Bool = false, transposeB: Bool = false) -> Variable { fatalError("pending") }

    /// mean((a-b)^2), a 0-d tensor; gradients for both.
    public func mseLoss(_ a: Variable, _ b: Variable) -> Variable { fatalError("pending") }

    /// mean_i max(0, ||a_i-p_i+eps|| - ||a_i-n_i+eps|| + margin); a, p, n are (N,D); 0-d result.
    public func tripletMarginLoss(anchor: Variable, positive: Variable, negative: Variable,
                                  margin: Float = 0.2, eps: Float = 1e-6) -> Variable { fatalError("pending") }

    /// sqrt(2 - 2*clamp(a^T b, -1, 1)) for unit columns a (D,N), b (D,M) -> (N,M).
    public func descriptorDistance(_ a: Variable, _ b: Variable) -> Variable { fatalError("pending") }

    /// y[i] = x.flat[indices[i]] -> shape [indices.count]; backward scatter-adds.
    public func gather(_ x: Variable, flatIndices indices: [Int]) -> Variable { fatalError("pending") }

    /// Select `indices` along `axis` (like torch.index_select).
    public func indexSelect(_ x: Variable, axis: Int, indices: [Int]) -> Variable { fatalError("pending") }

    /// Reorder axes (like torch.permute); result is contiguous.
    public func permute(_ x: Variable, _ order: [Int]) -> Variable { fatalError("pending") }

    /// x[..., range, ...] along `axis` (contiguous copy).
    public func slice(_ x: Variable, axis: Int, range: Range<Int>) -> Variable { fatalError("pending") }

    public func sqrt(_ x: Variable) -> Variable { fatalError("pending") }
    public func square(_ x: Variable) -> Variable { fatalError("pending") }
    public func div(_ a: Variable, _ b: Variable) -> Variable { fatalError("pending") }
    public func clamp(_ x: Variable, min: Float, max: Float) -> Variable { fatalError("pending") }

    /// Minimum along `axis` with its index (first on ties), like torch.min(x, dim). Gradient goes to the argmin.
    public func min(_ x: Variable, axis: Int) -> (values: Variable, indices: [Int]) { fatalError("pending") }
}

/// Non-differentiable helpers on plain tensors.
public enum TensorOps {
    /// Sort each row of a (R,C) tensor ascending (stable); returns values and indices.
    public static func sortRows(_ x: Tensor, descending: Bool = false) -> (values: Tensor, indices: [Int]) { fatalError("pending") }
    /// Indices of the k smallest (largest: false) or largest elements of a flat array, ordered.
    public static func topK(_ values: UnsafePointer<Float>, count: Int, k: Int, largest: Bool) -> [Int] { fatalError("pending") }
}
