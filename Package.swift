// swift-tools-version:6.0
import PackageDescription

// Modules, lowest first. A module only imports modules above it in this list.
//   COpenBLAS, CNcurses, CPNG, CJPEG, CMPI  system libraries (shim headers; CMPI = Open MPI)
//   TensorEngine   float32 NCHW tensors, kernels, the backward tape, seeded RNG
//   Distributed    MPI process group: launcher detection, rank/size, gradient allreduce-average,
//                  broadcasts, polite control waits, watchdog (imports CMPI and TensorEngine only)
//   NN             layers, Adam, safetensors checkpoints with PyTorch key names
//   Geometry       homographies, DLT, RANSAC, point warps
//   Datasets       image decoding, augmentation, folder datasets, HPatches
//   KP2D           KeyPointNet, IO-Net, the four losses
//   Evaluation     HPatches metrics on plain arrays
//   Training       the training loop on a worker thread
//   TUI            cell-grid layout, charts, image rendering, the ncurses layer
//   Verification   reference-fixture loading and comparison (kp2d-tui verify)
//   kp2d-tui       the executable: subcommands

let v5: [SwiftSetting] = [.swiftLanguageMode(.v5)]

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

        .target(name: "TensorEngine", dependencies: ["COpenBLAS"], swiftSettings: v5),
        .target(name: "Distributed", dependencies: ["CMPI", "TensorEngine"], swiftSettings: v5),
        .target(name: "NN", dependencies: ["TensorEngine"], swiftSettings: v5),
        .target(name: "Geometry", swiftSettings: v5),
        .target(name: "Datasets", dependencies: ["TensorEngine", "Geometry", "CPNG", "CJPEG"], swiftSettings: v5),
        .target(name: "KP2D", dependencies: ["TensorEngine", "NN", "Geometry"], swiftSettings: v5),
        .target(name: "Evaluation", dependencies: ["Geometry"], swiftSettings: v5),
        .target(name: "Training", dependencies: ["TensorEngine", "Distributed", "NN", "Geometry", "Datasets", "KP2D", "Evaluation"], swiftSettings: v5),
        .target(name: "TUI", dependencies: ["CNcurses", "Datasets", "KP2D", "Evaluation", "Training"], swiftSettings: v5),
        .target(name: "Verification", dependencies: ["TensorEngine", "NN", "Geometry", "Datasets", "KP2D", "Evaluation"], swiftSettings: v5),
        .executableTarget(
            name: "kp2d-tui",
            dependencies: [
                "TensorEngine", "Distributed", "NN", "Geometry", "Datasets", "KP2D", "Evaluation", "Training", "TUI", "Verification",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: v5),

        .testTarget(name: "TensorEngineTests", dependencies: ["TensorEngine", "Verification"], swiftSettings: v5),
        .testTarget(name: "NNTests", dependencies: ["NN", "TensorEngine", "Verification"], swiftSettings: v5),
        .testTarget(name: "GeometryTests", dependencies: ["Geometry", "Verification"], swiftSettings: v5),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Geometry", "TensorEngine"], swiftSettings: v5),
        .testTarget(name: "KP2DTests", dependencies: ["KP2D", "NN", "TensorEngine", "Verification"], swiftSettings: v5),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Verification"], swiftSettings: v5),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Datasets", "KP2D", "NN", "TensorEngine"], swiftSettings: v5),
        .testTarget(name: "TUITests", dependencies: ["TUI", "Training", "Datasets", "KP2D", "Evaluation"], swiftSettings: v5),
        .testTarget(name: "VerificationTests", dependencies: ["Verification"], swiftSettings: v5),
        .testTarget(name: "DistributedTests", dependencies: ["Distributed", "Training", "Datasets", "KP2D", "NN", "TensorEngine"], swiftSettings: v5),
        .testTarget(name: "EndToEndTests", swiftSettings: v5),
    ]
)
