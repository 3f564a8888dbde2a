// swift-tools-version:6.0
import PackageDescription

// Modules, lowest first. A module imports only modules listed above it (scripts/check-layers enforces it).
//   COpenBLAS, CNcurses, CPNG, CJPEG  system libraries (shim headers)
//   TensorEngine   float32 NCHW tensors, generic ops and their kernels, the backward tape, safetensors, seeded RNG
//   NN             layers, Adam, state_dict entries with PyTorch key names
//   Geometry       homographies, DLT, RANSAC, corner error
//   Datasets       image decoding, resizing, augmentation, folder datasets and loader, HPatches sequences, synthetic pairs
//   KP2D           KeyPointNet, IO-Net, keypoints, the loss and its ops
//   Evaluation     the official HPatches metrics, judged matches, the dataset-to-metrics driver, the detector
//   Verification   reference-fixture loading and comparison (kp2d-tui verify)
//   Training       the trainer thread, snapshots and commands, checkpoints, metrics log, the training preview
//   TUI            cell-grid layout, charts, image rendering, themes, the one ncurses file
//   Bench          benchmark framework and sections, the demo trainer (kp2d-tui bench, UI tests)
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

        .target(name: "TensorEngine", dependencies: ["COpenBLAS"], swiftSettings: v5),
        .target(name: "NN", dependencies: ["TensorEngine"], swiftSettings: v5),
        .target(name: "Geometry", swiftSettings: v5),
        .target(name: "Datasets", dependencies: ["TensorEngine", "Geometry", "CPNG", "CJPEG"], swiftSettings: v5),
        .target(name: "KP2D", dependencies: ["TensorEngine", "NN", "Geometry"], swiftSettings: v5),
        .target(name: "Evaluation", dependencies: ["TensorEngine", "Geometry", "Datasets", "KP2D"], swiftSettings: v5),
        .target(name: "Verification", dependencies: ["TensorEngine", "NN", "Geometry", "Datasets", "KP2D", "Evaluation"], swiftSettings: v5),
        .target(name: "Training", dependencies: ["TensorEngine", "NN", "Geometry", "Datasets", "KP2D", "Evaluation"], swiftSettings: v5),
        .target(name: "TUI", dependencies: ["CNcurses", "Geometry", "Datasets", "KP2D", "Evaluation", "Training"], swiftSettings: v5),
        .target(name: "Bench", dependencies: ["COpenBLAS", "TensorEngine", "NN", "Datasets", "KP2D", "Evaluation", "Training", "TUI"], swiftSettings: v5),
        .executableTarget(
            name: "kp2d-tui",
            dependencies: [
                "TensorEngine", "NN", "Geometry", "Datasets", "KP2D", "Evaluation", "Verification", "Training", "TUI", "Bench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: v5),

        // Test helpers (finite differences, random tensors, fixture lookup); depends on the engine only.
        .target(name: "TestSupport", dependencies: ["TensorEngine"], path: "Tests/TestSupport", swiftSettings: v5),
        .testTarget(name: "TensorEngineTests", dependencies: ["TensorEngine", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "NNTests", dependencies: ["NN", "TensorEngine", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "GeometryTests", dependencies: ["Geometry", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Geometry", "TensorEngine", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "KP2DTests", dependencies: ["KP2D", "NN", "Datasets", "TensorEngine", "Verification", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "KP2D", "Datasets", "Geometry", "NN", "TensorEngine", "Verification", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "VerificationTests", dependencies: ["Verification", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Evaluation", "Datasets", "KP2D", "NN", "TensorEngine"], swiftSettings: v5),
        .testTarget(name: "TUITests", dependencies: ["TUI", "Bench", "Geometry", "Training", "Datasets", "KP2D", "Evaluation"], swiftSettings: v5),
        .testTarget(name: "BenchTests", dependencies: ["Bench", "TensorEngine"], swiftSettings: v5),
        .testTarget(name: "EndToEndTests", swiftSettings: v5),
    ]
)
