// Sorting kernels (non-differentiable; ops in Ops/TensorOps.swift). NaN sorts above every number
// (as torch.sort). Outputs first, read-only inputs as UnsafePointer.

public enum SortKernels {
    /// a < b with NaN greater than everything.
    @inline(__always) static func less(_ a: Float, _ b: Float) -> Bool {
        if a.isNaN { return false }
        if b.isNaN { return true }
        return a < b
    }

    /// Sort each row of x (R,C) ascending (stable) into values (R,C) and indices (R*C): indices[r*C + j]
    /// is the column of x that landed at position j of row r. Descending is also stable (equal values
    /// keep their original order).
    public static func sortRows(_ values: UnsafeMutablePointer<Float>, _ indices: UnsafeMutablePointer<Int>,
                                _ x: UnsafePointer<Float>, rows r: Int, columns c: Int, descending: Bool) {
        let px = x, pv = values
        var order = [Int](repeating: 0, count: c)
        for row in 0..<r {
            let base = px + row * c
            for j in 0..<c { order[j] = j }
            // sort by (value, original index): a total order, hence stable.
            order.sort { i, j in
                let a = base[i], b = base[j]
                if descending ? less(b, a) : less(a, b) { return true }
                if descending ? less(a, b) : less(b, a) { return false }
                return i < j
            }
            for j in 0..<c {
                pv[row * c + j] = base[order[j]]
                indices[row * c + j] = order[j]
            }
        }
    }

    /// Indices of the k smallest (largest: false) or largest elements of a flat array, ordered
    /// (best first; equal values by ascending index). k larger than count returns all indices.
    public static func topK(_ values: UnsafePointer<Float>, count: Int, k: Int, largest: Bool) -> [Int] {
        precondition(k >= 0, "topK: k must be >= 0, got \(k)")
        let k = Swift.min(k, count)
        if k == 0 { return [] }
        // before(i, j): element i ranks ahead of j.
        func before(_ i: Int, _ j: Int) -> Bool {
            let a = values[i], b = values[j]
            if largest ? less(b, a) : less(a, b) { return true }
            if largest ? less(a, b) : less(b, a) { return false }
            return i < j
        }
        if k * 8 >= count {
            var all = Array(0..<count)
            all.sort(by: before)
            return Array(all.prefix(k))
        }
        // Bounded max-heap of the k best so far (root = the worst of them).
        var heap = [Int]()
        heap.reserveCapacity(k)
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var w = i
                if l < heap.count && before(heap[w], heap[l]) { w = l }
                if r < heap.count && before(heap[w], heap[r]) { w = r }
                if w == i { return }
                heap.swapAt(i, w)
                i = w
            }
        }
        for i in 0..<count {
            if heap.count < k {
                heap.append(i)
                var c = heap.count - 1
                while c > 0 {
                    let p = (c - 1) / 2
                    if before(heap[p], heap[c]) { heap.swapAt(p, c); c = p } else { break }
                }
            } else if before(i, heap[0]) {
                heap[0] = i
                siftDown(0)
            }
        }
        heap.sort(by: before)
        return heap
    }
}
