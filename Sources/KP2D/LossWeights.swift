/// The weights of the four KP2D loss terms, changeable between steps:
///   total = alpha*L_loc + beta*2*L_desc + lambda*(L_usp + 2*L_consistency) + gamma*L_IO
/// The official code weights L_IO by the keypoint weight; here it has its own weight gamma whose
/// default (1, with alpha 1) reproduces the official total.
public struct LossWeights: Sendable, Equatable, Codable {
    public var alpha: Float   // keypoint location (official keypoint_loss_weight)
    public var beta: Float    // descriptor (official descriptor_loss_weight; the code doubles it)
    public var lambda: Float  // score (official score_loss_weight)
    public var gamma: Float   // IO-Net

    public init(alpha: Float = 1, beta: Float = 1, lambda: Float = 1, gamma: Float = 1) {
        self.alpha = alpha; self.beta = beta; self.lambda = lambda; self.gamma = gamma
    }

    /// The official training configuration as the code stands today (TRI-ML/KP2D kp2d/configs/base_config.py:
    /// keypoint 1.0, descriptor 1.0, score 1.0, IO by the keypoint weight). The descriptor weight was 2.0 until
    /// commit 4d15567 ("Update to pytorch 1.6 + cleanup", Jan 2021), which set today's 1.0.
    public static let official = LossWeights(alpha: 1, beta: 1, lambda: 1, gamma: 1)

    /// The descriptor weight of the first released training code (base_config.py before commit 4d15567).
    public static let official2020 = LossWeights(alpha: 1, beta: 2, lambda: 1, gamma: 1)
}
