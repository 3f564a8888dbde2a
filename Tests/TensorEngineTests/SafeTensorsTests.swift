import Foundation
import XCTest
import TensorEngine

/// The safetensors reader/writer (IO/SafeTensors.swift): round trips and every corrupt-file error case.
final class SafeTensorsTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "kp2d-st-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    let sample: [(String, StoredTensor)] = [
        ("w", .f32(shape: [2, 3], values: [1, -2.5, 3e-8, .infinity, -0.0, 1e30])),
        ("loss", .f32(shape: [], values: [0.125])),
        ("idx", .i64(shape: [4], values: [0, -1, Int64.max, Int64.min])),
        ("num_batches_tracked", .i64(shape: [], values: [7])),
    ]

    func testRoundTripF32I64ScalarsAndMetadata() throws {
        let path = dir + "/a.safetensors"
        let meta = ["kp2d_fixture": #"{"kind": "x", "version": 1}"#, "format": "pt"]
        try SafeTensors.write(sample, metadata: meta, to: path)
        let f = try SafeTensors.read(path)
        XCTAssertEqual(f.metadata, meta)
        XCTAssertEqual(f.names, sample.map { $0.0 })   // file (offset) order
        for (name, t) in sample { XCTAssertEqual(f[name], t, name) }
        XCTAssertEqual(f["loss"]?.shape, [])
        XCTAssertEqual(f["num_batches_tracked"]?.isInteger, true)
        // NaN survives bit for bit (Equatable would say NaN != NaN, so compare the pattern).
        try SafeTensors.write([("n", .f32(shape: [1], values: [.nan]))], to: path)
        guard case let .f32(_, v)? = try SafeTensors.read(path)["n"] else { return XCTFail("n missing") }
        XCTAssertTrue(v[0].isNaN)
    }

    func testHeaderLayoutIsStandard() throws {
        let data = try SafeTensors.serialize(sample)
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.1) << (8 * UInt64($1.0)) }
        XCTAssertEqual((8 + Int(n)) % 8, 0, "data section is 8-byte aligned")
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + Int(n)))) as? [String: Any]
        let w = header?["w"] as? [String: Any]
        XCTAssertEqual(w?["dtype"] as? String, "F32")
        XCTAssertEqual((w?["data_offsets"] as? [Any])?.compactMap { ($0 as? NSNumber)?.intValue }, [0, 24])
        XCTAssertNil(header?["__metadata__"], "no metadata entry when there is none")
        XCTAssertEqual(data.count, 8 + Int(n) + 24 + 4 + 32 + 8)
    }

    func testParseOfADataSliceWorks() throws {
        var padded = Data([1, 2, 3])
        padded.append(try SafeTensors.serialize(sample))
        let slice = padded[3...]
        XCTAssertEqual(try SafeTensors.parse(slice)["w"], sample[0].1)
    }

    func testTensorConversion() {
        let t = Tensor(shape: [2, 2], values: [1, 2, 3, 4])
        XCTAssertEqual(StoredTensor(t), .f32(shape: [2, 2], values: [1, 2, 3, 4]))
        XCTAssertEqual(StoredTensor.i64(shape: [2], values: [3, -4]).tensor().array, [3, -4])
        XCTAssertEqual(StoredTensor.f32(shape: [2], values: [3.9, -4.2]).ints, [3, -4])
    }

    // MARK: corrupt files, each with its exact error

    /// A file from a header string and a data section.
    func raw(_ header: String, data: [UInt8], headerLength: UInt64? = nil) -> Data {
        let h = Data(header.utf8)
        var n = (headerLength ?? UInt64(h.count)).littleEndian
        var d = Data(bytes: &n, count: 8)
        d.append(h)
        d.append(contentsOf: data)
        return d
    }

    func expectCorrupt(_ data: Data, _ reasonContains: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensors.parse(data, path: "bad.safetensors"), file: file, line: line) { error in
            guard case let SafeTensorsError.corrupt(path, reason)? = error as? SafeTensorsError else {
                return XCTFail("expected .corrupt, got \(error)", file: file, line: line)
            }
            XCTAssertEqual(path, "bad.safetensors", file: file, line: line)
            XCTAssertTrue(reason.contains(reasonContains), "reason '\(reason)' lacks '\(reasonContains)'", file: file, line: line)
            XCTAssertTrue("\(error)".hasPrefix("bad.safetensors: not a valid safetensors file"), file: file, line: line)
        }
    }

    func testTruncatedFiles() throws {
        expectCorrupt(Data([1, 2, 3]), "shorter than the 8-byte header length")
        let good = try SafeTensors.serialize(sample)
        // Cut inside the header, then inside the data.
        expectCorrupt(good.prefix(20), "runs past the end of the file")
        expectCorrupt(good.prefix(good.count - 3), "lies outside")
    }

    func testHeaderLengthPastEnd() {
        expectCorrupt(raw("{}", data: [], headerLength: 1 << 40), "header length 1099511627776 runs past the end")
        expectCorrupt(raw("{}", data: [], headerLength: UInt64.max), "runs past the end")
    }

    func testBadJSON() {
        expectCorrupt(raw(#"{"w": {"dtype": "F32""#, data: []), "header is not a JSON object")
        expectCorrupt(raw("[1, 2]", data: []), "header is not a JSON object")
        expectCorrupt(raw(#"{"w": {"dtype": "F32", "shape": [1]}}"#, data: [0, 0, 0, 0]), "lacks dtype, shape or data_offsets")
        expectCorrupt(raw(#"{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0]), "bad shape")
        expectCorrupt(raw(#"{"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0]), "bad shape")
        expectCorrupt(raw(#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, "4"]}}"#, data: [0, 0, 0, 0]), "bad data_offsets")
        expectCorrupt(raw(#"{"__metadata__": [1]}"#, data: []), "__metadata__ is not an object")
        expectCorrupt(raw(#"{"__metadata__": {"a": 1}}"#, data: []), "__metadata__ value for 'a' is not a string")
    }

    func testOffsetsOutOfRange() {
        expectCorrupt(raw(#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#, data: [0, 0, 0, 0]), "lies outside the 4-byte data section")
        expectCorrupt(raw(#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}"#, data: [0, 0, 0, 0]), "lies outside")
    }

    func testWrongByteCount() {
        expectCorrupt(raw(#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0]),
                      "tensor 'w' has 4 bytes, shape [2] of F32 needs 8")
        expectCorrupt(raw(#"{"i": {"dtype": "I64", "shape": [1], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0]), "needs 8")
        // A shape whose element count overflows is corruption, not a crash.
        expectCorrupt(raw(#"{"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 16], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0]),
                      "larger than the 4-byte data section")
    }

    func testUnsupportedDType() {
        let d = raw(#"{"h": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0])
        XCTAssertThrowsError(try SafeTensors.parse(d, path: "half.safetensors")) { error in
            XCTAssertEqual(error as? SafeTensorsError, .unsupportedDType(path: "half.safetensors", name: "h", dtype: "F16"))
            XCTAssertTrue("\(error)".contains("only F32 and I64 are supported"))
        }
    }

    func testMissingTensorAndUnreadableFile() throws {
        let f = try SafeTensors.parse(try SafeTensors.serialize(sample), path: "m.safetensors")
        XCTAssertThrowsError(try f.require("nope")) { error in
            XCTAssertEqual(error as? SafeTensorsError, .missingTensor(path: "m.safetensors", name: "nope"))
        }
        XCTAssertEqual(try f.require("w"), sample[0].1)
        let missing = dir + "/does-not-exist.safetensors"
        XCTAssertThrowsError(try SafeTensors.read(missing)) { error in
            guard case let .unreadable(path, _)? = error as? SafeTensorsError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, missing)
        }
    }

    func testSerializeRejectsValueCountMismatch() {
        XCTAssertThrowsError(try SafeTensors.serialize([("w", .f32(shape: [3], values: [1, 2]))])) { error in
            guard case .corrupt? = error as? SafeTensorsError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("'w' has 2 values for shape [3]"))
        }
    }

    func testAtomicWriteReplacesAndLeavesNoTemporary() throws {
        let path = dir + "/c.safetensors"
        try SafeTensors.write(sample, to: path)
        try SafeTensors.write([("only", .f32(shape: [1], values: [9]))], to: path)
        XCTAssertEqual(try SafeTensors.read(path).names, ["only"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["c.safetensors"])
    }
}
