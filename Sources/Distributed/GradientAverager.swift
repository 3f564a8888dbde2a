import Foundation
import TensorEngine

// The gradient exchange of one data-parallel step: every parameter's .grad, a few scalars to average
// (the loss terms, so the log shows the global batch's loss) and one status word per rank, packed into
// one flat float buffer allocated once, summed with one MPI_Allreduce, and unpacked as averages.
//
// Layout (floats):  [ grad of p0 | grad of p1 | ... | has-grad flag per parameter | scalars | status per rank ]
// - A parameter with no gradient on a rank (nil .grad, e.g. IO-Net when its loss is off) contributes
//   zeros and flag 0. After the sum: no rank had one -> .grad stays nil (Adam skips it, as alone);
//   otherwise .grad = sum / N, as DistributedDataParallel averages unused parameters with zeros.
// - Rank r writes its status into slot r only, so the sum tells every rank who skipped or failed.
// Sum then multiply by 1/N: for N = 2 the average is (a + b) * 0.5, exactly the mean of the two
// gradients, the same bits on both ranks.

public enum RankStatus: Int, Sendable {
    /// Gradient computed.
    case ok = 0
    /// Non-finite loss: every rank skips the update of this step.
    case skip = 1
    /// This rank cannot go on (its error is printed by itself): every rank stops.
    case failed = 2
}

public struct ExchangeOutcome: Sendable, Equatable {
    /// Ranks that reported `.skip`.
    public var skipping: [Int]
    /// Ranks that reported `.failed`.
    public var failed: [Int]
    /// The scalars averaged over the ranks.
    public var scalars: [Float]
    public init(skipping: [Int], failed: [Int], scalars: [Float]) { self.skipping = skipping; self.failed = failed; self.scalars = scalars }
}

public final class GradientAverager {
    public let parameters: [Variable]
    public let scalarCount: Int
    public let communicator: Communicator
    /// Floats exchanged per step, and their bytes.
    public let count: Int
    public var bytes: Int { count * MemoryLayout<Float>.size }
    /// Seconds the last exchange took (pack + allreduce + unpack) and the allreduce alone.
    public private(set) var lastSeconds: Double = 0
    public private(set) var lastAllreduceSeconds: Double = 0

    private let buffer: UnsafeMutablePointer<Float>
    private let offsets: [Int]
    private let flagsAt: Int, scalarsAt: Int, statusAt: Int

    public init(parameters: [Variable], scalars: Int, communicator: Communicator) {
        self.parameters = parameters; self.scalarCount = scalars; self.communicator = communicator
        var offsets: [Int] = [], o = 0
        for p in parameters { offsets.append(o); o += p.count }
        self.offsets = offsets
        flagsAt = o; scalarsAt = o + parameters.count; statusAt = scalarsAt + scalars
        count = statusAt + communicator.size
        buffer = .allocate(capacity: count)
        buffer.initialize(repeating: 0, count: count)
    }

    deinit { buffer.deallocate() }

    /// Sum every rank's gradients, scalars and status; leave each parameter's .grad as the average.
    /// Every rank must call this once per step (also a rank that failed: with `.failed`).
    public func exchange(scalars: [Float], status: RankStatus) throws -> ExchangeOutcome {
        precondition(scalars.count == scalarCount, "exchange: \(scalars.count) scalars, expected \(scalarCount)")
        let t0 = DispatchTime.now().uptimeNanoseconds
        let b = buffer
        for (i, p) in parameters.enumerated() {
            let at = b + offsets[i]
            if status != .failed, let g = p.grad {
                at.update(from: g.data, count: p.count)
                b[flagsAt + i] = 1
            } else {
                at.update(repeating: 0, count: p.count)
                b[flagsAt + i] = 0
            }
        }
        for (i, s) in scalars.enumerated() { b[scalarsAt + i] = status == .ok ? s : 0 }
        (b + statusAt).update(repeating: 0, count: communicator.size)
        b[statusAt + communicator.rank] = Float(status.rawValue)
        let t1 = DispatchTime.now().uptimeNanoseconds
        try communicator.allreduceSum(b, count: count, what: "the gradient allreduce")
        let t2 = DispatchTime.now().uptimeNanoseconds

        var skipping: [Int] = [], failed: [Int] = []
        for r in 0..<communicator.size {
            switch b[statusAt + r] {
            case 0: break
            case 1: skipping.append(r)
            default: failed.append(r)
            }
        }
        let contributing = communicator.size - failed.count
        let inverse = 1 / Float(communicator.size)
        for (i, p) in parameters.enumerated() {
            guard b[flagsAt + i] > 0 else { p.grad = nil; continue }
            let g = p.gradient().data, at = b + offsets[i]
            for j in 0..<p.count { g[j] = at[j] * inverse }
        }
        let scalarInverse = 1 / Float(max(contributing - skipping.count, 1))
        let averaged = (0..<scalarCount).map { b[scalarsAt + $0] * scalarInverse }
        let t3 = DispatchTime.now().uptimeNanoseconds
        lastSeconds = Double(t3 - t0) / 1e9
        lastAllreduceSeconds = Double(t2 - t1) / 1e9
        return ExchangeOutcome(skipping: skipping, failed: failed, scalars: averaged)
    }
}
