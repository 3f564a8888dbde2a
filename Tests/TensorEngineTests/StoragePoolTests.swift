import XCTest
@testable import TensorEngine

final class StoragePoolTests: XCTestCase {
    /// A released large buffer is reused for the next tensor of the same size, and comes back zero-filled.
    func testReusedStorageIsZeroFilled() {
        let count = StoragePool.minPooledCount * 3 + 7
        var address: UnsafeMutablePointer<Float>?
        do {
            let t = Tensor(shape: [count], repeating: 5)
            address = t.data
        }
        let u = Tensor(shape: [count])
        XCTAssertEqual(u.data, address, "the released buffer should be reused")
        XCTAssertTrue(u.array.allSatisfy { $0 == 0 })
    }

    func testIdleCapFreesInsteadOfPooling() {
        let pool = StoragePool()
        pool.maxIdleBytes = StoragePool.minPooledCount * 4
        let a = pool.take(StoragePool.minPooledCount), b = pool.take(StoragePool.minPooledCount)
        pool.give(a, count: StoragePool.minPooledCount)
        XCTAssertEqual(pool.idleBytes, StoragePool.minPooledCount * 4)
        pool.give(b, count: StoragePool.minPooledCount)
        XCTAssertEqual(pool.idleBytes, StoragePool.minPooledCount * 4, "over the cap: freed, not kept")
        XCTAssertEqual(pool.take(StoragePool.minPooledCount), a)
        XCTAssertEqual(pool.idleBytes, 0)
        pool.give(a, count: StoragePool.minPooledCount)
        pool.drain()
        XCTAssertEqual(pool.idleBytes, 0)
    }
}
