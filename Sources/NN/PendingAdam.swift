// TEMPORARY: the Adam API being written on branch `engine-ops`; replaced and deleted before shipping.
import TensorEngine

/// A named group of parameters with its own learning rate (like a torch param_group).
public struct ParameterGroup {
    public var name: String
    public var parameters: [Variable]
    public var lr: Float
    public init(name: String, parameters: [Variable], lr: Float) {
        self.name = name; self.parameters = parameters; self.lr = lr
    }
}

/// torch.optim.Adam: betas (0.9, 0.999), eps 1e-8 added after the bias correction of sqrt(v), no weight decay.
public final class Adam {
    public var groups: [ParameterGroup]
    public let beta1: Float, beta2: Float, eps: Float
    public private(set) var step: Int = 0
    public init(groups: [ParameterGroup], beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8) {
        self.groups = groups; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
    }
    /// One update from each parameter's .grad (nil grad = skipped, like PyTorch).
    public func update() { fatalError("pending") }
    public func zeroGrad() { for g in groups { for p in g.parameters { p.zeroGrad() } } }
    /// Moments for checkpoints: "exp_avg"/"exp_avg_sq" per parameter name, and the step.
    public func stateTensors() -> [(String, StoredTensor)] { fatalError("pending") }
    public func loadState(_ tensors: [String: StoredTensor]) throws { fatalError("pending") }
}
