import COpenBLAS
import Foundation

// Shared machinery of the raw kernels: splitting a loop over the machine's cores, and a pool of
// reusable scratch buffers so that the steady state (the same shapes every training step)
// allocates nothing.

public enum KernelParallel {
    /// Number of worker threads used for large loops: KP2D_THREADS if set, else the machine's active
    /// cores, divided between the processes an MPI launcher started on this machine
    /// (OMPI_COMM_WORLD_LOCAL_SIZE), so that 2 ranks on 2 cores run 1 thread each.
    public static let threads: Int = threadCount(ProcessInfo.processInfo.environment,
                                                 cores: ProcessInfo.processInfo.activeProcessorCount)

    static func threadCount(_ env: [String: String], cores: Int) -> Int {
        if let s = env["KP2D_THREADS"], let n = Int(s), n > 0 { return n }
        for key in ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "PMI_LOCAL_SIZE"] {
            if let s = env[key], let n = Int(s), n > 1 { return max(1, cores / n) }
        }
        return max(1, cores)
    }

    /// Set OpenBLAS's thread count (Distributed uses it to split the cores between local ranks).
    public static func setBLASThreads(_ n: Int) {
        blasLock.lock(); defer { blasLock.unlock() }
        kp2d_openblas_set_threads(Int32(max(1, n)))
    }

    private static let blasLock = NSLock()

    /// Run `body` with OpenBLAS limited to one thread (for kernels that run one sgemm per core
    /// themselves), restoring the previous thread count afterwards. Such sections are serialised
    /// process-wide so that they never see each other's setting. Not reentrant.
    public static func withSingleThreadedBLAS<R>(_ body: () throws -> R) rethrows -> R {
        blasLock.lock()
        defer { blasLock.unlock() }
        let previous = Int(kp2d_openblas_threads())
        if previous != 1 { kp2d_openblas_set_threads(1) }
        defer { if previous != 1 { kp2d_openblas_set_threads(Int32(previous)) } }
        return try body()
    }

    /// Run `body` over `0..<count`, split into contiguous ranges across the cores when the total
    /// work (`count * costPerItem`, in rough element operations) is large enough to pay for it.
    /// `body` must only write memory owned by its own range.
    @inline(__always)
    public static func forRanges(_ count: Int, costPerItem: Int = 1, minWork: Int = 1 << 15,
                                 _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let tasks = Swift.min(threads, count)
        if tasks <= 1 || count * Swift.max(costPerItem, 1) < minWork {
            body(0..<count)
            return
        }
        DispatchQueue.concurrentPerform(iterations: tasks) { t in
            let lo = count * t / tasks, hi = count * (t + 1) / tasks
            if lo < hi { body(lo..<hi) }
        }
    }
}

/// Hands out 0, 1, 2, ... to workers that pull items until `count` is reached (dynamic
/// scheduling: a worker that is descheduled by other load does not hold up the rest).
public final class KernelWorkCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    public let count: Int
    public init(count: Int) { self.count = count }

    /// The next item, or nil when all are taken.
    public func take() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard next < count else { return nil }
        next += 1
        return next - 1
    }
}

/// A pool of float scratch buffers, keyed by size. `with(count:)` lends a buffer of at least
/// `count` floats for the duration of the closure (thread-safe: concurrent borrowers get distinct
/// buffers) and takes it back afterwards, so repeated calls with the same sizes never allocate.
public final class KernelScratch: @unchecked Sendable {
    public static let shared = KernelScratch()

    private final class Buffer {
        let pointer: UnsafeMutablePointer<Float>
        let capacity: Int
        init(capacity: Int) {
            self.capacity = capacity
            pointer = .allocate(capacity: capacity)
        }
        deinit { pointer.deallocate() }
    }

    private let lock = NSLock()
    private var free: [Buffer] = []
    /// At most this many idle buffers are kept; beyond that the smallest is released.
    public var maxIdleBuffers = 8

    public init() {}

    /// Lend `body` an uninitialised buffer of at least `count` floats.
    public func with<R>(count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let buffer = take(Swift.max(count, 1))
        defer { give(buffer) }
        return try body(buffer.pointer)
    }

    /// Total floats held by idle buffers (for tests and diagnostics).
    public var idleFloats: Int {
        lock.lock(); defer { lock.unlock() }
        return free.reduce(0) { $0 + $1.capacity }
    }

    private func take(_ count: Int) -> Buffer {
        lock.lock()
        // The smallest idle buffer that is large enough.
        var best = -1
        for (i, b) in free.enumerated() where b.capacity >= count {
            if best < 0 || b.capacity < free[best].capacity { best = i }
        }
        if best >= 0 {
            let b = free.remove(at: best)
            lock.unlock()
            return b
        }
        lock.unlock()
        return Buffer(capacity: count)
    }

    private func give(_ b: Buffer) {
        lock.lock()
        free.append(b)
        if free.count > maxIdleBuffers {
            let smallest = free.indices.min { free[$0].capacity < free[$1].capacity }!
            free.remove(at: smallest)
        }
        lock.unlock()
    }
}

/// Reductions for the kernels: SIMD float partial sums over blocks of 1024, combined in Double,
/// so long sums (a 240x320 plane times a batch) stay accurate and vectorised.
public enum KernelSums {
    @inline(__always)
    private static func load8(_ p: UnsafeMutablePointer<Float>, _ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// sum p[i]
    public static func sum(_ p: UnsafeMutablePointer<Float>, _ count: Int) -> Double {
        var total: Double = 0
        var start = 0
        while start < count {
            let end = Swift.min(count, start + 1024)
            var acc = SIMD8<Float>(repeating: 0)
            var i = start
            while i + 8 <= end { acc += load8(p, i); i += 8 }
            var rest: Float = 0
            while i < end { rest += p[i]; i += 1 }
            total += Double(acc.sum()) + Double(rest)
            start = end
        }
        return total
    }

    /// sum (p[i] - mu)^2
    public static func sumSquaredDeviation(_ p: UnsafeMutablePointer<Float>, _ count: Int, mean mu: Float) -> Double {
        var total: Double = 0
        var start = 0
        let m = SIMD8<Float>(repeating: mu)
        while start < count {
            let end = Swift.min(count, start + 1024)
            var acc = SIMD8<Float>(repeating: 0)
            var i = start
            while i + 8 <= end { let d = load8(p, i) - m; acc += d * d; i += 8 }
            var rest: Float = 0
            while i < end { let d = p[i] - mu; rest += d * d; i += 1 }
            total += Double(acc.sum()) + Double(rest)
            start = end
        }
        return total
    }

    /// sum a[i] * (b[i] - mu)
    public static func sumProductCentered(_ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>,
                                          _ count: Int, mean mu: Float) -> Double {
        var total: Double = 0
        var start = 0
        let m = SIMD8<Float>(repeating: mu)
        while start < count {
            let end = Swift.min(count, start + 1024)
            var acc = SIMD8<Float>(repeating: 0)
            var i = start
            while i + 8 <= end { acc += load8(a, i) * (load8(b, i) - m); i += 8 }
            var rest: Float = 0
            while i < end { rest += a[i] * (b[i] - mu); i += 1 }
            total += Double(acc.sum()) + Double(rest)
            start = end
        }
        return total
    }
}
