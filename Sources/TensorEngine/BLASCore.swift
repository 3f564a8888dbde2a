import COpenBLAS
import Foundation

// Choosing OpenBLAS's kernel set ("core") so that nobody has to tune it.
//
// OpenBLAS picks its kernels once, when the library initialises (before main), from cpuid or from
// the environment variable OPENBLAS_CORETYPE. Debian's 0.3.21 does not know newer CPUs (AMD Zen 4/5
// with AVX-512) and falls back to AVX2 kernels, half the sgemm speed; machines also often set
// OPENBLAS_CORETYPE=Haswell for other software. At start-up the executable calls `configureAtStartup`:
// when the core in use is weaker than what the CPU supports, it re-executes itself once (same pid,
// arguments, stdin/stdout/tty, signal dispositions) with OPENBLAS_CORETYPE naming the right core.
// The re-executed process checks one small sgemm against the naive twin and, if it were wrong, goes
// back to the core of the original environment. Marker variables stop any loop.
//
//   KP2D_BLAS_CORE unset / auto   the best core the CPU supports (notice on stderr when this
//                                 overrides an OPENBLAS_CORETYPE from the environment)
//   KP2D_BLAS_CORE=keep           keep whatever OpenBLAS chose (honours OPENBLAS_CORETYPE)
//   KP2D_BLAS_CORE=<name>         force that OpenBLAS core, e.g. Haswell, SkylakeX
// The notice and the self-check message are the only lines start-up may print (on stderr).

/// Vector extensions of this CPU that the operating system also supports (cpuid + xgetbv).
public struct CPUVectorFeatures: Equatable, Sendable, CustomStringConvertible {
    public var avx = false, avx2 = false, fma = false
    public var avx512f = false, avx512cd = false, avx512bw = false, avx512dq = false, avx512vl = false

    public init() {}

    public init(bits: UInt32) {
        avx = bits & 1 != 0; avx2 = bits & 2 != 0; fma = bits & 4 != 0
        avx512f = bits & 8 != 0; avx512cd = bits & 16 != 0; avx512bw = bits & 32 != 0
        avx512dq = bits & 64 != 0; avx512vl = bits & 128 != 0
    }

    public static let current = CPUVectorFeatures(bits: kp2d_cpu_vector_features())

    /// What OpenBLAS's SkylakeX kernels need.
    public var hasAVX512Kernels: Bool { avx512f && avx512cd && avx512bw && avx512dq && avx512vl }
    /// What OpenBLAS's Haswell kernels need.
    public var hasAVX2Kernels: Bool { avx2 && fma }

    /// The strongest OpenBLAS core these features run, or nil (then OpenBLAS's own choice stands).
    public var bestOpenBLASCore: String? {
        if hasAVX512Kernels { return "SkylakeX" }
        if hasAVX2Kernels { return "Haswell" }
        return nil
    }

    /// e.g. "AVX AVX2 FMA AVX-512F/CD/BW/DQ/VL", or "no AVX".
    public var description: String {
        var parts: [String] = []
        if avx { parts.append("AVX") }
        if avx2 { parts.append("AVX2") }
        if fma { parts.append("FMA") }
        let w = [("F", avx512f), ("CD", avx512cd), ("BW", avx512bw), ("DQ", avx512dq), ("VL", avx512vl)].filter(\.1).map(\.0)
        if !w.isEmpty { parts.append("AVX-512" + w.joined(separator: "/")) }
        return parts.isEmpty ? "no AVX" : parts.joined(separator: " ")
    }
}

public enum BLASCore {
    /// Variable read by OpenBLAS when it initialises.
    public static let openBLASVariable = "OPENBLAS_CORETYPE"
    /// Our documented choice: unset/auto, keep, or a core name.
    public static let choiceVariable = "KP2D_BLAS_CORE"
    /// Markers between the original process and its re-executed self (removed once done).
    static let stateVariable = "KP2D_BLAS_STATE"
    static let originalVariable = "KP2D_BLAS_ORIGINAL_CORETYPE"
    /// Value of originalVariable when OPENBLAS_CORETYPE was unset.
    static let unsetMarker = "-"

    /// The core OpenBLAS is using, e.g. "SkylakeX".
    public static var coreName: String { String(cString: kp2d_openblas_corename()) }
    /// OpenBLAS's build description, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
    public static var config: String { String(cString: kp2d_openblas_config()) }

    /// How the core in use was arrived at (set by configureAtStartup; "" when it was not called).
    nonisolated(unsafe) public private(set) static var selection = ""

    /// One line for --version and bench: "OpenBLAS 0.3.21, core SkylakeX (auto); CPU AVX AVX2 FMA AVX-512F/CD/BW/DQ/VL".
    public static var about: String {
        let version = config.split(separator: " ").prefix(2).joined(separator: " ")
        let how = selection.isEmpty ? "" : " (\(selection))"
        return "\(version), core \(coreName)\(how); CPU \(CPUVectorFeatures.current)"
    }

    /// True when OpenBLAS core `current` is as fast for sgemm as `target` (a `bestOpenBLASCore` value).
    /// For AVX-512 only SkylakeX counts: Debian's 0.3.21 picks Cooperlake on AVX-512 CPUs with BF16
    /// (AMD Zen 4/5) and its sgemm ran at about half SkylakeX's speed there (docs/perf.md).
    public static func satisfies(_ current: String, _ target: String) -> Bool {
        let c = current.lowercased()
        switch target.lowercased() {
        case "skylakex": return c == "skylakex"
        case "haswell": return ["haswell", "zen", "skylakex", "cooperlake", "sapphirerapids"].contains(c)
        default: return c == target.lowercased()
        }
    }

    /// What start-up should do.
    public enum Plan: Equatable {
        /// Nothing to change; `selection` says why.
        case keep(selection: String)
        /// Re-execute with OPENBLAS_CORETYPE = core; print `notice` (if any) on stderr first.
        case reexec(core: String, notice: String?)
        /// Re-executed process: check sgemm; clean the markers.
        case check(requested: String, original: String?)
        /// Re-executed after a failed check: clean the markers.
        case fellBack(original: String?)
    }

    /// The decision, as a pure function of the environment, the CPU and the core OpenBLAS chose.
    public static func plan(environment env: [String: String], features: CPUVectorFeatures, currentCore: String) -> Plan {
        let original = env[originalVariable].map { $0 == unsetMarker ? nil : $0 } ?? nil
        switch env[stateVariable] {
        case "switched": return .check(requested: env[openBLASVariable] ?? "", original: original)
        case "fallback": return .fellBack(original: original)
        default: break
        }
        let choice = (env[choiceVariable] ?? "").trimmingCharacters(in: .whitespaces)
        let fromEnv = env[openBLASVariable].flatMap { $0.isEmpty ? nil : $0 }
        switch choice.lowercased() {
        case "keep":
            return .keep(selection: fromEnv.map { "\(openBLASVariable)=\($0) kept by \(choiceVariable)=keep" }
                         ?? "OpenBLAS's choice kept by \(choiceVariable)=keep")
        case "", "auto":
            guard let best = features.bestOpenBLASCore, !satisfies(currentCore, best) else {
                return .keep(selection: fromEnv.map { "\(openBLASVariable)=\($0)" } ?? "auto")
            }
            let notice = fromEnv.map {
                "kp2d-tui: using OpenBLAS core \(best) instead of \(openBLASVariable)=\($0), the fastest for this CPU (\(features)); \(choiceVariable)=keep keeps yours"
            }
            return .reexec(core: best, notice: notice)
        default:
            if currentCore.lowercased() == choice.lowercased() {
                return .keep(selection: "\(choiceVariable)=\(choice)")
            }
            return .reexec(core: choice, notice: nil)
        }
    }

    /// One small sgemm (both transposes, sizes with tails) against the naive twin.
    public static func selfCheck() -> Bool {
        var rng = SeededRandom(seed: 7)
        for (m, n, k, ta, tb) in [(37, 29, 53, false, false), (96, 80, 64, true, false), (130, 67, 91, false, true)] {
            let a = (0..<(m * k)).map { _ in Float(rng.uniform(-1, 1)) }
            let b = (0..<(k * n)).map { _ in Float(rng.uniform(-1, 1)) }
            var fast = [Float](repeating: 0, count: m * n), slow = fast
            let lda = ta ? m : k, ldb = tb ? k : n
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    fast.withUnsafeMutableBufferPointer { pc in
                        MatmulKernels.sgemm(c: pc.baseAddress!, ldc: n, transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, a: pa.baseAddress!, lda: lda,
                                            b: pb.baseAddress!, ldb: ldb, beta: 0)
                    }
                    slow.withUnsafeMutableBufferPointer { pc in
                        MatmulKernels.sgemmNaive(c: pc.baseAddress!, ldc: n, transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, a: pa.baseAddress!, lda: lda,
                                                 b: pb.baseAddress!, ldb: ldb, beta: 0)
                    }
                }
            }
            for i in 0..<(m * n) where !(abs(fast[i] - slow[i]) <= 1e-4 * Float(k)) { return false }
        }
        return true
    }

    /// Call first thing in main, before any thread is started. May replace the process (execv) and
    /// so never return; returns once the core in use is the one to keep.
    public static func configureAtStartup() {
        let env = ProcessInfo.processInfo.environment
        switch plan(environment: env, features: .current, currentCore: coreName) {
        case let .keep(selection: s):
            selection = s
        case let .reexec(core, notice):
            if let notice { FileHandle.standardError.write(Data((notice + "\n").utf8)) }
            setenv(originalVariable, env[openBLASVariable] ?? unsetMarker, 1)
            setenv(stateVariable, "switched", 1)
            setenv(openBLASVariable, core, 1)
            reexec()
            // exec failed: carry on with the core we have, environment as it was.
            restore(original: env[openBLASVariable])
            selection = "re-exec failed, OpenBLAS's choice"
        case let .check(requested, original):
            // KP2D_BLAS_TEST_FAIL_SELFCHECK (tests only) makes the check fail, to exercise the fallback.
            if selfCheck() && env["KP2D_BLAS_TEST_FAIL_SELFCHECK"] == nil {
                unsetenv(stateVariable); unsetenv(originalVariable)
                let asked = env[choiceVariable].flatMap { $0.isEmpty || $0.lowercased() == "auto" ? nil : $0 }
                selection = asked.map { "\(choiceVariable)=\($0)" } ?? "auto"
                if coreName.lowercased() != requested.lowercased() {
                    selection += "; OpenBLAS did not take \(requested)"
                }
            } else {
                FileHandle.standardError.write(Data("kp2d-tui: sgemm self-check failed with OpenBLAS core \(coreName); back to \(original ?? "OpenBLAS's own choice")\n".utf8))
                setenv(stateVariable, "fallback", 1)
                restore(original: original)
                reexec()
                unsetenv(stateVariable); unsetenv(originalVariable)
                selection = "self-check failed, re-exec failed"
            }
        case .fellBack:
            unsetenv(stateVariable); unsetenv(originalVariable)
            selection = "fallback after a failed self-check"
        }
    }

    private static func restore(original: String?) {
        if let original { setenv(openBLASVariable, original, 1) } else { unsetenv(openBLASVariable) }
    }

    /// execv this same executable with the same arguments and the current environment. Returns only on failure.
    private static func reexec() {
        fflush(nil)   // every output stream (stdout and stderr are not concurrency-safe to name in Swift 6 mode)
        let argv = CommandLine.unsafeArgv
        execv("/proc/self/exe", argv)
    }
}
