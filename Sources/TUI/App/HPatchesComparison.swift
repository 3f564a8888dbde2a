import Foundation
import TensorEngine

// Two models on the same HPatches pairs: A (the weights inspected, or the live model being trained) against B
// (`inspect --compare FILE`, or the weights pinned with b in the training workbench). One implementation serves
// both: `HPatchesComparisonSource` holds the two browser sources, the list shows A, B and Δ = A − B per
// sequence, sorted worst-regressed first, and the pair view stacks A's pair above B's.

/// One sequence of a comparison: A's and B's mean metrics (NaN where not evaluated yet).
public struct HPatchesComparedSequence: Sendable, Equatable {
    public var name: String
    public var a: HPatchesBrowserMetrics
    public var b: HPatchesBrowserMetrics
    public var pairCount: Int
    public init(name: String, a: HPatchesBrowserMetrics, b: HPatchesBrowserMetrics, pairCount: Int = 5) {
        self.name = name; self.a = a; self.b = b; self.pairCount = pairCount
    }
}

extension HPatchesBrowserSortKey {
    /// Δ = A − B of this metric (NaN if either is missing, and for `.name`).
    public func delta(_ s: HPatchesComparedSequence) -> Double { value(s.a) - value(s.b) }

    /// How much worse A is than B: positive is a regression (lower Rep/C*/MScore, higher LocErr/corner error),
    /// negative an improvement.
    public func regression(_ s: HPatchesComparedSequence) -> Double { higherIsWorse ? delta(s) : -delta(s) }
}

extension HPatchesBrowserOrdering {
    /// Pair up A's and B's sequences by name (A's order; B's missing ones NaN).
    public static func pairUp(_ a: [HPatchesBrowserSequence], _ b: [HPatchesBrowserSequence]) -> [HPatchesComparedSequence] {
        let byName = Dictionary(b.map { ($0.name, $0.metrics) }, uniquingKeysWith: { x, _ in x })
        return a.map { HPatchesComparedSequence(name: $0.name, a: $0.metrics, b: byName[$0.name] ?? HPatchesBrowserMetrics(),
                                                pairCount: $0.pairCount) }
    }

    /// Filter and sort a comparison: by the regression of `sort`'s metric, worst regressed first (NaN last),
    /// ties by name; `reversed`: most improved first. `.name` sorts by name.
    public static func arrange(_ list: [HPatchesComparedSequence], filter: HPatchesBrowserFilter, sort: HPatchesBrowserSortKey,
                               reversed: Bool) -> [HPatchesComparedSequence] {
        let kept = list.filter { filter.accepts(HPatchesBrowserSequence(name: $0.name, metrics: $0.a)) }
        if sort == .name {
            let s = kept.sorted { $0.name < $1.name }
            return reversed ? s.reversed() : s
        }
        return kept.sorted { x, y in
            let rx = sort.regression(x), ry = sort.regression(y)
            if rx.isNaN != ry.isNaN { return !rx.isNaN }
            if rx.isNaN || rx == ry { return x.name < y.name }
            return reversed ? rx < ry : rx > ry
        }
    }
}

/// The browser's source when two models are compared. As an `HPatchesBrowserSource` it is model A (the list
/// and pair of the plain browser, the picture key); `baseline` is B. With a `pinner` (the training workbench)
/// `pin()` makes B from the model as it is now, on a thread of its own (the trainer hands over its weights
/// between two steps), and `clearPin()` drops it. Thread-safe; the UI thread calls everything.
public final class HPatchesComparisonSource: HPatchesBrowserSource, @unchecked Sendable {   // state behind `lock`
    /// Model A: the weights inspected, or the live model.
    public let primary: HPatchesBrowserSource
    /// What A is, for the list and the pair view ("live model", a file name).
    public let primaryLabel: String
    /// Makes B from the current model (called on the pin thread): a source on the same data and size, and its label.
    public typealias Pinner = () throws -> (source: HPatchesBrowserSource, label: String)
    let pinner: Pinner?

    private let lock = NSLock()
    private var _baseline: (source: HPatchesBrowserSource, label: String)?
    /// Earlier baselines, cancelled; quitting waits for them too (no detector work outlives the UI).
    private var retired: [HPatchesBrowserSource] = []
    private var pinning = false
    private var pinNote = ""
    private var cancelled = false
    private var changes = 0
    private var lastKey: [Int] = []
    private var _version = 0

    public init(primary: HPatchesBrowserSource, label: String, baseline: HPatchesBrowserSource? = nil, baselineLabel: String = "",
                pinner: Pinner? = nil) {
        self.primary = primary; self.primaryLabel = label; self.pinner = pinner
        if let b = baseline { _baseline = (b, baselineLabel) }
    }

    /// B and what it is ("pinned at step 600", a file name), nil before a pin.
    public var baseline: (source: HPatchesBrowserSource, label: String)? { lock.lock(); defer { lock.unlock() }; return _baseline }
    public var hasBaseline: Bool { baseline != nil }
    /// Whether b can pin here (a live model to copy).
    public var canPin: Bool { pinner != nil }
    /// What the pin is doing ("pinning the weights at the next step boundary…", "pin failed: ..."), "" if nothing.
    public var pinStatus: String { lock.lock(); defer { lock.unlock() }; return pinNote }

    // MARK: HPatchesBrowserSource (model A; version and status cover B and the pin too)

    public var version: Int {
        let key = [primary.version, baseline?.source.version ?? -1]
        lock.lock(); defer { lock.unlock() }
        let full = key + [changes]
        if full != lastKey { lastKey = full; _version += 1 }
        return _version
    }

    public var status: String {
        var parts = [primary.status]
        if let b = baseline { parts.append("B: " + b.source.status) }
        let p = pinStatus
        if !p.isEmpty { parts.append(p) }
        return parts.joined(separator: " · ")
    }

    public func sequences() -> [HPatchesBrowserSequence] { primary.sequences() }
    public func pair(sequence: String, index: Int) -> HPatchesBrowserPair? { primary.pair(sequence: sequence, index: index) }

    /// A's and B's sequences side by side (A's alone, with NaN for B, before a pin).
    public func comparedSequences() -> [HPatchesComparedSequence] {
        HPatchesBrowserOrdering.pairUp(primary.sequences(), baseline?.source.sequences() ?? [])
    }

    public func baselinePair(sequence: String, index: Int) -> HPatchesBrowserPair? {
        baseline?.source.pair(sequence: sequence, index: index)
    }

    /// A (re-)evaluates; B only if it has no complete results (its weights never change: a pin or a file).
    public func requestEvaluation() {
        primary.requestEvaluation()
        if let b = baseline?.source { HPatchesComparisonSource.evaluateIfIncomplete(b) }
    }

    static func evaluateIfIncomplete(_ s: HPatchesBrowserSource) {
        if s.isEvaluating { return }
        if s.sequences().contains(where: { $0.metrics.repeatability.isNaN }) { s.requestEvaluation() }
    }

    public var isEvaluating: Bool { primary.isEvaluating || (baseline?.source.isEvaluating ?? false) }

    public var evaluationSize: String? { primary.evaluationSize }

    /// Both models switch (their results at the old size are dropped) and re-evaluate.
    public func nextEvaluationSize() -> String {
        let message = primary.nextEvaluationSize()
        if let b = baseline?.source { HPatchesComparisonSource.align(b, to: primary) }
        return message
    }

    /// Switch `b` to `a`'s evaluation size (each switch re-evaluates b at the new size).
    static func align(_ b: HPatchesBrowserSource, to a: HPatchesBrowserSource) {
        for _ in 0..<8 where b.evaluationSize != a.evaluationSize { _ = b.nextEvaluationSize() }
    }

    public func cancelEvaluation(timeout: Double) {
        lock.lock()
        cancelled = true
        let all = [primary] + (_baseline.map { [$0.source] } ?? []) + retired
        lock.unlock()
        // Mark every worker first, then wait: a worker waiting for the other's gate must not start a pair.
        for s in all { s.cancelEvaluation(timeout: 0) }
        let end = Date().addingTimeInterval(timeout)
        for s in all { s.cancelEvaluation(timeout: max(0, end.timeIntervalSinceNow)) }
        while isPinning && Date() < end { Thread.sleep(forTimeInterval: 0.01) }
    }

    var isPinning: Bool { lock.lock(); defer { lock.unlock() }; return pinning }

    // MARK: pin

    /// Pin the model as it is now as B (again: re-pin). Returns at once with a line for the status bar; the copy
    /// is made on a thread of its own, B is evaluated when it is there.
    public func pin() -> String {
        guard pinner != nil else { return "nothing to pin here: b pins the weights of a training run" }
        lock.lock()
        if cancelled { lock.unlock(); return "quitting" }
        if pinning { lock.unlock(); return "already pinning" }
        pinning = true
        pinNote = "pinning the weights at the next step boundary" + "…"
        changes += 1
        lock.unlock()
        NamedThread.start("kp2d.pin") { [self] in runPin() }
        return "pinning the current weights as the baseline B" + "…"
    }

    /// The pin thread: copy the weights (the trainer hands them over between two steps), then make them B.
    private func runPin() {
        guard let pinner else { return }
        let made: (source: HPatchesBrowserSource, label: String)
        do { made = try pinner() } catch {
            lock.lock(); pinning = false; pinNote = "pin failed: \(error)"; changes += 1; lock.unlock()
            return
        }
        lock.lock()
        if cancelled { pinning = false; lock.unlock(); return }
        let old = _baseline?.source
        if let old { retired.append(old) }
        _baseline = made
        pinning = false
        pinNote = ""
        changes += 1
        lock.unlock()
        old?.cancelEvaluation(timeout: 0)
        HPatchesComparisonSource.align(made.source, to: primary)
        HPatchesComparisonSource.evaluateIfIncomplete(made.source)
    }

    /// Drop B (its evaluation stops between two pairs); the browser shows A alone again.
    public func clearPin() -> String {
        lock.lock()
        guard let old = _baseline else { lock.unlock(); return pinner == nil ? "nothing pinned" : "nothing pinned: b pins the current weights" }
        retired.append(old.source)
        _baseline = nil
        changes += 1
        lock.unlock()
        old.source.cancelEvaluation(timeout: 0)
        return "baseline cleared (was \(old.label))"
    }
}
