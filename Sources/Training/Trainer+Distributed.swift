import Distributed
import Foundation
import KP2D
import NN
import TensorEngine

// The Trainer's side of a data-parallel run (see RunCoordinator.swift for the protocol). Rank 0 runs the
// ordinary loop (its inbox, pause, save) and announces every step; the other ranks run `runFollower`,
// which only waits for rank 0's decisions and trains the announced step. BatchNorm running statistics
// stay per rank (as Horovod's default); rank 0's are the ones saved.

extension Trainer {
    static let imageCountKey = "kp2d_data_images"

    /// " · 2 ranks, global batch 8" in a data-parallel run, "" otherwise.
    var distributedDescription: String {
        guard coordinator.isDistributed else { return "" }
        return " · \(coordinator.worldSize) ranks x batch \(options.batchSize) = global batch \(coordinator.worldSize * options.batchSize)"
    }

    /// Dropout seed of a step: rank 0 draws what a single process draws; other ranks mix in their rank.
    func dropoutSeed(step: Int) -> UInt64 {
        let base = Trainer.mix(Trainer.mix(options.seed, UInt64(step)), 0xD20)
        return coordinator.rank == 0 ? base : Trainer.mix(base, UInt64(coordinator.rank))
    }

    // MARK: start

    /// Rank 0's model, BatchNorm buffers, Adam state and run state (a checkpoint in memory), on every rank.
    func shareInitialState() throws {
        try coordinator.shareInitialState(leaderState: {
            let s = CheckpointRunState(step: step, epoch: currentEpoch, elapsed: elapsed, baseLearningRate: baseLearningRate,
                                       learningRate: currentLearningRate, lossWeights: lossWeights, options: options,
                                       changes: changes, seed: options.seed, preset: options.preset.rawValue)
            let run = String(decoding: try TrainingCheckpoint.jsonEncoder().encode(s), as: UTF8.self)
            let data = try SafeTensors.serialize(model.stateDict() + optimizer.stateTensors(),
                                                 metadata: [TrainingCheckpoint.runStateKey: run, Trainer.imageCountKey: "\(folder.count)"])
            return [UInt8](data)
        }, load: { bytes in
            let file = try SafeTensors.parse(Data(bytes), path: "<rank 0's state>")
            // Every rank must see the same run: the same data (count), batch shape, seed and length.
            let theirs = try TrainingCheckpoint.readState(file)
            let r = coordinator.rank
            if let n = file.metadata[Trainer.imageCountKey].flatMap(Int.init), n != folder.count {
                throw DistributedRunError.mismatch("rank \(r) finds \(folder.count) images in \(folder.root), rank 0 finds \(n): the data folder must hold the same images on every machine")
            }
            let o = theirs.options
            for (what, mine, rank0) in [("--batch-size", "\(options.batchSize)", "\(o.batchSize)"), ("--size", "\(options.height)x\(options.width)", "\(o.height)x\(o.width)"),
                                        ("--seed", "\(options.seed)", "\(o.seed)"), ("--steps", "\(options.steps.map(String.init) ?? "-")", "\(o.steps.map(String.init) ?? "-")"),
                                        ("--epochs", "\(options.epochs.map(String.init) ?? "-")", "\(o.epochs.map(String.init) ?? "-")")] where mine != rank0 {
                throw DistributedRunError.mismatch("rank \(r) has \(what) \(mine), rank 0 has \(rank0): start every rank with the same options")
            }
            let s = try TrainingCheckpoint.load(file, into: model, optimizer: optimizer)
            guard s.step == step else { throw DistributedRunError.outOfStep(rank: coordinator.rank, expected: s.step, got: step) }
            elapsed = s.elapsed; baseLearningRate = s.baseLearningRate; lossWeights = s.lossWeights; changes = s.changes
        })
    }

    // MARK: each step

    /// Rank 0: tell the others to train the next step with the current settings.
    func announceStep() throws {
        try coordinator.announce(StepControl(action: .train, step: step, lossWeights: lossWeights, baseLearningRate: baseLearningRate))
        followersWaiting = false
    }

    /// Rank 0: end the other ranks' loops (quit, planned end, or `.halt` after a failure of rank 0).
    /// After `.quit` every rank checks that its parameters are the same bits as everybody's.
    func releaseFollowers(_ action: StepControl.Action) {
        guard coordinator.isDistributed, coordinator.isLeader, followersWaiting else { return }
        followersWaiting = false
        do { try coordinator.announce(StepControl(action: action, step: step, lossWeights: lossWeights, baseLearningRate: baseLearningRate)) }
        catch { post("could not tell the other ranks to stop: \(error)"); return }
        if action == .quit { checkParametersAgree() }
    }

    /// FNV-1a over the bits of every parameter (not the BatchNorm buffers, which are per rank).
    public func parameterChecksum() -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for (_, p) in model.namedParameters() {
            let d = p.value.data
            for i in 0..<p.count {
                var bits = UInt64(d[i].bitPattern)
                for _ in 0..<4 { h = (h ^ (bits & 0xFF)) &* 0x0000_0100_0000_01B3; bits >>= 8 }
            }
        }
        return h
    }

    /// Collective: every rank compares its parameter checksum with the others' and says so.
    func checkParametersAgree() {
        let h = parameterChecksum()
        let hex = String(h, radix: 16)
        do {
            if try coordinator.allAgree(h) {
                post("parameters bit-identical on all \(coordinator.worldSize) ranks at step \(step) (checksum \(hex))")
            } else {
                post("warning: the ranks' parameters differ at step \(step) (this rank's checksum \(hex)): the run is not synchronised")
            }
        } catch { post("could not compare parameters between ranks: \(error)") }
    }

    /// The other ranks: train what rank 0 announces until it says stop.
    func runFollower() {
        loader.start()
        while true {
            let control: StepControl
            do { control = try coordinator.awaitControl() } catch { failDistributed(error); return }
            switch control.action {
            case .quit:
                checkParametersAgree()
                finish(.finished, "stopped at step \(step) (rank 0 ended the run)", save: false)
                return
            case .halt:
                failDistributed(DistributedRunError.leaderHalted(step: step))
                return
            case .train:
                guard control.step == step else {
                    failDistributed(DistributedRunError.outOfStep(rank: coordinator.rank, expected: control.step, got: step))
                    return
                }
                if control.lossWeights != lossWeights {
                    let w = control.lossWeights
                    post("loss weights set to alpha \(w.alpha), beta \(w.beta), lambda \(w.lambda), gamma \(w.gamma) at step \(step) (from rank 0)")
                }
                if control.baseLearningRate != baseLearningRate {
                    post("base learning rate set to \(control.baseLearningRate) at step \(step) (from rank 0)")
                }
                lossWeights = control.lossWeights
                baseLearningRate = control.baseLearningRate
                do { try trainStep() } catch { failDistributed(error); return }
            }
        }
    }

    /// The step's gradient exchange, with the state lock released while waiting for the other ranks
    /// (so that an emergency save can run then).
    func exchangeGradients(terms: LossTerms, status: RankStatus) throws -> ExchangeOutcome {
        let scalars: [Float] = [terms.loc, terms.desc, terms.usp, terms.consistency, terms.io, terms.total, terms.recall,
                                Float(terms.ioInliers)]
        let parameters = model.parameters()
        if let dir = gradientDumpFolder { try dumpGradients(parameters, to: dir, kind: "local") }
        let outcome = try coordinator.exchange(parameters: parameters, scalars: scalars, status: status)
        if let dir = gradientDumpFolder { try dumpGradients(parameters, to: dir, kind: "averaged") }
        // After a failure every rank knows and stops: nobody waits for rank 0's next word.
        if coordinator.isLeader { followersWaiting = outcome.failed.isEmpty }
        if !outcome.failed.isEmpty { throw DistributedRunError.peersFailed(ranks: outcome.failed, step: step) }
        return outcome
    }

    /// The loss terms of the global batch: each term averaged over the ranks that computed one.
    func averagedTerms(_ local: LossTerms, _ outcome: ExchangeOutcome) -> LossTerms {
        var t = local
        let s = outcome.scalars
        t.loc = s[0]; t.desc = s[1]; t.usp = s[2]; t.consistency = s[3]; t.io = s[4]; t.total = s[5]; t.recall = s[6]
        t.ioInliers = Int(s[7].rounded())
        return t
    }

    /// Debugging (and the tests' proof of the average): every parameter's gradient of this step, before
    /// ("local") and after ("averaged") the exchange, in DIR/step<N>.rank<R>.<kind>.safetensors.
    func dumpGradients(_ parameters: [Variable], to dir: String, kind: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let named = model.namedParameters()
        let tensors: [(String, StoredTensor)] = named.compactMap { name, p in p.grad.map { (name, StoredTensor($0)) } }
        try SafeTensors.write(tensors, to: "\(dir)/step\(step + 1).rank\(coordinator.rank).\(kind).safetensors")
    }

    // MARK: BatchNorm buffers of the step start

    /// Copy the BatchNorm running statistics before the step's forward changes them (preallocated).
    func saveStepStartBuffers() {
        if stepStartBuffers.isEmpty {
            stepStartBuffers = model.stateEntries().compactMap { e in
                switch e.kind {
                case .parameter: return nil
                case .counter: return (e.key, e.tensor, Tensor(shape: e.tensor.shape), true)
                default: return (e.key, e.tensor, Tensor(shape: e.tensor.shape), false)
                }
            }
        }
        for b in stepStartBuffers { b.saved.data.update(from: b.live.data, count: b.live.count) }
        midStep = true
    }

    /// Put them back (trainer thread, after a failed step: the saved checkpoint must be the last completed step).
    func restoreStepStartBuffers() {
        guard midStep else { return }
        for b in stepStartBuffers { b.live.data.update(from: b.saved.data, count: b.live.count) }
        midStep = false
    }

    /// The state dict of the last completed step while the trainer thread may be inside the next one:
    /// parameters (unchanged until the update), with the BatchNorm buffers of the step start.
    func completedStepStateDict() -> [(String, StoredTensor)] {
        guard midStep else { return model.stateDict() }
        var saved: [String: StoredTensor] = [:]
        for b in stepStartBuffers {
            saved[b.key] = b.counter ? .i64(shape: b.saved.shape, values: b.saved.array.map { Int64($0) }) : StoredTensor(b.saved)
        }
        return model.stateDict().map { ($0.0, saved[$0.0] ?? $0.1) }
    }

    // MARK: failure

    /// End this rank's run after an error in a data-parallel run: rank 0 saves the last completed step
    /// (unless it is saved already) and releases the other ranks if they wait for it.
    func failDistributed(_ error: Error) {
        stateLock.lock()
        if coordinator.isLeader {
            releaseFollowers(.halt)
            restoreStepStartBuffers()
            if options.checkpointPath != nil, step > 0, lastSavedStep != step { save() }
        }
        stateLock.unlock()
        state = .failed("rank \(coordinator.rank): \(error)")
        post("training failed on rank \(coordinator.rank) of \(coordinator.worldSize): \(error)")
        finish(nil, nil, save: false)
    }

    /// Called from a signal handler's thread when the launcher stops the job (another rank died, or
    /// Ctrl-C on mpirun): rank 0 writes the last completed step if it can get a whole step within
    /// `timeout` seconds (it only waits for an Adam update or a save in progress). Returns what happened, for the exit message. The process exits afterwards,
    /// so the state lock is kept (the trainer thread must not go on).
    public func emergencySave(timeout: Double) -> String {
        guard coordinator.isLeader, let path = options.checkpointPath else { return "" }
        guard stateLock.lock(before: Date(timeIntervalSinceNow: timeout)) else {
            return "no checkpoint written (the step did not finish within \(timeout) s); the last one is at step \(lastSavedStep.map(String.init) ?? "none")"
        }
        if isFinished || lastSavedStep == step || step == 0 { return lastSavedStep.map { "the checkpoint at step \($0) is current: \(path)" } ?? "" }
        // The trainer thread may be inside the next step's forward/backward (it changes gradients and the
        // live BatchNorm buffers, neither of which is written here).
        let s = CheckpointRunState(step: step, epoch: currentEpoch, elapsed: elapsed, baseLearningRate: baseLearningRate,
                                   learningRate: currentLearningRate, lossWeights: lossWeights, options: options,
                                   changes: changes, seed: options.seed, preset: options.preset.rawValue)
        let tensors = completedStepStateDict()
        do {
            try TrainingCheckpoint.write(to: path, stateDict: tensors, optimizer: optimizer, config: model.keypointNet.config, state: s)
            if let export = options.resolvedExportPath {
                let prefix = "keypoint_net."
                let net = tensors.filter { $0.0.hasPrefix(prefix) }.map { (String($0.0.dropFirst(prefix.count)), $0.1) }
                try SafeTensors.write(net, metadata: KeypointNetWeights.configMetadata(model.keypointNet.config), to: export)
            }
        } catch { return "the emergency checkpoint failed: \(error)" }
        lastSavedStep = step
        return "saved step \(step) to \(path)"
    }
}
