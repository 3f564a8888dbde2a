import Foundation

// The engine's modules are compiled for the build machine's CPU (Package.swift, KP2D_TARGET_CPU): run on an older
// CPU, the first kernel would stop the process with an illegal instruction. So before any engine code runs, the
// executable (compiled for the baseline x86-64, like this file) compares the extensions the engine was compiled
// with (defines from Package.swift, the same list) against the CPU's (/proc/cpuinfo) and stops with one line
// naming the fix. No check where the build knew of no extensions (KP2D_TARGET_CPU=generic or an unlisted CPU name,
// or a build without /proc/cpuinfo).

enum CPUCheck {
    /// The extensions (as /proc/cpuinfo names them) the engine was compiled to use.
    static let engineExtensions: [String] = {
        var e: [String] = []
        #if KP2D_ENGINE_AVX
        e.append("avx")
        #endif
        #if KP2D_ENGINE_AVX2
        e.append("avx2")
        #endif
        #if KP2D_ENGINE_FMA
        e.append("fma")
        #endif
        #if KP2D_ENGINE_F16C
        e.append("f16c")
        #endif
        #if KP2D_ENGINE_BMI1
        e.append("bmi1")
        #endif
        #if KP2D_ENGINE_BMI2
        e.append("bmi2")
        #endif
        #if KP2D_ENGINE_MOVBE
        e.append("movbe")
        #endif
        #if KP2D_ENGINE_POPCNT
        e.append("popcnt")
        #endif
        #if KP2D_ENGINE_AVX512F
        e.append("avx512f")
        #endif
        #if KP2D_ENGINE_AVX512CD
        e.append("avx512cd")
        #endif
        #if KP2D_ENGINE_AVX512BW
        e.append("avx512bw")
        #endif
        #if KP2D_ENGINE_AVX512DQ
        e.append("avx512dq")
        #endif
        #if KP2D_ENGINE_AVX512VL
        e.append("avx512vl")
        #endif
        #if KP2D_ENGINE_AVX512IFMA
        e.append("avx512ifma")
        #endif
        #if KP2D_ENGINE_AVX512VBMI
        e.append("avx512vbmi")
        #endif
        #if KP2D_ENGINE_AVX512_VBMI2
        e.append("avx512_vbmi2")
        #endif
        #if KP2D_ENGINE_AVX512_VNNI
        e.append("avx512_vnni")
        #endif
        #if KP2D_ENGINE_AVX512_BITALG
        e.append("avx512_bitalg")
        #endif
        #if KP2D_ENGINE_AVX512_VPOPCNTDQ
        e.append("avx512_vpopcntdq")
        #endif
        #if KP2D_ENGINE_AVX512_BF16
        e.append("avx512_bf16")
        #endif
        #if KP2D_ENGINE_AVX512_FP16
        e.append("avx512_fp16")
        #endif
        #if KP2D_ENGINE_GFNI
        e.append("gfni")
        #endif
        #if KP2D_ENGINE_VAES
        e.append("vaes")
        #endif
        #if KP2D_ENGINE_VPCLMULQDQ
        e.append("vpclmulqdq")
        #endif
        return e
    }()

    /// This CPU's extensions: the `flags` line of /proc/cpuinfo, or KP2D_CPU_FLAGS (a space-separated list, to
    /// try the check on a CPU one does not have). nil when neither is there.
    static func cpuFlags(environment: [String: String] = ProcessInfo.processInfo.environment) -> Set<String>? {
        if let forced = environment["KP2D_CPU_FLAGS"] { return Set(forced.split(separator: " ").map(String.init)) }
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let list = line.split(separator: ":").last else { return nil }
        return Set(list.split(separator: " ").map(String.init))
    }

    /// The one-line error for a CPU that lacks some of the engine's extensions, or nil when it has them all.
    static func problem(engine: [String] = engineExtensions, cpu: Set<String>?) -> String? {
        guard let cpu else { return nil }
        let missing = engine.filter { !cpu.contains($0) }
        guard !missing.isEmpty else { return nil }
        return "kp2d-tui: this binary was compiled for a CPU with \(missing.joined(separator: " ")), which this one lacks; "
            + "rebuild it on this machine, or build it for older CPUs with KP2D_TARGET_CPU=haswell or x86-64 (README, Build)"
    }

    /// Stops the process (exit 1) with that line on stderr if this CPU cannot run the engine.
    static func requireEngineExtensions() {
        guard let message = problem(cpu: cpuFlags()) else { return }
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(1)
    }

    /// For --version: the engine's extensions, e.g. "avx avx2 fma ... avx512vl".
    static var summary: String {
        engineExtensions.isEmpty ? "the compiler's baseline (no start-up check)" : engineExtensions.joined(separator: " ")
    }
}
