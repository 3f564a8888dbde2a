import TestSupport
import XCTest
import TensorEngine

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
