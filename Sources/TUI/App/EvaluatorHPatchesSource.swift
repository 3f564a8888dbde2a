import Datasets
import Evaluation
import Foundation
import Geometry
import KP2D
import TensorEngine
import Training

/// The HPatches browser's data from the real evaluator: `requestEvaluation()` runs `HPatchesEvaluation.run`
/// on a background thread and keeps, per pair, the top-K keypoints, the cross-checked descriptor matches
/// (correct when the true homography puts the source point within 3 px of its match) and the metrics.
/// Images are loaded from the dataset when a pair is shown (only the shown pair is kept), so the browser
/// works before any evaluation too. Thread-safe; the UI thread only reads.
public final class EvaluatorHPatchesSource: HPatchesBrowserSource, @unchecked Sendable {   // state behind `lock`

    let dataset: HPatchesDataset
    /// The evaluation settings in use (the size changes with `nextEvaluationSize`; read under the lock).
    private var _settings: HPatchesEvalSettings
    var settings: HPatchesEvalSettings { lock.lock(); defer { lock.unlock() }; return _settings }
    /// The sizes the user can switch between, (height, width, top-k, note), the first in use at the start.
    public let sizes: [(height: Int, width: Int, topK: Int, note: String)]
    private var sizeIndex = 0
    /// Increases with every size switch: results of an evaluation started before are dropped.
    private var generation = 0
    /// Called on the worker thread at the start of every evaluation; returns the detector to use (e.g. one
    /// built on a copy of the current model, so evaluation never touches the model being trained).
    let makeDetector: () throws -> KeypointDetector
    /// Shared by sources that must not evaluate at the same time (the two models of a comparison): an
    /// evaluation holds it from its first pair to its last.
    public let gate: NSLock?

    struct Stored {
        var sourceKeypoints: [Keypoint], targetKeypoints: [Keypoint]
        var matches: [Match]
        var metrics: HPatchesBrowserMetrics
    }

    private let lock = NSLock()
    private var _version = 0
    private var _status: String
    private var running = false
    private var cancelled = false
    private var queued = false
    private var stored: [String: [Int: Stored]] = [:]          // sequence -> k (2...6) -> result
    private let pairsBySequence: [(name: String, pairs: [HPatchesPair])]
    private var shown: (key: String, first: Image, second: Image, homography: Homography)? = nil

    /// `otherSizes`: further evaluation sizes (height, width, top-k, note) the browser can switch to (key x).
    /// `gate`: see `gate` (nil: this source never waits for another).
    public convenience init(dataset: HPatchesDataset, settings: HPatchesEvalSettings, otherSizes: [(height: Int, width: Int, topK: Int, note: String)] = [],
                            gate: NSLock? = nil, makeDetector: @escaping () throws -> KeypointDetector) {
        let first = (height: settings.height, width: settings.width, topK: settings.topK,
                     note: settings == .official240 || settings == .official480 ? "official" : "")
        self.init(dataset: dataset, settings: settings,
                  sizes: [first] + otherSizes.filter { $0.height != settings.height || $0.width != settings.width }, sizeIndex: 0,
                  gate: gate, makeDetector: makeDetector)
    }

    private init(dataset: HPatchesDataset, settings: HPatchesEvalSettings, sizes: [(height: Int, width: Int, topK: Int, note: String)],
                 sizeIndex: Int, gate: NSLock?, makeDetector: @escaping () throws -> KeypointDetector) {
        self.dataset = dataset; self._settings = settings; self.makeDetector = makeDetector; self.gate = gate
        self.sizes = sizes; self.sizeIndex = sizeIndex
        var groups: [(name: String, pairs: [HPatchesPair])] = []
        for p in dataset.pairs where settings.split.includes(p.sequence) {
            if groups.last?.name == p.sequence { groups[groups.count - 1].pairs.append(p) } else { groups.append((p.sequence, [p])) }
        }
        pairsBySequence = groups
        _status = "\(groups.count) sequences in \(dataset.root), not evaluated yet: press r"
        if !dataset.problems.isEmpty { _status += " (\(dataset.problems.count) left out: \(dataset.problems[0]))" }
    }

    /// A source on the same data, sizes, size in use and gate with another detector (the second model of a
    /// comparison, e.g. a pinned copy of the weights), not evaluated yet.
    public func sibling(makeDetector: @escaping () throws -> KeypointDetector) -> EvaluatorHPatchesSource {
        lock.lock(); defer { lock.unlock() }
        return EvaluatorHPatchesSource(dataset: dataset, settings: _settings, sizes: sizes, sizeIndex: sizeIndex, gate: gate,
                                       makeDetector: makeDetector)
    }

    public var version: Int { lock.lock(); defer { lock.unlock() }; return _version }
    public var status: String { lock.lock(); defer { lock.unlock() }; return _status }
    public var isEvaluating: Bool { lock.lock(); defer { lock.unlock() }; return running }

    public var evaluationSize: String? {
        lock.lock(); defer { lock.unlock() }
        let s = sizes[sizeIndex]
        return "\(s.height)x\(s.width) top-\(s.topK)" + (s.note.isEmpty ? "" : " " + s.note)
    }

    /// The next size: earlier results are dropped (they are not comparable) and the browser re-evaluates.
    public func nextEvaluationSize() -> String {
        guard sizes.count > 1 else { return "evaluating at \(evaluationSize ?? "one size") only: no other size configured" }
        lock.lock()
        sizeIndex = (sizeIndex + 1) % sizes.count
        _settings.height = sizes[sizeIndex].height
        _settings.width = sizes[sizeIndex].width
        _settings.topK = sizes[sizeIndex].topK
        generation += 1
        stored = [:]
        shown = nil
        _version += 1
        lock.unlock()
        requestEvaluation()
        return "HPatches browser now evaluates at \(evaluationSize ?? "")"
    }

    public func sequences() -> [HPatchesBrowserSequence] {
        lock.lock(); defer { lock.unlock() }
        return pairsBySequence.map { g in
            let done = g.pairs.compactMap { stored[g.name]?[$0.index]?.metrics }
            return HPatchesBrowserSequence(name: g.name, metrics: EvaluatorHPatchesSource.mean(done), pairCount: g.pairs.count)
        }
    }

    /// Field-wise mean, each field over the pairs where it is defined (NaN if none).
    static func mean(_ ms: [HPatchesBrowserMetrics]) -> HPatchesBrowserMetrics {
        func m(_ f: (HPatchesBrowserMetrics) -> Double) -> Double {
            let v = ms.map(f).filter { !$0.isNaN }
            return v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count)
        }
        return HPatchesBrowserMetrics(repeatability: m(\.repeatability), localizationError: m(\.localizationError),
                                      cornerError: m(\.cornerError), c1: m(\.c1), c3: m(\.c3), c5: m(\.c5),
                                      matchingScore: m(\.matchingScore))
    }

    public func pair(sequence: String, index: Int) -> HPatchesBrowserPair? {
        guard let g = pairsBySequence.first(where: { $0.name == sequence }), g.pairs.indices.contains(index) else { return nil }
        let p = g.pairs[index]
        let key = "\(sequence)/\(p.index)"
        lock.lock()
        let result = stored[sequence]?[p.index]
        var images = shown?.key == key ? shown : nil
        lock.unlock()
        if images == nil {
            let settings = self.settings
            guard let s = try? dataset.load(p, width: settings.width, height: settings.height, order: .rgb) else { return nil }
            images = (key, s.first, s.second, s.homography)
            lock.lock(); shown = images; lock.unlock()
        }
        let im = images!
        let pair = JudgedPair(source: im.first, target: im.second, sourceKeypoints: result?.sourceKeypoints ?? [],
                              targetKeypoints: result?.targetKeypoints ?? [], matches: result?.matches ?? [],
                              homography: im.homography)
        return HPatchesBrowserPair(sequence: sequence, pairIndex: index, pair: pair, metrics: result?.metrics ?? HPatchesBrowserMetrics())
    }

    private var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return cancelled }

    /// Stop the running evaluation between two pairs and drop a queued one; waits (at most `timeout` s) until the
    /// worker has stopped, so no detector work is running when the program exits.
    public func cancelEvaluation(timeout: Double) {
        lock.lock(); cancelled = true; queued = false; lock.unlock()
        _ = waitUntilIdle(timeout: timeout)
    }

    public func requestEvaluation() {
        lock.lock(); defer { lock.unlock() }
        if cancelled { return }
        if running { queued = true; _status = "evaluation running; another one queued with the model as it is then"; return }
        running = true
        NamedThread.start(EvaluatorHPatchesSource.threadName) { [weak self] in self?.evaluateLoop() }
    }

    /// Block until no evaluation is running (tests, shutdown).
    public func waitUntilIdle(timeout: Double = 600) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while isEvaluating { if Date() > end { return false }; Thread.sleep(forTimeInterval: 0.01) }
        return true
    }

    /// The worker thread's name as gdb and /proc/PID/task/*/comm show it.
    public static let threadName = "kp2d.browser"

    private func set(status: String, bump: Bool = true) {
        lock.lock(); _status = status; if bump { _version += 1 }; lock.unlock()
    }

    private func evaluateLoop() {
        while true {
            evaluateOnce()
            lock.lock()
            if queued { queued = false; lock.unlock(); continue }
            running = false
            _version += 1
            lock.unlock()
            return
        }
    }

    /// One evaluation. Every way out publishes a final status (results, failure, stopped, or dropped after a
    /// size switch), so the status never stays at "evaluating n/N pairs…" once this returns.
    private func evaluateOnce() {
        lock.lock()
        let (settings, gen) = (_settings, generation)
        lock.unlock()
        // Superseded (a size switch since this run began) or quitting: stop between pairs.
        let superseded = { [weak self] () -> Bool in
            guard let self else { return true }
            self.lock.lock(); defer { self.lock.unlock() }
            return self.cancelled || self.generation != gen
        }
        if let gate {
            if !gate.try() {
                set(status: "waiting for the other model's evaluation" + "…")
                gate.lock()
            }
        }
        defer { gate?.unlock() }
        if superseded() {
            set(status: isCancelled ? "evaluation stopped" : "results at the previous size dropped")
            return
        }
        set(status: "evaluating" + "…")
        let start = Date()   // after the gate: the time this model's evaluation took
        do {
            let detect = try makeDetector()
            let topK = settings.topK
            let report = try HPatchesEvaluation.run(
                dataset: dataset, settings: settings, detect: detect,
                onPair: { [weak self] sample, a, b, m in
                    guard let self else { return }
                    let r = EvaluatorHPatchesSource.store(sample: sample, a: a, b: b, metrics: m, topK: topK)
                    self.lock.lock()
                    // A size switch during this run: its results belong to the old size.
                    if self.generation == gen { self.stored[sample.pair.sequence, default: [:]][sample.pair.index] = r }
                    self._version += 1
                    self.lock.unlock()
                },
                progress: { [weak self] done, total in self?.set(status: "evaluating \(done)/\(total) pairs" + "…", bump: false) },
                shouldStop: superseded)
            if superseded() {
                set(status: isCancelled ? "evaluation stopped after \(report.pairs.count) pairs" : "results at the previous size dropped")
                return
            }
            let a = report.all
            set(status: String(format: "%d pairs in %.0fs: Rep %.3f  LocErr %.2f  C1 %.3f  C3 %.3f  C5 %.3f  MScore %.3f%@",
                               a.pairs, Date().timeIntervalSince(start), a.repeatability, a.localizationError, a.c1, a.c3, a.c5,
                               a.matchingScore, report.problems.isEmpty ? "" : "  (\(report.problems.count) problems)"))
        } catch {
            // Stopped before the first pair: the evaluator has no results and says so; that is no failure.
            if superseded() { set(status: isCancelled ? "evaluation stopped" : "results at the previous size dropped"); return }
            set(status: "evaluation failed: \(error)")
        }
    }

    /// What the browser keeps of one evaluated pair.
    static func store(sample: HPatchesSample, a: KeypointSet, b: KeypointSet, metrics m: PairMetrics, topK: Int) -> Stored {
        let judged = JudgedMatches.mutualNearest(a, b, topK: topK, truth: sample.homography)
        let metrics = HPatchesBrowserMetrics(repeatability: m.repeatability.repeatability,
                                             localizationError: m.repeatability.localizationError ?? .nan,
                                             cornerError: m.homography.cornerError ?? .nan, c1: m.homography.c1,
                                             c3: m.homography.c3, c5: m.homography.c5, matchingScore: m.matchingScore)
        return Stored(sourceKeypoints: judged.first.keypoints, targetKeypoints: judged.second.keypoints,
                      matches: judged.matches, metrics: metrics)
    }
}
