import Foundation

// maxPool2d op: 2x2, stride 2, floor mode, ties to the first maximum (kernels: PoolKernels).

/// Argmax indices of a max-pool, Int32 flat offsets h*W+w within each (n,c) input plane, one per
/// output element. The memory comes from StoragePool (released buffers are handed to the next
/// max-pool of that size, so training steps do not page-fault fresh index arrays).
final class PoolIndexBuffer {
    let pointer: UnsafeMutablePointer<Int32>
    let count: Int

    init(count: Int) {
        self.count = count
        pointer = StoragePool.shared.takeInt32(Swift.max(count, 1))
    }

    deinit { StoragePool.shared.giveInt32(pointer, count: Swift.max(count, 1)) }
}

extension Graph {
    /// 2x2 max-pool, stride 2, floor mode; ties go to the first element in row-major order.
    /// x (N,C,H,W) -> (N,C,H/2,W/2)
    public func maxPool2d(_ x: Variable) -> Variable { maxPool2dCore(x).output }

    /// maxPool2d that also returns, per output element (row-major over (N,C,H/2,W/2)), the flat index
    /// h*W+w of the winning input element within its (n,c) plane (PyTorch's `return_indices`).
    public func maxPool2dWithIndices(_ x: Variable) -> (output: Variable, indices: [Int]) {
        let (y, idx) = maxPool2dCore(x)
        return (y, (0..<idx.count).map { Int(idx.pointer[$0]) })
    }

    private func maxPool2dCore(_ x: Variable) -> (output: Variable, indices: PoolIndexBuffer) {
        precondition(x.value.rank == 4, "maxPool2d: input must be (N,C,H,W), got \(x.shape)")
        let (n, c, h, w) = x.value.nchw
        precondition(h >= 2 && w >= 2, "maxPool2d: input \(x.shape) is smaller than the 2x2 window")
        let y = outputUninitialized([n, c, h / 2, w / 2], from: [x])
        let idx = PoolIndexBuffer(count: y.count)
        PoolKernels.maxPool2x2Forward(y.value.data, idx.pointer, x.value.data, planes: n * c, h: h, w: w)
        record(y) { dy in
            PoolKernels.maxPool2x2Backward(x.gradient().data, dy.data, idx.pointer, planes: n * c, h: h, w: w)
        }
        return (y, idx)
    }
}
