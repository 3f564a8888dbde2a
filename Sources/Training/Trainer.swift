import Datasets
import Foundation
import Geometry
import KP2D
import NN
import Synchronization
import TensorEngine

// The training loop on its own thread. The UI (or the headless command) reads `snapshot()` - a copy made
// under a Mutex - and sends TrainerCommands, which the loop applies between steps. Batches come from a
// BatchLoader thread that works ahead, so a step never waits on decoding.
//
// One step: lr from the official schedule -> zero grads -> KP2DModel.loss (source first) and backward ->
// Adam update unless the loss or a gradient is non-finite (then the update is skipped and reported) ->
// StepRecord (metrics log line, history) -> preview of batch element 0 -> publish.
// Randomness of step s (dropout, RANSAC of the preview) comes from a generator seeded by (seed, s), and
// the batch of step s is a function of (seed, s), so a resumed run continues exactly.
// Several processes (mpirun): the `coordinator` hooks (RunCoordinator.swift, Trainer+Distributed.swift)
// run at step boundaries: rank 0 decides and broadcasts each step, gradients are averaged before the update.

public final class Trainer: @unchecked Sendable {
    public let options: TrainingOptions
    public let folder: ImageFolder
    public let model: KP2DModel
    public let optimizer: Adam
    public let loader: BatchLoader
    /// Planned number of steps (nil: until quit).
    public let totalSteps: Int?

    /// The other processes of a data-parallel run (LocalRun: none). Only rank 0 logs and saves.
    public let coordinator: RunCoordinator

    /// Called on the trainer thread after each step / for each message (warnings, saves). Set before start().
    public var onStep: ((StepRecord) -> Void)?
    public var onMessage: ((String) -> Void)?

    private let published = Mutex<TrainerSnapshot>(TrainerSnapshot())
    private let inbox = Mutex<[TrainerCommand]>([])
    private let wake = DispatchSemaphore(value: 0)
    private let finished = Mutex<Bool>(false)
    private let finishedSignal = DispatchSemaphore(value: 0)
    private let started = Mutex<Bool>(false)
    private let loaderWarnings = Mutex<[String]>([])
    private let stateRequests = Mutex<[KeypointNetStateRequest]>([])

    // Run state: owned by the trainer thread once started.
    var step: Int
    var elapsed: Double
    var baseLearningRate: Float
    var lossWeights: LossWeights
    var changes: [ParameterChange]
    private var history: [StepRecord]
    private var recentStats: [MatchStats] = []
    private var recentDurations: [Double] = []
    var lastSavedStep: Int?
    private var log: MetricsLog?
    /// The same log for the monitors' threads (set once in init, before any thread starts).
    private(set) var logForMonitors: MetricsLog?
    /// Step records the metrics log could not take (a full disk); saved in the checkpoint, appended on resume.
    private var unloggedRecords: [StepRecord] = []
    /// What the start did to the run's files (stale temporaries removed, log lines set aside), one line each.
    public private(set) var startNotices: [String] = []
    private var preview: PairPreview?
    /// Uptime (s) of the last preview file written; whether writing it failed (reported once).
    private var previewWrittenAt = -Double.infinity
    private var previewWriteFailed = false
    private var message = ""
    var state: TrainerState = .starting
    private var lastTimings = StepTimings()
    private var lastDataWait: Double = 0
    private let graph = Graph()
    // Data-parallel runs (Trainer+Distributed.swift).
    /// Held by the trainer thread while it changes parameters, Adam state or run state (the update, the
    /// commands), and by saves: an emergency save on another thread takes it to see a whole step.
    let stateLock = NSRecursiveLock()
    /// BatchNorm buffers as they were when the current step started (an emergency save writes these).
    var stepStartBuffers: [(key: String, live: Tensor, saved: Tensor, counter: Bool)] = []
    var midStep = false
    /// Rank 0: the other ranks are waiting for its next StepControl.
    var followersWaiting = true
    /// Debugging: write every step's gradients before and after the exchange here (Trainer+Distributed).
    public var gradientDumpFolder: String?

    public static let recentWindow = 20

    /// Validates the options, scans the data folder, builds the model and optimizer, and loads
    /// `options.resumePath` if set. Throws a clear error for bad options, data or checkpoint.
    /// `decode` replaces the image decoder (tests).
    public init(options: TrainingOptions, decode: BatchLoader.Decoder? = nil, coordinator: RunCoordinator = LocalRun()) throws {
        try options.validate()
        self.options = options
        self.coordinator = coordinator
        folder = try ImageFolder(root: options.dataPath)
        var rng = SeededRandom(seed: options.seed)
        model = KP2DModel(config: options.model, rng: &rng)
        model.ioPoints = options.effectiveIOPoints
        optimizer = Adam(groups: model.parameterGroups(lr: options.learningRate))

        step = 0; elapsed = 0; baseLearningRate = options.learningRate; lossWeights = options.lossWeights
        changes = []; history = []
        // Every file of the run must be writable now, not at the first save hours later.
        try RunFiles.checkDistinct(options)
        try RunFiles.checkWritable(options)
        startNotices = RunFiles.removeStaleTemporaries(options)
        var unlogged: [StepRecord] = []
        if let resume = options.resumePath {
            let file = try SafeTensors.read(resume)
            let s = try TrainingCheckpoint.load(file, into: model, optimizer: optimizer)
            step = s.step; elapsed = s.elapsed; baseLearningRate = s.baseLearningRate
            lossWeights = s.lossWeights; changes = s.changes; lastSavedStep = s.step
            unlogged = TrainingCheckpoint.unloggedRecords(file).filter { $0.step <= s.step }
        }
        let relay = WarningRelay()
        let warn: @Sendable (String) -> Void = { m in relay.forward("warning: " + m) }
        let (rank, ranks) = (coordinator.rank, coordinator.worldSize)
        if let decode {
            loader = BatchLoader(folder: folder, augmentation: options.augmentation, batchSize: options.batchSize,
                                 seed: options.seed, startStep: step, prefetch: options.prefetch, rank: rank, ranks: ranks,
                                 decode: decode, warn: warn)
        } else {
            loader = BatchLoader(folder: folder, augmentation: options.augmentation, batchSize: options.batchSize,
                                 seed: options.seed, startStep: step, prefetch: options.prefetch, rank: rank, ranks: ranks, warn: warn)
        }
        if let s = options.steps { totalSteps = s } else if let e = options.epochs { totalSteps = e * loader.stepsPerEpoch } else { totalSteps = nil }
        if let path = options.logPath, coordinator.isLeader {
            let resuming = options.resumePath != nil
            let l = try MetricsLog(path: path, truncate: !resuming, keepThroughStep: resuming ? step : nil)
            startNotices += l.notices
            log = l
            logForMonitors = l
            if resuming {
                var notes: [String] = []
                history = try MetricsLog.read(path, warn: { notes.append($0) }).filter { $0.step <= step }
                startNotices += notes
                // Records a full disk kept out of the log were saved in the checkpoint: put them back.
                let missing = unlogged.filter { $0.step > (history.last?.step ?? 0) }
                for r in missing { try l.append(r); history.append(r) }
                if !missing.isEmpty { startNotices.append("\(path): appended \(missing.count) step records kept in the checkpoint (the log could not take them)") }
            }
        }
        relay.target = self
        if let n = startNotices.last { message = n }
        if options.resumePath != nil { message = "resumed at step \(step) from \(options.resumePath!)" }
        publish()
    }

    deinit { loader.stop() }

    // MARK: control (any thread)

    /// Start the training thread (once).
    public func start() {
        let first = started.withLock { s -> Bool in defer { s = true }; return !s }
        guard first else { return }
        NamedThread.start("kp2d.trainer", stackSize: 16 << 20) { [self] in self.run() }
    }

    public func send(_ command: TrainerCommand) {
        inbox.withLock { $0.append(command) }
        wake.signal()
    }

    public func snapshot() -> TrainerSnapshot { published.withLock { $0 } }

    /// A copy of the live KeypointNet's state dict (PyTorch keys), taken by the trainer thread between two
    /// steps (also while paused), so no other thread ever reads the model while it trains. Before start()
    /// and after the run ended the copy is made on the calling thread. Throws if the trainer does not
    /// answer within `timeout` seconds (a step longer than that).
    public func copyKeypointNetState(timeout: Double = 120) throws -> [String: StoredTensor] {
        try copyKeypointNetStateAndStep(timeout: timeout).state
    }

    /// The same, with the number of steps the copied weights have had (the workbench's pinned baseline says it).
    public func copyKeypointNetStateAndStep(timeout: Double = 120) throws -> (state: [String: StoredTensor], step: Int) {
        let r = try copyState(KeypointNetStateRequest(whole: false), timeout: timeout)
        return (r.result, r.step)
    }

    /// A copy of the whole model (KeypointNet and IO-Net: parameters and BatchNorm buffers, keys
    /// `keypoint_net.*` / `io_net.*`), taken between two steps like `copyKeypointNetState`, with the step it
    /// belongs to (the number of steps trained into it) and the loss weights then in use.
    public func copyModelState(timeout: Double = 120) throws -> (step: Int, lossWeights: LossWeights, state: [String: StoredTensor]) {
        let r = try copyState(KeypointNetStateRequest(whole: true), timeout: timeout)
        return (r.step, r.lossWeights, r.result)
    }

    /// Append a validation or probe record to the run's metrics log (any thread; the log takes one line at a
    /// time). False when the run keeps no log (no --log, or a rank other than 0).
    @discardableResult
    public func appendToLog(_ entry: LogEntry) throws -> Bool {
        guard let log = logForMonitors else { return false }
        try log.append(entry)
        return true
    }

    private func copyState(_ request: KeypointNetStateRequest, timeout: Double) throws -> KeypointNetStateRequest {
        // Without a trainer thread (not started yet, or ended) the copy is made here, under the lock that
        // start() takes: a start() meanwhile waits for it.
        let servedHere = started.withLock { s -> Bool in
            guard s, !isFinished else { fill([request]); return true }
            stateRequests.withLock { $0.append(request) }
            return false
        }
        if servedHere { return request }
        wake.signal()
        while request.done.wait(timeout: .now() + 0.2) == .timedOut {
            // The run may end with the request still queued: then nobody else will serve it.
            if isFinished {
                let stillQueued = stateRequests.withLock { q -> Bool in
                    guard let i = q.firstIndex(where: { $0 === request }) else { return false }
                    q.remove(at: i); return true
                }
                if stillQueued { fill([request]); return request }
            }
            if request.waited() > timeout {
                throw TrainerError.noAnswer("the trainer did not hand over its weights within \(Int(timeout)) s (a step is taking longer)")
            }
        }
        return request
    }

    static func stateDict(of net: KeypointNet) -> [String: StoredTensor] {
        Dictionary(net.stateDict().map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
    }

    /// Serve queued weight-copy requests (trainer thread, between steps).
    private func serveStateRequests() {
        let pending = stateRequests.withLock { q -> [KeypointNetStateRequest] in defer { q.removeAll() }; return q }
        guard !pending.isEmpty else { return }
        fill(pending)
        for r in pending { r.done.signal() }
    }

    /// Fill requests with copies of the current state (the trainer thread between steps, or a thread that
    /// knows the trainer thread is not running).
    private func fill(_ requests: [KeypointNetStateRequest]) {
        var net: [String: StoredTensor]?, whole: [String: StoredTensor]?
        for r in requests {
            if r.whole {
                if whole == nil { whole = Dictionary(model.stateDict().map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a }) }
                r.result = whole!
            } else {
                if net == nil { net = Trainer.stateDict(of: model.keypointNet) }
                r.result = net!
            }
            r.step = step; r.lossWeights = lossWeights
        }
    }

    public var isFinished: Bool { finished.withLock { $0 } }

    /// Block until the training thread has ended (finished, quit or failed). Returns at once if never started.
    public func waitUntilFinished() {
        if isFinished || !started.withLock({ $0 }) { return }
        finishedSignal.wait()
        finishedSignal.signal()
    }

    /// Wait up to `timeout` seconds; true if finished.
    public func waitUntilFinished(timeout: Double) -> Bool {
        if isFinished { return true }
        if !started.withLock({ $0 }) { return false }
        if finishedSignal.wait(timeout: .now() + timeout) == .success { finishedSignal.signal(); return true }
        return false
    }

    // MARK: the loop (trainer thread)

    private func run() {
        var paused = options.startPaused
        state = paused ? .paused : .running
        publish()
        if coordinator.isDistributed {
            do { try shareInitialState() } catch {
                followersWaiting = false
                failDistributed(error)
                return
            }
            if !coordinator.isLeader { runFollower(); return }
        }
        loader.start()
        while true {
            var stepOnce = false, quit = false
            stateLock.lock()   // run state changes: not while an emergency save reads it
            for command in inbox.withLock({ q -> [TrainerCommand] in defer { q.removeAll() }; return q }) {
                switch command {
                case .pause: paused = true
                case .resume: paused = false
                case .step: if paused { stepOnce = true }
                case let .setLossWeights(w):
                    lossWeights = w
                    changes.append(ParameterChange(step: step, lossWeights: w, lr: currentLearningRate,
                                                   description: "weights a=\(w.alpha) b=\(w.beta) l=\(w.lambda) g=\(w.gamma)"))
                    post("loss weights set to alpha \(w.alpha), beta \(w.beta), lambda \(w.lambda), gamma \(w.gamma) at step \(step)")
                case let .setLearningRate(lr):
                    guard lr > 0, lr.isFinite else { post("ignored learning rate \(lr): must be positive"); continue }
                    // The schedule keeps running: the current lr becomes `lr`, later decays halve it.
                    baseLearningRate = lr / options.learningRate(epoch: currentEpoch, initial: 1)
                    changes.append(ParameterChange(step: step, lossWeights: lossWeights, lr: lr, description: "lr \(lr)"))
                    post("learning rate set to \(lr) at step \(step)")
                case .save: save()
                case .quit: quit = true
                }
            }
            stateLock.unlock()
            drainLoaderWarnings()
            serveStateRequests()
            if quit { releaseFollowers(.quit); finish(.finished, "stopped at step \(step)", save: false); return }
            if let total = totalSteps, step >= total { releaseFollowers(.quit); finish(.finished, "finished \(step) steps", save: true); return }
            if let m = options.minutes, elapsed >= m * 60 {
                releaseFollowers(.quit)
                finish(.finished, "finished: \(TrainingOptions.minutesText(m)) of training reached at step \(step)", save: true); return
            }
            if paused && !stepOnce {
                if state != .paused { state = .paused; publish() }
                wake.wait()
                continue
            }
            if state != .running && !paused { state = .running }
            do {
                if coordinator.isDistributed { try announceStep() }
                try trainStep()
            } catch let error as MetricsLogError {
                if coordinator.isDistributed { failDistributed(error); return }
                // The step is done but its log line could not be written (a full disk): keep the line in the
                // checkpoint, save, and stop with the file named.
                post("\(error)")
                let saved = options.checkpointPath != nil ? save() == nil : false
                let ck = options.checkpointPath ?? ""
                state = .failed("\(error); " + (saved
                    ? "checkpoint of step \(step) saved to \(ck) (it keeps the missing log line); continue with --resume \(ck)"
                    : (options.checkpointPath == nil ? "no checkpoint path, nothing saved" : "the checkpoint could not be saved either")))
                finish(nil, nil, save: false)
                return
            } catch {
                if coordinator.isDistributed { failDistributed(error); return }
                state = .failed("\(error)")
                post("training failed: \(error)")
                finish(nil, nil, save: false)
                return
            }
            if options.checkpointEvery > 0 && step % options.checkpointEvery == 0, let error = save() {
                // A run that cannot save must not train on for hours: stop at the first failed save.
                let last = lastSavedStep.map { "the last checkpoint is step \($0)" } ?? "no checkpoint was written"
                state = .failed("checkpoint at step \(step) failed: \(error); stopped (\(last))")
                finish(nil, nil, save: false)
                return
            }
        }
    }

    var currentEpoch: Int { step / loader.stepsPerEpoch }
    var currentLearningRate: Float { options.learningRate(epoch: currentEpoch, initial: baseLearningRate) }

    static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var r = SeededRandom(seed: a ^ (b &* 0xD1B5_4A32_D192_ED03 &+ 0x8CB9_2BA7_2F3D_8DD7))
        return r.next()
    }

    func trainStep() throws {
        let t0 = DispatchTime.now().uptimeNanoseconds
        let batch: TrainingBatch
        do { batch = try loader.next() } catch {
            // The other ranks wait in this step's exchange: tell them, then stop.
            if coordinator.isDistributed { _ = try? exchangeGradients(terms: LossTerms(), status: .failed) }
            throw error
        }
        if coordinator.isDistributed { stateLock.withLock { saveStepStartBuffers() } }
        lastDataWait = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        drainLoaderWarnings()
        precondition(batch.step == step, "loader out of step: batch \(batch.step) for step \(step)")
        let lr = options.learningRate(epoch: batch.epoch, initial: baseLearningRate) * options.warmupFactor(step: step)
        stateLock.withLock { for i in optimizer.groups.indices { optimizer.groups[i].lr = lr } }
        optimizer.zeroGrad()
        var rng = SeededRandom(seed: Trainer.mix(options.seed, UInt64(step)))
        // Dropout draws from the network's own generator: reseed it per step so a resumed run repeats them.
        model.keypointNet.dropoutRandom = SeededRandom(seed: dropoutSeed(step: step))
        var evaluation = model.loss(image: batch.image, imageAug: batch.imageAug, homography: batch.homography,
                                    lossWeights: lossWeights, graph: graph, training: true)
        model.backward(&evaluation, graph: graph)
        let diagnostics = PairDiagnostics.of(evaluation, graph)
        graph.reset()
        var terms = evaluation.terms
        lastTimings = evaluation.timings
        var skipped = false
        if !terms.total.isFinite || terms.flags.contains(where: { $0.hasPrefix("non-finite") || $0.hasPrefix("no loss term") }) {
            skipped = true
        }
        if coordinator.isDistributed {
            // Average the gradients (and the loss terms) over the ranks; a skip on any rank skips on all.
            let outcome = try exchangeGradients(terms: terms, status: skipped ? .skip : .ok)
            terms = averagedTerms(terms, outcome)
            if !outcome.skipping.isEmpty && !skipped {
                skipped = true
                terms.flags.append("non-finite loss on rank \(outcome.skipping.map(String.init).joined(separator: ", ")): update skipped on every rank")
            }
        }
        if !skipped, let bad = firstNonFiniteGradient() {
            skipped = true
            terms.flags.append("non-finite gradient in \(bad): update skipped")
        }
        // Parameters, Adam and the step count change together (an emergency save sees all or none).
        stateLock.lock()
        if skipped {
            post("step \(step + 1): \(terms.flags.last ?? "non-finite loss \(terms.total)"), update skipped")
        } else {
            optimizer.update()
        }
        step += 1
        midStep = false
        let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        elapsed += dt
        stateLock.unlock()
        recentDurations.append(dt)
        if recentDurations.count > Trainer.recentWindow { recentDurations.removeFirst() }
        let sps = Double(recentDurations.count) / max(recentDurations.reduce(0, +), 1e-9)
        var record = StepRecord(step: step, time: elapsed, epoch: batch.epoch, terms: terms, lr: lr, lossWeights: lossWeights,
                                stepsPerSecond: sps, skipped: skipped)
        if coordinator.isDistributed {
            record.ranks = coordinator.worldSize
            record.globalBatch = coordinator.worldSize * options.batchSize
            record.allreduceSeconds = coordinator.lastExchange.allreduceSeconds
            record.allreduceBytes = coordinator.lastExchange.bytes
            guard coordinator.isLeader else { return }   // the others keep no log, history or preview
        }
        history.append(record)
        if let log {
            do { try log.append(record) } catch {
                unloggedRecords.append(record)
                throw error
            }
        }
        let p = PreviewBuilder.makePreview(step: step, pair: batch.first, diagnostics: diagnostics, terms: terms, rng: &rng)
        preview = p
        recentStats.append(p.stats)
        if recentStats.count > Trainer.recentWindow { recentStats.removeFirst() }
        persistPreview(force: false)
        publish()
        onStep?(record)
    }

    private func firstNonFiniteGradient() -> String? {
        for (name, p) in model.namedParameters() {
            guard let g = p.grad else { continue }
            let d = g.data
            for i in 0..<g.count where !d[i].isFinite { return name }
        }
        return nil
    }

    /// Write the checkpoint and the weights-only export (if a path is configured). Returns the error, if any.
    @discardableResult
    func save() -> Error? {
        guard coordinator.isLeader else { return nil }   // only rank 0 writes files
        stateLock.lock(); defer { stateLock.unlock() }
        guard let path = options.checkpointPath else { post("no checkpoint path: pass --checkpoint PATH to save"); return nil }
        let s = CheckpointRunState(step: step, epoch: currentEpoch, elapsed: elapsed, baseLearningRate: baseLearningRate,
                                   learningRate: currentLearningRate, lossWeights: lossWeights, options: options,
                                   changes: changes, seed: options.seed, preset: options.preset.rawValue)
        do {
            try TrainingCheckpoint.write(to: path, model: model, optimizer: optimizer, state: s, unloggedRecords: unloggedRecords)
            if let export = options.resolvedExportPath { try TrainingCheckpoint.exportWeights(model, to: export) }
            lastSavedStep = step
            persistPreview(force: true)
            post("saved step \(step) to \(path)")
            return nil
        } catch {
            post("checkpoint failed: \(error)")
            return error
        }
    }

    /// Write the preview beside the checkpoint (`PreviewFile`): at every save, else at most every
    /// `PreviewFile.interval` seconds. A failure is reported once and never stops training.
    private func persistPreview(force: Bool) {
        guard let c = options.checkpointPath, let p = preview else { return }
        let now = ProcessInfo.processInfo.systemUptime
        guard force || now - previewWrittenAt >= PreviewFile.interval else { return }
        previewWrittenAt = now
        do {
            try PreviewFile.write(p, recentStats: PreviewBuilder.average(recentStats), to: PreviewFile.path(forCheckpoint: c))
            previewWriteFailed = false
        } catch {
            if !previewWriteFailed { post("warning: training preview not saved: \(error)") }
            previewWriteFailed = true
        }
    }

    /// End the run. `save`: write a final checkpoint unless this step is saved already (the end of a
    /// planned run); `.quit` does not save (the sender sends `.save` first to keep the last steps).
    func finish(_ final: TrainerState?, _ note: String?, save wantSave: Bool) {
        var final = final
        if wantSave, options.checkpointPath != nil, lastSavedStep != step, let error = save() {
            final = .failed("the final checkpoint could not be written: \(error)")
        }
        if let f = final { state = f }
        if let n = note { post(n) }
        loader.stop()
        publish()
        finished.withLock { $0 = true }
        serveStateRequests()
        finishedSignal.signal()
    }

    /// Called on the loader thread: queued, posted by the trainer thread between steps.
    func postFromLoader(_ m: String) { loaderWarnings.withLock { $0.append(m) } }

    private func drainLoaderWarnings() {
        for m in loaderWarnings.withLock({ q -> [String] in defer { q.removeAll() }; return q }) { post(m) }
    }

    func post(_ m: String) {
        message = m
        onMessage?(m)
        publish()
    }

    func publish() {
        var st = TrainerStatus()
        st.state = state
        st.step = step
        st.epoch = currentEpoch
        st.stepsPerEpoch = loader.stepsPerEpoch
        st.totalSteps = totalSteps
        st.lr = currentLearningRate
        st.lossWeights = lossWeights
        st.stepsPerSecond = history.last?.stepsPerSecond ?? 0
        st.elapsed = elapsed
        st.checkpointPath = options.checkpointPath ?? ""
        st.lastSavedStep = lastSavedStep
        st.preset = options.preset.rawValue
        st.dataDescription = "\(folder.count) images in \(folder.root)" + distributedDescription
        st.message = message
        st.timings = lastTimings
        st.dataWait = lastDataWait
        st.batchesReady = loader.ready
        let (h, c, p, r) = (history, changes, preview, PreviewBuilder.average(recentStats))
        published.withLock { snap in
            snap.version += 1
            snap.status = st
            snap.history = h
            snap.changes = c
            snap.preview = p
            snap.recentStats = r
        }
    }
}

/// One pending `copyKeypointNetState` call: filled in and signalled by the trainer thread.
final class KeypointNetStateRequest: @unchecked Sendable {
    /// The whole model (KeypointNet and IO-Net) rather than the KeypointNet alone.
    let whole: Bool
    init(whole: Bool) { self.whole = whole }
    var step = 0
    var lossWeights = LossWeights()
    let done = DispatchSemaphore(value: 0)
    let start = DispatchTime.now().uptimeNanoseconds
    var result: [String: StoredTensor] = [:]
    func waited() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}

public enum TrainerError: Error, CustomStringConvertible {
    case noAnswer(String)
    public var description: String {
        switch self { case let .noAnswer(m): return m }
    }
}

/// Passes the loader thread's warnings to the trainer (set once the trainer exists). Warnings are
/// published as the status message; `post` from another thread only touches `message` and the snapshot.
final class WarningRelay: @unchecked Sendable {
    private let lock = NSLock()
    private weak var _target: Trainer?
    var target: Trainer? {
        get { lock.lock(); defer { lock.unlock() }; return _target }
        set { lock.lock(); _target = newValue; lock.unlock() }
    }
    func forward(_ m: String) { target?.postFromLoader(m) }
}
