// 2-D matrix product on OpenBLAS; kernels in Kernels/MatmulKernels.swift.

extension Graph {
    /// 2-D matrix product op(a) @ op(b) where op transposes when asked. a (M,K) b (K,N) -> (M,N).
    public func matmul(_ a: Variable, _ b: Variable, transposeA: Bool = false, transposeB: Bool = false) -> Variable {
        precondition(a.shape.count == 2 && b.shape.count == 2, "matmul: expected 2-D operands, got \(a.shape) and \(b.shape)")
        let m = transposeA ? a.shape[1] : a.shape[0], k = transposeA ? a.shape[0] : a.shape[1]
        let kb = transposeB ? b.shape[1] : b.shape[0], n = transposeB ? b.shape[0] : b.shape[1]
        precondition(k == kb, "matmul: inner dimensions differ: op(a) is (\(m),\(k)), op(b) is (\(kb),\(n))")
        let y = output([m, n], from: a, b)
        let pa = a.value.data, pb = b.value.data
        MatmulKernels.matmulForward(y.value.data, pa, pb, m: m, n: n, k: k, transA: transposeA, transB: transposeB)
        record(y) { dy in
            MatmulKernels.matmulBackward(a.requiresGrad ? a.gradient().data : nil, b.requiresGrad ? b.gradient().data : nil,
                                         dy.data, pa, pb, m: m, n: n, k: k, transA: transposeA, transB: transposeB)
        }
        return y
    }
}
