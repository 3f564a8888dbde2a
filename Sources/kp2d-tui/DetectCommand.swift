import ArgumentParser
import Datasets
import Foundation
import KP2D
import TensorEngine

enum DetectError: Error, CustomStringConvertible {
    case missingFile(what: String, path: String)
    case badSize(String)
    case badOutput(String)
    case imageTooSmall(String)

    var description: String {
        switch self {
        case let .missingFile(what, p): return "\(p): no such \(what); check the path"
        case let .badSize(s): return "--size \(s): expected HxW with both positive multiples of 8, e.g. 240x320"
        case let .badOutput(p): return "--out \(p): unknown format; use a name ending in .json or .safetensors"
        case let .imageTooSmall(s): return s
        }
    }
}

struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Detect keypoints (x, y, score) and descriptors in one image with KeypointNet weights.",
        discussion: """
            The image is resized (bilinear) to --size and run through the network in eval mode. Every cell with \
            score > 0 is a keypoint (the zero-score border ring is dropped); they are sorted by score and the best \
            --top-k are kept. Coordinates are pixels of the resized image unless --original-coordinates. \
            Weights: a .safetensors with the official state_dict keys (scripts/ckpt_to_safetensors.py converts \
            released .ckpt files); the widths are read from the file.
            """)

    @Option(name: .long, help: "KeypointNet weights (.safetensors).")
    var weights: String

    @Argument(help: "Image file (PNG, JPEG, PPM/PGM).")
    var image: String

    @Option(name: .long, help: "Keep the K highest-scoring keypoints (default: all with score > 0).")
    var topK: Int?

    @Option(name: .long, help: "Network input size HxW, multiples of 8.")
    var size: String = "240x320"

    @Option(name: .long, help: "Write keypoints and descriptors to FILE.json or FILE.safetensors.")
    var out: String?

    @Flag(name: .long, help: "Report coordinates in the original image's pixels instead of the resized input's.")
    var originalCoordinates = false

    static func parseSize(_ s: String) throws -> (h: Int, w: Int) {
        let parts = s.lowercased().split(separator: "x").map { Int($0) }
        guard parts.count == 2, let h = parts[0], let w = parts[1], h > 0, w > 0, h % 8 == 0, w % 8 == 0 else {
            throw DetectError.badSize(s)
        }
        return (h, w)
    }

    func run() throws {
        let (h, w) = try Self.parseSize(size)
        if let k = topK, k < 0 { throw ValidationError("--top-k must be >= 0, got \(k)") }
        if let o = out, !(o.hasSuffix(".json") || o.hasSuffix(".safetensors")) { throw DetectError.badOutput(o) }
        let fm = FileManager.default
        guard fm.fileExists(atPath: weights) else { throw DetectError.missingFile(what: "weights file", path: weights) }
        guard fm.fileExists(atPath: image) else { throw DetectError.missingFile(what: "image file", path: image) }

        let net = try KeypointNetWeights.load(weights)
        let loaded = try ImageIO.load(image)
        let detections = try Self.detect(net: net, image: loaded, height: h, width: w, topK: topK,
                                          originalCoordinates: originalCoordinates)
        let frame = originalCoordinates ? "\(loaded.width)x\(loaded.height) original" : "\(w)x\(h) input"
        if let o = out {
            try Self.write(detections, to: o, image: image, weights: weights, inputSize: (h, w),
                           imageSize: (loaded.height, loaded.width), originalCoordinates: originalCoordinates)
            print("\(detections.keypoints.count) keypoints (\(frame) pixels), \(detections.dimension)-d descriptors -> \(o)")
        } else {
            print("\(detections.keypoints.count) keypoints (\(frame) pixels), \(detections.dimension)-d descriptors; best first:")
            for k in detections.keypoints.prefix(20) {
                print(String(format: "  x %8.2f  y %8.2f  score %.4f", k.x, k.y, k.score))
            }
            if detections.keypoints.count > 20 { print("  ... (use --out FILE.json for all)") }
        }
    }

    /// Resize to HxW, normalise, eval forward, extract.
    static func detect(net: KeypointNet, image: Image, height h: Int, width w: Int, topK: Int?,
                       originalCoordinates: Bool) throws -> KeypointSet {
        let resized = image.asRGB().resized(width: w, height: h)
        let x = net.normalizedInput(Tensor(shape: [1, 3, h, w], values: resized.pixels))
        if let p = net.inputProblem(x.shape) { throw DetectError.imageTooSmall(p) }
        var d = KeypointSet.extract(net.infer(x)).sortedByScore(limit: topK)
        if originalCoordinates {
            let sx = Float(image.width) / Float(w), sy = Float(image.height) / Float(h)
            for i in d.keypoints.indices {
                d.keypoints[i].x = (d.keypoints[i].x + 0.5) * sx - 0.5
                d.keypoints[i].y = (d.keypoints[i].y + 0.5) * sy - 0.5
            }
        }
        return d
    }

    struct JSONOutput: Encodable {
        var image: String
        var weights: String
        var input_size: [Int]
        var image_size: [Int]
        var coordinates: String
        var keypoints: [Keypoint]
        var descriptors: [[Float]]
    }

    static func write(_ d: KeypointSet, to path: String, image: String, weights: String, inputSize: (Int, Int),
                      imageSize: (Int, Int), originalCoordinates: Bool) throws {
        let frame = originalCoordinates ? "original image pixels" : "resized input pixels"
        if path.hasSuffix(".json") {
            let doc = JSONOutput(image: image, weights: weights, input_size: [inputSize.0, inputSize.1],
                                 image_size: [imageSize.0, imageSize.1], coordinates: frame, keypoints: d.keypoints,
                                 descriptors: d.keypoints.indices.map { Array(d.descriptor($0)) })
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys]
            try AtomicFile.write(try enc.encode(doc), to: path)
        } else {
            let n = d.keypoints.count
            let kp = d.keypoints.flatMap { [$0.x, $0.y, $0.score] }
            try SafeTensors.write([
                ("keypoints", .f32(shape: [n, 3], values: kp)),
                ("descriptors", .f32(shape: [n, d.dimension], values: d.descriptors)),
            ], metadata: ["image": image, "weights": weights, "input_size": "\(inputSize.0)x\(inputSize.1)",
                          "image_size": "\(imageSize.0)x\(imageSize.1)", "coordinates": frame,
                          "keypoints_columns": "x,y,score"], to: path)
        }
    }
}
