import CMPI
import Foundation
import TensorEngine

// The MPI process group of a data-parallel run (Open MPI through the CMPI shim), shaped after MLX's
// `mx.distributed` group and Horovod's hvd.init/allreduce/broadcast:
//   Launcher.isActive        mpirun (or another PMI launcher) started this process
//   Communicator.start()     MPI_Init_thread, only when a launcher started us; nil otherwise, so a
//                            single-process run never touches MPI (and never needs a launcher)
//   allreduceSum             in-place float sum, the same bits on every rank
//   broadcast(bytes:)        a length-prefixed blob from rank 0 (checkpoint state at start)
//   politeBroadcast          a small fixed record from rank 0 that the other ranks wait for with
//                            MPI_Test and a growing sleep, so a paused run costs them no CPU
//   watchdog                 a bounded collective that takes longer than `timeout` aborts the job
//   abort(message:)          one line on stderr naming this rank, then MPI_Abort (mpirun stops every rank)
// Calls come from one thread at a time (MPI_THREAD_SERIALIZED): the trainer thread during a run,
// the main thread for start and finish.

public enum Launcher {
    /// Environment variables a launcher sets: Open MPI's mpirun, and PMI/PMIx launchers (srun, hydra).
    public static let variables = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"]

    /// True when this process was started by an MPI launcher (then MPI must be initialised).
    public static var isActive: Bool { isActive(ProcessInfo.processInfo.environment) }

    public static func isActive(_ env: [String: String]) -> Bool { variables.contains { env[$0] != nil } }

    /// Processes of this job on this machine (to split the cores between them), if the launcher says.
    public static func localSize(_ env: [String: String] = ProcessInfo.processInfo.environment) -> Int? {
        for key in ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "PMI_LOCAL_SIZE"] {
            if let s = env[key], let n = Int(s), n > 0 { return n }
        }
        return nil
    }

    /// This process's rank before MPI is initialised (for messages printed that early), if the launcher says.
    public static func rankHint(_ env: [String: String] = ProcessInfo.processInfo.environment) -> Int? {
        for key in ["OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"] {
            if let s = env[key], let n = Int(s) { return n }
        }
        return nil
    }
}

public enum DistributedError: Error, CustomStringConvertible {
    case mpi(String)
    public var description: String { switch self { case let .mpi(s): return s } }
}

/// One process of the job, as every rank knows it after start (gathered once).
public struct Peer: Sendable, Equatable {
    public var rank: Int
    public var pid: Int32
    public var host: String
}

public final class Communicator: @unchecked Sendable {
    public let rank: Int
    public let size: Int
    public let peers: [Peer]
    public var isRoot: Bool { rank == 0 }

    /// Seconds a bounded collective (gradient allreduce, state broadcast) may take before the watchdog
    /// aborts the job: KP2D_MPI_TIMEOUT, default 600 (a step of the paper preset is ~4 s on 2 cores).
    public let timeout: Double
    private let watch = WatchState()
    private let hookLock = NSLock()
    private var _beforeWatchdogAbort: (@Sendable () -> String)?
    /// Called on the watchdog thread before it aborts the job (rank 0 saves there); its text joins the message.
    public var beforeWatchdogAbort: (@Sendable () -> String)? {
        get { hookLock.lock(); defer { hookLock.unlock() }; return _beforeWatchdogAbort }
        set { hookLock.lock(); _beforeWatchdogAbort = newValue; hookLock.unlock() }
    }
    private var finalized = false
    private static let lock = NSLock()
    nonisolated(unsafe) private static var _current: Communicator?

    /// The communicator of this process once started (nil in a single-process run).
    public static var current: Communicator? { lock.lock(); defer { lock.unlock() }; return _current }

    /// Initialise MPI if (and only if) a launcher started this process; nil otherwise. Idempotent.
    /// (KernelParallel.threads already splits the cores between the ranks on this machine.)
    public static func start() throws -> Communicator? {
        lock.lock(); defer { lock.unlock() }
        if let c = _current { return c }
        guard Launcher.isActive else { return nil }
        var provided: Int32 = 0
        let rc = kp2d_mpi_init(&provided)
        guard rc == 0 else { throw DistributedError.mpi("MPI_Init_thread failed (error \(rc)): is this process started by Open MPI's mpirun?") }
        if provided < kp2d_mpi_thread_serialized() {
            FileHandle.standardError.write(Data("warning: the MPI library grants thread level \(provided) < SERIALIZED; kp2d-tui makes MPI calls from its trainer thread\n".utf8))
        }
        let c = Communicator(rank: Int(kp2d_mpi_rank()), size: Int(kp2d_mpi_size()))
        _current = c
        c.startWatchdog()
        return c
    }

    private init(rank: Int, size: Int) {
        self.rank = rank; self.size = size
        let env = ProcessInfo.processInfo.environment
        timeout = env["KP2D_MPI_TIMEOUT"].flatMap(Double.init).flatMap { $0 > 0 ? $0 : nil } ?? 600
        // Who is who: pid and host of every rank, for messages about a rank that died.
        let recordSize = 72
        var mine = [UInt8](repeating: 0, count: recordSize)
        var pid = getpid()
        withUnsafeBytes(of: &pid) { for i in 0..<4 { mine[i] = $0[i] } }
        let host = Array(ProcessInfo.processInfo.hostName.utf8.prefix(recordSize - 5))
        for (i, b) in host.enumerated() { mine[4 + i] = b }
        var all = [UInt8](repeating: 0, count: recordSize * size)
        _ = mine.withUnsafeBytes { m in all.withUnsafeMutableBytes { kp2d_mpi_allgather_bytes(m.baseAddress, $0.baseAddress, Int32(recordSize)) } }
        peers = (0..<size).map { r in
            let rec = all[(r * recordSize)..<((r + 1) * recordSize)]
            let p = rec.prefix(4).withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }
            let h = rec.dropFirst(4).prefix { $0 != 0 }
            return Peer(rank: r, pid: p, host: String(decoding: h, as: UTF8.self))
        }
    }

    /// "rank 1 of 2"
    public var name: String { "rank \(rank) of \(size)" }

    // MARK: collectives

    /// In-place sum of `count` floats over all ranks; every rank receives the same bits. Watched.
    public func allreduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int, what: String) throws {
        precondition(count <= Int(Int32.max), "allreduce of \(count) floats: more than 2^31")
        watch.enter(what)
        defer { watch.leave() }
        let rc = kp2d_mpi_allreduce_sum_float(buffer, Int32(count))
        guard rc == 0 else { throw DistributedError.mpi("MPI_Allreduce (\(what)) failed with error \(rc) on \(name)") }
    }

    /// The element-wise largest of every rank's `values`.
    public func allreduceMax(_ values: [Int64], what: String) throws -> [Int64] {
        var v = values
        watch.enter(what)
        defer { watch.leave() }
        let rc = kp2d_mpi_allreduce_max_i64(&v, Int32(v.count))
        guard rc == 0 else { throw DistributedError.mpi("MPI_Allreduce (\(what)) failed with error \(rc) on \(name)") }
        return v
    }

    /// True on every rank iff every rank passed the same `value` (max of v and of ~v).
    public func allAgree(_ value: UInt64, what: String) throws -> Bool {
        let v = Int64(bitPattern: value), w = Int64(bitPattern: ~value)
        let m = try allreduceMax([v, w], what: what)
        return m[0] == v && m[1] == w
    }

    /// Rank 0's `bytes` on every rank (others pass anything; they receive rank 0's). Watched.
    public func broadcast(bytes: [UInt8], what: String) throws -> [UInt8] {
        watch.enter(what)
        defer { watch.leave() }
        var count = Int64(bytes.count)
        var rc = withUnsafeMutableBytes(of: &count) { kp2d_mpi_bcast_bytes($0.baseAddress, 8, 0) }
        guard rc == 0 else { throw DistributedError.mpi("MPI_Bcast (\(what)) failed with error \(rc) on \(name)") }
        var out = isRoot ? bytes : [UInt8](repeating: 0, count: Int(count))
        // In pieces below 2^31 bytes (MPI counts are int).
        var offset = 0
        let piece = 1 << 30
        while offset < out.count {
            let n = min(piece, out.count - offset)
            rc = out.withUnsafeMutableBytes { kp2d_mpi_bcast_bytes($0.baseAddress! + offset, Int32(n), 0) }
            guard rc == 0 else { throw DistributedError.mpi("MPI_Bcast (\(what)) failed with error \(rc) on \(name)") }
            offset += n
        }
        return out
    }

    /// A fixed-size record from rank 0. Rank 0 returns once it is sent; the other ranks wait for it
    /// polling MPI_Test, spinning for the first `spin` seconds (the next step usually follows at once)
    /// and then sleeping 1 ms, doubling up to 20 ms, so a paused rank 0 costs them no CPU.
    /// Not watched: rank 0 may stay paused for as long as its user likes.
    public func politeBroadcast(_ record: inout [UInt8], spin: Double = 0.05) throws {
        var pending = kp2d_mpi_pending()
        let count = record.count
        var rc = record.withUnsafeMutableBytes { kp2d_mpi_ibcast_bytes($0.baseAddress, Int32(count), 0, &pending) }
        guard rc == 0 else { throw DistributedError.mpi("MPI_Ibcast (control) failed with error \(rc) on \(name)") }
        var done: Int32 = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var sleepMicros: UInt32 = 1000
        while true {
            rc = kp2d_mpi_test(&pending, &done)
            guard rc == 0 else { throw DistributedError.mpi("MPI_Test (control) failed with error \(rc) on \(name)") }
            if done != 0 { return }
            if Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 < spin {
                sched_yield()
            } else {
                usleep(sleepMicros)
                sleepMicros = min(sleepMicros * 2, 20_000)
            }
        }
    }

    // MARK: ending

    /// Print `message` (prefixed with this rank) and stop the whole job (MPI_Abort: mpirun kills every
    /// rank and exits non-zero).
    public func abort(message: String, code: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data("kp2d-tui \(name): \(message)\n".utf8))
        kp2d_mpi_abort(code)
        exit(code)
    }

    /// MPI_Finalize (main thread, after the trainer thread ended). Idempotent.
    public func finish() {
        Communicator.lock.lock(); defer { Communicator.lock.unlock() }
        guard !finalized else { return }
        finalized = true
        watch.stop()
        if kp2d_mpi_finalized() == 0 { _ = kp2d_mpi_finalize() }
    }

    /// Ranks on this machine whose process is gone (for a message naming the rank that died).
    public func deadLocalPeers() -> [Peer] {
        let me = peers.first { $0.rank == rank }?.host
        return peers.filter { $0.rank != rank && $0.host == me && kill($0.pid, 0) != 0 && errno == ESRCH }
    }

    // MARK: watchdog

    private func startWatchdog() {
        NamedThread.start("kp2d.mpi-watch") { [self] in
            while let (what, since) = watch.poll() {
                if let since, Double(DispatchTime.now().uptimeNanoseconds - since) / 1e9 > timeout {
                    let dead = deadLocalPeers().map { "rank \($0.rank) (pid \($0.pid)) has died" }
                    let saved = beforeWatchdogAbort?() ?? ""
                    abort(message: "no answer from the other ranks for \(Int(timeout)) s during \(what)"
                        + (dead.isEmpty ? " (a rank is stuck or its machine unreachable; KP2D_MPI_TIMEOUT sets the limit)" : ": " + dead.joined(separator: ", "))
                        + "; stopping the job" + (saved.isEmpty ? "" : "; " + saved))
                }
                usleep(500_000)
            }
        }
    }
}

/// What the watched thread is doing: a bounded collective since a time, or nothing.
final class WatchState: @unchecked Sendable {
    private let lock = NSLock()
    private var what = ""
    private var since: UInt64?
    private var stopped = false

    func enter(_ w: String) { lock.lock(); what = w; since = DispatchTime.now().uptimeNanoseconds; lock.unlock() }
    func leave() { lock.lock(); since = nil; lock.unlock() }
    func stop() { lock.lock(); stopped = true; lock.unlock() }
    /// nil once stopped.
    func poll() -> (String, UInt64?)? {
        lock.lock(); defer { lock.unlock() }
        return stopped ? nil : (what, since)
    }
}
