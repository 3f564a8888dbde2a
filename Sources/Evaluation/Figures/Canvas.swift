import Datasets
import Foundation

// An 8-bit RGB raster to draw figures on: images, lines, keypoint rings, filled rectangles and text in the
// built-in bitmap font (BitmapFont). Everything clips at the edges; nothing here allocates per pixel.

/// An 8-bit RGB colour.
public struct RGB8: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
    public var description: String { "(\(r),\(g),\(b))" }

    public static let black = RGB8(0, 0, 0)
    public static let white = RGB8(255, 255, 255)
}

/// Width x height RGB pixels, row-major, interleaved (r, g, b).
public struct Canvas: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public private(set) var pixels: [UInt8]

    public init(width: Int, height: Int, background: RGB8 = .black) {
        precondition(width > 0 && height > 0, "Canvas \(width)x\(height): both sides must be positive")
        self.width = width; self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        if background != .black { fill(x: 0, y: 0, width: width, height: height, background) }
    }

    public subscript(x: Int, y: Int) -> RGB8 {
        let i = (y * width + x) * 3
        return RGB8(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    @inline(__always) public mutating func set(_ x: Int, _ y: Int, _ c: RGB8) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * 3
        pixels[i] = c.r; pixels[i + 1] = c.g; pixels[i + 2] = c.b
    }

    /// Fill the rectangle [x, x+w) x [y, y+h), clipped.
    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, _ c: RGB8) {
        let x0 = max(0, x), y0 = max(0, y), x1 = min(width, x + w), y1 = min(height, y + h)
        guard x0 < x1, y0 < y1 else { return }
        let W = width
        pixels.withUnsafeMutableBufferPointer { p in
            for yy in y0..<y1 {
                var i = (yy * W + x0) * 3
                for _ in x0..<x1 { p[i] = c.r; p[i + 1] = c.g; p[i + 2] = c.b; i += 3 }
            }
        }
    }

    /// Copy `image` (values in [0,1], gray or RGB, planar) with its top-left corner at (x, y), clipped.
    /// Values are clamped and rounded to v*255 as ImageIO writes them.
    public mutating func draw(_ image: Image, x: Int, y: Int) {
        let plane = image.width * image.height, ch = image.channels
        let W = width, H = height
        image.pixels.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                for iy in 0..<image.height {
                    let cy = y + iy
                    guard cy >= 0, cy < H else { continue }
                    for ix in 0..<image.width {
                        let cx = x + ix
                        guard cx >= 0, cx < W else { continue }
                        let s = iy * image.width + ix, d = (cy * W + cx) * 3
                        for c in 0..<3 {
                            let v = src[(ch == 3 ? c : 0) * plane + s]
                            dst[d + c] = v.isNaN ? 0 : UInt8((min(max(v, 0), 1) * 255).rounded())
                        }
                    }
                }
            }
        }
    }

    /// A straight line from (x0, y0) to (x1, y1) (Bresenham; both ends included), `thickness` pixels wide
    /// (a square brush of that side centred on each line pixel).
    public mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ c: RGB8, thickness: Int = 1) {
        // Clip the walk to a box around the canvas so a far-away end point cannot take long.
        let limit = 4 * (width + height)
        guard abs(x0) < limit, abs(x1) < limit, abs(y0) < limit, abs(y1) < limit else { return }
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy, x = x0, y = y0
        let lo = -(thickness - 1) / 2, hi = thickness / 2
        while true {
            if thickness <= 1 { set(x, y, c) } else {
                for oy in lo...hi { for ox in lo...hi { set(x + ox, y + oy, c) } }
            }
            if x == x1 && y == y1 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    /// A line between float pixel positions (rounded to the nearest pixel centre).
    public mutating func line(from a: (x: Float, y: Float), to b: (x: Float, y: Float), _ c: RGB8, thickness: Int = 1) {
        guard a.x.isFinite, a.y.isFinite, b.x.isFinite, b.y.isFinite else { return }
        line(Int(a.x.rounded()), Int(a.y.rounded()), Int(b.x.rounded()), Int(b.y.rounded()), c, thickness: thickness)
    }

    /// A ring of radius `r` around (cx, cy) (midpoint circle algorithm).
    public mutating func ring(_ cx: Int, _ cy: Int, radius r: Int, _ c: RGB8) {
        guard r > 0 else { set(cx, cy, c); return }
        var x = r, y = 0, err = 1 - r
        while x >= y {
            for (px, py) in [(x, y), (y, x), (-y, x), (-x, y), (-x, -y), (-y, -x), (y, -x), (x, -y)] { set(cx + px, cy + py, c) }
            y += 1
            if err < 0 { err += 2 * y + 1 } else { x -= 1; err += 2 * (y - x) + 1 }
        }
    }

    /// Text in the built-in 5x7 font, top-left of the first glyph at (x, y), each font pixel `scale` x `scale`.
    /// Returns the x after the last glyph. Characters outside printable ASCII draw as '?'.
    @discardableResult
    public mutating func text(_ s: String, x: Int, y: Int, _ c: RGB8, scale: Int = 1) -> Int {
        var cx = x
        for ch in s {
            let rows = BitmapFont.glyph(ch)
            for (ry, bits) in rows.enumerated() {
                for col in 0..<BitmapFont.glyphWidth where bits & (1 << (BitmapFont.glyphWidth - 1 - col)) != 0 {
                    fill(x: cx + col * scale, y: y + ry * scale, width: scale, height: scale, c)
                }
            }
            cx += BitmapFont.advance * scale
        }
        return cx
    }

    /// The canvas as a planar float image (exactly k/255 per sample, so writing it back gives the same bytes).
    public func image() -> Image {
        var img = Image(width: width, height: height, channels: 3)
        let plane = width * height
        pixels.withUnsafeBufferPointer { p in
            img.pixels.withUnsafeMutableBufferPointer { out in
                for i in 0..<plane { for c in 0..<3 { out[c * plane + i] = Float(p[i * 3 + c]) / 255 } }
            }
        }
        return img
    }

    /// Write the canvas as an 8-bit RGB PNG (atomically: temporary file + rename) at zlib level
    /// `Canvas.pngCompressionLevel`.
    public func savePNG(to path: String) throws {
        try ImageIO.savePNG(image(), to: path, compressionLevel: Canvas.pngCompressionLevel)
    }

    /// zlib level of figure PNGs: 1, unless KP2D_FIGURE_PNG_LEVEL (0-9) says otherwise. docs/figures.md: on the
    /// bundled set level 1 wrote the 30 figures within 2% of level 9's bytes in a fraction of its time.
    public static var pngCompressionLevel: Int {
        guard let v = ProcessInfo.processInfo.environment["KP2D_FIGURE_PNG_LEVEL"].flatMap({ Int($0) }), (0...9).contains(v) else { return 1 }
        return v
    }
}
