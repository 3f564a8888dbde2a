/// An image as float32 in [0, 1], planar channel-major (C,H,W) like one sample of an NCHW tensor.
/// `channels` is 1 (gray) or 3 (RGB).
public struct Image: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [Float]

    public init(width: Int, height: Int, channels: Int, pixels: [Float]) {
        precondition(pixels.count == width * height * channels,
                     "Image \(width)x\(height)x\(channels) needs \(width * height * channels) values, got \(pixels.count)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    public init(width: Int, height: Int, channels: Int) {
        self.init(width: width, height: height, channels: channels,
                  pixels: [Float](repeating: 0, count: width * height * channels))
    }

    @inline(__always) public func at(_ c: Int, _ y: Int, _ x: Int) -> Float { pixels[(c * height + y) * width + x] }
}
