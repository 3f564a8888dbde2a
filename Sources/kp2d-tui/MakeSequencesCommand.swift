import ArgumentParser
import Datasets
import Foundation
import TensorEngine

struct MakeSequencesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-sequences",
        abstract: "Generate a small HPatches-format set (v_ viewpoint and i_ illumination sequences) from photographs.",
        discussion: """
        The first --viewpoint photos become v_<name> sequences (image 1 a crop of the photo, images 2-6 the photo \
        through random homographies of growing strength, every pixel real), the next --illumination photos become \
        i_<name> sequences (identity homographies, growing photometric change). Writes 1..6 images and H_1_2..H_1_6 \
        (image-1 pixels -> image-k pixels) per sequence. The same seed and photos give the same files.
        """)

    @Argument(help: "Photographs (PNG, JPEG or PPM/PGM), one per sequence, viewpoint ones first.")
    var photos: [String] = []

    @Option(name: .shortAndLong, help: "Output folder (created if needed).")
    var out: String

    @Option(help: "Number of v_ (viewpoint) sequences.")
    var viewpoint = 3

    @Option(help: "Number of i_ (illumination) sequences.")
    var illumination = 3

    @Option(help: "Image size HEIGHTxWIDTH (as the paper's 240x320).")
    var size = "240x320"

    @Option(help: "v_ sequences per viewpoint photo (v_<name>, v_<name>_2, ...), each with its own homographies.")
    var viewpointVariants = 1

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Option(help: "Image format: ppm (P6/P5, as HPatches), png or jpeg.")
    var format = "ppm"

    func run() throws {
        guard !photos.isEmpty else { throw ValidationError("no photos given: pass image files, viewpoint ones first") }
        // Each generated image is held as float RGB several times (photo, warp, output): >= 48 bytes a pixel.
        let (h, w) = try parseSize(size, bytesPerPixel: 48)
        guard let fmt = ImageIO.Format(rawValue: format == "jpg" ? "jpeg" : format) else {
            throw ValidationError("--format must be ppm, png or jpeg, got '\(format)'")
        }
        guard viewpoint >= 0, illumination >= 0, viewpoint + illumination > 0 else {
            throw ValidationError("--viewpoint and --illumination must be >= 0 and not both 0")
        }
        guard viewpointVariants >= 1 else { throw ValidationError("--viewpoint-variants must be >= 1, got \(viewpointVariants)") }
        do {
            try SequenceGenerator.generate(photos: photos, viewpoint: viewpoint, illumination: illumination, root: out,
                                           options: SequenceGeneratorOptions(width: w, height: h, seed: seed, format: fmt,
                                                                                    viewpointVariants: viewpointVariants)) { name in
                FileHandle.standardError.write(Data("wrote \((out as NSString).appendingPathComponent(name))\n".utf8))
            }
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// "240x320" -> (240, 320): HEIGHTxWIDTH, as the paper writes evaluation sizes. `bytesPerPixel` is a lower
/// bound of what the command holds per pixel; a size the machine's memory cannot hold is refused before
/// anything is allocated.
func parseSize(_ s: String, flag: String = "--size", bytesPerPixel: Int = 12) throws -> (height: Int, width: Int) {
    let parts = s.lowercased().split(separator: "x")
    guard parts.count == 2, let h = Int(parts[0]), let w = Int(parts[1]), w > 0, h > 0 else {
        throw ValidationError("size must look like 240x320 (HEIGHTxWIDTH), got '\(s)'")
    }
    do { try MemoryLimit.check(bytes: MemoryLimit.product([h, w, bytesPerPixel]), what: "\(flag) \(s)", fix: "pass a smaller \(flag)") }
    catch { throw CommandFailure("\(error)") }
    return (h, w)
}
