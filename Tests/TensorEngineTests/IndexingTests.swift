import TestSupport
import XCTest
import TensorEngine

/// gather, indexSelect, permute, slice, min (Ops/Indexing.swift).
final class IndexingTests: XCTestCase {
    let x = randn([2, 3, 4], seed: 11)

    func testGatherWithRepeatedIndicesScatterAdds() {
        let idx = [5, 0, 23, 5, 5, 11]
        checkOp([x], { g, v in g.gather(v[0], flatIndices: idx) }, { x in idx.map { x[0][$0] } })
        let g = Graph()
        let v = Variable(x.copy(), requiresGrad: true)
        g.backward(g.sum(g.gather(v, flatIndices: idx)))
        XCTAssertEqual(v.grad?[flat: 5], 3)
        XCTAssertEqual(v.grad?[flat: 1], 0)
    }

    func testIndexSelectOnEveryAxis() {
        let shape = x.shape
        for (axis, idx) in [(0, [1, 1, 0]), (1, [2, 0]), (2, [3, 3, 1, 0, 2])] {
            checkOp([x], { g, v in g.indexSelect(v[0], axis: axis, indices: idx) }, { xs in
                var out: [Double] = []
                let outer = shape[..<axis].reduce(1, *), size = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
                for o in 0..<outer { for j in idx { for i in 0..<inner { out.append(xs[0][(o * size + j) * inner + i]) } } }
                return out
            })
        }
        XCTAssertEqual(Graph().indexSelect(Variable(x), axis: 1, indices: [2, 0]).shape, [2, 2, 4])
    }

    func testPermute() {
        let x4 = randn([2, 3, 4, 5], seed: 12)
        for order in [[0, 2, 3, 1], [3, 1, 0, 2], [0, 1, 2, 3]] {
            let inShape = x4.shape
            checkOp([x4], { g, v in g.permute(v[0], order) }, { xs in
                let outShape = order.map { inShape[$0] }
                var out = [Double](repeating: 0, count: xs[0].count)
                for o in 0..<out.count {
                    var rem = o, idx = [Int](repeating: 0, count: 4)
                    for d in stride(from: 3, through: 0, by: -1) { idx[d] = rem % outShape[d]; rem /= outShape[d] }
                    var src = [Int](repeating: 0, count: 4)
                    for d in 0..<4 { src[order[d]] = idx[d] }
                    out[o] = xs[0][((src[0] * inShape[1] + src[1]) * inShape[2] + src[2]) * inShape[3] + src[3]]
                }
                return out
            })
        }
        XCTAssertEqual(Graph().permute(Variable(x4), [0, 2, 3, 1]).shape, [2, 4, 5, 3])
        // A 2-D transpose by hand.
        let m = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(Graph().permute(Variable(m), [1, 0]).value.array, [1, 4, 2, 5, 3, 6])
    }

    func testSlice() {
        checkOp([x], { g, v in g.slice(v[0], axis: 2, range: 1..<3) }, { xs in
            var out: [Double] = []
            for o in 0..<6 { for j in 1..<3 { out.append(xs[0][o * 4 + j]) } }
            return out
        })
        checkOp([x], { g, v in g.slice(v[0], axis: 0, range: 1..<2) }, { xs in Array(xs[0][12..<24]) })
    }

    func testMinAlongAxis() {
        let shape = x.shape
        for axis in 0..<3 {
            checkOp([x], { g, v in g.min(v[0], axis: axis).values }, { xs in
                let outer = shape[..<axis].reduce(1, *), size = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
                var out: [Double] = []
                for o in 0..<outer { for i in 0..<inner {
                    out.append((0..<size).map { xs[0][(o * size + $0) * inner + i] }.min()!)
                } }
                return out
            }, ownH: 1e-3)
        }
    }

    func testMinTiesGoToTheFirstIndexAndGetTheWholeGradient() {
        let g = Graph()
        let v = Variable(Tensor(shape: [2, 4], values: [3, 1, 1, 2, 5, 5, 5, 5]), requiresGrad: true)
        let (m, idx) = g.min(v, axis: 1)
        XCTAssertEqual(m.value.array, [1, 5])
        XCTAssertEqual(idx, [1, 0])
        g.backward(g.sum(m))
        XCTAssertEqual(v.grad?.array, [0, 1, 0, 0, 1, 0, 0, 0])
    }
}
