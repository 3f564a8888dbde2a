import Foundation

// StoragePool: the one pool of large buffers in the engine. Every op allocates its output, the kernels
// borrow scratch (im2col columns, per-worker partial sums) and max-pool keeps Int32 argmax indices, and
// the same sizes come back every training step. Large buffers straight from malloc are fresh mmap pages
// that page-fault (and are zeroed by the kernel) on first touch, then are unmapped again on free.
// Keeping released buffers by byte size makes a steady-state step reuse them instead.
//
//   take/give (floats, exact count)      TensorStorage (zero-filled by TensorStorage)
//   takeInt32/giveInt32 (exact count)    max-pool argmax indices
//   with(count:) (floats, at least count, lent for a closure; sizes rounded up to a power of two so
//                 that chunk buffers of different layers share a few classes; pages beyond `count`
//                 are never touched, so rounding costs address space, not memory)
//
// Buffers are kept as raw memory and bound to the element type each time they are handed out.
// Thread-safe. Idle memory is capped (`maxIdleBytes`); beyond the cap a released buffer is freed.
// Buffers handed out are NOT initialised. Below `minPooledCount` elements malloc is used directly.

public final class StoragePool: @unchecked Sendable {
    public static let shared = StoragePool()

    /// Buffers smaller than this many elements go straight to malloc (cheap, and not worth a lock).
    public static let minPooledCount = 16 * 1024
    static let alignment = 64

    private let lock = NSLock()
    private var free: [Int: [UnsafeMutableRawPointer]] = [:]   // by byte count
    private var idleBytesTotal = 0
    /// At most this many bytes are kept idle; further released buffers are freed.
    public var maxIdleBytes = 3 << 30

    public init() {}

    /// Bytes currently held idle (for tests and diagnostics).
    public var idleBytes: Int {
        lock.lock(); defer { lock.unlock() }
        return idleBytesTotal
    }

    // MARK: raw

    private func takeRaw(bytes: Int, pooled: Bool) -> UnsafeMutableRawPointer {
        if pooled {
            lock.lock()
            if let p = free[bytes]?.popLast() {
                idleBytesTotal -= bytes
                lock.unlock()
                return p
            }
            lock.unlock()
        }
        return .allocate(byteCount: bytes, alignment: StoragePool.alignment)
    }

    private func giveRaw(_ p: UnsafeMutableRawPointer, bytes: Int, pooled: Bool) {
        if pooled {
            lock.lock()
            if idleBytesTotal + bytes <= maxIdleBytes {
                free[bytes, default: []].append(p)
                idleBytesTotal += bytes
                lock.unlock()
                return
            }
            lock.unlock()
        }
        p.deallocate()
    }

    // MARK: floats (tensor storage)

    /// An uninitialised buffer of exactly `count` floats (count >= 1).
    public func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        takeRaw(bytes: count * MemoryLayout<Float>.stride, pooled: count >= StoragePool.minPooledCount)
            .bindMemory(to: Float.self, capacity: count)
    }

    /// Return a buffer obtained from `take(count)`.
    public func give(_ p: UnsafeMutablePointer<Float>, count: Int) {
        giveRaw(UnsafeMutableRawPointer(p), bytes: count * MemoryLayout<Float>.stride, pooled: count >= StoragePool.minPooledCount)
    }

    // MARK: Int32 (index buffers)

    /// An uninitialised buffer of exactly `count` Int32 (count >= 1).
    public func takeInt32(_ count: Int) -> UnsafeMutablePointer<Int32> {
        takeRaw(bytes: count * MemoryLayout<Int32>.stride, pooled: count >= StoragePool.minPooledCount)
            .bindMemory(to: Int32.self, capacity: count)
    }

    /// Return a buffer obtained from `takeInt32(count)`.
    public func giveInt32(_ p: UnsafeMutablePointer<Int32>, count: Int) {
        giveRaw(UnsafeMutableRawPointer(p), bytes: count * MemoryLayout<Int32>.stride, pooled: count >= StoragePool.minPooledCount)
    }

    // MARK: scratch

    /// Floats actually reserved for a scratch request of `count`: the next power of two once pooled.
    public static func scratchCapacity(_ count: Int) -> Int {
        let c = Swift.max(count, 1)
        if c < minPooledCount { return c }
        return 1 << (Int.bitWidth - (c - 1).leadingZeroBitCount)
    }

    /// Lend `body` an uninitialised buffer of at least `count` floats for the duration of the call
    /// (thread-safe: concurrent borrowers get distinct buffers); repeated calls reuse it.
    public func with<R>(count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let capacity = StoragePool.scratchCapacity(count)
        let p = take(capacity)
        defer { give(p, count: capacity) }
        return try body(p)
    }

    /// Free every idle buffer.
    public func drain() {
        lock.lock()
        let all = free
        free = [:]
        idleBytesTotal = 0
        lock.unlock()
        for (_, list) in all { for p in list { p.deallocate() } }
    }
}
