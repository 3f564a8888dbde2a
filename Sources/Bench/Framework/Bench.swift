import COpenBLAS
import Foundation
import TensorEngine

// The benchmark framework behind `kp2d-tui bench`. A benchmark is a `BenchSection` (a name and a
// `run` that returns a `BenchReport` of rows); the executable keeps the list of sections, any module
// can define one. `BenchRunner` runs the selected sections and renders text or one JSON object.
// The shared `BenchContext` carries the options and measures the plain-sgemm ceiling once per run,
// so every section can quote its throughput as a fraction of it.

/// A value in a report: a number (printed with `format`) or text.
public enum BenchValue: Sendable {
    case number(Double, format: String)
    case text(String)

    public static func ms(_ seconds: Double) -> BenchValue { .number(seconds * 1e3, format: "%.2f") }
    public static func gflops(_ v: Double) -> BenchValue { .number(v, format: "%.1f") }
    public static func ratio(_ v: Double) -> BenchValue { .number(v, format: "%.3f") }

    var display: String {
        switch self {
        case let .number(v, f): return String(format: f, v)
        case let .text(s): return s
        }
    }

    var json: String {
        switch self {
        case let .number(v, _):
            if !v.isFinite { return "null" }
            return v == v.rounded() && Swift.abs(v) < 1e15 ? "\(Int(v))" : "\(v)"
        case let .text(s): return BenchJSON.quote(s)
        }
    }
}

/// One row of a report: ordered (column, value) pairs.
public struct BenchRow: Sendable {
    public var values: [(key: String, value: BenchValue)]
    public init(_ values: [(key: String, value: BenchValue)]) { self.values = values }
}

public struct BenchReport: Sendable {
    public var section: String
    public var rows: [BenchRow]
    /// Section-level results (ordered), e.g. an overall ratio.
    public var summary: [(key: String, value: BenchValue)]
    public var notes: [String]

    public init(section: String, rows: [BenchRow] = [], summary: [(key: String, value: BenchValue)] = [], notes: [String] = []) {
        self.section = section; self.rows = rows; self.summary = summary; self.notes = notes
    }
}

public struct BenchOptions: Sendable {
    public var batch = 8
    public var height = 240
    public var width = 320
    /// Timed repetitions per measurement (after `warmup` untimed ones).
    public var repeats = 5
    public var warmup = 1
    /// Side of the square sgemm used as the ceiling.
    public var sgemmSize = 2048
    public init() {}
}

/// Timing of repeated runs, in seconds.
public struct BenchTiming: Sendable {
    public var best: Double
    public var median: Double
    public var samples: Int
}

public protocol BenchSection: Sendable {
    /// Short lowercase name used by `--only`.
    var name: String { get }
    /// One line describing what it measures.
    var abstract: String { get }
    func run(_ context: BenchContext) throws -> BenchReport
}

public final class BenchContext {
    public let options: BenchOptions
    private var ceiling: (timing: BenchTiming, gflops: Double)?

    public init(options: BenchOptions) { self.options = options }

    /// Time `body`: `warmup` untimed runs, then `repeats` timed ones.
    public func measure(_ body: () -> Void) -> BenchTiming {
        BenchClock.measure(repeats: options.repeats, warmup: options.warmup, body)
    }

    /// Time several bodies interleaved: each repetition runs every body once, in order, so that
    /// load from other processes affects them alike. Returns one timing per body.
    public func measureInterleaved(_ bodies: [() -> Void]) -> [BenchTiming] {
        for _ in 0..<max(0, options.warmup) { for b in bodies { b() } }
        var times = [[Double]](repeating: [], count: bodies.count)
        for _ in 0..<max(1, options.repeats) {
            for (i, b) in bodies.enumerated() {
                let t0 = BenchClock.now()
                b()
                times[i].append(BenchClock.now() - t0)
            }
        }
        return times.map { t in
            let s = t.sorted()
            return BenchTiming(best: s[0], median: s[s.count / 2], samples: s.count)
        }
    }

    private lazy var sgemmOperands: (a: Tensor, b: Tensor, c: Tensor) = {
        let n = options.sgemmSize
        let a = Tensor(shape: [n, n]), b = Tensor(shape: [n, n]), c = Tensor(shape: [n, n])
        var rng = SeededRandom(seed: 1)
        for i in 0..<a.count { a.data[i] = Float(rng.uniform(-1, 1)); b.data[i] = Float(rng.uniform(-1, 1)) }
        return (a, b, c)
    }()

    /// Flops of one ceiling sgemm.
    public var sgemmFlops: Double { 2 * pow(Double(options.sgemmSize), 3) }

    /// One plain square cblas_sgemm (options.sgemmSize): the ceiling problem, for interleaving.
    public func runCeilingSgemm() {
        let n = options.sgemmSize, (a, b, c) = sgemmOperands
        MatmulKernels.sgemm(c: c.data, ldc: n, transA: false, transB: false, m: n, n: n, k: n, alpha: 1, a: a.data, lda: n, b: b.data, ldb: n,
                            beta: 0)
    }

    /// GFLOP/s of the plain square sgemm, measured on first use in this run.
    public func sgemmCeiling() -> (timing: BenchTiming, gflops: Double) {
        if let c = ceiling { return c }
        let t = measure { runCeilingSgemm() }
        let result = (t, sgemmFlops / t.best / 1e9)
        ceiling = result
        return result
    }
}

public enum BenchClock {
    public static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

    public static func measure(repeats: Int, warmup: Int, _ body: () -> Void) -> BenchTiming {
        for _ in 0..<max(0, warmup) { body() }
        var times: [Double] = []
        for _ in 0..<max(1, repeats) {
            let t0 = now()
            body()
            times.append(now() - t0)
        }
        times.sort()
        return BenchTiming(best: times[0], median: times[times.count / 2], samples: times.count)
    }
}

public enum BenchError: Error, CustomStringConvertible {
    case unknownSection(String, known: [String])
    public var description: String {
        switch self {
        case let .unknownSection(s, known):
            return "bench: no section named '\(s)'; choose from \(known.joined(separator: ", ")) (see --list)"
        }
    }
}

public enum BenchRunner {
    /// The sections named in `only` (all when empty), in registry order. Unknown names throw.
    public static func select(_ sections: [BenchSection], only: [String]) throws -> [BenchSection] {
        let wanted = only.map { $0.lowercased() }.filter { !$0.isEmpty }
        for w in wanted where !sections.contains(where: { $0.name == w }) {
            throw BenchError.unknownSection(w, known: sections.map(\.name))
        }
        return wanted.isEmpty ? sections : sections.filter { wanted.contains($0.name) }
    }

    /// Facts about the run that affect the numbers.
    public static func environment(_ options: BenchOptions) -> [(key: String, value: BenchValue)] {
        let env = ProcessInfo.processInfo.environment
        let splitWorkers = KernelParallel.sgemmSplitWorkers   // first: the engine's choice sets OpenBLAS's threads
        return [
            ("cores", .number(Double(ProcessInfo.processInfo.activeProcessorCount), format: "%.0f")),
            ("openblas_threads", .number(Double(kp2d_openblas_threads()), format: "%.0f")),
            ("sgemm_split_workers", .number(Double(splitWorkers), format: "%.0f")),
            ("openblas_coretype", .text(env["OPENBLAS_CORETYPE"] ?? "auto")),
            ("blas_core", .text(BLASCore.coreName)),
            ("cpu", .text(CPUVectorFeatures.current.description)),
            ("batch", .number(Double(options.batch), format: "%.0f")),
            ("height", .number(Double(options.height), format: "%.0f")),
            ("width", .number(Double(options.width), format: "%.0f")),
            ("repeats", .number(Double(options.repeats), format: "%.0f")),
            ("conv_chunk_floats", .number(Double(ConvKernels.columnChunkFloats), format: "%.0f")),
            ("conv_per_core_max_weights", .number(Double(ConvKernels.perCoreMaxWeights), format: "%.0f")),
            ("conv_winograd_min_channels", .number(WinogradKernels.enabled ? Double(WinogradKernels.minChannels) : 0, format: "%.0f")),
            ("conv_winograd_f43_min_tiles", .number(WinogradF43Kernels.enabled ? Double(WinogradF43Kernels.minTiles) : 0, format: "%.0f")),
            ("conv_direct_max_channels", .number(DirectConvKernels.enabled ? Double(DirectConvKernels.maxInputChannels) : 0, format: "%.0f")),
            ("warmup", .number(Double(options.warmup), format: "%.0f")),
        ]
    }

    /// Run `sections`, printing each report as text as it completes (unless json), and return them.
    public static func run(_ sections: [BenchSection], context: BenchContext, json: Bool,
                           print emit: (String) -> Void = { Swift.print($0) }) throws -> [BenchReport] {
        if !json {
            emit(environment(context.options).map { "\($0.key)=\($0.value.display)" }.joined(separator: "  "))
            emit("BLAS: \(BLASCore.about)")
            if let best = CPUVectorFeatures.current.bestOpenBLASCore, !BLASCore.satisfies(BLASCore.coreName, best) {
                emit("note: OpenBLAS core \(BLASCore.coreName) is slower than \(best) on this CPU; unset \(BLASCore.choiceVariable) for the automatic choice")
            }
        }
        var reports: [BenchReport] = []
        for s in sections {
            let r = try s.run(context)
            reports.append(r)
            if !json { emit(text(r)) }
        }
        if json { emit(self.json(reports, options: context.options)) }
        return reports
    }

    /// A report as an aligned table with its summary and notes.
    public static func text(_ r: BenchReport) -> String {
        var out = ["== \(r.section)"]
        if let first = r.rows.first {
            let keys = first.values.map(\.key)
            let cells = r.rows.map { row in keys.map { k in row.values.first { $0.key == k }?.value.display ?? "" } }
            let widths = keys.indices.map { i in max(keys[i].count, cells.map { $0[i].count }.max() ?? 0) }
            func line(_ items: [String]) -> String {
                items.enumerated().map { i, s in
                    i == 0 ? s.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                        : String(repeating: " ", count: widths[i] - s.count) + s
                }.joined(separator: "  ")
            }
            out.append("  " + line(keys))
            for c in cells { out.append("  " + line(c)) }
        }
        for (k, v) in r.summary { out.append("  \(k): \(v.display)") }
        for n in r.notes { out.append("  note: \(n)") }
        return out.joined(separator: "\n")
    }

    /// {"environment": {...}, "sections": {"<name>": {"rows": [...], "summary": {...}, "notes": [...]}}}
    public static func json(_ reports: [BenchReport], options: BenchOptions) -> String {
        func object(_ pairs: [(key: String, value: BenchValue)]) -> String {
            "{" + pairs.map { "\(BenchJSON.quote($0.key)): \($0.value.json)" }.joined(separator: ", ") + "}"
        }
        let sections = reports.map { r in
            "\(BenchJSON.quote(r.section)): {\"rows\": [" + r.rows.map { object($0.values) }.joined(separator: ", ")
                + "], \"summary\": \(object(r.summary)), \"notes\": [" + r.notes.map(BenchJSON.quote).joined(separator: ", ") + "]}"
        }
        return "{\"environment\": \(object(environment(options))), \"sections\": {" + sections.joined(separator: ", ") + "}}"
    }
}

enum BenchJSON {
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}

/// Where peer (PyTorch) figures come from: never constants in this module, always a run that times both.
public enum BenchPeer {
    public static let note = "PyTorch peer: no column here; scripts/bench-vs-torch times our PyTorch twin and this binary in one run and prints the ratios"
}
