import Foundation

// StoragePool: a size-keyed free list of the float buffers behind TensorStorage. Every op allocates
// its output, and the same shapes come back every training step; large buffers straight from
// malloc are fresh mmap pages that page-fault (and are zeroed by the kernel) on first touch, then
// are unmapped again on free. Keeping released buffers by exact element count makes a steady-state
// step reuse them instead. Thread-safe. Idle memory is capped (`maxIdleBytes`); beyond the cap a
// released buffer is freed. Buffers handed out are NOT initialised (TensorStorage zero-fills).

public final class StoragePool: @unchecked Sendable {
    public static let shared = StoragePool()

    /// Buffers smaller than this many floats go straight to malloc (cheap, and not worth a lock).
    public static let minPooledCount = 16 * 1024

    private let lock = NSLock()
    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var idleBytesTotal = 0
    /// At most this many bytes are kept idle; further released buffers are freed.
    public var maxIdleBytes = 3 << 30

    public init() {}

    /// Bytes currently held idle (for tests and diagnostics).
    public var idleBytes: Int {
        lock.lock(); defer { lock.unlock() }
        return idleBytesTotal
    }

    /// An uninitialised buffer of exactly `count` floats (count >= 1).
    public func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count >= StoragePool.minPooledCount {
            lock.lock()
            if let p = free[count]?.popLast() {
                idleBytesTotal -= count * MemoryLayout<Float>.stride
                lock.unlock()
                return p
            }
            lock.unlock()
        }
        return .allocate(capacity: count)
    }

    /// Return a buffer obtained from `take(count)`.
    public func give(_ p: UnsafeMutablePointer<Float>, count: Int) {
        if count >= StoragePool.minPooledCount {
            let bytes = count * MemoryLayout<Float>.stride
            lock.lock()
            if idleBytesTotal + bytes <= maxIdleBytes {
                free[count, default: []].append(p)
                idleBytesTotal += bytes
                lock.unlock()
                return
            }
            lock.unlock()
        }
        p.deallocate()
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
