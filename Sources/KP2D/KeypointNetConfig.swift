// KeypointNet's channel widths and the official ablation flags, with named presets and the checks
// that make a width set buildable (the official class only works for widths with these relations).

/// Channel widths and flags of KeypointNet (official ablation flags).
///   c1..c4: encoder widths (conv1*, conv2*, conv3* = skip, conv4*), c5: head width,
///   d1: channels before the x2 pixel shuffle, descriptorDim: output descriptor channels.
public struct KeypointNetConfig: Sendable, Equatable, Codable {
    public var c1 = 32, c2 = 64, c3 = 128, c4 = 256, c5 = 256, d1 = 512, descriptorDim = 256
    public var doCross = true, doUpsample = true, withDrop = true, useColor = true

    public init() {}

    public init(c1: Int, c2: Int, c3: Int, c4: Int, c5: Int, d1: Int, descriptorDim: Int,
                doCross: Bool = true, doUpsample: Bool = true, withDrop: Bool = true, useColor: Bool = true) {
        self.c1 = c1; self.c2 = c2; self.c3 = c3; self.c4 = c4; self.c5 = c5; self.d1 = d1
        self.descriptorDim = descriptorDim
        self.doCross = doCross; self.doUpsample = doUpsample; self.withDrop = withDrop; self.useColor = useColor
    }

    /// Official widths (32, 64, 128, 256, 256, 512, 256).
    public static let paper = KeypointNetConfig()

    /// The reduced widths of the reference fixtures (8, 16, 32, 64, 64, 128, 64): 0.34 M parameters.
    public static let reduced = KeypointNetConfig(c1: 8, c2: 16, c3: 32, c4: 64, c5: 64, d1: 128, descriptorDim: 64)

    /// Half the official widths (16, 32, 64, 128, 128, 256, 128): a faster model for CPU experiments.
    public static let half = KeypointNetConfig(c1: 16, c2: 32, c3: 64, c4: 128, c5: 128, d1: 256, descriptorDim: 128)

    /// Named presets, for command-line flags.
    public static let presets: [(name: String, config: KeypointNetConfig)] = [
        ("paper", .paper), ("half", .half), ("reduced", .reduced),
    ]

    public static func preset(named name: String) -> KeypointNetConfig? {
        presets.first { $0.name == name.lowercased() }?.config
    }

    /// (c1, c2, c3, c4, c5, d1, descriptorDim) in the fixtures' order.
    public var widths: [Int] { [c1, c2, c3, c4, c5, d1, descriptorDim] }

    /// Image channels the network takes: 3 with useColor, else 1 (official `use_color`).
    public var inputChannels: Int { useColor ? 3 : 1 }

    /// Cross ratio of the location head: 2 with doCross, else 1 (keypoints stay inside their cell).
    public var crossRatio: Float { doCross ? 2 : 1 }

    /// Why these widths cannot build the official architecture, or nil if they can.
    ///   - every width > 0;
    ///   - c4 == c5: the official code puts BatchNorm2d(c4) after Conv2d(c4, c5) in convDa/convPa/convFa;
    ///   - with doUpsample, d1 divisible by 4 and d1/4 + c3 == c4 (pixel shuffle + skip concatenation feed convFaa).
    public var problem: String? {
        if widths.contains(where: { $0 <= 0 }) { return "every width must be positive, got \(widths)" }
        if widths.contains(where: { $0 > 1 << 16 }) { return "every width must be at most 65536, got \(widths)" }
        if c4 != c5 { return "c4 (\(c4)) must equal c5 (\(c5)): the heads' BatchNorm has c4 channels after a c4->c5 conv" }
        if doUpsample {
            if d1 % 4 != 0 { return "d1 (\(d1)) must be divisible by 4 for the x2 pixel shuffle" }
            if d1 / 4 + c3 != c4 { return "d1/4 + c3 (\(d1 / 4) + \(c3)) must equal c4 (\(c4)) for the skip concatenation" }
        }
        return nil
    }

    public var widthsDescription: String { "(" + widths.map(String.init).joined(separator: ", ") + ")" }
}
