import Foundation
import TensorEngine

// The official non_spatial_augmentation, applied to the target and to the warped source image with a
// shared channel order and gray flag (drawn once per pair by ha_augment_sample) and everything else
// drawn per image. Works on 8-bit values like the official PIL/OpenCV path:
//   quantise (x*255 truncated) -> channel order -> Gaussian noise (p 0.5, sigma 0.05*255, clip, truncate)
//   -> Gaussian blur with a kernel drawn from {0 (none), 1, 3, 5} (OpenCV sigma, reflect-101 border)
//   -> optional gray (0.299 R + 0.587 G + 0.114 B, replicated) -> colour jitter -> /255.
// Colour jitter: brightness 0.5, contrast 0.5, saturation 0.2, hue 0.05 in a random order (torchvision
// ColorJitter). NOTE: the official code samples these parameters (ColorJitter.get_params) but then applies
// a default ColorJitter(), which does nothing, so official training ran without jitter. `colorJitter` is
// therefore off by default (as official); turning it on applies the jitter the parameters describe.

public struct PhotometricConfig: Sendable, Equatable, Codable {
    public var enabled = true
    public var noiseProbability = 0.5
    public var noiseSigma = 0.05
    public var blurKernels = [0, 1, 3, 5]
    public var shuffleProbability = 0.5
    public var grayProbability = 0.5
    public var colorJitter = false
    public var brightness = 0.5, contrast = 0.5, saturation = 0.2, hue = 0.05
    public init() {}
    public static let official = PhotometricConfig()
}

public enum PhotometricAugmentation {
    /// The per-pair draws of ha_augment_sample: a channel order (shuffled with probability 0.5) and the gray flag.
    public static func drawPairParameters(_ c: PhotometricConfig, rng: inout SeededRandom) -> (order: [Int], gray: Bool) {
        var order = [0, 1, 2]
        if rng.uniform() < c.shuffleProbability {
            for i in stride(from: 2, to: 0, by: -1) { order.swapAt(i, rng.int(i + 1)) }
        }
        let gray = rng.uniform() < c.grayProbability
        return (order, gray)
    }

    /// One image (3 channels, [0,1]) through the per-image augmentation.
    public static func apply(_ image: Image, order: [Int], gray: Bool, config c: PhotometricConfig,
                             rng: inout SeededRandom) -> Image {
        precondition(image.channels == 3, "photometric augmentation needs an RGB image")
        let w = image.width, h = image.height, plane = w * h
        var q = [Double](repeating: 0, count: 3 * plane)
        for ch in 0..<3 {
            let src = order[ch] * plane, dst = ch * plane
            for i in 0..<plane { q[dst + i] = (Double(image.pixels[src + i]) * 255).rounded(.towardZero).clamped(0, 255) }
        }
        if rng.uniform() < c.noiseProbability {
            for i in 0..<q.count { q[i] = (q[i] + rng.normal() * c.noiseSigma * 255).clamped(0, 255).rounded(.towardZero) }
        }
        let k = c.blurKernels.isEmpty ? 0 : c.blurKernels[rng.int(c.blurKernels.count)]
        if k > 1 { q = gaussianBlur(q, width: w, height: h, kernel: k) }
        if gray { q = toGray(q, plane: plane).map { $0.rounded() } }
        if c.colorJitter { q = jitter(q, plane: plane, config: c, rng: &rng) }
        return Image(width: w, height: h, channels: 3, pixels: q.map { Float($0.rounded().clamped(0, 255) / 255) })
    }

    /// OpenCV GaussianBlur with sigmaX = 0: sigma = 0.3 ((k-1)/2 - 1) + 0.8, border reflect-101, 8-bit rounding.
    static func gaussianBlur(_ q: [Double], width w: Int, height h: Int, kernel k: Int) -> [Double] {
        let sigma = 0.3 * (Double(k - 1) * 0.5 - 1) + 0.8
        let r = k / 2
        var kern = (0..<k).map { exp(-Double(($0 - r) * ($0 - r)) / (2 * sigma * sigma)) }
        let total = kern.reduce(0, +)
        kern = kern.map { $0 / total }
        func reflect(_ i: Int, _ n: Int) -> Int {
            if n == 1 { return 0 }
            var i = i
            while i < 0 || i >= n { i = i < 0 ? -i : 2 * n - 2 - i }
            return i
        }
        let plane = w * h
        var tmp = [Double](repeating: 0, count: q.count), out = tmp
        for c in 0..<3 { for y in 0..<h { for x in 0..<w {
            var s = 0.0
            for t in 0..<k { s += kern[t] * q[c * plane + y * w + reflect(x + t - r, w)] }
            tmp[c * plane + y * w + x] = s
        } } }
        for c in 0..<3 { for y in 0..<h { for x in 0..<w {
            var s = 0.0
            for t in 0..<k { s += kern[t] * tmp[c * plane + reflect(y + t - r, h) * w + x] }
            out[c * plane + y * w + x] = s.rounded().clamped(0, 255)
        } } }
        return out
    }

    static func toGray(_ q: [Double], plane: Int) -> [Double] {
        var out = q
        for i in 0..<plane {
            let y = 0.299 * q[i] + 0.587 * q[plane + i] + 0.114 * q[2 * plane + i]
            out[i] = y; out[plane + i] = y; out[2 * plane + i] = y
        }
        return out
    }

    /// torchvision ColorJitter on 8-bit values (kept in Double until the end).
    static func jitter(_ q: [Double], plane: Int, config c: PhotometricConfig, rng: inout SeededRandom) -> [Double] {
        var ops = [0, 1, 2, 3]
        for i in stride(from: 3, to: 0, by: -1) { ops.swapAt(i, rng.int(i + 1)) }
        let b = rng.uniform(max(0, 1 - c.brightness), 1 + c.brightness)
        let ct = rng.uniform(max(0, 1 - c.contrast), 1 + c.contrast)
        let s = rng.uniform(max(0, 1 - c.saturation), 1 + c.saturation)
        let hu = rng.uniform(-c.hue, c.hue)
        var v = q
        for op in ops {
            switch op {
            case 0:
                for i in 0..<v.count { v[i] = (v[i] * b).clamped(0, 255) }
            case 1:
                let g = toGray(v, plane: plane)
                let mean = (g[0..<plane].reduce(0, +) / Double(plane)).rounded()
                for i in 0..<v.count { v[i] = (mean + ct * (v[i] - mean)).clamped(0, 255) }
            case 2:
                let g = toGray(v, plane: plane)
                for i in 0..<v.count { v[i] = (g[i] + s * (v[i] - g[i])).clamped(0, 255) }
            default:
                if hu != 0 { shiftHue(&v, plane: plane, by: hu) }
            }
        }
        return v
    }

    static func shiftHue(_ v: inout [Double], plane: Int, by shift: Double) {
        for i in 0..<plane {
            let r = v[i] / 255, g = v[plane + i] / 255, b = v[2 * plane + i] / 255
            let mx = max(r, g, b), mn = min(r, g, b), d = mx - mn
            if d == 0 { continue }
            var hue: Double
            if mx == r { hue = (g - b) / d } else if mx == g { hue = 2 + (b - r) / d } else { hue = 4 + (r - g) / d }
            hue = hue / 6 + shift
            hue -= hue.rounded(.down)
            let sat = d / mx, val = mx
            let h6 = hue * 6, sector = Int(h6.rounded(.down)) % 6, f = h6 - h6.rounded(.down)
            let p = val * (1 - sat), qv = val * (1 - sat * f), t = val * (1 - sat * (1 - f))
            let rgb: (Double, Double, Double)
            switch sector {
            case 0: rgb = (val, t, p)
            case 1: rgb = (qv, val, p)
            case 2: rgb = (p, val, t)
            case 3: rgb = (p, qv, val)
            case 4: rgb = (t, p, val)
            default: rgb = (val, p, qv)
            }
            v[i] = rgb.0 * 255; v[plane + i] = rgb.1 * 255; v[2 * plane + i] = rgb.2 * 255
        }
    }
}

fileprivate extension Double {
    @inline(__always) func clamped(_ lo: Double, _ hi: Double) -> Double { Swift.min(Swift.max(self, lo), hi) }
}
