import ArgumentParser
import Datasets
import Evaluation
import Foundation
import KP2D
import Training

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate KeypointNet weights on an HPatches-format folder with the official metrics.",
        discussion: """
        As the official scripts/eval_keypoint_net.py: every pair (1, k) of every sequence, both images resized to \
        --size ignoring aspect ratio (homography rescaled), fed in BGR order as cv2.imread gives them (--rgb to \
        change), every cell with score > 0 kept (no NMS), then repeatability and localization error (3 px), \
        homography correctness d1/d3/d5 (mutual nearest neighbours + RANSAC) and matching score on the top-k points. \
        The official settings are --size 240x320 --top-k 300 and --size 480x640 --top-k 1000.
        """)

    @Option(help: "The hpatches-sequences-release folder (i_*/v_* sub-folders).")
    var hpatches: String

    @Option(help: "KeypointNet weights (.safetensors with PyTorch keys such as conv1a.0.weight).")
    var weights: String

    @Option(help: "Evaluation size HEIGHTxWIDTH, multiples of 8.")
    var size = "240x320"

    @Option(help: "Keypoints per image used by the metrics (highest scores).")
    var topK = 300

    @Option(help: "Sequences: all, i (illumination) or v (viewpoint).")
    var split = "all"

    @Flag(help: "Feed images in RGB order instead of the official BGR.")
    var rgb = false

    @Option(help: "Seed of the RANSAC draws.")
    var seed: UInt64 = 0

    @Flag(help: "Run both official settings (240x320 top-300, then 480x640 top-1000); overrides --size/--top-k.")
    var official = false

    @Flag(help: "Print the full report (settings, summaries, per-sequence and per-pair results) as JSON on stdout.")
    var json = false

    @Option(help: ArgumentHelp("Write one PNG per pair to DIR: both images, the matches as lines (green correct, red wrong at 3 px) and the pair's numbers.",
                               valueName: "DIR"))
    var figures: String?

    func run() throws {
        let (h, w) = try parseSize(size)
        guard h % 8 == 0, w % 8 == 0 else { throw ValidationError("--size \(size): height and width must be multiples of 8") }
        guard topK > 0 else { throw ValidationError("--top-k must be positive") }
        guard let sp = HPatchesSplit(rawValue: split) else { throw ValidationError("--split must be all, i or v, got '\(split)'") }
        let order: ChannelOrder = rgb ? .rgb : .bgr
        let sizes: [(h: Int, w: Int, k: Int)] = official ? [(240, 320, 300), (480, 640, 1000)] : [(h, w, topK)]
        let runs = sizes.map { HPatchesEvalSettings(width: $0.w, height: $0.h, topK: $0.k, split: sp, channelOrder: order, seed: seed) }
        do {
            let dataset = try HPatchesDataset(root: hpatches, split: sp)
            for p in dataset.problems { warn("warning: \(p)") }
            guard FileManager.default.fileExists(atPath: weights) else {
                warn("error: \(weights): no such weights file; pass a .safetensors file saved from KeypointNet")
                throw ExitCode(1)
            }
            let net = try KeypointNetWeights.load(weights)
            if let dir = figures { try FigureFolder.prepare(dir) }
            var reports = [HPatchesEvalReport]()
            for settings in runs {
                let bar = ProgressBar(label: "eval \(settings.height)x\(settings.width) top-\(settings.topK)")
                // --official writes each setting's figures into a sub-folder named by its size.
                let figureDir = figures.map { runs.count > 1 ? ($0 as NSString).appendingPathComponent("\(settings.height)x\(settings.width)") : $0 }
                var figureError: Error? = nil
                var written = 0
                let note = (weights as NSString).lastPathComponent
                let report = try HPatchesEvaluation.run(
                    dataset: dataset, settings: settings, detect: { KeypointNetDetector.detect(net, $0) },
                    onPair: figureDir.map { dir in { sample, a, b, m in
                        guard figureError == nil else { return }
                        let path = (dir as NSString).appendingPathComponent(HPatchesFigure.fileName(sample.pair))
                        do {
                            try HPatchesFigure.render(sample: sample, first: a, second: b, metrics: m, topK: settings.topK,
                                                      order: settings.channelOrder, note: note).savePNG(to: path)
                            written += 1
                        } catch { figureError = error }
                    } },
                    progress: { bar.update($0, $1) })
                bar.finish()
                if let e = figureError { throw CommandFailure("\(e); pass a writable --figures folder") }
                if let d = figureDir { warn("figures: \(written) PNGs in \(d)") }
                for p in report.problems.dropFirst(dataset.problems.count) { warn("warning: \(p)") }
                if !json { print(EvalTable.render(report)) }
                reports.append(report)
            }
            if json {
                let enc = JSONEncoder()
                enc.outputFormatting = [.prettyPrinted, .sortedKeys]
                enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
                let data = reports.count == 1 ? try enc.encode(reports[0]) : try enc.encode(reports)
                print(String(decoding: data, as: UTF8.self))
            }
        } catch let e as ExitCode {
            throw e
        } catch {
            warn("error: \(error)")
            throw ExitCode(1)
        }
    }
}

/// The --figures folder: created if missing; a clear error if it cannot be or is a file.
enum FigureFolder {
    static func prepare(_ dir: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            guard isDir.boolValue else { throw CommandFailure("--figures \(dir): is a file, not a folder; pass a folder for the PNGs") }
            guard FileManager.default.isWritableFile(atPath: dir) else { throw CommandFailure("--figures \(dir): folder is not writable; pass a writable folder") }
            return
        }
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        catch { throw CommandFailure("--figures \(dir): cannot create the folder (\(error.localizedDescription)); pass a writable folder") }
    }
}

func warn(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

/// A one-line progress bar on stderr (redrawn in place when stderr is a terminal, every 10% otherwise).
final class ProgressBar {
    let label: String
    let start = Date()
    let tty = isatty(2) != 0
    var lastDecile = -1
    init(label: String) { self.label = label }

    func update(_ done: Int, _ total: Int) {
        let frac = total > 0 ? Double(done) / Double(total) : 1
        let elapsed = Date().timeIntervalSince(start)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        let width = 30, filled = Int(frac * Double(width))
        let line = String(format: "%@ [%@%@] %d/%d pairs  %.0fs, eta %.0fs", label,
                          String(repeating: "#", count: filled), String(repeating: ".", count: width - filled), done, total, elapsed, eta)
        if tty {
            FileHandle.standardError.write(Data(("\r" + line).utf8))
        } else if Int(frac * 10) != lastDecile {
            lastDecile = Int(frac * 10)
            warn(line)
        }
    }

    func finish() { if tty { FileHandle.standardError.write(Data("\n".utf8)) } }
}

enum EvalTable {
    static func render(_ r: HPatchesEvalReport) -> String {
        var lines = [String(format: "HPatches %@: %dx%d (HxW), top-%d, %@ order, %d sequences", r.root, r.settings.height, r.settings.width,
                            r.settings.topK, r.settings.channelOrder.rawValue.uppercased(), r.sequences.count)]
        lines.append("split   Rep    LocErr  C1     C3     C5     MScore  pairs  seconds")
        func row(_ name: String, _ s: HPatchesSummary) -> String {
            name.padding(toLength: 6, withPad: " ", startingAt: 0) +
                String(format: "  %.3f  %6.3f  %.3f  %.3f  %.3f  %.3f   %5d  %7.1f", s.repeatability, s.localizationError,
                       s.c1, s.c3, s.c5, s.matchingScore, s.pairs, s.seconds)
        }
        lines.append(row("all", r.all))
        if let i = r.illumination { lines.append(row("i", i)) }
        if let v = r.viewpoint { lines.append(row("v", v)) }
        let undefined = r.all.pairsWithoutRepeatedPoints
        if undefined > 0 {
            lines.append("note: \(undefined) pairs had no repeated point; LocErr averages the other pairs (the official mean would be NaN)")
        }
        if !r.problems.isEmpty { lines.append("\(r.problems.count) sequences left out (see warnings)") }
        return lines.joined(separator: "\n")
    }
}
