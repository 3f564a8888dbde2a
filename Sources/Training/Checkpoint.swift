import Foundation
import KP2D
import NN
import TensorEngine

// A training checkpoint: one safetensors file holding
//   keypoint_net.* and io_net.*   the model state dict (KeypointNetwithIOLoss keys, counters as I64)
//   optimizer.*                    the Adam state (NN/Adam.swift naming)
// and in the metadata
//   kp2d_training_run              JSON CheckpointRunState: step, epoch, lr, weights, options, seed, ...
//   kp2d_keypointnet_config        the KeypointNet config (so `eval` / `detect` can read the file directly)
// Written atomically (temporary file + rename). The batch stream and the per-step model randomness are
// pure functions of (seed, step), so step + seed are the whole random state of a run.
// The weights-only export holds the KeypointNet keys without prefix (the official model.ckpt state_dict).

public struct CheckpointRunState: Sendable, Codable, Equatable {
    public var format = 1
    /// Completed steps.
    public var step: Int
    public var epoch: Int
    /// Training seconds so far, pauses excluded.
    public var elapsed: Double
    /// The initial learning rate the schedule decays (changed by setLearningRate).
    public var baseLearningRate: Float
    public var learningRate: Float
    public var lossWeights: LossWeights
    public var options: TrainingOptions
    public var changes: [ParameterChange]
    public var seed: UInt64
    public var preset: String

    /// On disk the loss weights keep the key "weights".
    enum CodingKeys: String, CodingKey {
        case format, step, epoch, elapsed, baseLearningRate, learningRate, lossWeights = "weights", options, changes, seed, preset
    }
}

public enum CheckpointError: Error, CustomStringConvertible {
    case notACheckpoint(path: String)
    case badRunState(path: String, reason: String)

    public var description: String {
        switch self {
        case let .notACheckpoint(p):
            return "\(p): not a kp2d-tui training checkpoint (no run state in its metadata); pass a file written by `kp2d-tui train --checkpoint`"
        case let .badRunState(p, r):
            return "\(p): the checkpoint's run state cannot be read (\(r)); the file is damaged or from another version"
        }
    }
}

public enum TrainingCheckpoint {
    public static let runStateKey = "kp2d_training_run"

    static func jsonEncoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }

    static func jsonDecoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }

    public static func write(to path: String, model: KP2DModel, optimizer: Adam, state: CheckpointRunState,
                             unloggedRecords: [StepRecord] = []) throws {
        try write(to: path, stateDict: model.stateDict(), optimizer: optimizer, config: model.keypointNet.config, state: state,
                  unloggedRecords: unloggedRecords)
    }

    /// The same from a state dict taken beforehand (the emergency save of a data-parallel run).
    public static func write(to path: String, stateDict: [(String, StoredTensor)], optimizer: Adam,
                             config: KeypointNetConfig, state: CheckpointRunState, unloggedRecords: [StepRecord] = []) throws {
        let run = String(decoding: try jsonEncoder().encode(state), as: UTF8.self)
        var metadata = try KeypointNetWeights.configMetadata(config)
        metadata[runStateKey] = run
        if !unloggedRecords.isEmpty {
            metadata[unloggedRecordsKey] = String(decoding: try jsonEncoder().encode(unloggedRecords), as: UTF8.self)
        }
        try SafeTensors.write(stateDict + optimizer.stateTensors(), metadata: metadata, to: path)
    }

    /// The KeypointNet weights alone (keys without prefix), readable by `eval` and `detect`.
    public static func exportWeights(_ model: KP2DModel, to path: String) throws {
        try KeypointNetWeights.save(model.keypointNet, to: path)
    }

    /// The run state of a checkpoint file (without loading tensors into a model).
    public static func readState(_ file: SafeTensorsFile) throws -> CheckpointRunState {
        guard let json = file.metadata[runStateKey] else { throw CheckpointError.notACheckpoint(path: file.path) }
        let state: CheckpointRunState
        do { state = try jsonDecoder().decode(CheckpointRunState.self, from: Data(json.utf8)) }
        catch { throw CheckpointError.badRunState(path: file.path, reason: "\(error)") }
        if let problem = state.problem { throw CheckpointError.badRunState(path: file.path, reason: problem) }
        return state
    }

    /// Metadata key of step records the metrics log could not take (a full disk): the next resume appends them.
    public static let unloggedRecordsKey = "kp2d_unlogged_records"

    /// The records saved under `unloggedRecordsKey` (empty if none or unreadable).
    public static func unloggedRecords(_ file: SafeTensorsFile) -> [StepRecord] {
        guard let json = file.metadata[unloggedRecordsKey] else { return [] }
        return (try? jsonDecoder().decode([StepRecord].self, from: Data(json.utf8))) ?? []
    }

    public static func readState(path: String) throws -> CheckpointRunState {
        try readState(try SafeTensors.read(path))
    }

    /// Load the model and optimizer state from `file` (strict: every key must match this model).
    public static func load(_ file: SafeTensorsFile, into model: KP2DModel, optimizer: Adam) throws -> CheckpointRunState {
        let state = try readState(file)
        let modelTensors = file.tensors.filter { !$0.key.hasPrefix(Adam.statePrefix) }
        try model.loadStateDict(modelTensors, strict: true, source: file.path)
        try optimizer.loadState(file.tensors)
        return state
    }
}

extension CheckpointRunState {
    /// Why this run state cannot be trusted (nil if it can): a damaged or hand-edited file must give a clear
    /// error, not a trap deep inside the trainer.
    public var problem: String? {
        if format != 1 { return "format \(format) is not 1, the only format this version reads; use the kp2d-tui that wrote it" }
        if step < 0 { return "step \(step) is negative" }
        if step > Int(Int32.max) { return "step \(step) is out of range" }
        if epoch < 0 { return "epoch \(epoch) is negative" }
        if !elapsed.isFinite || elapsed < 0 { return "elapsed time \(elapsed) is not a finite number >= 0" }
        for (name, v) in [("base learning rate", baseLearningRate), ("learning rate", learningRate)] where !(v.isFinite && v > 0) {
            return "\(name) \(v) is not a positive number"
        }
        for (name, v) in [("alpha", lossWeights.alpha), ("beta", lossWeights.beta), ("lambda", lossWeights.lambda), ("gamma", lossWeights.gamma)]
        where !(v.isFinite && v >= 0) {
            return "loss weight \(name) \(v) is not a finite number >= 0"
        }
        if TrainingPreset(rawValue: preset) == nil { return "unknown preset '\(preset)'" }
        if seed != options.seed { return "seed \(seed) differs from the options' seed \(options.seed)" }
        if let c = changes.first(where: { $0.step < 0 || $0.step > step }) { return "a parameter change at step \(c.step) lies outside 0...\(step)" }
        do { try options.validate() } catch { return "its training options are invalid: \(error)" }
        return nil
    }
}
