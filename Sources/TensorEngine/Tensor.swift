import Foundation
import Synchronization

// Tensor: a contiguous float32 array with a shape (row-major, last index fastest).
// Images and feature maps are NCHW. Reference semantics: a Tensor owns (or shares, after
// `reshaped`) one heap buffer whose address never changes, so kernels take `data` once.

/// Heap storage shared by a tensor and its reshaped views. Large buffers are recycled through
/// StoragePool.shared (same-shape steps reuse them); a new storage is zero-filled unless made with
/// `initialized: false` (for outputs a kernel overwrites completely).
///
/// `version` counts modifications: Tensor's own writing methods, Module.loadStateDict and Adam.update bump it;
/// code that writes a tensor through its raw `data` pointer calls `markModified()` when it is done. Values
/// derived from the contents and cached with the storage (`derived`, e.g. the Winograd-transformed weights of
/// an inference convolution) are recomputed when the version has changed since they were made.
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    /// Tests set this: storages made with `initialized: false` are filled with NaN instead of left as they
    /// come, so an element a kernel fails to write shows up in any comparison. Also set by KP2D_POISON_UNINITIALIZED=1.
    nonisolated(unsafe) public static var poisonUninitialized =
        ProcessInfo.processInfo.environment["KP2D_POISON_UNINITIALIZED"] == "1"

    private let modifications = Atomic<Int>(0)
    /// Stored inline (no object per tensor); used only by `derived`.
    private let derivedValues = Mutex<[String: (version: Int, storage: TensorStorage)]>([:])

    public init(count: Int, initialized: Bool = true) {
        self.count = count
        pointer = StoragePool.shared.take(max(count, 1))
        if initialized {
            pointer.initialize(repeating: 0, count: max(count, 1))
        } else if TensorStorage.poisonUninitialized {
            pointer.initialize(repeating: .nan, count: max(count, 1))
        }
    }

    deinit { StoragePool.shared.give(pointer, count: max(count, 1)) }

    /// Number of modifications so far (see the type's comment).
    public var version: Int { modifications.load(ordering: .acquiring) }

    /// Record that the contents changed (after writing them), so that cached derived values are remade.
    public func markModified() { modifications.wrappingAdd(1, ordering: .releasing) }

    /// A value of `count` floats derived from this storage's contents by `make`, cached under `key` until the
    /// contents change (`version`). The version is read before `make` runs, so a writer that finishes (and marks)
    /// during `make` makes the next call recompute. Thread-safe; `make` runs under a lock of this storage.
    public func derived(_ key: String, count: Int, _ make: (UnsafeMutablePointer<Float>) -> Void) -> TensorStorage {
        derivedValues.withLock { values in
            let v = version
            if let d = values[key], d.version == v, d.storage.count == count { return d.storage }
            values[key] = nil
            let d = TensorStorage(count: count, initialized: false)
            make(d.pointer)
            values[key] = (v, d)
            return d
        }
    }

    /// Keys of the derived values held (tests, diagnostics).
    public var derivedKeys: [String] { derivedValues.withLock { $0.keys.sorted() } }
}

public final class Tensor: @unchecked Sendable, CustomStringConvertible {
    public let shape: [Int]
    public let count: Int
    public let storage: TensorStorage
    /// Base address of the elements. Stable for the tensor's lifetime.
    public var data: UnsafeMutablePointer<Float> { storage.pointer }

    /// A zero-filled tensor.
    public init(shape: [Int]) {
        Tensor.checkShape(shape)
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.storage = TensorStorage(count: count)
    }

    /// A tensor whose elements are NOT initialised (NaN when TensorStorage.poisonUninitialized): only for the
    /// output of a kernel that writes every element (convolutions), which saves the zero-fill pass.
    public init(uninitializedShape shape: [Int]) {
        Tensor.checkShape(shape)
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.storage = TensorStorage(count: count, initialized: false)
    }

    /// A tensor holding `values` (row-major). Fails if the element count does not match the shape.
    public convenience init(shape: [Int], values: [Float]) {
        self.init(shape: shape)
        precondition(values.count == count,
                     "Tensor(shape: \(shape)) needs \(count) values, got \(values.count)")
        if count > 0 { values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) } }
    }

    /// A zero-dimensional tensor (one element).
    public convenience init(scalar: Float) {
        self.init(shape: [], values: [scalar])
    }

    /// A tensor of the given shape filled with `value`.
    public convenience init(shape: [Int], repeating value: Float) {
        self.init(shape: shape)
        data.update(repeating: value, count: count)
    }

    private init(shape: [Int], storage: TensorStorage) {
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.storage = storage
    }

    static func checkShape(_ shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "tensor shape \(shape) has a negative dimension")
    }

    // MARK: shape helpers

    public var rank: Int { shape.count }
    public func dim(_ i: Int) -> Int { shape[i < 0 ? shape.count + i : i] }

    /// (N, C, H, W) of a rank-4 tensor; fails with a clear message otherwise.
    public var nchw: (n: Int, c: Int, h: Int, w: Int) {
        precondition(shape.count == 4, "expected an NCHW tensor, got shape \(shape)")
        return (shape[0], shape[1], shape[2], shape[3])
    }

    /// A view with another shape over the same storage (same element count).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        let n = newShape.reduce(1, *)
        precondition(n == count, "cannot reshape \(shape) (\(count) elements) to \(newShape) (\(n) elements)")
        return Tensor(shape: newShape, storage: storage)
    }

    /// Fails with a clear message if the shape is not `expected`.
    public func expectShape(_ expected: [Int], _ what: @autoclosure () -> String = "tensor") {
        precondition(shape == expected, "\(what()): expected shape \(expected), got \(shape)")
    }

    // MARK: element access (for tests and small code; kernels use `data`)

    public var array: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }
    public var scalar: Float {
        precondition(count == 1, "scalar of a tensor with shape \(shape)")
        return data[0]
    }

    public subscript(flat i: Int) -> Float {
        get { data[i] }
        set { data[i] = newValue; storage.markModified() }
    }

    public subscript(indices: Int...) -> Float {
        get { data[offset(indices)] }
        set { data[offset(indices)] = newValue; storage.markModified() }
    }

    /// storage.markModified(): call after writing the elements through `data`.
    public func markModified() { storage.markModified() }

    public func offset(_ indices: [Int]) -> Int {
        precondition(indices.count == shape.count, "index \(indices) for shape \(shape)")
        var o = 0
        for (i, d) in zip(indices, shape) {
            precondition(i >= 0 && i < d, "index \(indices) out of range for shape \(shape)")
            o = o * d + i
        }
        return o
    }

    // MARK: whole-tensor operations

    public func copy() -> Tensor {
        let t = Tensor(shape: shape)
        t.data.update(from: data, count: count)
        return t
    }

    public func zero() { data.update(repeating: 0, count: count); storage.markModified() }
    public func fill(_ v: Float) { data.update(repeating: v, count: count); storage.markModified() }

    /// self += other (same element count). Backward passes accumulate with this.
    public func add(_ other: Tensor) {
        precondition(other.count == count, "add: shapes \(shape) and \(other.shape) differ")
        ArithmeticKernels.accumulate(data, other.data, count: count)
        storage.markModified()
    }

    /// self = other (same element count).
    public func assign(_ other: Tensor) {
        precondition(other.count == count, "assign: shapes \(shape) and \(other.shape) differ")
        data.update(from: other.data, count: count)
        storage.markModified()
    }

    public var description: String {
        let head = array.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(\(shape), [\(head)\(count > 8 ? ", ..." : "")])"
    }
}
