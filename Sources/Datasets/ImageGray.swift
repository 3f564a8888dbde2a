extension Image {
    /// One channel: RGB becomes luminance 0.299 R + 0.587 G + 0.114 B (ITU-R 601, as PIL's convert("L"),
    /// without its rounding to 8 bits); gray images are returned unchanged.
    public func asGray() -> Image {
        guard channels == 3 else { return self }
        let n = width * height
        var out = Image(width: width, height: height, channels: 1)
        pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n { dst[i] = 0.299 * src[i] + 0.587 * src[n + i] + 0.114 * src[2 * n + i] }
            }
        }
        return out
    }
}
