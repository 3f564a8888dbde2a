// TEMPORARY: the IO-Net / loss / training-step API being written on branch `kp2d-loss`; replaced and deleted before shipping.
import NN
import TensorEngine

/// Every loss term of one step (values before weighting), the weighted total, and diagnostics.
public struct LossTerms: Sendable, Equatable, Codable {
    public var loc: Float = 0, desc: Float = 0, usp: Float = 0, consistency: Float = 0, io: Float = 0
    public var total: Float = 0
    public var recall: Float = 0
    public var ioInliers: Int = 0
    /// Degenerate cases, e.g. "loc: no valid pairs", "io: 8 inliers <= 10, term skipped", "non-finite total".
    public var flags: [String] = []
    public init() {}
}

/// Per-pair data for the UI preview (batch element 0): keypoints in pixels, associations, truth.
public struct PairDiagnostics: Sendable {
    public var sourceKeypoints: [(x: Float, y: Float, score: Float)] = []
    public var targetKeypoints: [(x: Float, y: Float, score: Float)] = []
    /// Descriptor nearest-neighbour matches source -> target with whether the target lies < 4 px from the truth.
    public var matches: [(source: Int, target: Int, correct: Bool)] = []
    /// IO-Net predictions on the 300 IO points: predicted inlier (pred > 0) vs label.
    public var ioTruePositives = 0, ioFalsePositives = 0, ioFalseNegatives = 0
    public init() {}
}

public struct StepResult: Sendable {
    public var terms: LossTerms
    public var diagnostics: PairDiagnostics
}

/// IO-Net (official InlierNet, blocks=4).
public final class InlierNet: Module {
    public init(rng: inout SeededRandom) { fatalError("pending") }
    public func stateEntries(prefix: String) -> [StateEntry] { fatalError("pending") }
}

/// KeypointNet + IO-Net with the official loss (KeypointNetwithIOLoss).
public final class KP2DModel: Module {
    public let keypointNet: KeypointNet
    public let ioNet: InlierNet
    public init(config: KeypointNetConfig, rng: inout SeededRandom) { fatalError("pending") }
    /// Keys prefixed "keypoint_net." and "io_net." as in KeypointNetwithIOLoss.state_dict().
    public func stateEntries(prefix: String) -> [StateEntry] { fatalError("pending") }
    /// The two official Adam parameter groups (KeypointNet, InlierNet).
    public func parameterGroups(lr: Float) -> [ParameterGroup] { fatalError("pending") }
    /// Forward both images (source = imageAug first, then target = image), compute every loss term and
    /// the weighted total, and backpropagate into the parameters' .grad (which are NOT zeroed here).
    /// image, imageAug: (B,3,H,W) in [0,1]; homography (B,3,3) maps normalised source -> target points.
    /// A non-finite total is flagged and nothing is backpropagated.
    public func forwardBackward(image: Tensor, imageAug: Tensor, homography: Tensor, weights: LossWeights,
                                graph: Graph, training: Bool, rng: inout SeededRandom) -> StepResult { fatalError("pending") }
}
