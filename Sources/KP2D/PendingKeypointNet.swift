// TEMPORARY: the KeypointNet API being written on branch `keypointnet`; replaced and deleted before shipping.
import NN
import TensorEngine

/// Channel widths and flags of KeypointNet (official ablation flags).
public struct KeypointNetConfig: Sendable, Equatable, Codable {
    public var c1 = 32, c2 = 64, c3 = 128, c4 = 256, c5 = 256, d1 = 512, descriptorDim = 256
    public var doCross = true, doUpsample = true, withDrop = true, useColor = true
    public init() {}
    /// Official widths (32, 64, 128, 256, 256, 512, 256).
    public static let paper = KeypointNetConfig()
}

/// Outputs of one forward. score (B,1,Hc,Wc) with the border ring 0; coord (B,2,Hc,Wc) pixels (ch0 = x).
/// Training: feat is the dense map (B,D,H/4,W/4). Eval: feat is the map sampled at coord and L2-normalised (B,D,Hc,Wc).
public struct KeypointNetOutput {
    public var score: Variable
    public var coord: Variable
    public var feat: Variable
}

public final class KeypointNet: Module {
    public let config: KeypointNetConfig
    public init(config: KeypointNetConfig = .paper, rng: inout SeededRandom) { fatalError("pending") }
    /// x: normalised images (B,3,H,W) = (image - 0.5) * 0.225; H and W multiples of 8.
    public func callAsFunction(_ x: Variable, _ g: Graph, training: Bool) -> KeypointNetOutput { fatalError("pending") }
    public func stateEntries(prefix: String) -> [StateEntry] { fatalError("pending") }
    /// (image - 0.5) * 0.225 for images in [0,1] (official to_color_normalized).
    public static func normalize(_ images: Tensor) -> Tensor { fatalError("pending") }
}
