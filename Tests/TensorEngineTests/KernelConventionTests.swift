import Foundation
import TestSupport
import XCTest
@testable import TensorEngine

/// The kernel convention (issue 12): every inner loop lives under a Kernels/ folder, Ops/ files only
/// shape, allocate, record and call kernels; a kernel takes its outputs first (a backward: the gradients
/// it adds into). Also the naive twin of pixelShuffle against the fast kernel.
final class KernelConventionTests: XCTestCase {
    /// Kernel files the `perf` work owns and converts to the convention itself (see Package.swift notes).
    static let exempt: Set<String> = ["ConvKernels.swift", "MatmulKernels.swift", "KernelSupport.swift", "WinogradKernels.swift"]

    static var sources: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources")
    }

    /// (path, code lines without // comments) of every .swift file in a folder named `folder` under Sources/.
    static func files(in folder: String) throws -> [(String, [String])] {
        let fm = FileManager.default
        var out: [(String, [String])] = []
        for module in try fm.contentsOfDirectory(atPath: sources.path).sorted() {
            let dir = sources.appendingPathComponent(module).appendingPathComponent(folder)
            guard let names = try? fm.contentsOfDirectory(atPath: dir.path) else { continue }
            for name in names.sorted() where name.hasSuffix(".swift") {
                let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
                let code = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
                    let s = String(line)
                    return s.range(of: "//").map { String(s[..<$0.lowerBound]) } ?? s
                }
                out.append(("\(module)/\(folder)/\(name)", code))
            }
        }
        return out
    }

    func testOpsFilesDoNotLoopOverElements() throws {
        let ops = try Self.files(in: "Ops")
        XCTAssertGreaterThan(ops.count, 10, "no Ops/ files found under \(Self.sources.path)")
        // An element loop: `for ... in ...<...` or `while`; loops over an op's inputs (`for x in xs`) are fine.
        let loop = try NSRegularExpression(pattern: #"(\bfor\b.*\bin\b.*\.\.[<.])|(\bwhile\b)"#)
        for (path, lines) in ops {
            for (i, line) in lines.enumerated()
            where loop.firstMatch(in: line, range: NSRange(location: 0, length: (line as NSString).length)) != nil {
                XCTFail("\(path):\(i + 1) loops inline (move the loop into a Kernels/ file): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
    }

    func testKernelsTakeOutputsFirst() throws {
        let kernels = try Self.files(in: "Kernels")
        XCTAssertGreaterThan(kernels.count, 10, "no Kernels/ files found under \(Self.sources.path)")
        let declaration = try NSRegularExpression(pattern: #"func (\w*(Forward|Backward)\w*)\(_ (\w+): ([\w<>]+)"#)
        var checked = 0
        for (path, lines) in kernels where !Self.exempt.contains(String(path.split(separator: "/").last!)) {
            for (i, line) in lines.enumerated() {
                let ns = line as NSString
                guard let m = declaration.firstMatch(in: line, range: NSRange(location: 0, length: ns.length)) else { continue }
                let name = ns.substring(with: m.range(at: 1)), first = ns.substring(with: m.range(at: 3))
                let type = ns.substring(with: m.range(at: 4))
                checked += 1
                XCTAssertTrue(type.hasPrefix("UnsafeMutablePointer"),
                              "\(path):\(i + 1) \(name) takes \(first): \(type) first; outputs (gradients) come first")
                if name.contains("Backward") {
                    XCTAssertNotEqual(first, "dy", "\(path):\(i + 1) \(name) takes dy first; the gradients it adds into come first")
                }
            }
        }
        XCTAssertGreaterThan(checked, 40)
    }

    func testPixelShuffleMatchesNaiveTwin() {
        var rnd = TestRandom(61)
        // r = 2 takes the specialised path, threaded at this size; r = 3 the general one.
        for (n, c, h, w, r) in [(2, 8, 24, 40, 2), (1, 3, 5, 7, 2), (2, 2, 4, 6, 3)] {
            let x = rnd.tensor([n, c * r * r, h, w])
            let y = Tensor(shape: [n, c, h * r, w * r]), yn = Tensor(shape: [n, c, h * r, w * r])
            LayoutKernels.pixelShuffleForward(y.data, x.data, n: n, c: c, h: h, w: w, r: r)
            LayoutKernels.pixelShuffleForwardNaive(yn.data, x.data, n: n, c: c, h: h, w: w, r: r)
            XCTAssertEqual(y.array, yn.array, "pixelShuffle r=\(r) \(x.shape)")
        }
    }
}
