// Non-differentiable sorting helpers on plain tensors (kernels: SortKernels). NaN sorts above every
// number (as torch.sort).

public enum TensorOps {
    /// Sort each row of a (R,C) tensor ascending (stable); returns values and indices.
    /// `indices` is (R*C) row-major: indices[r*C + j] is the column of x that landed at position j of row r.
    /// Descending is also stable (equal values keep their original order).
    public static func sortRows(_ x: Tensor, descending: Bool = false) -> (values: Tensor, indices: [Int]) {
        precondition(x.rank == 2, "sortRows: expected a (R,C) tensor, got \(x.shape)")
        let r = x.shape[0], c = x.shape[1]
        let values = Tensor(shape: x.shape)
        var indices = [Int](repeating: 0, count: r * c)
        indices.withUnsafeMutableBufferPointer { ip in
            SortKernels.sortRows(values.data, ip.baseAddress!, x.data, rows: r, columns: c, descending: descending)
        }
        return (values, indices)
    }

    /// Indices of the k smallest (largest: false) or largest elements of a flat array, ordered
    /// (best first; equal values by ascending index). k larger than count returns all indices.
    public static func topK(_ values: UnsafePointer<Float>, count: Int, k: Int, largest: Bool) -> [Int] {
        SortKernels.topK(values, count: count, k: k, largest: largest)
    }
}
