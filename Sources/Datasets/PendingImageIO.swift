// TEMPORARY: the decoding API being written on branch `geometry-eval`; replaced and deleted before shipping.

public enum ImageIOError: Error, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    public var description: String {
        switch self { case let .unreadable(p, r): return "\(p): \(r)" }
    }
}

public enum ImageIO {
    /// Decode PNG (8/16-bit, gray/RGB/alpha/palette), JPEG (libjpeg-turbo) or PPM/PGM (P6/P5, 8-bit,
    /// comments allowed). Gray stays 1 channel; alpha is dropped. Throws ImageIOError naming the file.
    public static func load(_ path: String) throws -> Image { fatalError("pending") }
    /// Write an 8-bit PNG (1 or 3 channels), atomically.
    public static func savePNG(_ image: Image, to path: String) throws { fatalError("pending") }
    /// Write a binary PPM (P6) or PGM (P5).
    public static func savePPM(_ image: Image, to path: String) throws { fatalError("pending") }
}
