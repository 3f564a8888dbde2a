// Bilinear resizing with OpenCV's INTER_LINEAR convention, and small image utilities.

extension Image {
    /// Bilinear resize with cv2.resize(INTER_LINEAR)'s half-pixel convention: destination pixel d samples the
    /// source at s = (d + 0.5) * (srcSize / dstSize) - 0.5, clamped to the edge (replicated border), with
    /// weights (1 - f, f) of floor(s) and floor(s) + 1. Computed in float32 on float pixels; OpenCV on uint8
    /// images uses 11-bit fixed-point weights and rounds to uint8, so results can differ by about 1/255
    /// (use `quantized8()` to get back to 8-bit steps).
    public func resized(width dw: Int, height dh: Int) -> Image {
        precondition(dw > 0 && dh > 0, "resize to \(dw)x\(dh)")
        if dw == width && dh == height { return self }
        let xs = Image.taps(src: width, dst: dw), ys = Image.taps(src: height, dst: dh)
        var out = Image(width: dw, height: dh, channels: channels)
        let sw = width, splane = width * height, dplane = dw * dh
        pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for c in 0..<channels {
                    let s = src.baseAddress! + c * splane, d = dst.baseAddress! + c * dplane
                    for y in 0..<dh {
                        let (y0, y1, fy) = ys[y]
                        let r0 = s + y0 * sw, r1 = s + y1 * sw
                        for x in 0..<dw {
                            let (x0, x1, fx) = xs[x]
                            let top = r0[x0] * (1 - fx) + r0[x1] * fx
                            let bottom = r1[x0] * (1 - fx) + r1[x1] * fx
                            d[y * dw + x] = top * (1 - fy) + bottom * fy
                        }
                    }
                }
            }
        }
        return out
    }

    /// Per destination index: the two source indices and the weight of the second.
    static func taps(src: Int, dst: Int) -> [(Int, Int, Float)] {
        let scale = Double(src) / Double(dst)
        return (0..<dst).map { d in
            let f = (Double(d) + 0.5) * scale - 0.5
            var i = Int(f.rounded(.down))
            var w = Float(f - Double(i))
            if i < 0 { i = 0; w = 0 }
            if i >= src - 1 { i = src - 1; w = 0 }
            return (i, min(i + 1, src - 1), w)
        }
    }

    /// Values rounded to multiples of 1/255 (what an 8-bit image holds), clamped to [0,1].
    public func quantized8() -> Image {
        var out = self
        for i in out.pixels.indices { out.pixels[i] = (min(max(out.pixels[i], 0), 1) * 255).rounded() / 255 }
        return out
    }

    /// Channels reversed (RGB <-> BGR). Gray images are returned unchanged.
    public func swappingRedBlue() -> Image {
        guard channels == 3 else { return self }
        let plane = width * height
        var out = self
        out.pixels.replaceSubrange(0..<plane, with: pixels[(2 * plane)..<(3 * plane)])
        out.pixels.replaceSubrange((2 * plane)..<(3 * plane), with: pixels[0..<plane])
        return out
    }

    /// 3 channels: gray replicated into RGB (as PIL's convert("RGB")); colour images unchanged.
    public func asRGB() -> Image {
        guard channels == 1 else { return self }
        return Image(width: width, height: height, channels: 3, pixels: pixels + pixels + pixels)
    }

    /// Crop the rectangle [x, x+w) x [y, y+h) (must lie inside the image).
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> Image {
        precondition(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= width && y + h <= height, "crop outside the image")
        var out = Image(width: w, height: h, channels: channels)
        for c in 0..<channels { for r in 0..<h {
            let s = (c * height + y + r) * width + x, d = (c * h + r) * w
            out.pixels.replaceSubrange(d..<(d + w), with: pixels[s..<(s + w)])
        } }
        return out
    }
}
