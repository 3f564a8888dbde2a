import ArgumentParser
import Datasets
import Foundation
import Training

struct PrepareImagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare-images",
        abstract: "Copy photographs into a folder, downscaled (aspect kept) to at most --max-width pixels wide, as JPEG or PNG.")

    @Argument(help: "Input images (PNG, JPEG or PPM/PGM).")
    var inputs: [String] = []

    @Option(name: .shortAndLong, help: "Output folder (created if needed).")
    var out: String

    @Option(help: "Maximum width in pixels; smaller images keep their size.")
    var maxWidth = 640

    @Option(help: "Output format: jpeg or png.")
    var format = "jpeg"

    @Option(help: "JPEG quality 1-100.")
    var quality = 90

    func run() throws {
        guard !inputs.isEmpty else { throw ValidationError("no input images given") }
        guard ["jpeg", "jpg", "png"].contains(format) else { throw ValidationError("--format must be jpeg or png, got '\(format)'") }
        guard maxWidth > 0 else { throw ValidationError("--max-width must be positive") }
        guard (1...100).contains(quality) else { throw ValidationError("--quality \(quality): must be 1-100") }
        var failed = false
        for path in inputs {
            do {
                var img = try ImageIO.load(path)
                if img.width > maxWidth {
                    let h = max(1, Int((Double(img.height) * Double(maxWidth) / Double(img.width)).rounded()))
                    img = SequenceGenerator.scaled(img, width: maxWidth, height: h)
                }
                let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
                let dest = (out as NSString).appendingPathComponent(stem + (format == "png" ? ".png" : ".jpg"))
                // Never replace a photo with its downscaled copy (an input already in --out, same name).
                if inputs.contains(where: { RunFiles.sameFile($0, dest) }) {
                    throw CommandFailure("\(dest): --out would overwrite the input image with its downscaled copy; pass another --out folder")
                }
                if format == "png" { try ImageIO.savePNG(img, to: dest) } else { try ImageIO.saveJPEG(img, to: dest, quality: quality) }
                print("\(dest) \(img.width)x\(img.height)")
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}
