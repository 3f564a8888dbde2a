import Foundation
import Geometry

// The hpatches-sequences-release layout:
//   ROOT/<i_name | v_name>/1.ppm ... 6.ppm, H_1_2 ... H_1_6
// H_1_k is a 3x3 text matrix (whitespace separated) mapping image-1 pixels to image-k pixels.
// Images may also be .png / .jpg / .jpeg (the first of ppm, pgm, png, jpg, jpeg that exists is used).

public enum HPatchesSplit: String, Sendable, CaseIterable, Codable {
    /// Every sequence.
    case all
    /// Illumination sequences (folder names starting with "i").
    case i
    /// Viewpoint sequences (folder names starting with "v").
    case v

    public func includes(_ sequence: String) -> Bool {
        switch self {
        case .all: return true
        case .i: return sequence.hasPrefix("i")
        case .v: return sequence.hasPrefix("v")
        }
    }
}

/// Channel order of loaded images. The official evaluation reads images with cv2.imread, so the network sees
/// BGR; training loaders use RGB.
public enum ChannelOrder: String, Sendable, Codable { case bgr, rgb }

public enum HPatchesError: Error, CustomStringConvertible, Equatable {
    case missingFolder(String)
    case notAFolder(String)
    /// `problems`: why each rejected sequence was left out (the description names the first).
    case empty(root: String, split: HPatchesSplit, problems: [String])
    case badHomography(path: String, reason: String)

    public var description: String {
        switch self {
        case let .missingFolder(p): return "\(p): no such folder; pass the hpatches-sequences-release folder (with i_*/v_* sub-folders)"
        case let .notAFolder(p): return "\(p): not a folder; pass the hpatches-sequences-release folder"
        case let .empty(root, split, problems):
            return "\(root): no usable \(split == .all ? "" : "\(split.rawValue)_ ")sequences found" +
                (problems.isEmpty ? "; expected folders i_*/v_* with 1.ppm..6.ppm and H_1_2..H_1_6"
                    : (problems.count == 1 ? " (1 sequence was rejected: \(problems[0]))"
                                            : " (\(problems.count) sequences were rejected; the first: \(problems[0]))"))
        case let .badHomography(p, r): return "\(p): \(r)"
        }
    }
}

/// A sequence that was left out, with the file and what is wrong.
public struct HPatchesProblem: Sendable, Equatable, CustomStringConvertible {
    public var sequence: String
    public var file: String
    public var reason: String
    public var description: String { "\(file): \(reason) (sequence \(sequence) left out)" }
}

/// One evaluation pair (1, k).
public struct HPatchesPair: Sendable, Equatable {
    public var sequence: String
    /// k in 2...6.
    public var index: Int
    public var firstPath: String
    public var secondPath: String
    /// As stored in H_1_k: image-1 pixels -> image-k pixels at the original sizes.
    public var homography: Homography
    public var isIllumination: Bool { sequence.hasPrefix("i") }
}

/// A loaded pair, resized to the evaluation size, with the homography rescaled accordingly.
public struct HPatchesSample: Sendable {
    public var pair: HPatchesPair
    public var first: Image
    public var second: Image
    /// Image-1 pixels -> image-2 pixels at the evaluation size.
    public var homography: Homography
}

public struct HPatchesDataset: Sendable {
    public let root: String
    public let split: HPatchesSplit
    /// Usable pairs, sequences in name order, k = 2...6.
    public let pairs: [HPatchesPair]
    /// Sequences left out and why.
    public let problems: [HPatchesProblem]
    public var sequences: [String] { var seen = [String](); for p in pairs where seen.last != p.sequence { seen.append(p.sequence) }; return seen }

    public static let imageExtensions = ["ppm", "pgm", "png", "jpg", "jpeg"]

    /// Scan `root`. Throws if the folder is missing or yields no usable sequence; a sequence with a missing
    /// image or a malformed H file is recorded in `problems` and left out.
    public init(root: String, split: HPatchesSplit = .all) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDir) else { throw HPatchesError.missingFolder(root) }
        guard isDir.boolValue else { throw HPatchesError.notAFolder(root) }
        self.root = root
        self.split = split
        var pairs = [HPatchesPair](), problems = [HPatchesProblem]()
        let names = ((try? fm.contentsOfDirectory(atPath: root)) ?? []).sorted()
        for name in names where !name.hasPrefix(".") && split.includes(name) {
            let dir = (root as NSString).appendingPathComponent(name)
            var d: ObjCBool = false
            guard fm.fileExists(atPath: dir, isDirectory: &d), d.boolValue else { continue }
            do {
                pairs += try HPatchesDataset.scanSequence(name: name, dir: dir)
            } catch let p as HPatchesProblem {
                problems.append(p)
            }
        }
        self.pairs = pairs
        self.problems = problems
        if pairs.isEmpty { throw HPatchesError.empty(root: root, split: split, problems: problems.map { $0.description }) }
    }

    static func imagePath(_ dir: String, _ stem: String) -> String? {
        for ext in imageExtensions {
            let p = (dir as NSString).appendingPathComponent("\(stem).\(ext)")
            if FileManager.default.fileExists(atPath: p) { return p }
        }
        return nil
    }

    static func scanSequence(name: String, dir: String) throws -> [HPatchesPair] {
        func missing(_ stem: String) -> HPatchesProblem {
            HPatchesProblem(sequence: name, file: (dir as NSString).appendingPathComponent("\(stem).ppm"),
                            reason: "missing image (looked for \(imageExtensions.map { "\(stem).\($0)" }.joined(separator: ", ")))")
        }
        guard let first = imagePath(dir, "1") else { throw missing("1") }
        var out = [HPatchesPair]()
        for k in 2...6 {
            guard let second = imagePath(dir, "\(k)") else { throw missing("\(k)") }
            let hPath = (dir as NSString).appendingPathComponent("H_1_\(k)")
            let h: Homography
            do { h = try readHomography(hPath) } catch let e as HPatchesError {
                if case let .badHomography(_, r) = e { throw HPatchesProblem(sequence: name, file: hPath, reason: r) }
                throw e
            }
            out.append(HPatchesPair(sequence: name, index: k, firstPath: first, secondPath: second, homography: h))
        }
        return out
    }

    /// Parse a 3x3 text homography (3 lines of 3 numbers, as np.loadtxt reads; '#' starts a comment).
    public static func readHomography(_ path: String) throws -> Homography {
        guard FileManager.default.fileExists(atPath: path) else { throw HPatchesError.badHomography(path: path, reason: "missing homography file") }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw HPatchesError.badHomography(path: path, reason: "unreadable or not text")
        }
        var rows = [[Double]]()
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," })
            if fields.isEmpty { continue }
            var row = [Double]()
            for f in fields {
                guard let v = Double(f), v.isFinite else {
                    throw HPatchesError.badHomography(path: path, reason: "malformed homography: '\(f)' is not a finite number (line \(rows.count + 1))")
                }
                row.append(v)
            }
            rows.append(row)
        }
        guard rows.count == 3, rows.allSatisfy({ $0.count == 3 }) else {
            throw HPatchesError.badHomography(path: path, reason: "malformed homography: expected 3 rows of 3 numbers, found \(rows.count) rows with \(rows.map { String($0.count) }.joined(separator: "/")) numbers")
        }
        let h = Homography(rows.flatMap { $0 })
        guard h.inverse() != nil else { throw HPatchesError.badHomography(path: path, reason: "singular homography (determinant 0)") }
        return h
    }

    /// The official PatchesDataset.scale_homography, both steps: H' = S2 · H · S1⁻¹ with
    /// S1 = diag(outW/W1, outH/H1, 1) for image 1 and S2 = diag(outW/W2, outH/H2, 1) for image k.
    public static func scaleHomography(_ h: Homography, firstSize: (width: Int, height: Int), secondSize: (width: Int, height: Int),
                                       outWidth: Int, outHeight: Int) -> Homography {
        let s1inv = Homography.scaling(Double(firstSize.width) / Double(outWidth), Double(firstSize.height) / Double(outHeight))
        let s2 = Homography.scaling(Double(outWidth) / Double(secondSize.width), Double(outHeight) / Double(secondSize.height))
        return s2 * (h * s1inv)
    }

    /// Load a pair as the official loader does: colour (gray replicated to 3 channels), both images resized to
    /// width x height ignoring aspect ratio (cv2 INTER_LINEAR convention, rounded to 8-bit steps as cv2 returns
    /// uint8), H rescaled, channels in `order` (BGR like cv2.imread by default). nil size = keep the originals.
    public func load(_ pair: HPatchesPair, width: Int?, height: Int?, order: ChannelOrder = .bgr) throws -> HPatchesSample {
        var a = try ImageIO.load(pair.firstPath).asRGB(), b = try ImageIO.load(pair.secondPath).asRGB()
        var h = pair.homography
        if let w = width, let hh = height {
            h = HPatchesDataset.scaleHomography(h, firstSize: (a.width, a.height), secondSize: (b.width, b.height), outWidth: w, outHeight: hh)
            if a.width != w || a.height != hh { a = a.resized(width: w, height: hh).quantized8() }
            if b.width != w || b.height != hh { b = b.resized(width: w, height: hh).quantized8() }
        }
        if order == .bgr { a = a.swappingRedBlue(); b = b.swappingRedBlue() }
        return HPatchesSample(pair: pair, first: a, second: b, homography: h)
    }
}

extension HPatchesProblem: Error {}
