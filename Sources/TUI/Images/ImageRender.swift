import Datasets

// Images in cells: half blocks (▀ with fg = upper pixel, bg = lower pixel) in 256 colours, or an ASCII grey
// ramp when colours are missing or with --ascii. Pure functions on the grid.

public enum ImageRender {
    /// The cell size of an image fitted into at most maxW x maxH cells, keeping its aspect (a cell = 1x2 pixels).
    public static func fit(imageWidth: Int, imageHeight: Int, maxWidth: Int, maxHeight: Int) -> (width: Int, height: Int) {
        guard imageWidth > 0, imageHeight > 0, maxWidth > 0, maxHeight > 0 else { return (0, 0) }
        let s = min(Double(maxWidth) / Double(imageWidth), Double(2 * maxHeight) / Double(imageHeight))
        return (max(1, min(maxWidth, Int(Double(imageWidth) * s))), max(1, min(maxHeight, Int(Double(imageHeight) * s / 2))))
    }

    /// Box-filter resample to outW x outH pixels; returns RGB triples in [0, 1] (grey images repeat the channel).
    public static func resample(_ image: Image, width outW: Int, height outH: Int) -> [(Float, Float, Float)] {
        guard outW > 0, outH > 0, image.width > 0, image.height > 0 else { return [] }
        var out = [(Float, Float, Float)](repeating: (0, 0, 0), count: outW * outH)
        let sx = Double(image.width) / Double(outW), sy = Double(image.height) / Double(outH)
        let plane = image.width * image.height
        image.pixels.withUnsafeBufferPointer { px in
            for oy in 0..<outH {
                let y0 = Int(Double(oy) * sy), y1 = max(y0 + 1, min(image.height, Int(Double(oy + 1) * sy)))
                for ox in 0..<outW {
                    let x0 = Int(Double(ox) * sx), x1 = max(x0 + 1, min(image.width, Int(Double(ox + 1) * sx)))
                    var acc: (Float, Float, Float) = (0, 0, 0)
                    for y in y0..<y1 {
                        for x in x0..<x1 {
                            let i = y * image.width + x
                            if image.channels >= 3 {
                                acc.0 += px[i]; acc.1 += px[plane + i]; acc.2 += px[2 * plane + i]
                            } else {
                                acc.0 += px[i]; acc.1 += px[i]; acc.2 += px[i]
                            }
                        }
                    }
                    let n = Float((y1 - y0) * (x1 - x0))
                    out[oy * outW + ox] = (acc.0 / n, acc.1 / n, acc.2 / n)
                }
            }
        }
        return out
    }

    @inline(__always) static func luminance(_ p: (Float, Float, Float)) -> Float { 0.299 * p.0 + 0.587 * p.1 + 0.114 * p.2 }

    /// The ASCII ramp character of a brightness in [0, 1].
    public static func rampChar(_ v: Float) -> Unicode.Scalar {
        let t = v.isFinite ? max(0, min(1, v)) : 0
        return asciiGreyRamp[min(asciiGreyRamp.count - 1, Int(t * Float(asciiGreyRamp.count)))]
    }

    /// Draw `image` into a `width` x `height` cell block at (x, y). With `colors` (256-colour terminals and not
    /// --ascii) as half blocks, otherwise as an ASCII grey ramp in `textStyle`.
    public static func draw(into grid: inout CellGrid, x: Int, y: Int, width: Int, height: Int, image: Image,
                            halfBlocks: Bool, textStyle: Style) {
        guard width > 0, height > 0 else { return }
        if halfBlocks {
            let px = resample(image, width: width, height: height * 2)
            for cy in 0..<height {
                for cx in 0..<width {
                    let top = px[(2 * cy) * width + cx], bottom = px[(2 * cy + 1) * width + cx]
                    let style = Style(fg: TermColor(Palette.index256(top.0, top.1, top.2)),
                                      bg: TermColor(Palette.index256(bottom.0, bottom.1, bottom.2)))
                    grid.set(x + cx, y + cy, "▀", style)
                }
            }
        } else {
            let px = resample(image, width: width, height: height)
            for cy in 0..<height {
                for cx in 0..<width { grid.set(x + cx, y + cy, rampChar(luminance(px[cy * width + cx])), textStyle) }
            }
        }
    }
}
