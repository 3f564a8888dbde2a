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
        sgemm(workers: splitWorkers(m: m, n: n, k: k), c: c, ldc: ldc, transA: transA, transB: transB, m: m, n: n, k: k,
              alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta)
    }

    /// `sgemm` over a given number of blocks of C (1: one OpenBLAS call at OpenBLAS's thread count).
    static func sgemm(workers: Int, c: UnsafeMutablePointer<Float>, ldc: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                      alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float) {
        guard workers > 1 else {
            KernelParallel.withBLASThreadCountHeld {
                cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb),
                            beta, c, blasint(ldc))
            }
            return
        }
        // One block of C's columns (or rows, whichever side is longer) per worker, each a single-threaded sgemm
        // (KernelParallel.sgemmSplitWorkers). As with OpenBLAS's own threads, the blocks' sizes choose OpenBLAS's
        // kernel paths, so the last bits can differ from one whole call's; for a given worker count they are
        // always the same.
        let alongColumns = n >= m
        let side = alongColumns ? n : m
        KernelParallel.perform(workers: workers) { t in
            let lo = blockBoundary(t, of: workers, side: side), hi = blockBoundary(t + 1, of: workers, side: side)
            guard lo < hi else { return }
            if alongColumns {   // C[:, lo..<hi] = op(A) op(B)[:, lo..<hi]
                cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                            blasint(m), blasint(hi - lo), blasint(k), alpha, a, blasint(lda),
                            transB ? b + lo * ldb : b + lo, blasint(ldb), beta, c + lo, blasint(ldc))
            } else {            // C[lo..<hi, :] = op(A)[lo..<hi, :] op(B)
                cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                            blasint(hi - lo), blasint(n), blasint(k), alpha, transA ? a + lo : a + lo * lda, blasint(lda),
                            b, blasint(ldb), beta, c + lo * ldc, blasint(ldc))
            }
        }
    }

    /// Smallest product (multiply-adds) that `sgemm` splits over the workers: below it the hand-off costs more
    /// than the second core gives (a few microseconds against ~4 us of one core's work at this size).
    static let minSplitWork = 1 << 20
    /// Blocks of the split start at multiples of this many rows or columns (a whole number of the AVX-512
    /// kernels' 16-wide tiles).
    static let splitAlignment = 32

    /// Workers `sgemm` uses for an (M,K)x(K,N) product called from the current thread: 1 unless OpenBLAS runs
    /// single-threaded by the engine's choice, the call comes from outside every single-threaded section (whose
    /// kernels already run one sgemm per core), the product is large, and each worker gets at least one block.
    static func splitWorkers(m: Int, n: Int, k: Int) -> Int {
        let workers = KernelParallel.sgemmSplitWorkers
        guard workers > 1, m * n * k >= minSplitWork, !KernelParallel.isInsideSingleThreadedSection else { return 1 }
        return Swift.max(1, Swift.min(workers, Swift.max(m, n) / splitAlignment))
    }

    /// Start of block t of `blocks` over 0..<side, on multiples of splitAlignment (the last block ends at side).
    static func blockBoundary(_ t: Int, of blocks: Int, side: Int) -> Int {
        if t >= blocks { return side }
        let units = (side + splitAlignment - 1) / splitAlignment
        return Swift.min(side, units * t / blocks * splitAlignment)
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
