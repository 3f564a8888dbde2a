import TestSupport
import Foundation
import XCTest
import TensorEngine

/// The inference tail's kernels that now run across the cores (bilinear grid sample, L2 normalisation) against
/// their one-loop twins: the same arithmetic in the same order, so the results are equal bit for bit.
final class ParallelForwardTests: XCTestCase {
    func testBilinearGridSampleMatchesTwinExactly() {
        var rnd = TestRandom(700)
        for (n, c, hIn, wIn, hG, wG) in [(1, 256, 60, 80, 30, 40), (2, 5, 7, 9, 3, 11), (1, 1, 1, 4, 2, 2), (3, 70, 12, 8, 1, 1)] {
            let input = rnd.tensor([n, c, hIn, wIn])
            let grid = rnd.tensor([n, hG, wG, 2], -1.2, 1.2)   // some points outside, some on the border
            grid.data[0] = -1; grid.data[1] = 1
            let y = Tensor(shape: [n, c, hG, wG], repeating: .nan), ref = Tensor(shape: y.shape)
            GridSampleKernels.bilinearForward(y.data, input.data, grid.data, n: n, c: c, hIn: hIn, wIn: wIn, hG: hG, wG: wG)
            GridSampleKernels.bilinearForwardNaive(ref.data, input.data, grid.data, n: n, c: c, hIn: hIn, wIn: wIn, hG: hG, wG: wG)
            XCTAssertEqual(y.array.map(\.bitPattern), ref.array.map(\.bitPattern), "\(n) \(c) \(hIn)x\(wIn) -> \(hG)x\(wG)")
        }
    }

    func testL2NormalizeMatchesTwinExactly() {
        var rnd = TestRandom(701)
        for (outer, c, inner) in [(1, 256, 1200), (2, 3, 65), (3, 7, 1), (1, 1, 130)] {
            let x = rnd.tensor([outer, c, inner])
            let y = Tensor(shape: x.shape, repeating: .nan), ref = Tensor(shape: x.shape)
            let norm = Tensor(shape: [outer * inner], repeating: .nan), refNorm = Tensor(shape: [outer * inner])
            NormKernels.l2NormalizeForward(y.data, norm.data, x.data, outer: outer, c: c, inner: inner)
            NormKernels.l2NormalizeForwardNaive(ref.data, refNorm.data, x.data, outer: outer, c: c, inner: inner)
            XCTAssertEqual(y.array.map(\.bitPattern), ref.array.map(\.bitPattern), "\(outer) \(c) \(inner)")
            XCTAssertEqual(norm.array.map(\.bitPattern), refNorm.array.map(\.bitPattern))
        }
    }
}
