import COpenBLAS
import Foundation
import Synchronization

// Shared machinery of the raw kernels: splitting a loop over the machine's cores, dynamic work
// counters, SIMD reductions. Scratch buffers come from the one pool, StoragePool.shared.with(count:),
// so that the steady state (the same shapes every training step) allocates nothing.

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

    /// Who spreads a top-level sgemm over the cores. OpenBLAS's own threads busy-wait (sched_yield) for ~0.1 s
    /// after each call, competing with the engine's workers for the same cores: in a `fast` training step on 2
    /// cores that was a quarter of all CPU time and 1.18x the step time (docs/perf.md, Round 6). So unless the
    /// environment sets OpenBLAS's thread count (OPENBLAS_NUM_THREADS, GOTO_NUM_THREADS or OMP_NUM_THREADS, which
    /// are then honoured as before), OpenBLAS runs single-threaded and `MatmulKernels.sgemm` splits large
    /// products into one block of C per worker itself. The value is the number of workers for that split (1:
    /// OpenBLAS threads as the environment asked). Decided once, at the first sgemm or section, before either
    /// takes `blasLock` (deciding takes it).
    public static let sgemmSplitWorkers: Int = {
        let env = ProcessInfo.processInfo.environment
        guard let n = sgemmSplitWorkers(env, threads: threads) else { return 1 }
        setBLASThreads(1)
        return n
    }()

    /// The split's worker count for an environment, or nil when the environment sets OpenBLAS's threads.
    static func sgemmSplitWorkers(_ env: [String: String], threads: Int) -> Int? {
        let set = ["OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"].contains { !(env[$0] ?? "").isEmpty }
        return set ? nil : threads
    }

    /// Set OpenBLAS's thread count.
    public static func setBLASThreads(_ n: Int) {
        blasLock.lock(); defer { blasLock.unlock() }
        kp2d_openblas_set_threads(Int32(max(1, n)))
        configuredBLASThreads.store(max(1, n), ordering: .sequentiallyConsistent)
    }

    /// Serialises the single-threaded sections with each other and with multi-threaded calls from outside them.
    private static let blasLock = NSLock()
    /// OpenBLAS's thread count outside the sections (0 until a section or setBLASThreads has read or set it).
    /// Sections only ever lower it to 1 for their duration, so where it is 1 no section changes anything.
    private static let configuredBLASThreads = Atomic<Int>(0)
    /// Per thread: non-nil while the thread runs inside a single-threaded section, its own or (propagated by
    /// `perform`) the section of the thread that started its kernel.
    private static let sectionKey: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "KernelParallel: pthread_key_create failed")
        return key
    }()

    /// Whether the calling thread runs inside a single-threaded BLAS section (its own or its kernel's).
    public static var isInsideSingleThreadedSection: Bool { pthread_getspecific(sectionKey) != nil }

    @inline(__always)
    private static func markInsideSection(_ inside: Bool) {
        pthread_setspecific(sectionKey, inside ? UnsafeRawPointer(bitPattern: 1) : nil)
    }

    /// Run `body` with OpenBLAS limited to one thread (for kernels that run one sgemm per core
    /// themselves), restoring the previous thread count afterwards. Sections are serialised process-wide so
    /// that they never see each other's setting; OpenBLAS calls from other threads wait for them
    /// (`withBLASThreadCountHeld`). Reentrant: a section inside a section (same thread, or one of the section's
    /// kernel workers) just runs its body.
    public static func withSingleThreadedBLAS<R>(_ body: () throws -> R) rethrows -> R {
        if isInsideSingleThreadedSection { return try body() }
        _ = sgemmSplitWorkers   // decided before any lock is held: deciding takes the lock
        blasLock.lock()
        defer { blasLock.unlock() }
        let previous = Int(kp2d_openblas_threads())
        configuredBLASThreads.store(previous, ordering: .sequentiallyConsistent)
        if previous != 1 { kp2d_openblas_set_threads(1) }
        defer { if previous != 1 { kp2d_openblas_set_threads(Int32(previous)) } }
        markInsideSection(true)
        defer { markInsideSection(false) }
        return try body()
    }

    /// Run one OpenBLAS call (`body`) with the thread count it would have without any section running elsewhere.
    /// openblas_set_num_threads is global and not safe beside a running multi-threaded call (OpenBLAS 0.3.21 has
    /// no per-call thread count), and a call made while another thread's section holds the count at 1 would run
    /// single-threaded, which with some cores' kernels (Haswell) rounds differently: a probe or validation
    /// thread's inference section once changed the trainer's concurrent sgemm and with it the run's numbers
    /// (ProbeTests.testProbeChangesNothingInTheRun). So a call from outside every section waits for the sections
    /// (the lock), unless OpenBLAS is configured single-threaded (no section changes that); a call inside a
    /// section (the section's own workers) runs at once, single-threaded.
    @inline(__always)
    public static func withBLASThreadCountHeld<R>(_ body: () throws -> R) rethrows -> R {
        if isInsideSingleThreadedSection { return try body() }
        _ = sgemmSplitWorkers   // decided before the lock is held: deciding takes it
        if configuredBLASThreads.load(ordering: .sequentiallyConsistent) == 1 { return try body() }
        blasLock.lock()
        defer { blasLock.unlock() }
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
        perform(workers: tasks) { t in
            let lo = count * t / tasks, hi = count * (t + 1) / tasks
            if lo < hi { body(lo..<hi) }
        }
    }

    /// Run `body(0)`, ..., `body(workers - 1)` concurrently and return when all are done
    /// (DispatchQueue.concurrentPerform). `body` is a kernel's worker: it captures the kernel's raw
    /// pointers, which are not Sendable, so it cannot be the @Sendable closure concurrentPerform asks
    /// for; it goes to the threads in a `KernelShared` box instead. The kernel guarantees what the
    /// compiler cannot check: the workers only read shared inputs and write disjoint ranges (or
    /// private buffers), so there is no data race.
    /// Workers of a kernel started inside a single-threaded BLAS section count as inside it.
    public static func perform(workers: Int, _ body: (Int) -> Void) {
        let inSection = isInsideSingleThreadedSection
        withoutActuallyEscaping(body) { body in
            let shared = KernelShared(body)
            DispatchQueue.concurrentPerform(iterations: workers) { i in
                guard inSection else { return shared.value(i) }
                let outer = isInsideSingleThreadedSection
                markInsideSection(true)
                defer { markInsideSection(outer) }
                shared.value(i)
            }
        }
    }
}

/// A value handed to the worker threads of one kernel call (`KernelParallel.perform`): raw pointers
/// and non-@Sendable closures, which Swift 6 does not let a @Sendable closure capture. @unchecked:
/// safe only because a kernel's workers read shared memory and write disjoint ranges, and the box
/// never outlives the call that made it.
public struct KernelShared<Value>: @unchecked Sendable {
    public let value: Value
    @inline(__always) public init(_ value: Value) { self.value = value }
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

/// Reductions for the kernels: SIMD float partial sums over blocks of 1024, combined in Double,
/// so long sums (a 240x320 plane times a batch) stay accurate and vectorised.
public enum KernelSums {
    @inline(__always)
    private static func load8(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// sum p[i]
    public static func sum(_ p: UnsafePointer<Float>, _ count: Int) -> Double {
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
    public static func sumSquaredDeviation(_ p: UnsafePointer<Float>, _ count: Int, mean mu: Float) -> Double {
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
    public static func sumProductCentered(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
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
