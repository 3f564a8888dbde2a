import Geometry

// Warping an image by a homography on normalised coordinates, with grid_sample semantics:
//   out(p) = bilinear(input, H * grid(p)), zeros outside, align_corners=True,
// where grid(p) is the normalised position of output pixel p. This is how ha_augment_sample makes the
// source image from the target image: source = grid_sample(target, H . grid).

public enum HomographyWarp {
    /// `output` has the size of `input` unless given. H maps normalised output points to normalised input points.
    public static func warp(_ input: Image, homography hom: Homography, width: Int? = nil, height: Int? = nil) -> Image {
        let h = hom.m
        let ow = width ?? input.width, oh = height ?? input.height
        var out = Image(width: ow, height: oh, channels: input.channels)
        let sx = 2 / Double(max(ow - 1, 1)), sy = 2 / Double(max(oh - 1, 1))
        let plane = ow * oh
        input.pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                var values = [Float](repeating: 0, count: input.channels)
                for y in 0..<oh {
                    let yn = Double(y) * sy - 1
                    for x in 0..<ow {
                        let xn = Double(x) * sx - 1
                        let w = h[6] * xn + h[7] * yn + h[8]
                        if w == 0 { continue }
                        let u = (h[0] * xn + h[1] * yn + h[2]) / w
                        let v = (h[3] * xn + h[4] * yn + h[5]) / w
                        sample(src, width: input.width, height: input.height, channels: input.channels, xn: u, yn: v, into: &values)
                        for c in 0..<input.channels { dst[c * plane + y * ow + x] = values[c] }
                    }
                }
            }
        }
        return out
    }

    /// Bilinear value of every channel at normalised (xn, yn) (align_corners=True, zeros outside):
    /// one point of grid_sample.
    @inline(__always)
    public static func sample(_ src: UnsafeBufferPointer<Float>, width iw: Int, height ih: Int, channels ch: Int,
                              xn: Double, yn: Double, into values: inout [Float]) {
        let ix = (xn + 1) * Double(iw - 1) / 2, iy = (yn + 1) * Double(ih - 1) / 2
        guard ix.isFinite, iy.isFinite, ix > -1, iy > -1, ix < Double(iw), iy < Double(ih) else {
            for c in 0..<ch { values[c] = 0 }
            return
        }
        let x0 = Int(ix.rounded(.down)), y0 = Int(iy.rounded(.down))
        let fx = ix - Double(x0), fy = iy - Double(y0)
        let w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy
        let in00 = x0 >= 0 && y0 >= 0, in10 = x0 + 1 < iw && y0 >= 0
        let in01 = x0 >= 0 && y0 + 1 < ih, in11 = x0 + 1 < iw && y0 + 1 < ih
        for c in 0..<ch {
            let base = c * ih * iw
            var s = 0.0
            if in00 { s += w00 * Double(src[base + y0 * iw + x0]) }
            if in10 { s += w10 * Double(src[base + y0 * iw + x0 + 1]) }
            if in01 { s += w01 * Double(src[base + (y0 + 1) * iw + x0]) }
            if in11 { s += w11 * Double(src[base + (y0 + 1) * iw + x0 + 1]) }
            values[c] = Float(s)
        }
    }
}
