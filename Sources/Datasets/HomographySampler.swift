import Foundation
import Geometry
import TensorEngine

// The official `sample_homography` (kp2d/datasets/augmentations.py) with the training settings:
// corners of a centred patch (patch_ratio of the frame) are perturbed by a perspective term, scaled
// about their centre, translated and rotated while staying inside the frame; the 4-point DLT then
// gives H mapping the full normalised frame [-1,1]^2 (source) onto that quadrilateral (target).
// Where the official code would raise (no valid rotation: np.random.randint(0)), we redraw.

public struct HomographyConfig: Sendable, Equatable, Codable {
    public var patchRatio: Double = 0.7
    public var perspectiveAmplitude: Double = 0.4
    public var scalingAmplitude: Double = 0.2
    public var maxAngle: Double = Double.pi / 4
    public var scales = 100
    public var angles = 100
    public var perspective = true, scaling = true, rotation = true, translation = true
    public init() {}
    /// ha_augment_sample's settings (patch 0.7, perspective 0.4, scaling 0.2, max angle pi/4).
    public static let training = HomographyConfig()
}

public enum HomographySampler {
    /// A homography on normalised coordinates mapping source points to target points for an image of
    /// `height` x `width`. Redraws (never fails) when a draw has no valid rotation.
    public static func sample(height: Int, width: Int, config: HomographyConfig = .training,
                              rng: inout SeededRandom) -> Homography {
        for _ in 0..<1000 {
            if let h = draw(height: height, width: width, config: config, rng: &rng) { return h }
        }
        // Unreachable with sane settings (angle 0 is always a candidate once the patch fits).
        return .identity
    }

    /// One attempt of the official sampler; nil where the official code would raise.
    public static func draw(height: Int, width: Int, config c: HomographyConfig,
                            rng: inout SeededRandom) -> Homography? {
        let hw = Double(height) / Double(width)
        let corners: [(Double, Double)] = [(-1, -1), (-1, 1), (1, -1), (1, 1)]
        var p = corners.map { (x: $0.0 * c.patchRatio, y: $0.1 * c.patchRatio * hw) }

        if c.perspective {
            let a = c.perspectiveAmplitude / 2
            let px = [clip(rng.normal() * a, -a, a), clip(rng.normal() * a, -a, a)]
            let py = [clip(rng.normal() * hw * a, -hw * a, hw * a), clip(rng.normal() * hw * a, -hw * a, hw * a)]
            p[0].x -= px[1]; p[0].y -= py[1]
            p[1].x -= px[0]; p[1].y += py[1]
            p[2].x += px[1]; p[2].y -= py[0]
            p[3].x += px[0]; p[3].y += py[0]
        }

        if c.scaling {
            // scales = [1, s_1 .. s_n]; the official index runs over 0..<n, so s_n is never used.
            let a = c.scalingAmplitude / 2
            var scales = [1.0]
            for _ in 0..<c.scales { scales.append(clip(1 + rng.normal() * a, 1 - a, 1 + a)) }
            let s = scales[rng.int(c.scales)]
            let (cx, cy) = centre(p)
            p = p.map { (x: ($0.x - cx) * s + cx, y: ($0.y - cy) * s + cy) }
        }

        if c.translation {
            let tMinX = p.map { $0.x + 1 }.min()!, tMinY = p.map { $0.y + hw }.min()!
            let tMaxX = p.map { 1 - $0.x }.min()!, tMaxY = p.map { hw - $0.y }.min()!
            let tx = rng.uniform(-tMinX, tMaxX), ty = rng.uniform(-tMinY, tMaxY)
            p = p.map { (x: $0.x + tx, y: $0.y + ty) }
        }

        if c.rotation {
            var candidates = [0.0]
            for i in 0..<c.angles {
                candidates.append(c.angles == 1 ? -c.maxAngle
                                  : -c.maxAngle + 2 * c.maxAngle * Double(i) / Double(c.angles - 1))
            }
            let (cx, cy) = centre(p)
            var valid: [[(x: Double, y: Double)]] = []
            for t in candidates {
                let co = cos(t), si = sin(t)
                // Row vector times [[cos, -sin], [sin, cos]].
                let r = p.map { q -> (x: Double, y: Double) in
                    let dx = q.x - cx, dy = q.y - cy
                    return (x: dx * co + dy * si + cx, y: -dx * si + dy * co + cy)
                }
                if r.allSatisfy({ $0.x >= -1 && $0.y >= -hw && $0.x < 1 && $0.y < hw }) { valid.append(r) }
            }
            if valid.isEmpty { return nil }
            p = valid[rng.int(valid.count)]
        }

        let target = p.map { Point2($0.x, $0.y / hw) }
        return DLT.fourPoint(from: corners.map { Point2($0.0, $0.1) }, to: target)
    }

    @inline(__always) private static func clip(_ v: Double, _ lo: Double, _ hi: Double) -> Double { min(max(v, lo), hi) }

    private static func centre(_ p: [(x: Double, y: Double)]) -> (Double, Double) {
        (p.map { $0.x }.reduce(0, +) / Double(p.count), p.map { $0.y }.reduce(0, +) / Double(p.count))
    }
}
