// A 3x3 homography in float64 and the point warps that use it.
//
// Convention: a point (x, y) maps to [x', y', w'] = H [x, y, 1], then (x'/w', y'/w').

/// A 2-D point in float64.
public struct Point2: Sendable, Equatable, CustomStringConvertible {
    public var x: Double
    public var y: Double
    @inlinable public init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
    public var description: String { "(\(x), \(y))" }
    /// Euclidean distance.
    @inlinable public func distance(to p: Point2) -> Double { ((x - p.x) * (x - p.x) + (y - p.y) * (y - p.y)).squareRoot() }
}

/// A 3x3 matrix in float64, row-major. Not normalised unless you call `normalized()`.
public struct Homography: Sendable, Equatable, CustomStringConvertible {
    /// Row-major entries m[3*r + c].
    public var m: [Double]

    public init(_ rowMajor: [Double]) {
        precondition(rowMajor.count == 9, "Homography needs 9 values, got \(rowMajor.count)")
        m = rowMajor
    }
    /// From 9 float32 values (e.g. a stored tensor), widened exactly.
    public init(float rowMajor: [Float]) { self.init(rowMajor.map(Double.init)) }

    public static let identity = Homography([1, 0, 0, 0, 1, 0, 0, 0, 1])

    /// Diagonal scaling diag(sx, sy, 1).
    public static func scaling(_ sx: Double, _ sy: Double) -> Homography { Homography([sx, 0, 0, 0, sy, 0, 0, 0, 1]) }
    public static func translation(_ tx: Double, _ ty: Double) -> Homography { Homography([1, 0, tx, 0, 1, ty, 0, 0, 1]) }

    @inlinable public subscript(r: Int, c: Int) -> Double {
        get { m[3 * r + c] }
        set { m[3 * r + c] = newValue }
    }

    /// Matrix product a * b (apply b first, then a).
    public static func * (a: Homography, b: Homography) -> Homography {
        var out = [Double](repeating: 0, count: 9)
        for r in 0..<3 { for c in 0..<3 {
            out[3 * r + c] = a.m[3 * r] * b.m[c] + a.m[3 * r + 1] * b.m[3 + c] + a.m[3 * r + 2] * b.m[6 + c]
        } }
        return Homography(out)
    }

    public var determinant: Double {
        m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6])
    }

    /// The inverse by the adjugate, or nil when the matrix is singular (|det| tiny relative to its entries).
    public func inverse() -> Homography? {
        let det = determinant
        let scale = m.map { Swift.abs($0) }.max() ?? 0
        guard det.isFinite, scale > 0, Swift.abs(det) > 1e-14 * scale * scale * scale else { return nil }
        let a = m
        let adj: [Double] = [
            a[4] * a[8] - a[5] * a[7], a[2] * a[7] - a[1] * a[8], a[1] * a[5] - a[2] * a[4],
            a[5] * a[6] - a[3] * a[8], a[0] * a[8] - a[2] * a[6], a[2] * a[3] - a[0] * a[5],
            a[3] * a[7] - a[4] * a[6], a[1] * a[6] - a[0] * a[7], a[0] * a[4] - a[1] * a[3],
        ]
        return Homography(adj.map { $0 / det })
    }

    /// Scaled so that h33 = 1 (unchanged if h33 is 0).
    public func normalized() -> Homography {
        let s = m[8]
        guard s != 0 else { return self }
        return Homography(m.map { $0 / s })
    }

    public var transposed: Homography { Homography([m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]]) }

    /// Warp one point: H [x, y, 1], divided by w'. A point on the line at infinity gives ±inf/nan.
    @inlinable public func apply(_ p: Point2) -> Point2 {
        let xp = m[0] * p.x + m[1] * p.y + m[2]
        let yp = m[3] * p.x + m[4] * p.y + m[5]
        let w = m[6] * p.x + m[7] * p.y + m[8]
        return Point2(xp / w, yp / w)
    }

    /// `apply`, or nil for a point that lands on or beyond the horizon line (w' of the other sign than the
    /// origin's, or zero): such a point is not visible in the second image.
    @inlinable public func applyIfVisible(_ p: Point2) -> Point2? {
        let w = m[6] * p.x + m[7] * p.y + m[8]
        guard Swift.abs(w) > 1e-12, (w > 0) == (m[8] > 0) else { return nil }
        return Point2((m[0] * p.x + m[1] * p.y + m[2]) / w, (m[3] * p.x + m[4] * p.y + m[5]) / w)
    }

    /// Warp many points (float64, divide by w').
    public func apply(_ points: [Point2]) -> [Point2] { points.map { apply($0) } }

    public var floats: [Float] { m.map { Float($0) } }
    public var isFinite: Bool { m.allSatisfy { $0.isFinite } }

    public var description: String {
        (0..<3).map { r in (0..<3).map { c in String(m[3 * r + c]) }.joined(separator: " ") }.joined(separator: "; ")
    }
}

public enum PointWarp {
    /// The official `warp_homography_batch` on one batch element, in float32:
    /// points (N*2 interleaved x,y) -> [x',y',w'] = H[x,y,1] (bias + x*h0 + y*h1), then multiplied by 1/w'.
    /// `homography` is 9 float32 values row-major. Output has the same layout as `points`.
    public static func warpBatchFloat(points: [Float], homography h: [Float]) -> [Float] {
        precondition(points.count % 2 == 0 && h.count == 9)
        var out = [Float](repeating: 0, count: points.count)
        points.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<(points.count / 2) {
                    let x = p[2 * i], y = p[2 * i + 1]
                    let xp = h[2] + x * h[0] + y * h[1]
                    let yp = h[5] + x * h[3] + y * h[4]
                    let w = h[8] + x * h[6] + y * h[7]
                    let r = 1 / w
                    o[2 * i] = xp * r
                    o[2 * i + 1] = yp * r
                }
            }
        }
        return out
    }
}
