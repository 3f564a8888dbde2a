import Foundation
import TensorEngine

/// Runs a fixture file through the handler for its kind.
public enum FixtureRunner {
    public typealias Handler = (Fixture, FixtureReport) throws -> Void

    /// One handler per fixture kind. Each family lives in its own file (EngineOpFixtures.swift, ConvOpFixtures.swift,
    /// KeypointNetFixtures.swift, TrainStepFixture.swift, EvalFixtures.swift).
    public static func handler(for kind: String) -> Handler? {
        switch kind {
        case "homography.dlt": return EvalFixtures.homographyDLT
        case "eval.metrics": return EvalFixtures.evalMetrics
        case "kp2d.train_step": return TrainStepFixture.run
        case "op.conv2d": return ConvOpFixtures.conv2d
        case "op.batchnorm2d_train": return ConvOpFixtures.batchNorm2dTrain
        case "op.batchnorm2d_eval": return ConvOpFixtures.batchNorm2dEval
        case "op.pointwise": return ConvOpFixtures.pointwise
        case "op.maxpool2d": return ConvOpFixtures.maxPool2d
        case "op.pixel_shuffle": return ConvOpFixtures.pixelShuffle
        case "keypointnet.train": return KeypointNetFixtures.runTrain
        case "keypointnet.eval": return KeypointNetFixtures.runEval
        case "keypointnet.full_eval": return KeypointNetFixtures.runFullEval
        case "op.grid_sample": return EngineOpFixtures.gridSample
        case "op.instance_norm": return EngineOpFixtures.instanceNorm
        case "op.l2_normalize": return EngineOpFixtures.l2Normalize
        case "op.triplet_margin_loss": return EngineOpFixtures.tripletMarginLoss
        case "op.mse_loss": return EngineOpFixtures.mseLoss
        case "op.descriptor_distance": return EngineOpFixtures.descriptorDistance
        case "op.adam": return EngineOpFixtures.adam
        default: return nil
        }
    }

    /// Load and check one file. Never throws: problems become failed reports.
    public static func run(path: String) -> (report: FixtureReport?, error: String?) {
        let fixture: Fixture
        do { fixture = try Fixture.load(path) } catch { return (nil, "\(error)") }
        let report = FixtureReport(fixture: fixture)
        guard let h = handler(for: fixture.kind) else {
            report.errors.append("\(FixtureError.unknownKind(path: path, kind: fixture.kind))")
            return (report, nil)
        }
        do { try h(fixture, report) } catch { report.errors.append("\(error)") }
        if report.results.isEmpty && report.errors.isEmpty { report.errors.append("handler compared no tensors") }
        return (report, nil)
    }
}
