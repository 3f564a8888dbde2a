// Bilinear image resizing with half-pixel centres (cv2.resize INTER_LINEAR / PyTorch
// interpolate(mode="bilinear", align_corners=False) without antialiasing):
//   src = (dst + 0.5) * (inSize / outSize) - 0.5, clamped at 0; neighbours beyond the last pixel repeat it.

extension Image {
    /// This image resized to `width` x `height` with bilinear interpolation (same channel count).
    public func resizedBilinear(width outW: Int, height outH: Int) -> Image {
        precondition(outW > 0 && outH > 0, "resizedBilinear: target size \(outW)x\(outH) must be positive")
        if outW == width && outH == height { return self }
        var out = [Float](repeating: 0, count: outW * outH * channels)
        let sx = Double(width) / Double(outW), sy = Double(height) / Double(outH)
        // Per output column: left index, right index, weight of the right one.
        func taps(_ outN: Int, _ inN: Int, _ s: Double) -> [(Int, Int, Float)] {
            (0..<outN).map { d in
                let src = Swift.max((Double(d) + 0.5) * s - 0.5, 0)
                let i0 = Swift.min(Int(src), inN - 1)
                let i1 = Swift.min(i0 + 1, inN - 1)
                return (i0, i1, Float(src - Double(i0)))
            }
        }
        let xt = taps(outW, width, sx), yt = taps(outH, height, sy)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                xt.withUnsafeBufferPointer { xt in
                    for c in 0..<channels {
                        let plane = c * width * height, outPlane = c * outW * outH
                        for (y, (y0, y1, fy)) in yt.enumerated() {
                            let r0 = plane + y0 * width, r1 = plane + y1 * width
                            for x in 0..<outW {
                                let (x0, x1, fx) = xt[x]
                                let top = src[r0 + x0] * (1 - fx) + src[r0 + x1] * fx
                                let bottom = src[r1 + x0] * (1 - fx) + src[r1 + x1] * fx
                                dst[outPlane + y * outW + x] = top * (1 - fy) + bottom * fy
                            }
                        }
                    }
                }
            }
        }
        return Image(width: outW, height: outH, channels: channels, pixels: out)
    }

    /// Three channels: gray is replicated (as PIL's convert("RGB")); RGB is returned unchanged.
    public func asRGB() -> Image {
        if channels == 3 { return self }
        precondition(channels == 1, "asRGB: images have 1 or 3 channels, got \(channels)")
        return Image(width: width, height: height, channels: 3, pixels: pixels + pixels + pixels)
    }

    /// One channel: RGB becomes luminance 0.299 R + 0.587 G + 0.114 B (ITU-R 601, as PIL's convert("L")).
    public func asGray() -> Image {
        if channels == 1 { return self }
        precondition(channels == 3, "asGray: images have 1 or 3 channels, got \(channels)")
        let n = width * height
        var out = [Float](repeating: 0, count: n)
        for i in 0..<n { out[i] = 0.299 * pixels[i] + 0.587 * pixels[n + i] + 0.114 * pixels[2 * n + i] }
        return Image(width: width, height: height, channels: 1, pixels: out)
    }
}
