import XCTest
@testable import TensorEngine

/// The start-up choice of OpenBLAS core (a pure function of environment, CPU and OpenBLAS's pick) and its self-check.
final class BLASCoreTests: XCTestCase {
    let avx512 = CPUVectorFeatures(bits: 0xff)
    let avx2 = CPUVectorFeatures(bits: 0x7)
    let plain = CPUVectorFeatures(bits: 0)

    func testAutoUpgradesAWeakerCoreWithANoticeOnlyForTheEnvironmentsChoice() {
        // Environment forced Haswell on an AVX-512 CPU: switch, and say so.
        let forced = BLASCore.plan(environment: ["OPENBLAS_CORETYPE": "Haswell"], features: avx512, currentCore: "Haswell")
        guard case let .reexec(core, notice?) = forced else { return XCTFail("\(forced)") }
        XCTAssertEqual(core, "SkylakeX")
        XCTAssertTrue(notice.contains("OPENBLAS_CORETYPE=Haswell") && notice.contains("KP2D_BLAS_CORE=keep"), notice)
        XCTAssertFalse(notice.contains("\n"))
        // OpenBLAS's own pick (Cooperlake on Zen 4/5): switch silently.
        XCTAssertEqual(BLASCore.plan(environment: [:], features: avx512, currentCore: "Cooperlake"), .reexec(core: "SkylakeX", notice: nil))
        // Already right, or nothing better: keep.
        XCTAssertEqual(BLASCore.plan(environment: [:], features: avx512, currentCore: "SkylakeX"), .keep(selection: "auto"))
        XCTAssertEqual(BLASCore.plan(environment: ["OPENBLAS_CORETYPE": "zen"], features: avx2, currentCore: "Zen"),
                       .keep(selection: "OPENBLAS_CORETYPE=zen"))
        XCTAssertEqual(BLASCore.plan(environment: [:], features: plain, currentCore: "Prescott"), .keep(selection: "auto"))
        XCTAssertEqual(BLASCore.plan(environment: ["KP2D_BLAS_CORE": "auto"], features: avx2, currentCore: "Sandybridge"),
                       .reexec(core: "Haswell", notice: nil))
    }

    func testOwnVariableKeepsOrForces() {
        guard case .keep = BLASCore.plan(environment: ["KP2D_BLAS_CORE": "keep", "OPENBLAS_CORETYPE": "Haswell"],
                                         features: avx512, currentCore: "Haswell") else { return XCTFail() }
        XCTAssertEqual(BLASCore.plan(environment: ["KP2D_BLAS_CORE": "Haswell"], features: avx512, currentCore: "Cooperlake"),
                       .reexec(core: "Haswell", notice: nil))
        guard case .keep = BLASCore.plan(environment: ["KP2D_BLAS_CORE": "haswell"], features: avx512, currentCore: "Haswell")
        else { return XCTFail() }
    }

    func testMarkersStopLoops() {
        // The re-executed process checks and never re-executes for the same reason again.
        XCTAssertEqual(BLASCore.plan(environment: ["KP2D_BLAS_STATE": "switched", "OPENBLAS_CORETYPE": "SkylakeX",
                                                   "KP2D_BLAS_ORIGINAL_CORETYPE": "Haswell"],
                                     features: avx512, currentCore: "Cooperlake"),
                       .check(requested: "SkylakeX", original: "Haswell"))
        XCTAssertEqual(BLASCore.plan(environment: ["KP2D_BLAS_STATE": "switched", "OPENBLAS_CORETYPE": "SkylakeX",
                                                   "KP2D_BLAS_ORIGINAL_CORETYPE": "-"],
                                     features: avx512, currentCore: "SkylakeX"),
                       .check(requested: "SkylakeX", original: nil))
        XCTAssertEqual(BLASCore.plan(environment: ["KP2D_BLAS_STATE": "fallback", "KP2D_BLAS_ORIGINAL_CORETYPE": "Haswell"],
                                     features: avx512, currentCore: "Haswell"),
                       .fellBack(original: "Haswell"))
    }

    func testSatisfies() {
        XCTAssertTrue(BLASCore.satisfies("SkylakeX", "SkylakeX"))
        XCTAssertFalse(BLASCore.satisfies("Cooperlake", "SkylakeX"))
        XCTAssertFalse(BLASCore.satisfies("Haswell", "SkylakeX"))
        XCTAssertTrue(BLASCore.satisfies("Zen", "Haswell"))
        XCTAssertFalse(BLASCore.satisfies("Sandybridge", "Haswell"))
    }

    func testFeaturesAndTheCoreInUse() {
        XCTAssertEqual(avx512.bestOpenBLASCore, "SkylakeX")
        XCTAssertEqual(avx2.bestOpenBLASCore, "Haswell")
        XCTAssertNil(plain.bestOpenBLASCore)
        XCTAssertEqual(avx512.description, "AVX AVX2 FMA AVX-512F/CD/BW/DQ/VL")
        XCTAssertFalse(BLASCore.coreName.isEmpty)
        XCTAssertTrue(BLASCore.about.contains("core \(BLASCore.coreName)"), BLASCore.about)
    }

    func testSelfCheckPassesWithTheCoreInUse() {
        XCTAssertTrue(BLASCore.selfCheck())
    }
}
