import Foundation

// Pure functions on loss series: EMA smoothing, log scale, per-column downsampling that keeps min and max.

public enum Series {
    /// Bias-corrected exponential moving average (as Adam / TensorBoard): m_k = s*m_{k-1} + (1-s)*x_k over the
    /// finite values, reported as m_k / (1 - s^k) so the start is not pulled towards zero. A non-finite input
    /// leaves the average unchanged (its output repeats the previous value, NaN before the first finite one).
    /// smoothing 0 returns the input with non-finite values replaced the same way.
    public static func ema(_ values: [Double], smoothing: Double) -> [Double] {
        var state = EMAState(smoothing: smoothing)
        return values.map { state.push($0) }
    }

    /// The running state of `ema`, for extending a smoothed series as steps arrive.
    public struct EMAState: Sendable, Equatable {
        public let smoothing: Double
        var m = 0.0, decay = 1.0
        public private(set) var last = Double.nan
        public init(smoothing: Double) { self.smoothing = max(0, min(0.9999, smoothing)) }
        /// Add one value; returns the bias-corrected average so far.
        public mutating func push(_ x: Double) -> Double {
            if x.isFinite {
                m = smoothing * m + (1 - smoothing) * x
                decay *= smoothing
                last = m / (1 - decay)
            }
            return last
        }
    }

    public enum Scale: Equatable, Sendable {
        case linear
        /// log10(v): every finite value is > 0.
        case log
        /// sign(v) * log10(1 + |v| / c): used when log scale is asked for data with values <= 0.
        case symlog(c: Double)
    }

    /// The scale to use for `values` when log scale is on.
    public static func logScaleKind(for values: [Double]) -> Scale {
        var minV = Double.infinity, maxAbs = 0.0
        for v in values where v.isFinite { minV = min(minV, v); maxAbs = max(maxAbs, abs(v)) }
        if minV > 0 { return .log }
        return .symlog(c: max(1e-9, maxAbs * 1e-3))
    }

    @inline(__always) public static func forward(_ v: Double, _ scale: Scale) -> Double {
        switch scale {
        case .linear: return v
        case .log: return v > 0 ? Foundation.log10(v) : (v == 0 ? -.infinity : .nan)
        case .symlog(let c): return v.isFinite ? (v < 0 ? -1 : 1) * Foundation.log10(1 + abs(v) / c) : v
        }
    }

    @inline(__always) public static func inverse(_ t: Double, _ scale: Scale) -> Double {
        switch scale {
        case .linear: return t
        case .log: return Foundation.pow(10, t)
        case .symlog(let c): return (t < 0 ? -1 : 1) * c * (Foundation.pow(10, abs(t)) - 1)
        }
    }

    /// One output column of a downsampled series: the extremes (so no spike disappears), first and last
    /// finite values (to join neighbouring columns), and counts of non-finite inputs by kind.
    public struct Bucket: Equatable, Sendable {
        public var min = Double.infinity, max = -Double.infinity
        public var first = Double.nan, last = Double.nan
        public var count = 0
        public var nan = 0, posInf = 0, negInf = 0
        public var hasFinite: Bool { count > 0 }
        public var nonFinite: Int { nan + posInf + negInf }
        public init() {}
        mutating func add(_ v: Double) {
            if v.isNaN { nan += 1; return }
            if v == .infinity { posInf += 1; return }
            if v == -.infinity { negInf += 1; return }
            if count == 0 { first = v }
            last = v; count += 1
            if v < min { min = v }
            if v > max { max = v }
        }
    }

    /// The column (0..<columns) of x within [x0, x1]; nil outside.
    @inline(__always) public static func column(of x: Double, x0: Double, x1: Double, columns: Int) -> Int? {
        guard x >= x0, x <= x1, columns > 0 else { return nil }
        if x1 <= x0 { return 0 }
        return Swift.min(columns - 1, Int(((x - x0) / (x1 - x0) * Double(columns - 1)).rounded()))
    }

    /// Bucket (x, y) points into `columns` columns spanning [x0, x1]: every point lands in exactly one column,
    /// so per-column min/max keep every spike. Columns without points are empty buckets.
    public static func downsample(xs: [Double], ys: [Double], x0: Double, x1: Double, columns: Int) -> [Bucket] {
        let n = Swift.min(xs.count, ys.count)
        return xs.withUnsafeBufferPointer { xp in
            ys.withUnsafeBufferPointer { yp in
                bucketize(count: n, x: { xp[$0] }, y: { yp[$0] }, x0: x0, x1: x1, columns: columns)
            }
        }
    }

    /// The loop behind `downsample`: points 0..<count given by accessors (so callers can bucket a window of
    /// larger arrays, transformed on the fly, without copying).
    @inline(__always)
    static func bucketize(count: Int, x: (Int) -> Double, y: (Int) -> Double, x0: Double, x1: Double, columns: Int) -> [Bucket] {
        var buckets = [Bucket](repeating: Bucket(), count: Swift.max(0, columns))
        guard columns > 0 else { return buckets }
        buckets.withUnsafeMutableBufferPointer { b in
            for i in 0..<count {
                guard let c = column(of: x(i), x0: x0, x1: x1, columns: columns) else { continue }
                b[c].add(y(i))
            }
        }
        return buckets
    }

    /// Compact number for axis labels and readouts: 4 significant digits, exponent form when very small/large.
    public static func format(_ v: Double, digits: Int = 4) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+inf" : "-inf" }
        let a = abs(v)
        if a != 0 && (a < 1e-3 || a >= 1e5) { return String(format: "%.\(max(0, digits - 2))e", v) }
        var s = String(format: "%.\(digits)g", v)
        if s.contains("e") { s = String(format: "%.\(max(0, digits - 2))e", v) }
        return s
    }

    /// Step counts like 950, 12.3k, 1.20M.
    public static func formatSteps(_ v: Int) -> String {
        let a = abs(v)
        if a < 10_000 { return String(v) }
        if a < 1_000_000 { return String(format: "%.1fk", Double(v) / 1000) }
        return String(format: "%.2fM", Double(v) / 1_000_000)
    }

    /// Durations like 42s, 3m07s, 2h05m, 3d04h.
    public static func formatDuration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        if s < 86400 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
        return String(format: "%dd%02dh", s / 86400, (s % 86400) / 3600)
    }
}
