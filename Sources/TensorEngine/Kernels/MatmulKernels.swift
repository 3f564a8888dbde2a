import COpenBLAS

// Row-major single-precision matrix products: C = alpha * op(A) op(B) + beta * C, op(A) (M,K), op(B) (K,N).
// `sgemm` calls OpenBLAS; `sgemmNaive` is its slow twin (triple loop, Double accumulation) for tests.
// A stored transposed is (K,M) with leading dimension lda >= M; otherwise (M,K) with lda >= K. Same for B.
// As every kernel, the output comes first (C and its leading dimension), then cblas_sgemm's other
// arguments in cblas order; A and B are read-only.

public enum MatmulKernels {
    public static func sgemm(c: UnsafeMutablePointer<Float>, ldc: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                             alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float) {
        if m == 0 || n == 0 { return }
        if k == 0 {   // BLAS leaves C untouched only when beta == 1; scale explicitly
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } }
            return
        }
        KernelParallel.withBLASThreadCountHeld {
            cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                        blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb),
                        beta, c, blasint(ldc))
        }
    }

    public static func sgemmNaive(c: UnsafeMutablePointer<Float>, ldc: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                                  alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float) {
        for i in 0..<m {
            for j in 0..<n {
                var s: Double = 0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    s += Double(av) * Double(bv)
                }
                let old = beta == 0 ? 0 : beta * c[i * ldc + j]   // beta 0 ignores NaN in C, as BLAS does
                c[i * ldc + j] = alpha * Float(s) + old
            }
        }
    }

    /// y (M,N) = op(a) op(b); a is (M,K) or (K,M) if transA, b is (K,N) or (N,K) if transB.
    public static func matmulForward(_ y: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                     m: Int, n: Int, k: Int, transA: Bool, transB: Bool) {
        sgemm(c: y, ldc: n, transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1,
              a: a, lda: transA ? m : k, b: b, ldb: transB ? k : n, beta: 0)
    }

    /// da += dL/da, db += dL/db (either may be nil) given dy (M,N); a and b in the forward's order.
    public static func matmulBackward(_ da: UnsafeMutablePointer<Float>?, _ db: UnsafeMutablePointer<Float>?,
                                      _ dy: UnsafePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                      m: Int, n: Int, k: Int, transA: Bool, transB: Bool) {
        let lda = transA ? m : k, ldb = transB ? k : n
        if let da {
            if !transA {   // dA (M,K) += dY (M,N) @ op(B)^T
                sgemm(c: da, ldc: lda, transA: false, transB: !transB, m: m, n: k, k: n, alpha: 1, a: dy, lda: n, b: b, ldb: ldb, beta: 1)
            } else {       // dA (K,M) += op(B) (K,N) @ dY^T
                sgemm(c: da, ldc: lda, transA: transB, transB: true, m: k, n: m, k: n, alpha: 1, a: b, lda: ldb, b: dy, ldb: n, beta: 1)
            }
        }
        if let db {
            if !transB {   // dB (K,N) += op(A)^T (K,M) @ dY
                sgemm(c: db, ldc: ldb, transA: !transA, transB: false, m: k, n: n, k: m, alpha: 1, a: a, lda: lda, b: dy, ldb: n, beta: 1)
            } else {       // dB (N,K) += dY^T (N,M) @ op(A)
                sgemm(c: db, ldc: ldb, transA: true, transB: transA, m: n, n: k, k: m, alpha: 1, a: dy, lda: n, b: a, ldb: lda, beta: 1)
            }
        }
    }
}
