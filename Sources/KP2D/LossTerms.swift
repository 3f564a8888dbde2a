import TensorEngine

/// Every loss term of one step (values before weighting), the weighted total, and what went wrong.
public struct LossTerms: Sendable, Equatable, Codable {
    public var loc: Float = 0, desc: Float = 0, usp: Float = 0, consistency: Float = 0, io: Float = 0
    public var total: Float = 0
    public var recall: Float = 0
    public var ioInliers: Int = 0
    /// Diagnostics, not loss terms: L_loc over only the valid pairs of each source image's 300 / 100
    /// highest-score cells (KP2DLoss.locationOfTopScores); nil when there is none (then absent from the log).
    public var locTop300: Float? = nil, locTop100: Float? = nil
    /// Degenerate cases, e.g. "loc: no valid pairs", "io: 8 inliers <= 10, term skipped", "non-finite total".
    public var flags: [String] = []
    public init() {}
}

/// Wall-clock seconds of the parts of one step.
public struct StepTimings: Sendable, Equatable, Codable {
    /// Both KeypointNet forwards.
    public var networkForward: Double = 0
    /// Every loss term (IO-Net forward included).
    public var loss: Double = 0
    public var backward: Double = 0
    public init() {}
}

public struct StepResult: Sendable {
    public var terms: LossTerms
    public var timings = StepTimings()
    public init(terms: LossTerms, timings: StepTimings = StepTimings()) {
        self.terms = terms; self.timings = timings
    }
}

/// The intermediate values of one loss evaluation (the fixture kp2d.train_step compares them).
/// Masks are (B,Hc,Wc) raster order; per-image lists index that image's border-valid cells.
public struct LossDetails {
    public var sourceScore: Tensor, sourceCoord: Tensor, targetScore: Tensor, targetCoord: Tensor
    /// (B,2,Hc,Wc) warped source keypoints in target pixels.
    public var sourceUVWarped: Tensor
    public var borderMask: [Bool]
    /// (B,Hc,Wc) distance to the nearest target keypoint and its flat target cell index.
    public var nearestDistance: Tensor
    public var nearestIndex: [Int]
    public var distValidMask: [Bool]
    public var borderValidCount: [Int]
    public var distValidCount: [Int]
    /// Hardest negative per anchor (empty for skipped images).
    public var descriptorNegativeIndex: [[Int]]
    public var descriptorLossPerImage: [Float]
    public var ioTopKMaskSource: [Bool]
    public var ioTopKMaskTarget: [Bool]
    /// (B,k) per IO point: nearest target IO point, its descriptor distance, IO-Net output, +-1 label.
    public var ioNearestIndex: [Int]
    public var ioNearestDistance: [Float]
    public var ioPrediction: [Float]
    public var ioLabel: [Int]
}
