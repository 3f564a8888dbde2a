import Foundation
import TensorEngine
import XCTest

final class NamedThreadTests: XCTestCase {
    /// The name reaches the OS (what gdb, top -H and /proc/PID/task/*/comm show), which Foundation's
    /// `Thread.name` alone does not on this toolchain.
    func testStartedThreadHasItsNameAtTheOSLevel() {
        let seen = NSLock()
        nonisolated(unsafe) var name = ""
        let done = DispatchSemaphore(value: 0)
        NamedThread.start("kp2d.test-name", stackSize: 1 << 20) {
            let n = NamedThread.currentName()
            seen.lock(); name = n; seen.unlock()
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        seen.lock(); defer { seen.unlock() }
        XCTAssertEqual(name, "kp2d.test-name")
    }

    /// Linux keeps 15 bytes: a longer name set on the calling thread is cut, not refused.
    func testLongNamesAreCutToFifteenBytes() {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var name = ""
        Thread.detachNewThread {
            NamedThread.nameCurrentThread("kp2d.a-very-long-thread-name")
            name = NamedThread.currentName()
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(name, "kp2d.a-very-lon")
        XCTAssertEqual(NamedThread.maxNameBytes, 15)
    }
}
