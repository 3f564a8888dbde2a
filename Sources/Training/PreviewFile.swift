import Datasets
import Evaluation
import Foundation
import Geometry
import KP2D
import TensorEngine

// The last training-pair preview, persisted beside the checkpoint (`<checkpoint stem>.preview.json`) so that
// `kp2d-tui snapshot` can draw it. One small JSON file (the two images as PNG, base64; keypoints, matches,
// the true homography and the pair's statistics), written atomically (temporary file + rename) by the
// trainer at every checkpoint and at most every `PreviewFile.interval` seconds in between.

public enum PreviewFileError: Error, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    public var description: String {
        switch self {
        case let .unreadable(p, r): return "\(p): not a training preview (\(r)); delete it, training writes a new one"
        }
    }
}

public enum PreviewFile {
    /// Seconds between two writes while training (checkpoints always write one).
    public static let interval = 10.0

    /// `runs/x/checkpoint.safetensors` -> `runs/x/checkpoint.preview.json`.
    public static func path(forCheckpoint c: String) -> String {
        (c.hasSuffix(".safetensors") ? String(c.dropLast(".safetensors".count)) : c) + ".preview.json"
    }

    struct Stored: Codable {
        var format = 1
        var step: Int
        var source_png: Data
        var target_png: Data
        /// (x, y, score) per point.
        var source_keypoints: [[Float]]
        var target_keypoints: [[Float]]
        /// (source index, target index, correct 0/1) per match.
        var matches: [[Int]]
        /// Row-major 3x3, source pixels -> target pixels; nil if unknown.
        var homography: [Double]?
        var stats: MatchStats
        /// Match statistics averaged over the recent steps (the "recent" column).
        var recent_stats: MatchStats?
    }

    public static func encode(_ p: PairPreview, recentStats: MatchStats? = nil) throws -> Data {
        let j = p.pair
        let s = Stored(step: p.step, source_png: try ImageIO.pngData(j.source), target_png: try ImageIO.pngData(j.target),
                       source_keypoints: j.sourceKeypoints.map { [$0.x, $0.y, $0.score] },
                       target_keypoints: j.targetKeypoints.map { [$0.x, $0.y, $0.score] },
                       matches: j.matches.map { [$0.source, $0.target, $0.correct ? 1 : 0] },
                       homography: j.homography?.m, stats: p.stats, recent_stats: recentStats)
        return try TrainingCheckpoint.jsonEncoder().encode(s)
    }

    public static func write(_ p: PairPreview, recentStats: MatchStats? = nil, to path: String) throws {
        try AtomicFile.write(try encode(p, recentStats: recentStats), to: path)
    }

    /// The preview and the recent-steps statistics stored with it (all NaN if none were).
    public static func read(_ path: String) throws -> (preview: PairPreview, recentStats: MatchStats) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PreviewFileError.unreadable(path: path, reason: "cannot read the file")
        }
        let s: Stored
        do { s = try TrainingCheckpoint.jsonDecoder().decode(Stored.self, from: data) }
        catch { throw PreviewFileError.unreadable(path: path, reason: "\(error)") }
        guard s.format == 1 else { throw PreviewFileError.unreadable(path: path, reason: "format \(s.format), this version reads 1") }
        func points(_ rows: [[Float]], _ what: String) throws -> [Keypoint] {
            try rows.map {
                guard $0.count == 3 else { throw PreviewFileError.unreadable(path: path, reason: "a \(what) keypoint has \($0.count) values, not 3") }
                return Keypoint(x: $0[0], y: $0[1], score: $0[2])
            }
        }
        let src = try points(s.source_keypoints, "source"), tgt = try points(s.target_keypoints, "target")
        let matches = try s.matches.map { m -> Match in
            guard m.count == 3, src.indices.contains(m[0]), tgt.indices.contains(m[1]) else {
                throw PreviewFileError.unreadable(path: path, reason: "match \(m) does not name a source and a target keypoint")
            }
            return Match(source: m[0], target: m[1], correct: m[2] != 0)
        }
        if let h = s.homography, h.count != 9 { throw PreviewFileError.unreadable(path: path, reason: "homography has \(h.count) values, not 9") }
        let source: Image, target: Image
        do {
            source = try ImageIO.decode(s.source_png, source: path + " (source image)")
            target = try ImageIO.decode(s.target_png, source: path + " (target image)")
        } catch { throw PreviewFileError.unreadable(path: path, reason: "\(error)") }
        let pair = JudgedPair(source: source, target: target, sourceKeypoints: src, targetKeypoints: tgt, matches: matches,
                              homography: s.homography.map { Homography($0) })
        return (PairPreview(step: s.step, pair: pair, stats: s.stats), s.recent_stats ?? MatchStats())
    }
}
