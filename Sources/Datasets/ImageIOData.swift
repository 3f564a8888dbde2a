import Foundation

// Encoding to / decoding from memory (for files that embed images, such as the persisted training preview).

extension ImageIO {
    /// An 8-bit PNG of `image` (1 or 3 channels) in memory.
    public static func pngData(_ image: Image) throws -> Data {
        try checkWritable(image, "<memory>")
        return try encodePNG(image, path: "<memory>")
    }

    /// Decode PNG, JPEG or PPM/PGM bytes; errors name `source` (the file the bytes came from).
    public static func decode(_ data: Data, source: String) throws -> Image {
        do { return try decode(data) } catch let DecodeFailure.reason(r) {
            throw ImageIOError.unreadable(path: source, reason: r)
        }
    }
}
