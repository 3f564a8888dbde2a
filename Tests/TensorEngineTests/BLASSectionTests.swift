import COpenBLAS
import Foundation
import XCTest
@testable import TensorEngine

/// OpenBLAS has one process-wide thread count; single-threaded sections (KernelParallel.withSingleThreadedBLAS) lower
/// it to 1 while their kernels run one sgemm per core. A call from outside every section must never run at the
/// lowered count (it would round differently with some cores' kernels), and the section's own workers must.
final class BLASSectionTests: XCTestCase {
    private final class Box: @unchecked Sendable {
        let lock = NSLock()
        var values: [Int] = []
        func append(_ v: Int) { lock.lock(); values.append(v); lock.unlock() }
    }

    func testACallOutsideEverySectionWaitsForTheSectionAndRunsAtTheConfiguredCount() throws {
        // The engine runs OpenBLAS single-threaded unless the environment sets its thread count
        // (KernelParallel.sgemmSplitWorkers); the sections matter when it does, as here.
        _ = KernelParallel.sgemmSplitWorkers   // the engine's choice first, so that `previous` is what it chose
        let previous = Int(kp2d_openblas_threads())
        KernelParallel.setBLASThreads(2)
        defer { KernelParallel.setBLASThreads(previous) }
        let configured = 2
        let entered = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        let seen = Box()
        Thread {
            KernelParallel.withSingleThreadedBLAS {
                entered.signal()
                release.wait()
            }
        }.start()
        entered.wait()
        Thread {
            seen.append(KernelParallel.withBLASThreadCountHeld { Int(kp2d_openblas_threads()) })
            done.signal()
        }.start()
        // The outside call waits while the section holds the count at 1 ...
        XCTAssertEqual(done.wait(timeout: .now() + 0.3), .timedOut, "a call outside the section ran during it")
        release.signal()
        done.wait()
        // ... and then runs at the configured count.
        XCTAssertEqual(seen.values, [configured])
        XCTAssertEqual(Int(kp2d_openblas_threads()), configured)
    }

    func testASectionsWorkersAndNestedSectionsRunInsideItSingleThreaded() {
        let configured = Int(kp2d_openblas_threads())
        let seen = Box()
        XCTAssertFalse(KernelParallel.isInsideSingleThreadedSection)
        KernelParallel.withSingleThreadedBLAS {
            KernelParallel.perform(workers: 4) { _ in
                seen.append(KernelParallel.isInsideSingleThreadedSection ? 1 : 0)
                // Would deadlock on the section's lock if the workers did not count as inside it.
                seen.append(KernelParallel.withBLASThreadCountHeld { Int(kp2d_openblas_threads()) })
            }
            // Reentrant: a nested section on the same thread runs its body (it used to deadlock).
            seen.append(KernelParallel.withSingleThreadedBLAS { Int(kp2d_openblas_threads()) })
        }
        XCTAssertEqual(seen.values, Array(repeating: 1, count: 9))
        XCTAssertFalse(KernelParallel.isInsideSingleThreadedSection)
        // Outside again: workers started outside a section are outside it, and the count is restored.
        let outside = Box()
        KernelParallel.perform(workers: 2) { _ in outside.append(KernelParallel.isInsideSingleThreadedSection ? 1 : 0) }
        XCTAssertEqual(outside.values, [0, 0])
        XCTAssertEqual(Int(kp2d_openblas_threads()), configured)
    }
}
