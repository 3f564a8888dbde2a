import Distributed
import Foundation
import KP2D
import TensorEngine

// How a Trainer takes part in a run of several processes. The Trainer calls these hooks at step
// boundaries only; `LocalRun` (one process, the default) does nothing, `MPIRunCoordinator` runs the
// data-parallel protocol on a Distributed.Communicator:
//   start      rank 0's whole state (model, BatchNorm buffers, Adam, run state: a checkpoint in memory)
//              is broadcast once, so every rank starts bit-identical (fresh, --weights or --resume)
//   each step  rank 0 decides (its commands: pause, step, weights, lr, quit) and broadcasts a StepControl;
//              the others wait for it politely (no CPU while rank 0 is paused), apply it, and all ranks
//              train the same step: own shard -> forward/backward -> gradient allreduce-average (one
//              flat buffer) -> the same Adam update, so parameters stay bit-identical
//   failure    a rank that fails still joins the step's exchange with status `failed`, so every rank
//              learns who failed; rank 0 saves the last completed step and all ranks exit non-zero

/// What rank 0 decided for the next step (sent to every rank before each step).
public struct StepControl: Sendable, Equatable {
    public enum Action: Int64, Sendable {
        /// Train step `step + 1` with these settings.
        case train = 1
        /// The run ends normally (quit, planned end).
        case quit = 2
        /// Rank 0 failed: the others stop with an error.
        case halt = 3
    }
    public var action: Action
    /// Completed steps before this one (a check that every rank is at the same step).
    public var step: Int
    public var lossWeights: LossWeights
    public var baseLearningRate: Float

    public init(action: Action, step: Int, lossWeights: LossWeights, baseLearningRate: Float) {
        self.action = action; self.step = step; self.lossWeights = lossWeights; self.baseLearningRate = baseLearningRate
    }

    static let byteCount = 40

    /// Fixed little-endian layout: action i64, step i64, alpha beta lambda gamma f32, base lr f32, pad.
    public func encoded() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: StepControl.byteCount)
        func put<T>(_ v: T, _ at: Int) { withUnsafeBytes(of: v) { for (i, b) in $0.enumerated() { out[at + i] = b } } }
        put(action.rawValue.littleEndian, 0); put(Int64(step).littleEndian, 8)
        put(lossWeights.alpha.bitPattern.littleEndian, 16); put(lossWeights.beta.bitPattern.littleEndian, 20)
        put(lossWeights.lambda.bitPattern.littleEndian, 24); put(lossWeights.gamma.bitPattern.littleEndian, 28)
        put(baseLearningRate.bitPattern.littleEndian, 32)
        return out
    }

    public init?(decoding b: [UInt8]) {
        guard b.count == StepControl.byteCount else { return nil }
        func i64(_ at: Int) -> Int64 { b[at..<(at + 8)].withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(as: Int64.self)) } }
        func f32(_ at: Int) -> Float { Float(bitPattern: b[at..<(at + 4)].withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }) }
        guard let a = Action(rawValue: i64(0)) else { return nil }
        self.init(action: a, step: Int(i64(8)),
                  lossWeights: LossWeights(alpha: f32(16), beta: f32(20), lambda: f32(24), gamma: f32(28)),
                  baseLearningRate: f32(32))
    }
}

public enum DistributedRunError: Error, CustomStringConvertible {
    case peersFailed(ranks: [Int], step: Int)
    case leaderHalted(step: Int)
    case outOfStep(rank: Int, expected: Int, got: Int)
    case badControl
    case mismatch(String)

    public var description: String {
        switch self {
        case let .peersFailed(r, s):
            let who = r.map { "rank \($0)" }.joined(separator: ", ")
            return "\(who) failed at step \(s + 1) (\(r.count == 1 ? "its" : "their") error is printed above by \(r.count == 1 ? "that rank" : "those ranks")); every rank stops"
        case let .leaderHalted(s): return "rank 0 stopped the run with an error at step \(s + 1) (printed above by rank 0)"
        case let .outOfStep(r, e, g): return "rank \(r) is at step \(g) but rank 0 sent step \(e): the ranks started from different checkpoints"
        case .badControl: return "a control record from rank 0 could not be read (the ranks run different kp2d-tui versions?)"
        case let .mismatch(m): return m
        }
    }
}

public protocol RunCoordinator: AnyObject {
    var rank: Int { get }
    var worldSize: Int { get }
    /// Rank 0: returns after sending `leaderState()`; other ranks: pass rank 0's bytes to `load`.
    func shareInitialState(leaderState: () throws -> [UInt8], load: ([UInt8]) throws -> Void) throws
    /// Rank 0: send the decision for the next step.
    func announce(_ control: StepControl) throws
    /// Other ranks: wait (without burning CPU) for rank 0's next decision.
    func awaitControl() throws -> StepControl
    /// Average the gradients of `parameters` (and `scalars`) over the ranks; see GradientAverager.
    func exchange(parameters: [Variable], scalars: [Float], status: RankStatus) throws -> ExchangeOutcome
    /// Seconds of the last exchange (total, allreduce alone) and the bytes it moved per rank.
    var lastExchange: (seconds: Double, allreduceSeconds: Double, bytes: Int) { get }
    /// True iff every rank passed the same value (collective).
    func allAgree(_ value: UInt64) throws -> Bool
}

public extension RunCoordinator {
    var isLeader: Bool { rank == 0 }
    var isDistributed: Bool { worldSize > 1 }
}

/// One process: every hook is a no-op (the Trainer does not even call them).
public final class LocalRun: RunCoordinator {
    public init() {}
    public var rank: Int { 0 }
    public var worldSize: Int { 1 }
    public func shareInitialState(leaderState: () throws -> [UInt8], load: ([UInt8]) throws -> Void) throws {}
    public func announce(_ control: StepControl) throws {}
    public func awaitControl() throws -> StepControl { throw DistributedRunError.badControl }
    public func exchange(parameters: [Variable], scalars: [Float], status: RankStatus) throws -> ExchangeOutcome {
        ExchangeOutcome(skipping: status == .skip ? [0] : [], failed: status == .failed ? [0] : [], scalars: scalars)
    }
    public var lastExchange: (seconds: Double, allreduceSeconds: Double, bytes: Int) { (0, 0, 0) }
    public func allAgree(_ value: UInt64) throws -> Bool { true }
}

/// The data-parallel protocol on MPI.
public final class MPIRunCoordinator: RunCoordinator {
    public let communicator: Communicator
    private var averager: GradientAverager?

    public init(communicator: Communicator) { self.communicator = communicator }

    public var rank: Int { communicator.rank }
    public var worldSize: Int { communicator.size }

    public func shareInitialState(leaderState: () throws -> [UInt8], load: ([UInt8]) throws -> Void) throws {
        // Rank 0 must always reach the broadcast, even if it cannot serialise: send an empty blob then.
        var mine: [UInt8] = []
        var failure: Error?
        if isLeader { do { mine = try leaderState() } catch { failure = error } }
        let bytes = try communicator.broadcast(bytes: mine, what: "the start-up state broadcast from rank 0")
        if let failure { throw failure }
        if bytes.isEmpty { throw DistributedRunError.leaderHalted(step: -1) }
        if !isLeader { try load(bytes) }
    }

    public func announce(_ control: StepControl) throws {
        var record = control.encoded()
        try communicator.politeBroadcast(&record)
    }

    public func awaitControl() throws -> StepControl {
        var record = [UInt8](repeating: 0, count: StepControl.byteCount)
        try communicator.politeBroadcast(&record)
        guard let c = StepControl(decoding: record) else { throw DistributedRunError.badControl }
        return c
    }

    public func exchange(parameters: [Variable], scalars: [Float], status: RankStatus) throws -> ExchangeOutcome {
        if averager == nil || averager!.parameters.count != parameters.count || averager!.scalarCount != scalars.count {
            averager = GradientAverager(parameters: parameters, scalars: scalars.count, communicator: communicator)
        }
        return try averager!.exchange(scalars: scalars, status: status)
    }

    public var lastExchange: (seconds: Double, allreduceSeconds: Double, bytes: Int) {
        guard let a = averager else { return (0, 0, 0) }
        return (a.lastSeconds, a.lastAllreduceSeconds, a.bytes)
    }

    public func allAgree(_ value: UInt64) throws -> Bool {
        try communicator.allAgree(value, what: "the end-of-run parameter check")
    }
}
