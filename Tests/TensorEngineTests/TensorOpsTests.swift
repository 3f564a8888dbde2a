import TestSupport
import XCTest
import TensorEngine

/// TensorOps.sortRows and TensorOps.topK.
final class TensorOpsTests: XCTestCase {
    func testSortRowsIsStableBothWays() {
        let x = Tensor(shape: [2, 5], values: [3, 1, 2, 1, 3, 0, -1, 0, 7, -1])
        let (v, i) = TensorOps.sortRows(x)
        XCTAssertEqual(v.array, [1, 1, 2, 3, 3, -1, -1, 0, 0, 7])
        XCTAssertEqual(i, [1, 3, 2, 0, 4, 1, 4, 0, 2, 3])
        let (vd, id) = TensorOps.sortRows(x, descending: true)
        XCTAssertEqual(vd.array, [3, 3, 2, 1, 1, 7, 0, 0, -1, -1])
        XCTAssertEqual(id, [0, 4, 2, 1, 3, 3, 0, 2, 1, 4])
    }

    func testTopKMatchesAFullSortForBothPaths() {
        // Many ties (values rounded to 0.1) so the order between equal values is exercised.
        let t = randn([1000], seed: 61)
        for i in 0..<t.count { t.data[i] = (t.data[i] * 10).rounded() / 10 }
        for largest in [false, true] {
            let order = (0..<t.count).sorted { a, b in
                let va = t.data[a], vb = t.data[b]
                if va != vb { return largest ? va > vb : va < vb }
                return a < b
            }
            for k in [0, 1, 7, 100, 300, 999, 1000, 1200] {   // 7 and 100 use the heap, the rest a sort
                XCTAssertEqual(TensorOps.topK(t.data, count: t.count, k: k, largest: largest),
                               Array(order.prefix(k)), "k \(k) largest \(largest)")
            }
        }
    }

    func testNaNSortsAboveNumbers() {
        let x = Tensor(shape: [1, 3], values: [.nan, 1, -1])
        XCTAssertEqual(TensorOps.sortRows(x).indices, [2, 1, 0])
        XCTAssertEqual(TensorOps.topK(x.data, count: 3, k: 1, largest: true), [0])
        XCTAssertEqual(TensorOps.topK(x.data, count: 3, k: 2, largest: false), [2, 1])
    }
}
