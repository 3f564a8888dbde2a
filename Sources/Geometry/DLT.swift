// Direct linear transforms: homographies from point correspondences.

public enum DLT {
    /// The 4-point DLT exactly as the official `sample_homography` builds it: for each correspondence
    /// (x,y) -> (u,v), in the order k0u, k0v, k1u, ..., the rows
    ///   [x, y, 1, 0, 0, 0, -x u, -y u] h = u
    ///   [0, 0, 0, x, y, 1, -x v, -y v] h = v
    /// with h33 = 1, solved in float64. The official code uses a pseudo-inverse; for a non-singular system
    /// that is the inverse, which we apply by Gaussian elimination with partial pivoting.
    /// Returns nil when the four points are degenerate (singular system).
    public static func fourPoint(from src: [Point2], to dst: [Point2]) -> Homography? {
        precondition(src.count == 4 && dst.count == 4, "fourPoint needs exactly 4 correspondences")
        var a = [Double](repeating: 0, count: 64)
        var b = [Double](repeating: 0, count: 8)
        for k in 0..<4 {
            let x = src[k].x, y = src[k].y, u = dst[k].x, v = dst[k].y
            let r0 = 2 * k, r1 = 2 * k + 1
            a.replaceSubrange(8 * r0..<8 * r0 + 8, with: [x, y, 1, 0, 0, 0, -x * u, -y * u])
            a.replaceSubrange(8 * r1..<8 * r1 + 8, with: [0, 0, 0, x, y, 1, -x * v, -y * v])
            b[r0] = u
            b[r1] = v
        }
        guard let h = LinearAlgebra.solve(a, b, n: 8) else { return nil }
        return Homography(h + [1])
    }

    /// Normalised least-squares DLT for N >= 4 correspondences (Hartley): move each set to its centroid and
    /// scale its mean distance to sqrt(2), take the right singular vector of the 2N x 9 system with the smallest
    /// singular value (eigenvector of AᵀA), undo the normalisation, scale to h33 = 1.
    /// Returns nil for fewer than 4 points or a degenerate configuration.
    public static func leastSquares(from src: [Point2], to dst: [Point2]) -> Homography? {
        let n = src.count
        guard n >= 4, dst.count == n else { return nil }
        guard let t1 = normalizingTransform(src), let t2 = normalizingTransform(dst) else { return nil }
        var ata = [Double](repeating: 0, count: 81)
        for i in 0..<n {
            let p = t1.apply(src[i]), q = t2.apply(dst[i])
            let r0: [Double] = [p.x, p.y, 1, 0, 0, 0, -q.x * p.x, -q.x * p.y, -q.x]
            let r1: [Double] = [0, 0, 0, p.x, p.y, 1, -q.y * p.x, -q.y * p.y, -q.y]
            for r in 0..<9 { for c in r..<9 { ata[9 * r + c] += r0[r] * r0[c] + r1[r] * r1[c] } }
        }
        for r in 0..<9 { for c in 0..<r { ata[9 * r + c] = ata[9 * c + r] } }
        let (values, vectors) = LinearAlgebra.symmetricEigen(ata, n: 9)
        var best = 0
        for i in 1..<9 where values[i] < values[best] { best = i }
        return denormalized(Homography((0..<9).map { vectors[9 * $0 + best] }), t1, t2)
    }

    /// The homography through exactly 4 correspondences, RANSAC's model from one sample: the normalisation of
    /// `leastSquares`, then the 8x8 system with h33 = 1 (`fourPoint`) instead of the 9x9 eigenproblem. For four
    /// points in general position both give the exact solution (agreeing to ~1e-12 relative); this one costs a
    /// small elimination instead of Jacobi sweeps, which were most of the training preview's RANSAC time.
    /// Returns nil for a degenerate sample.
    public static func minimal(from src: [Point2], to dst: [Point2]) -> Homography? {
        guard src.count == 4, dst.count == 4,
              let t1 = normalizingTransform(src), let t2 = normalizingTransform(dst),
              let hn = fourPoint(from: src.map { t1.apply($0) }, to: dst.map { t2.apply($0) }) else { return nil }
        return denormalized(hn, t1, t2)
    }

    /// T2^-1 Hn T1 scaled to h33 = 1, for a homography `hn` found between the normalised point sets; nil when it
    /// is not finite or h33 vanishes (a degenerate configuration).
    static func denormalized(_ hn: Homography, _ t1: Homography, _ t2: Homography) -> Homography? {
        guard let t2inv = t2.inverse() else { return nil }
        let h = t2inv * hn * t1
        guard h.isFinite, Swift.abs(h.m[8]) > 1e-12 * (h.m.map { Swift.abs($0) }.max() ?? 0) else { return nil }
        return h.normalized()
    }

    /// Similarity that moves the centroid to 0 and the mean distance to sqrt(2); nil if all points coincide.
    static func normalizingTransform(_ pts: [Point2]) -> Homography? {
        let n = Double(pts.count)
        let cx = pts.reduce(0) { $0 + $1.x } / n, cy = pts.reduce(0) { $0 + $1.y } / n
        let meanDist = pts.reduce(0) { $0 + Point2(cx, cy).distance(to: $1) } / n
        guard meanDist > 1e-12, meanDist.isFinite else { return nil }
        let s = 2.0.squareRoot() / meanDist
        return Homography([s, 0, -s * cx, 0, s, -s * cy, 0, 0, 1])
    }
}

public enum LinearAlgebra {
    /// Solve A x = b for a dense n x n row-major A (float64) by Gaussian elimination with partial pivoting.
    /// Returns nil if a pivot is (relatively) zero.
    public static func solve(_ aIn: [Double], _ bIn: [Double], n: Int) -> [Double]? {
        var a = aIn, b = bIn
        let scale = a.map { Swift.abs($0) }.max() ?? 0
        guard scale > 0, scale.isFinite else { return nil }
        for col in 0..<n {
            var piv = col
            for r in (col + 1)..<max(n, col + 1) where Swift.abs(a[n * r + col]) > Swift.abs(a[n * piv + col]) { piv = r }
            guard Swift.abs(a[n * piv + col]) > 1e-13 * scale else { return nil }
            if piv != col {
                for c in 0..<n { a.swapAt(n * piv + c, n * col + c) }
                b.swapAt(piv, col)
            }
            let d = a[n * col + col]
            for r in (col + 1)..<max(n, col + 1) {
                let f = a[n * r + col] / d
                if f == 0 { continue }
                for c in col..<n { a[n * r + c] -= f * a[n * col + c] }
                b[r] -= f * b[col]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for r in stride(from: n - 1, through: 0, by: -1) {
            var s = b[r]
            for c in (r + 1)..<max(n, r + 1) { s -= a[n * r + c] * x[c] }
            x[r] = s / a[n * r + r]
        }
        return x.allSatisfy { $0.isFinite } ? x : nil
    }

    /// Eigen-decomposition of a symmetric n x n matrix by cyclic Jacobi rotations.
    /// Returns the eigenvalues and the eigenvectors as the columns of a row-major n x n matrix.
    public static func symmetricEigen(_ m: [Double], n: Int) -> (values: [Double], vectors: [Double]) {
        var a = m
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[n * i + i] = 1 }
        for _ in 0..<100 {
            var off = 0.0
            for p in 0..<n { for q in (p + 1)..<max(n, p + 1) { off += a[n * p + q] * a[n * p + q] } }
            if off < 1e-300 { break }
            for p in 0..<n {
                for q in (p + 1)..<max(n, p + 1) {
                    let apq = a[n * p + q]
                    if Swift.abs(apq) < 1e-300 { continue }
                    let theta = (a[n * q + q] - a[n * p + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (Swift.abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[n * k + p], akq = a[n * k + q]
                        a[n * k + p] = c * akp - s * akq
                        a[n * k + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[n * p + k], aqk = a[n * q + k]
                        a[n * p + k] = c * apk - s * aqk
                        a[n * q + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[n * k + p], vkq = v[n * k + q]
                        v[n * k + p] = c * vkp - s * vkq
                        v[n * k + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<n).map { a[n * $0 + $0] }, v)
    }
}
