import Foundation
import XCTest
@testable import Datasets

/// Issue 13 item 10: a JPEG header claiming a huge size is refused before anything is decompressed.
final class JPEGLimitTests: XCTestCase {
    func testHugeHeaderIsRefused() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for progressive in [false, true] {
            try ImageIO.saveJPEG(pattern(width: 16, height: 16, channels: 3), to: dir + "/a.jpg")
            var b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/a.jpg")))
            let sof = try XCTUnwrap((0..<(b.count - 9)).first { b[$0] == 0xFF && b[$0 + 1] == 0xC0 })
            if progressive { b[sof + 1] = 0xC2 }   // the SOF2 marker (the size check comes before any scan)
            let side: UInt16 = progressive ? 30000 : 65500
            b[sof + 5] = UInt8(side >> 8); b[sof + 6] = UInt8(side & 0xFF); b[sof + 7] = UInt8(side >> 8); b[sof + 8] = UInt8(side & 0xFF)
            write(b, dir + "/huge.jpg")
            XCTAssertThrowsError(try ImageIO.load(dir + "/huge.jpg")) { e in
                XCTAssertTrue("\(e)".contains("huge.jpg: invalid JPEG: image too large: the header says \(side)x\(side) pixels"), "\(e)")
            }
        }
    }
}
