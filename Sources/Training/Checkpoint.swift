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

    public static func write(to path: String, model: KP2DModel, optimizer: Adam, state: CheckpointRunState) throws {
        let run = String(decoding: try jsonEncoder().encode(state), as: UTF8.self)
        let config = String(decoding: try JSONEncoder().encode(model.keypointNet.config), as: UTF8.self)
        try SafeTensors.write(model.stateDict() + optimizer.stateTensors(),
                              metadata: [runStateKey: run, KeypointNetWeights.configMetadataKey: config], to: path)
    }

    /// The KeypointNet weights alone (keys without prefix), readable by `eval` and `detect`.
    public static func exportWeights(_ model: KP2DModel, to path: String) throws {
        try KeypointNetWeights.save(model.keypointNet, to: path)
    }

    /// The run state of a checkpoint file (without loading tensors into a model).
    public static func readState(_ file: SafeTensorsFile) throws -> CheckpointRunState {
        guard let json = file.metadata[runStateKey] else { throw CheckpointError.notACheckpoint(path: file.path) }
        do { return try jsonDecoder().decode(CheckpointRunState.self, from: Data(json.utf8)) }
        catch { throw CheckpointError.badRunState(path: file.path, reason: "\(error)") }
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
