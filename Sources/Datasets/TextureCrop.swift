import TensorEngine

// Texture-aware crops (`--crop-texture K`, not official; in no preset): draw K crops with the random-crop geometry
// (`PairAugmenter.randomCrop`) and keep the one with the largest share of textured 8x8 cells at the training size.
// A cell is textured when its mean local gradient (|dx| + |dy| of the crop's luminance, box-resampled to the
// training size, values in [0, 1]) is above `TextureCrop.cellThreshold`. Issue 8, fourth round of docs/training.md.
//
// Cost: one integral image of the photo's luminance (one pass over the decoded photo), then O(training pixels)
// per candidate, independent of the crop's size in the photo. The full-quality resize (Lanczos) is done once, for
// the chosen crop only.

public enum TextureCrop {
    /// Mean |dx| + |dy| above which an 8x8 cell counts as textured. At 128x192, whole bundled photos have
    /// 30% (skimage_rocket: sky) to 96% (scipy_face: fur) of their cells above it.
    public static let cellThreshold: Float = 0.03
    /// The crop scale range used when `--crop-texture` is given without `--crop-min-scale`.
    public static let defaultMinScale = 0.5
    /// Side of the cells, as the network's cells (stride 8).
    public static let cell = 8

    /// Luminance of an RGB or gray image as a summed-area table ((h+1) x (w+1), row-major, zero first row and column).
    public struct LuminanceSums {
        public let width: Int, height: Int
        var sums: [Double]

        public init(_ image: Image) {
            width = image.width; height = image.height
            let w = width, h = height, plane = w * h
            var s = [Double](repeating: 0, count: (w + 1) * (h + 1))
            image.pixels.withUnsafeBufferPointer { px in
                s.withUnsafeMutableBufferPointer { out in
                    for y in 0..<h {
                        var row = 0.0
                        for x in 0..<w {
                            let i = y * w + x
                            let l: Float = image.channels == 3
                                ? 0.299 * px[i] + 0.587 * px[plane + i] + 0.114 * px[2 * plane + i]
                                : px[i]
                            row += Double(l)
                            out[(y + 1) * (w + 1) + x + 1] = out[y * (w + 1) + x + 1] + row
                        }
                    }
                }
            }
            sums = s
        }

        /// Mean luminance of the pixel box [x0, x1) x [y0, y1).
        @inline(__always) func mean(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int) -> Float {
            let w1 = width + 1
            let total = sums[y1 * w1 + x1] - sums[y0 * w1 + x1] - sums[y1 * w1 + x0] + sums[y0 * w1 + x0]
            return Float(total / Double((x1 - x0) * (y1 - y0)))
        }
    }

    /// Share of the 8x8 cells of the crop (x, y, w, h), box-resampled to outWidth x outHeight, whose mean
    /// |dx| + |dy| is above `threshold`. outWidth and outHeight are multiples of 8 (the training size).
    public static func texturedShare(_ lum: LuminanceSums, x: Int, y: Int, width w: Int, height h: Int,
                                     outWidth: Int, outHeight: Int, threshold: Float = cellThreshold) -> Double {
        // Box resample: output pixel (i, j) averages the source pixels of its footprint (at least one).
        let xs = (0...outWidth).map { x + $0 * w / outWidth }, ys = (0...outHeight).map { y + $0 * h / outHeight }
        var small = [Float](repeating: 0, count: outWidth * outHeight)
        for j in 0..<outHeight {
            let y0 = min(ys[j], y + h - 1), y1 = max(ys[j + 1], y0 + 1)
            for i in 0..<outWidth {
                let x0 = min(xs[i], x + w - 1), x1 = max(xs[i + 1], x0 + 1)
                small[j * outWidth + i] = lum.mean(x0, y0, x1, y1)
            }
        }
        // Per cell: mean of |dx| + |dy| (forward differences; the last row / column of the image uses the
        // difference before it).
        let cw = outWidth / cell, ch = outHeight / cell
        var textured = 0
        for cy in 0..<ch {
            for cx in 0..<cw {
                var g: Float = 0
                for yy in (cy * cell)..<(cy * cell + cell) {
                    let y0 = min(yy, outHeight - 2)
                    for xx in (cx * cell)..<(cx * cell + cell) {
                        let x0 = min(xx, outWidth - 2)
                        let v = small[y0 * outWidth + x0]
                        g += abs(small[y0 * outWidth + x0 + 1] - v) + abs(small[(y0 + 1) * outWidth + x0] - v)
                    }
                }
                if g / Float(cell * cell) > threshold { textured += 1 }
            }
        }
        return Double(textured) / Double(max(1, cw * ch))
    }

    /// One crop window: origin and size in the photo.
    public struct Window: Equatable, Sendable { public var x, y, width, height: Int }

    /// K windows drawn with the random-crop geometry, in order; the index of the most textured one (the first on
    /// ties) and every candidate's share. Deterministic in `rng`, which advances by exactly K crop draws.
    public static func choose(_ photo: Image, aspect: Double, minScale: Double, candidates k: Int,
                              outWidth: Int, outHeight: Int, rng: inout SeededRandom) -> (best: Int, windows: [Window], shares: [Double]) {
        let windows = (0..<max(1, k)).map { _ in PairAugmenter.randomWindow(photo, aspect: aspect, minScale: minScale, rng: &rng) }
        let lum = LuminanceSums(photo)
        let shares = windows.map { texturedShare(lum, x: $0.x, y: $0.y, width: $0.width, height: $0.height,
                                                 outWidth: outWidth, outHeight: outHeight) }
        var best = 0
        for i in 1..<shares.count where shares[i] > shares[best] { best = i }
        return (best, windows, shares)
    }

    /// The most textured of K random crops of `photo` (see `choose`).
    public static func crop(_ photo: Image, aspect: Double, minScale: Double, candidates k: Int,
                            outWidth: Int, outHeight: Int, rng: inout SeededRandom) -> Image {
        let c = choose(photo, aspect: aspect, minScale: minScale, candidates: k, outWidth: outWidth, outHeight: outHeight, rng: &rng)
        let w = c.windows[c.best]
        return photo.cropped(x: w.x, y: w.y, width: w.width, height: w.height)
    }
}
