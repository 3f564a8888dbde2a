import Foundation
import CPNG
import CJPEG
import TensorEngine

/// A file that could not be decoded or written. The description names the file and what is wrong.
public enum ImageIOError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case unwritable(path: String, reason: String)
    public var description: String {
        switch self {
        case let .unreadable(p, r): return "\(p): \(r)"
        case let .unwritable(p, r): return "\(p): cannot write image: \(r)"
        }
    }
}

/// Image files <-> `Image` (float32 in [0,1], planar C,H,W).
///
/// Reading: PNG (libpng: 1/2/4/8/16-bit, gray, RGB, palette, with or without alpha), JPEG (libjpeg-turbo,
/// gray or YCbCr; CMYK is rejected) and binary PPM/PGM (P6/P5, comments allowed, maxval 1...65535).
/// Gray stays 1 channel, colour is RGB, alpha is dropped. 16-bit samples keep their precision (v / 65535;
/// OpenCV's imread(IMREAD_COLOR) would truncate them to 8 bits instead).
/// Writing: 8-bit PNG, P6/P5 PPM/PGM and JPEG; values are clamped to [0,1] and rounded to v*255.
public enum ImageIO {
    public enum Format: String, Sendable { case png, jpeg, ppm }

    /// Decode PNG, JPEG or PPM/PGM, chosen by the file's signature (not its extension).
    public static func load(_ path: String) throws -> Image {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ImageIOError.unreadable(path: path, reason: "no such file")
        }
        guard !isDir.boolValue else { throw ImageIOError.unreadable(path: path, reason: "is a folder, not an image file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImageIOError.unreadable(path: path, reason: "cannot read file (permissions?)")
        }
        do {
            return try decode(data)
        } catch let DecodeFailure.reason(r) {
            throw ImageIOError.unreadable(path: path, reason: r)
        }
    }

    /// The format of encoded bytes, from their signature; nil if unknown.
    public static func sniff(_ data: Data) -> Format? {
        let b = [UInt8](data.prefix(8))
        if b.count >= 8 && b == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { return .png }
        if b.count >= 2 && b[0] == 0xFF && b[1] == 0xD8 { return .jpeg }
        if b.count >= 2 && b[0] == UInt8(ascii: "P") && (b[1] == UInt8(ascii: "5") || b[1] == UInt8(ascii: "6")) { return .ppm }
        return nil
    }

    enum DecodeFailure: Error { case reason(String) }

    /// Decode bytes (any supported format). Errors carry a reason without a path.
    static func decode(_ data: Data) throws -> Image {
        if data.isEmpty { throw DecodeFailure.reason("empty file") }
        switch sniff(data) {
        case .png: return try decodePNG(data)
        case .jpeg: return try decodeJPEG(data)
        case .ppm: return try PNM.decode(data)
        case nil:
            if data.first == UInt8(ascii: "P"), data.count > 1, [UInt8(ascii: "1"), UInt8(ascii: "2"), UInt8(ascii: "3"), UInt8(ascii: "4")].contains(data[data.startIndex + 1]) {
                throw DecodeFailure.reason("ASCII or 1-bit PNM (P1-P4) is not supported; use binary P5/P6")
            }
            throw DecodeFailure.reason("unknown image format (expected PNG, JPEG or binary PPM/PGM)")
        }
    }

    static func decodePNG(_ data: Data) throws -> Image {
        var pixels: UnsafeMutablePointer<UInt8>? = nil
        var w: Int32 = 0, h: Int32 = 0, ch: Int32 = 0, bps: Int32 = 0
        var err = [CChar](repeating: 0, count: 256)
        let failed: Bool = data.withUnsafeBytes { raw in
            err.withUnsafeMutableBufferPointer { e in
                kp2d_png_decode(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, &pixels, &w, &h, &ch, &bps, e.baseAddress) != nil
            }
        }
        if failed { throw DecodeFailure.reason("invalid PNG: " + String(cString: err)) }
        guard let p = pixels else { throw DecodeFailure.reason("invalid PNG: no pixel data") }
        defer { free(p) }
        return interleavedToImage(p, width: Int(w), height: Int(h), channels: Int(ch), bytesPerSample: Int(bps), maxValue: bps == 2 ? 65535 : 255)
    }

    static func decodeJPEG(_ data: Data) throws -> Image {
        var pixels: UnsafeMutablePointer<UInt8>? = nil
        var w: Int32 = 0, h: Int32 = 0, ch: Int32 = 0
        var err = [CChar](repeating: 0, count: 256)
        let failed: Bool = data.withUnsafeBytes { raw in
            err.withUnsafeMutableBufferPointer { e in
                kp2d_jpeg_decode(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, &pixels, &w, &h, &ch, e.baseAddress) != nil
            }
        }
        if failed { throw DecodeFailure.reason("invalid JPEG: " + String(cString: err)) }
        guard let p = pixels else { throw DecodeFailure.reason("invalid JPEG: no pixel data") }
        defer { free(p) }
        return interleavedToImage(p, width: Int(w), height: Int(h), channels: Int(ch), bytesPerSample: 1, maxValue: 255)
    }

    /// Interleaved HWC samples (8-bit, or 16-bit big-endian) -> planar float image. Only 1 or 3 channels
    /// reach here (alpha was stripped by the decoder).
    static func interleavedToImage(_ p: UnsafePointer<UInt8>, width: Int, height: Int, channels: Int,
                                   bytesPerSample: Int, maxValue: Int) -> Image {
        var img = Image(width: width, height: height, channels: channels)
        let maxv = Float(maxValue)  // divide (not multiply by 1/max) so k/255 is exact as in ToTensor
        let plane = width * height
        img.pixels.withUnsafeMutableBufferPointer { out in
            for i in 0..<plane {
                for c in 0..<channels {
                    let s = i * channels + c
                    let v = bytesPerSample == 2 ? Int(p[2 * s]) << 8 | Int(p[2 * s + 1]) : Int(p[s])
                    out[c * plane + i] = Float(v) / maxv
                }
            }
        }
        return img
    }

    /// Planar float -> interleaved 8-bit HWC, clamped and rounded.
    public static func interleaved8(_ image: Image) -> [UInt8] {
        let plane = image.width * image.height, ch = image.channels
        var out = [UInt8](repeating: 0, count: plane * ch)
        image.pixels.withUnsafeBufferPointer { p in
            for i in 0..<plane { for c in 0..<ch {
                let v = p[c * plane + i]
                out[i * ch + c] = v.isNaN ? 0 : UInt8((min(max(v, 0), 1) * 255).rounded())
            } }
        }
        return out
    }

    static func checkWritable(_ image: Image, _ path: String) throws {
        guard image.channels == 1 || image.channels == 3 else {
            throw ImageIOError.unwritable(path: path, reason: "\(image.channels) channels; only 1 (gray) or 3 (RGB) can be written")
        }
        guard image.width > 0, image.height > 0 else { throw ImageIOError.unwritable(path: path, reason: "empty image") }
    }

    static func write(_ data: Data, _ path: String) throws {
        do { try AtomicFile.write(data, to: path) } catch {
            throw ImageIOError.unwritable(path: path, reason: "\(error)")
        }
    }

    /// Write an 8-bit PNG (1 or 3 channels), atomically. `compressionLevel`: zlib 0-9 (9: smallest, slowest).
    public static func savePNG(_ image: Image, to path: String, compressionLevel: Int = 9) throws {
        try checkWritable(image, path)
        try write(try encodePNG(image, path: path, level: compressionLevel), path)
    }

    static func encodePNG(_ image: Image, path: String, level: Int = 9) throws -> Data {
        let bytes = interleaved8(image)
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        var err = [CChar](repeating: 0, count: 256)
        let failed: Bool = bytes.withUnsafeBufferPointer { b in
            err.withUnsafeMutableBufferPointer { e in
                kp2d_png_encode_level(b.baseAddress, Int32(image.width), Int32(image.height), Int32(image.channels), Int32(level),
                                      &out, &size, e.baseAddress) != nil
            }
        }
        if failed { throw ImageIOError.unwritable(path: path, reason: "libpng: " + String(cString: err)) }
        guard let o = out else { throw ImageIOError.unwritable(path: path, reason: "libpng produced no data") }
        defer { free(o) }
        return Data(bytes: o, count: size)
    }

    /// Write a baseline JPEG (1 or 3 channels) of the given quality, atomically.
    public static func saveJPEG(_ image: Image, to path: String, quality: Int = 90) throws {
        try checkWritable(image, path)
        let bytes = interleaved8(image)
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        var err = [CChar](repeating: 0, count: 256)
        let failed: Bool = bytes.withUnsafeBufferPointer { b in
            err.withUnsafeMutableBufferPointer { e in
                kp2d_jpeg_encode(b.baseAddress, Int32(image.width), Int32(image.height), Int32(image.channels),
                                 Int32(min(max(quality, 1), 100)), &out, &size, e.baseAddress) != nil
            }
        }
        if failed { throw ImageIOError.unwritable(path: path, reason: "libjpeg: " + String(cString: err)) }
        guard let o = out else { throw ImageIOError.unwritable(path: path, reason: "libjpeg produced no data") }
        defer { free(o) }
        try write(Data(bytes: o, count: size), path)
    }

    /// Write a binary PPM (P6, 3 channels) or PGM (P5, 1 channel), 8-bit, atomically.
    public static func savePPM(_ image: Image, to path: String) throws {
        try checkWritable(image, path)
        var data = Data("\(image.channels == 3 ? "P6" : "P5")\n\(image.width) \(image.height)\n255\n".utf8)
        data.append(contentsOf: interleaved8(image))
        try write(data, path)
    }
}

/// Binary PNM (P5 gray / P6 RGB) parsing.
enum PNM {
    static func decode(_ data: Data) throws -> Image {
        let b = [UInt8](data)
        var pos = 2
        let channels = b[1] == UInt8(ascii: "6") ? 3 : 1
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x0B || c == 0x0C }
        func token(_ what: String) throws -> Int {
            // Skip whitespace and comments (# to end of line).
            while pos < b.count {
                if isSpace(b[pos]) { pos += 1 } else if b[pos] == UInt8(ascii: "#") {
                    while pos < b.count && b[pos] != 0x0A && b[pos] != 0x0D { pos += 1 }
                } else { break }
            }
            var v = 0, digits = 0
            while pos < b.count, b[pos] >= 0x30, b[pos] <= 0x39 {
                v = v * 10 + Int(b[pos] - 0x30); digits += 1; pos += 1
                if v > 1 << 24 { throw ImageIO.DecodeFailure.reason("bad PNM header: \(what) is too large") }
            }
            guard digits > 0 else {
                throw ImageIO.DecodeFailure.reason(pos >= b.count ? "bad PNM header: file ends before the \(what)"
                                                                  : "bad PNM header: expected the \(what), found '\(Character(UnicodeScalar(b[pos])))'")
            }
            return v
        }
        let w = try token("width"), h = try token("height"), maxval = try token("maxval")
        guard w > 0, h > 0 else { throw ImageIO.DecodeFailure.reason("bad PNM header: size \(w)x\(h)") }
        guard maxval >= 1, maxval <= 65535 else { throw ImageIO.DecodeFailure.reason("bad PNM header: maxval \(maxval) outside 1...65535") }
        guard pos < b.count, isSpace(b[pos]) else {
            throw ImageIO.DecodeFailure.reason("bad PNM header: no whitespace after maxval / file ends before the pixel data")
        }
        pos += 1
        let bps = maxval > 255 ? 2 : 1
        let need = w * h * channels * bps
        guard b.count - pos >= need else {
            throw ImageIO.DecodeFailure.reason("truncated data: \(w)x\(h) \(channels == 3 ? "P6" : "P5") needs \(need) bytes of pixels, file has \(b.count - pos)")
        }
        return b.withUnsafeBufferPointer { p in
            ImageIO.interleavedToImage(p.baseAddress! + pos, width: w, height: h, channels: channels, bytesPerSample: bps, maxValue: maxval)
        }
    }
}
