// swift-tools-version:6.0
import Foundation
import PackageDescription

// Modules, lowest first. A module imports only modules listed above it (scripts/check-layers enforces it).
//   COpenBLAS, CNcurses, CPNG, CJPEG, CMPI  system libraries (shim headers; CMPI is Open MPI)
//   TensorEngine   float32 NCHW tensors, generic ops and their kernels, the backward tape, safetensors, seeded RNG
//   Distributed    the MPI process group: launcher detection, gradient allreduce-average, broadcasts, watchdog
//   NN             layers, Adam, state_dict entries with PyTorch key names
//   Geometry       homographies, DLT, RANSAC, corner error
//   Datasets       image decoding, resizing, augmentation, folder datasets and loader, HPatches sequences, synthetic pairs
//   KP2D           KeyPointNet, IO-Net, keypoints, the loss and its ops
//   Evaluation     the official HPatches metrics, judged matches, the dataset-to-metrics driver, the detector,
//                  figures (PNG pictures of keypoints and matches)
//   Verification   reference-fixture loading and comparison (kp2d-tui verify)
//   Training       the trainer thread, snapshots and commands, checkpoints, metrics log, the training preview
//   TUI            cell-grid layout, charts, image rendering, themes, the one ncurses file
//   Bench          benchmark framework and sections, the demo trainer (kp2d-tui bench, UI tests)
//   kp2d-tui       the executable: subcommands

// Language modes. Every library module and the executable build in Swift 6 mode (complete concurrency
// checking); only the test targets stay in Swift 5 mode (see the note above the test targets). The kernels' worker threads get their raw
// pointers through one audited door, KernelParallel.perform (TensorEngine/Kernels/KernelSupport.swift): a
// worker closure captures non-Sendable pointers, so it crosses to DispatchQueue.concurrentPerform in a
// KernelShared box (@unchecked Sendable; the workers read shared inputs and write disjoint ranges or private
// buffers). Tuning knobs the bench and tests set are `nonisolated(unsafe) static var`s, set before a kernel runs.
let v5: [SwiftSetting] = [.swiftLanguageMode(.v5)]

// TensorEngine's kernels are written with SIMD8/SIMD16<Float>; Swift compiles them for the target CPU only, and
// for a baseline x86-64 that is SSE2 (a SIMD16 is four 128-bit operations). So the engine is compiled for the
// build machine's CPU (AVX-512 here; docs/perf.md, Round 3: 2.8x on the direct convolution kernel), like
// `-march=native`: the binary runs on this CPU and newer ones of its kind. To build for other machines set
// KP2D_TARGET_CPU to an LLVM CPU name (e.g. x86-64, haswell, znver4) or `generic` for the compiler's default.
// The modules with the training step's other loops (NN: Adam; Datasets: resizing, augmentation; KP2D: the loss
// kernels) get the same flag (docs/perf.md, Round 4); the results stay bit for bit the same, since Swift neither
// contracts a*b+c into FMA nor reassociates float sums unless told.
let engineCPU = ProcessInfo.processInfo.environment["KP2D_TARGET_CPU"] ?? "native"
let engineTarget: [SwiftSetting] = engineCPU == "generic" ? [] : [.unsafeFlags(["-target-cpu", engineCPU])]

// The instruction-set extensions that target lets the compiler use in the engine, as defines for the executable
// (built for the baseline CPU), which checks them against this CPU before any engine code runs
// (Sources/kp2d-tui/CPUCheck.swift, the same list): on an older CPU the binary stops with one line naming the fix
// instead of an illegal instruction. `native`: the build machine's (/proc/cpuinfo); a few LLVM CPU names by family;
// none (no check) for other names and `generic`.
func engineExtensions(_ cpu: String) -> [String] {
    let avx2 = ["avx", "avx2", "fma", "f16c", "bmi1", "bmi2", "movbe", "popcnt"]
    let avx512 = avx2 + ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
    switch cpu {
    case "native":
        let checked = avx512 + ["avx512ifma", "avx512vbmi", "avx512_vbmi2", "avx512_vnni", "avx512_bitalg",
                                "avx512_vpopcntdq", "avx512_bf16", "avx512_fp16", "gfni", "vaes", "vpclmulqdq"]
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let list = line.split(separator: ":").last else { return [] }
        let flags = Set(list.split(separator: " ").map(String.init))
        return checked.filter { flags.contains($0) }
    case "haswell", "core-avx2", "broadwell", "skylake", "alderlake", "raptorlake", "znver1", "znver2", "znver3": return avx2
    case "skylake-avx512", "skx", "cascadelake", "cooperlake", "znver4", "znver5": return avx512
    default: return []
    }
}
let engineCheck: [SwiftSetting] = engineExtensions(engineCPU).map { .define("KP2D_ENGINE_" + $0.uppercased()) }
let v6: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "kp2d-tui",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kp2d-tui", targets: ["kp2d-tui"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        .systemLibrary(name: "CNcurses", path: "Sources/CNcurses"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG"),
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG"),
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),

        .target(name: "TensorEngine", dependencies: ["COpenBLAS"], swiftSettings: v6 + engineTarget),
        .target(name: "Distributed", dependencies: ["CMPI", "TensorEngine"], swiftSettings: v6),
        .target(name: "NN", dependencies: ["TensorEngine"], swiftSettings: v6 + engineTarget),
        .target(name: "Geometry", swiftSettings: v6),
        .target(name: "Datasets", dependencies: ["TensorEngine", "Geometry", "CPNG", "CJPEG"], swiftSettings: v6 + engineTarget),
        .target(name: "KP2D", dependencies: ["TensorEngine", "NN", "Geometry"], swiftSettings: v6 + engineTarget),
        .target(name: "Evaluation", dependencies: ["TensorEngine", "Geometry", "Datasets", "KP2D"], swiftSettings: v6),
        .target(name: "Verification", dependencies: ["TensorEngine", "NN", "Geometry", "Datasets", "KP2D", "Evaluation"], swiftSettings: v6),
        .target(name: "Training", dependencies: ["TensorEngine", "Distributed", "NN", "Geometry", "Datasets", "KP2D", "Evaluation"], swiftSettings: v6),
        .target(name: "TUI", dependencies: ["CNcurses", "TensorEngine", "Geometry", "Datasets", "KP2D", "Evaluation", "Training"], swiftSettings: v6),
        .target(name: "Bench", dependencies: ["COpenBLAS", "TensorEngine", "NN", "Datasets", "KP2D", "Evaluation", "Training", "TUI"], swiftSettings: v6),
        .executableTarget(
            name: "kp2d-tui",
            dependencies: [
                "TensorEngine", "Distributed", "NN", "Geometry", "Datasets", "KP2D", "Evaluation", "Verification", "Training", "TUI", "Bench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: v6 + engineCheck),

        // The test targets and their helpers stay in Swift 5 mode: they ship nothing, and moving them would mean
        // auditing every XCTestCase's mutable state shared with worker threads and Process/pipe handlers (e.g.
        // the trainer and loader tests, the end-to-end output sinks); not attempted in issue 12.
        // Test helpers, one home each. TestSupport: finite differences, random tensors, fixture lookup (the engine
        // only). ProcessSupport: the checkout's paths, running the built binary and other programs, temporary
        // folders, private tmux servers (no module of ours). EvaluationTestSupport: a fixed grid detector and a
        // synthetic photo for the HPatches evaluation tests.
        .target(name: "TestSupport", dependencies: ["TensorEngine"], path: "Tests/TestSupport", swiftSettings: v5),
        .target(name: "ProcessSupport", path: "Tests/ProcessSupport", swiftSettings: v5),
        .target(name: "EvaluationTestSupport", dependencies: ["Datasets", "KP2D"], path: "Tests/EvaluationTestSupport", swiftSettings: v5),
        .testTarget(name: "TensorEngineTests", dependencies: ["TensorEngine", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "NNTests", dependencies: ["NN", "TensorEngine", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "GeometryTests", dependencies: ["Geometry", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Geometry", "TensorEngine", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "KP2DTests", dependencies: ["KP2D", "NN", "Datasets", "TensorEngine", "Verification", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "EvaluationTestSupport", "KP2D", "Datasets", "Geometry", "NN", "TensorEngine", "Verification", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "VerificationTests", dependencies: ["Verification", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Evaluation", "Datasets", "Geometry", "KP2D", "NN", "TensorEngine"], swiftSettings: v5),
        .testTarget(name: "TUITests", dependencies: ["TUI", "Bench", "Geometry", "Training", "Datasets", "KP2D", "Evaluation", "EvaluationTestSupport", "ProcessSupport"], swiftSettings: v5),
        .testTarget(name: "BenchTests", dependencies: ["Bench", "TensorEngine"], swiftSettings: v5),
        .testTarget(name: "DistributedTests", dependencies: ["Distributed", "Training", "Datasets", "KP2D", "NN", "TensorEngine", "ProcessSupport"], swiftSettings: v5),
        .testTarget(name: "EndToEndTests", dependencies: ["ProcessSupport", "TestSupport"], swiftSettings: v5),
    ]
)
