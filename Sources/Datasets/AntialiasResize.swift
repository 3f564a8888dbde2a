import Foundation

// Resizing to the training size like PIL's Image.resize with ANTIALIAS (Lanczos, a = 3): a separable
// convolution whose filter support widens by the scale factor when shrinking, so downscaling averages
// instead of aliasing. Pixel centres sit at i + 0.5 in both images.

public enum AntialiasResize {
    public static func resize(_ image: Image, width: Int, height: Int) -> Image {
        if image.width == width && image.height == height { return image }
        let horizontal = resample(image, axisLength: image.width, newLength: width, horizontal: true)
        return resample(horizontal, axisLength: image.height, newLength: height, horizontal: false)
    }

    private static func lanczos(_ x: Double) -> Double {
        if x == 0 { return 1 }
        if abs(x) >= 3 { return 0 }
        let px = Double.pi * x
        return 3 * sin(px) * sin(px / 3) / (px * px)
    }

    /// Per output index: first input index and normalised weights.
    private static func coefficients(inLength: Int, outLength: Int) -> [(start: Int, weights: [Double])] {
        let scale = Double(inLength) / Double(outLength)
        let filterScale = max(scale, 1)
        let support = 3 * filterScale
        return (0..<outLength).map { i in
            let centre = (Double(i) + 0.5) * scale
            let lo = max(Int((centre - support).rounded(.down)), 0)
            let hi = min(Int((centre + support).rounded(.up)), inLength)
            var w: [Double] = []
            for j in lo..<hi { w.append(lanczos((Double(j) + 0.5 - centre) / filterScale)) }
            let total = w.reduce(0, +)
            if total != 0 { w = w.map { $0 / total } }
            return (lo, w)
        }
    }

    private static func resample(_ image: Image, axisLength: Int, newLength: Int, horizontal: Bool) -> Image {
        if axisLength == newLength { return image }
        let coeffs = coefficients(inLength: axisLength, outLength: newLength)
        let ow = horizontal ? newLength : image.width, oh = horizontal ? image.height : newLength
        var out = Image(width: ow, height: oh, channels: image.channels)
        let iw = image.width, ih = image.height
        image.pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for c in 0..<image.channels {
                    for y in 0..<oh {
                        for x in 0..<ow {
                            let (start, w) = horizontal ? coeffs[x] : coeffs[y]
                            var s = 0.0
                            if horizontal {
                                let row = (c * ih + y) * iw
                                for k in 0..<w.count { s += w[k] * Double(src[row + start + k]) }
                            } else {
                                for k in 0..<w.count { s += w[k] * Double(src[(c * ih + start + k) * iw + x]) }
                            }
                            dst[(c * oh + y) * ow + x] = Float(min(max(s, 0), 1))
                        }
                    }
                }
            }
        }
        return out
    }
}
