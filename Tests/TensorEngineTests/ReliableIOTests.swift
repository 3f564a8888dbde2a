import Foundation
import XCTest
import TensorEngine

/// Issue 13: safetensors and atomic writes under bad input and interrupted saves; sizes bounded by memory.
final class ReliableIOTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "kp2d-reliable-io-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func file(header: String, data: [UInt8]) -> Data {
        var h = Data(header.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        var out = Data()
        for i in 0..<8 { out.append(UInt8((h.count >> (8 * i)) & 0xFF)) }
        out.append(h); out.append(contentsOf: data)
        return out
    }

    func testOverlappingDataOffsetsAreCorrupt() {
        let d = file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                     data: [UInt8](repeating: 0, count: 12))
        XCTAssertThrowsError(try SafeTensors.parse(d, path: "x.safetensors")) { e in
            XCTAssertTrue("\(e)".contains("x.safetensors: not a valid safetensors file (tensors 'a' [0, 8) and 'b' [4, 12) overlap"), "\(e)")
        }
        // Adjacent tensors and an empty tensor at a shared offset are fine.
        let ok = file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"e":{"dtype":"F32","shape":[0],"data_offsets":[8,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
                      data: [UInt8](repeating: 0, count: 12))
        XCTAssertNoThrow(try SafeTensors.parse(ok))
    }

    func testReadingAFolderOrAFifoSaysWhat() throws {
        XCTAssertThrowsError(try SafeTensors.read(dir)) { XCTAssertTrue("\($0)".contains("is a folder, not a .safetensors file"), "\($0)") }
        let fifo = dir + "/fifo"
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        XCTAssertThrowsError(try SafeTensors.read(fifo)) { XCTAssertTrue("\($0)".contains("not a regular file"), "\($0)") }
    }

    func testWriteErrorsNameTheTargetNotTheTemporary() throws {
        FileManager.default.createFile(atPath: dir + "/file", contents: Data("x".utf8))
        let target = dir + "/file/ck.safetensors"
        XCTAssertThrowsError(try AtomicFile.write(Data("y".utf8), to: target)) { e in
            let m = "\(e)"
            XCTAssertTrue(m.hasPrefix("\(target): cannot write ("), m)
            XCTAssertFalse(m.contains(".tmp-") || m.contains("cannot read"), m)
        }
        XCTAssertThrowsError(try AtomicFile.write(Data("y".utf8), to: dir)) { XCTAssertTrue("\($0)".contains("it is a folder"), "\($0)") }
    }

    func testStaleTemporariesAreThoseOfDeadProcesses() throws {
        let target = dir + "/ck.safetensors"
        var dead: Int32 = 4_000_000
        while kill(dead, 0) == 0 || errno != ESRCH { dead -= 1 }
        let stale = target + ".tmp-\(dead)-\(UUID().uuidString)"
        let mine = target + ".tmp-\(getpid())-\(UUID().uuidString)"
        let init1 = target + ".tmp-1-\(UUID().uuidString)"            // pid 1 runs (EPERM or alive)
        let foreign = target + ".tmp-\(dead)-not-a-uuid"
        let otherFile = dir + "/other.safetensors.tmp-\(dead)-\(UUID().uuidString)"
        for f in [stale, mine, init1, foreign, otherFile] { FileManager.default.createFile(atPath: f, contents: Data()) }
        XCTAssertEqual(AtomicFile.staleTemporaries(of: target), [stale])
        // A successful write leaves no temporary behind.
        try AtomicFile.write(Data("z".utf8), to: target)
        XCTAssertEqual(AtomicFile.staleTemporaries(of: target), [stale])
    }

    func testMemoryLimitCatchesOverflowAndHugeRequests() {
        XCTAssertNil(MemoryLimit.product([9_223_372_036_854_775_800, 8]))
        XCTAssertNil(MemoryLimit.product([-1, 8]))
        XCTAssertEqual(MemoryLimit.product([240, 320, 4]), 307_200)
        XCTAssertThrowsError(try MemoryLimit.check(bytes: nil, what: "--size X", fix: "smaller")) { XCTAssertTrue("\($0)".contains("integer overflow"), "\($0)") }
        XCTAssertThrowsError(try MemoryLimit.check(bytes: MemoryLimit.physicalBytes + 1, what: "--size X", fix: "smaller")) {
            XCTAssertTrue("\($0)".hasPrefix("--size X needs at least"), "\($0)")
        }
        XCTAssertNoThrow(try MemoryLimit.check(bytes: 1 << 20, what: "x", fix: "y"))
    }

    func testIntsOfDamagedFloatsDoNotTrap() {
        let t = StoredTensor.f32(shape: [4], values: [.nan, .infinity, -1e30, 7.9])
        XCTAssertEqual(t.ints, [0, Int64.max, Int64.min, 7])
    }
}
