import Foundation
import Geometry
import TensorEngine

// A reproducible generator of HPatches-format sequences from photographs.
//
// v_ (viewpoint) sequences: image 1 is a crop of the photo; image k (k = 2...6) is the photo seen through a random
// homography of growing strength (rotation, scale, translation and independent corner displacements). Every
// pixel of every image samples real photo pixels: the quadrilateral each view covers is kept inside the photo.
// H_1_k maps image-1 pixels to image-k pixels (pixel centres at integer coordinates, as the metrics use).
// i_ (illumination) sequences: identity homographies, image k = image 1 under a growing photometric change
// (per-channel gain, gamma, offset, a smooth illumination gradient and a little noise).

public struct SequenceGeneratorOptions: Sendable {
    public var width = 320
    public var height = 240
    public var seed: UInt64 = 1
    /// Image file format of the written sequences.
    public var format: ImageIO.Format = .ppm
    /// v_ sequences per viewpoint photo: the first is v_<name>, the others v_<name>_2, v_<name>_3, ... (each with
    /// its own random homographies). 1 gives exactly the files of the generator before this option existed.
    public var viewpointVariants = 1
    public init(width: Int = 320, height: Int = 240, seed: UInt64 = 1, format: ImageIO.Format = .ppm,
                viewpointVariants: Int = 1) {
        self.width = width; self.height = height; self.seed = seed; self.format = format
        self.viewpointVariants = viewpointVariants
    }
}

public struct GeneratedSequence: Sendable {
    public var name: String
    /// images[0] is image 1; images[k-1] is image k.
    public var images: [Image]
    /// homographies[k-2] = H_1_k.
    public var homographies: [Homography]
}

public enum SequenceGeneratorError: Error, CustomStringConvertible {
    case notEnoughPhotos(needed: Int, given: Int)
    case cannotPlace(String)
    public var description: String {
        switch self {
        case let .notEnoughPhotos(n, g): return "need \(n) photos (one per sequence), got \(g); pass more photos or fewer sequences"
        case let .cannotPlace(name): return "\(name): could not fit a valid viewpoint change inside the photo"
        }
    }
}

public enum SequenceGenerator {
    /// Shrink by exact halving (box filter) while at least 2x too big, then bilinear to the exact size.
    public static func scaled(_ img: Image, width: Int, height: Int) -> Image {
        var cur = img
        while cur.width / 2 >= width && cur.height / 2 >= height { cur = cur.resized(width: cur.width / 2, height: cur.height / 2) }
        return cur.resized(width: width, height: height)
    }

    /// The photo scaled (aspect kept) so that it covers `factor` times width x height.
    static func workingPhoto(_ photo: Image, width: Int, height: Int, factor: Double) -> Image {
        let s = max(factor * Double(width) / Double(photo.width), factor * Double(height) / Double(photo.height))
        let w = max(width, Int((Double(photo.width) * s).rounded())), h = max(height, Int((Double(photo.height) * s).rounded()))
        return scaled(photo, width: w, height: h)
    }

    /// Bilinear sample at pixel coordinates (x, y), edge-clamped; channel c.
    @inline(__always) public static func sample(_ img: Image, _ p: UnsafeBufferPointer<Float>, _ c: Int, _ x: Double, _ y: Double) -> Float {
        let xc = min(max(x, 0), Double(img.width - 1)), yc = min(max(y, 0), Double(img.height - 1))
        let x0 = Int(xc), y0 = Int(yc)
        let x1 = min(x0 + 1, img.width - 1), y1 = min(y0 + 1, img.height - 1)
        let fx = Float(xc - Double(x0)), fy = Float(yc - Double(y0))
        let base = c * img.width * img.height
        let a = p[base + y0 * img.width + x0], b = p[base + y0 * img.width + x1]
        let d = p[base + y1 * img.width + x0], e = p[base + y1 * img.width + x1]
        return (a * (1 - fx) + b * fx) * (1 - fy) + (d * (1 - fx) + e * fx) * fy
    }

    /// Image k of size width x height: pixel (u, v) samples `photo` at toPhoto(u, v).
    static func render(_ photo: Image, width: Int, height: Int, toPhoto: Homography) -> Image {
        var out = Image(width: width, height: height, channels: photo.channels)
        photo.pixels.withUnsafeBufferPointer { p in
            for v in 0..<height { for u in 0..<width {
                let q = toPhoto.apply(Point2(Double(u), Double(v)))
                for c in 0..<photo.channels { out.pixels[(c * height + v) * width + u] = sample(photo, p, c, q.x, q.y) }
            } }
        }
        return out
    }

    static func isConvex(_ q: [Point2]) -> Bool {
        var sign = 0.0
        for i in 0..<4 {
            let a = q[i], b = q[(i + 1) % 4], c = q[(i + 2) % 4]
            let cr = (b.x - a.x) * (c.y - b.y) - (b.y - a.y) * (c.x - b.x)
            if abs(cr) < 1e-9 { return false }
            if sign == 0 { sign = cr } else if (cr > 0) != (sign > 0) { return false }
        }
        return true
    }

    /// A viewpoint sequence from one photo.
    public static func viewpoint(name: String, photo: Image, width w: Int, height h: Int, rng: inout SeededRandom) throws -> GeneratedSequence {
        let work = workingPhoto(photo, width: w, height: h, factor: 1.6)
        let ox = Double((work.width - w) / 2) + (rng.uniform(-1, 1) * Double(work.width - w) / 8).rounded()
        let oy = Double((work.height - h) / 2) + (rng.uniform(-1, 1) * Double(work.height - h) / 8).rounded()
        let toPhoto1 = Homography.translation(ox, oy)
        var images = [render(work, width: w, height: h, toPhoto: toPhoto1)]
        var hs = [Homography]()
        let rect = [Point2(0, 0), Point2(Double(w - 1), 0), Point2(Double(w - 1), Double(h - 1)), Point2(0, Double(h - 1))]
        let cx = Double(w - 1) / 2, cy = Double(h - 1) / 2
        for k in 2...6 {
            var t = Double(k - 1) / 5
            var found: Homography? = nil
            for attempt in 0..<400 {
                if attempt > 0 && attempt % 100 == 0 { t /= 2 }
                let angle = rng.uniform(-1, 1) * 0.45 * t          // up to ~26 degrees
                let scale = exp(rng.uniform(-1, 1) * 0.4 * t)
                let tx = rng.uniform(-1, 1) * 0.08 * t * Double(w), ty = rng.uniform(-1, 1) * 0.08 * t * Double(h)
                let ca = cos(angle) * scale, sa = sin(angle) * scale
                // Where the corners of image k lie in image-1 coordinates.
                let quad = rect.map { p -> Point2 in
                    let dx = p.x - cx, dy = p.y - cy
                    let jx = rng.uniform(-1, 1) * 0.1 * t * Double(w), jy = rng.uniform(-1, 1) * 0.1 * t * Double(h)
                    return Point2(cx + ca * dx - sa * dy + tx + jx, cy + sa * dx + ca * dy + ty + jy)
                }
                guard isConvex(quad) else { continue }
                let inside = quad.allSatisfy { q in
                    q.x + ox >= 0 && q.x + ox <= Double(work.width - 1) && q.y + oy >= 0 && q.y + oy <= Double(work.height - 1)
                }
                guard inside, let kTo1 = DLT.fourPoint(from: rect, to: quad), kTo1.inverse() != nil else { continue }
                found = kTo1
                break
            }
            guard let kTo1 = found, let h1k = kTo1.inverse() else { throw SequenceGeneratorError.cannotPlace(name) }
            hs.append(h1k.normalized())
            images.append(render(work, width: w, height: h, toPhoto: toPhoto1 * kTo1))
        }
        return GeneratedSequence(name: name, images: images, homographies: hs)
    }

    /// An illumination sequence from one photo.
    public static func illumination(name: String, photo: Image, width w: Int, height h: Int, rng: inout SeededRandom) -> GeneratedSequence {
        let work = workingPhoto(photo, width: w, height: h, factor: 1)
        let ox = (work.width - w) / 2, oy = (work.height - h) / 2
        let first = work.cropped(x: ox, y: oy, width: w, height: h)
        var images = [first]
        let plane = w * h
        for k in 2...6 {
            let t = Double(k - 1) / 5
            let gains = (0..<first.channels).map { _ in Float(exp(rng.uniform(-1, 1) * 0.35 * t)) }
            let gamma = Float(exp(rng.uniform(-1, 1) * 0.6 * t))
            let offset = Float(rng.uniform(-1, 1) * 0.08 * t)
            let gx = Float(rng.uniform(-1, 1) * 0.8 * t), gy = Float(rng.uniform(-1, 1) * 0.8 * t)
            let sigma = 0.01 * t
            var img = first
            for y in 0..<h { for x in 0..<w {
                let light = max(0.05, 1 + gx * (Float(x) / Float(w) - 0.5) + gy * (Float(y) / Float(h) - 0.5))
                for c in 0..<first.channels {
                    let i = c * plane + y * w + x
                    let v = gains[c] * pow(first.pixels[i], gamma) * light + offset + Float(rng.normal() * sigma)
                    img.pixels[i] = min(max(v, 0), 1)
                }
            } }
            images.append(img.quantized8())
        }
        return GeneratedSequence(name: name, images: images, homographies: [Homography](repeating: .identity, count: 5))
    }

    /// Text of an H_1_k file: 3 lines of 3 numbers (shortest round-trip decimal).
    public static func homographyText(_ h: Homography) -> String {
        (0..<3).map { r in (0..<3).map { c in "\(h[r, c])" }.joined(separator: " ") }.joined(separator: "\n") + "\n"
    }

    /// Write 1.ext ... 6.ext and H_1_2 ... H_1_6 into root/name.
    public static func write(_ seq: GeneratedSequence, to root: String, format: ImageIO.Format) throws {
        let dir = (root as NSString).appendingPathComponent(seq.name)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (i, img) in seq.images.enumerated() {
            let stem = (dir as NSString).appendingPathComponent("\(i + 1)")
            switch format {
            // Always named N.ppm as in HPatches (the official loader opens N.ppm); gray content is written as P5.
            case .ppm: try ImageIO.savePPM(img, to: stem + ".ppm")
            case .png: try ImageIO.savePNG(img, to: stem + ".png")
            case .jpeg: try ImageIO.saveJPEG(img, to: stem + ".jpg", quality: 95)
            }
        }
        for (i, h) in seq.homographies.enumerated() {
            let p = (dir as NSString).appendingPathComponent("H_1_\(i + 2)")
            guard FileManager.default.createFile(atPath: p, contents: Data(homographyText(h).utf8)) else {
                throw ImageIOError.unwritable(path: p, reason: "cannot create file")
            }
        }
    }

    /// Sequence name from a photo path: prefix + file stem, e.g. v_skimage_coins.
    public static func sequenceName(prefix: String, photo: String) -> String {
        prefix + ((photo as NSString).lastPathComponent as NSString).deletingPathExtension
    }

    /// Generate `viewpoint` v_ sequences from the first photos and `illumination` i_ sequences from the next ones,
    /// write them under `root`, and return them. Reproducible for a given seed and photo list.
    @discardableResult
    public static func generate(photos: [String], viewpoint: Int, illumination: Int, root: String,
                                options: SequenceGeneratorOptions, progress: ((String) -> Void)? = nil) throws -> [GeneratedSequence] {
        guard photos.count >= viewpoint + illumination else {
            throw SequenceGeneratorError.notEnoughPhotos(needed: viewpoint + illumination, given: photos.count)
        }
        var master = SeededRandom(seed: options.seed)
        var out = [GeneratedSequence]()
        for (i, path) in photos.prefix(viewpoint + illumination).enumerated() {
            let photo = try ImageIO.load(path)
            if i < viewpoint {
                for variant in 1...max(1, options.viewpointVariants) {
                    var rng = master.fork()
                    let base = sequenceName(prefix: "v_", photo: path)
                    let seq = try SequenceGenerator.viewpoint(name: variant == 1 ? base : "\(base)_\(variant)", photo: photo,
                                                              width: options.width, height: options.height, rng: &rng)
                    try write(seq, to: root, format: options.format)
                    progress?(seq.name)
                    out.append(seq)
                }
            } else {
                var rng = master.fork()
                let seq = SequenceGenerator.illumination(name: sequenceName(prefix: "i_", photo: path), photo: photo,
                                                         width: options.width, height: options.height, rng: &rng)
                try write(seq, to: root, format: options.format)
                progress?(seq.name)
                out.append(seq)
            }
        }
        return out
    }
}
