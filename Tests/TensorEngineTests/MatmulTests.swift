import TestSupport
import XCTest
@testable import TensorEngine

/// OpenBLAS sgemm against its naive twin, and the matmul op's gradients for every transpose combination.
final class MatmulTests: XCTestCase {
    func testSgemmMatchesNaiveTwin() {
        for (tA, tB) in [(false, false), (true, false), (false, true), (true, true)] {
            for (m, n, k) in [(1, 1, 1), (7, 5, 3), (33, 17, 65)] {
                let a = randn(tA ? [k, m] : [m, k], seed: 31), b = randn(tB ? [n, k] : [k, n], seed: 32)
                for beta: Float in [0, 1, 0.5] {
                    let c1 = randn([m, n], seed: 33), c2 = c1.copy()
                    MatmulKernels.sgemm(c: c1.data, ldc: n, transA: tA, transB: tB, m: m, n: n, k: k, alpha: 0.75, a: a.data, lda: tA ? m : k,
                                        b: b.data, ldb: tB ? k : n, beta: beta)
                    MatmulKernels.sgemmNaive(c: c2.data, ldc: n, transA: tA, transB: tB, m: m, n: n, k: k, alpha: 0.75, a: a.data, lda: tA ? m : k,
                                             b: b.data, ldb: tB ? k : n, beta: beta)
                    assertClose(c1.array, c2.array.map(Double.init), atol: 1e-5, rtol: 1e-5, "sgemm tA \(tA) tB \(tB) \(m)x\(n)x\(k) beta \(beta)")
                }
            }
        }
    }

    /// The engine's own split of a large sgemm (blocks of C's rows or columns, one single-threaded call each) against
    /// the naive twin, for every transpose, both split directions, beta 0 and 1, leading dimensions wider than the
    /// matrices and sides that are not multiples of the block alignment; and the same bits on every repetition.
    func testSplitSgemmMatchesNaiveTwinAndRepeatsItsBits() {
        for (tA, tB) in [(false, false), (true, false), (false, true), (true, true)] {
            for (m, n, k) in [(70, 300, 129), (301, 66, 64), (97, 97, 33)] {
                let lda = (tA ? m : k) + 3, ldb = (tB ? k : n) + 5, ldc = n + 7
                let a = randn([tA ? k : m, lda], seed: 41), b = randn([tB ? n : k, ldb], seed: 42)
                for beta: Float in [0, 1] {
                    let start = randn([m, ldc], seed: 43)
                    let naive = start.copy()
                    MatmulKernels.sgemmNaive(c: naive.data, ldc: ldc, transA: tA, transB: tB, m: m, n: n, k: k,
                                             alpha: 0.75, a: a.data, lda: lda, b: b.data, ldb: ldb, beta: beta)
                    for workers in [2, 3, 5] {
                        let c1 = start.copy(), c2 = start.copy()
                        for c in [c1, c2] {
                            MatmulKernels.sgemm(workers: workers, c: c.data, ldc: ldc, transA: tA, transB: tB, m: m, n: n, k: k,
                                                alpha: 0.75, a: a.data, lda: lda, b: b.data, ldb: ldb, beta: beta)
                        }
                        let label = "tA \(tA) tB \(tB) \(m)x\(n)x\(k) beta \(beta) workers \(workers)"
                        assertClose(c1.array, naive.array.map(Double.init), atol: 1e-4, rtol: 1e-4, label)
                        XCTAssertEqual(c1.array, c2.array, "repeat: " + label)
                    }
                }
            }
        }
    }

    func testSplitWorkersFollowTheEnvironmentAndTheSize() {
        XCTAssertEqual(KernelParallel.sgemmSplitWorkers([:], threads: 2), 2)
        XCTAssertNil(KernelParallel.sgemmSplitWorkers(["OPENBLAS_NUM_THREADS": "1"], threads: 2))
        XCTAssertNil(KernelParallel.sgemmSplitWorkers(["OMP_NUM_THREADS": "4"], threads: 2))
        XCTAssertEqual(KernelParallel.sgemmSplitWorkers(["OPENBLAS_NUM_THREADS": ""], threads: 3), 3)
        XCTAssertEqual(MatmulKernels.blockBoundary(0, of: 3, side: 100), 0)
        XCTAssertEqual(MatmulKernels.blockBoundary(3, of: 3, side: 100), 100)
        XCTAssertEqual(MatmulKernels.blockBoundary(1, of: 2, side: 100), 64)   // 4 blocks of 32 columns: 2 + 2
        if KernelParallel.sgemmSplitWorkers > 1 {
            XCTAssertEqual(MatmulKernels.splitWorkers(m: 8, n: 8, k: 8), 1, "a small product is not split")
            XCTAssertEqual(MatmulKernels.splitWorkers(m: 256, n: 256, k: 256), min(KernelParallel.sgemmSplitWorkers, 8))
            KernelParallel.withSingleThreadedBLAS {
                XCTAssertEqual(MatmulKernels.splitWorkers(m: 256, n: 256, k: 256), 1, "inside a section the kernel splits")
            }
        }
    }

    func testSgemmWithEmptyInnerDimensionScalesC() {
        let c = Tensor(shape: [2, 2], values: [1, 2, 3, 4])
        let dummy = Tensor(shape: [1])
        MatmulKernels.sgemm(c: c.data, ldc: 2, transA: false, transB: false, m: 2, n: 2, k: 0, alpha: 1, a: dummy.data, lda: 1,
                            b: dummy.data, ldb: 2, beta: 0.5)
        XCTAssertEqual(c.array, [0.5, 1, 1.5, 2])
    }

    func testMatmulForwardAndGradients() {
        let (m, n, k) = (4, 3, 5)
        for (tA, tB) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = randn(tA ? [k, m] : [m, k], seed: 34), b = randn(tB ? [n, k] : [k, n], seed: 35)
            checkOp([a, b], { g, v in g.matmul(v[0], v[1], transposeA: tA, transposeB: tB) }, { x in
                var out = [Double](repeating: 0, count: m * n)
                for i in 0..<m { for j in 0..<n { for p in 0..<k {
                    let av = tA ? x[0][p * m + i] : x[0][i * k + p]
                    let bv = tB ? x[1][j * k + p] : x[1][p * n + j]
                    out[i * n + j] += av * bv
                } } }
                return out
            }, ownH: 1e-2)
        }
    }

    func testMatmulGradientToOneSideOnly() {
        let a = randn([3, 2], seed: 36), b = randn([2, 4], seed: 37)
        checkOp([a, b], { g, v in g.matmul(v[0], v[1]) }, { (x: [[Double]]) -> [Double] in
            var out: [Double] = []
            for i in 0..<3 { for j in 0..<4 {
                let s0: Double = x[0][i * 2] * x[1][j]
                out.append(s0 + x[0][i * 2 + 1] * x[1][4 + j])
            } }
            return out
        }, grads: [false, true])
    }
}
