import Foundation
import TestSupport
import XCTest
@testable import TensorEngine

/// The kernel convention (issue 12): every inner loop lives under a Kernels/ folder, Ops/ files only
/// shape, allocate, record and call kernels; a kernel takes its outputs first (a backward: the gradients
/// it adds into). Also the naive twin of pixelShuffle against the fast kernel.
final class KernelConventionTests: XCTestCase {
    /// Kernel files not (yet) held to the convention: none. Add a file here only with the reason beside it.
    static let exempt: Set<String> = []

    /// Parameter names that are a kernel's read-only inputs wherever they appear (an input x, weights w,
    /// an incoming gradient dy, matmul operands a and b, BatchNorm's weight and bias, ...).
    static let inputNames: Set<String> = ["x", "xn", "w", "b", "a", "dy", "dyn", "input", "grid", "idx", "weight", "bias"]

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
        // xForward / xBackward pairs, ConvKernels' forward / backward (and Naive twins), gradient kernels.
        let declaration = try NSRegularExpression(pattern: #"func ((\w*(Forward|Backward|Gradient)|forward|backward)\w*)\(_ (\w+): ([\w<>]+)"#)
        var checked = 0
        for (path, lines) in kernels where !Self.exempt.contains(String(path.split(separator: "/").last!)) {
            for (i, line) in lines.enumerated() {
                let ns = line as NSString
                guard let m = declaration.firstMatch(in: line, range: NSRange(location: 0, length: ns.length)) else { continue }
                let name = ns.substring(with: m.range(at: 1)), first = ns.substring(with: m.range(at: 4))
                let type = ns.substring(with: m.range(at: 5))
                checked += 1
                XCTAssertTrue(type.hasPrefix("UnsafeMutablePointer"),
                              "\(path):\(i + 1) \(name) takes \(first): \(type) first; outputs (gradients) come first")
                if name.contains("Backward") || name.hasPrefix("backward") || name.contains("Gradient") {
                    XCTAssertNotEqual(first, "dy", "\(path):\(i + 1) \(name) takes dy first; the gradients it adds into come first")
                }
            }
        }
        XCTAssertGreaterThan(checked, 40)
    }

    /// One parameter of a declared function: its internal name and its type, as written.
    struct Parameter: Equatable { var name: String; var type: String }

    /// Every `func` declared in `code` (comment-free lines joined), with its parameters: the text between
    /// the `(` after the name and its matching `)`, split at top-level commas.
    static func functions(in code: String) -> [(name: String, parameters: [Parameter])] {
        let chars = Array(code)
        let head = try! NSRegularExpression(pattern: #"\bfunc (\w+)(<[^>(]*>)?\("#)
        var out: [(String, [Parameter])] = []
        for m in head.matches(in: code, range: NSRange(location: 0, length: (code as NSString).length)) {
            let name = (code as NSString).substring(with: m.range(at: 1))
            // NSRange offsets are UTF-16; the kernel sources are ASCII (checked below), so they index `chars`.
            var i = m.range.location + m.range.length, depth = 1, angle = 0
            var pieces: [String] = [], current = ""
            while i < chars.count && depth > 0 {
                let c = chars[i]
                if c == "(" || c == "[" { depth += 1 }
                if c == ")" || c == "]" { depth -= 1 }
                // Generic brackets (UnsafePointer<Float>), not `->` or `<<`.
                if c == "<", i + 1 < chars.count, chars[i + 1].isLetter { angle += 1 }
                if c == ">", angle > 0, chars[i - 1] != "-" { angle -= 1 }
                if depth == 0 { break }
                if c == ",", depth == 1, angle == 0 { pieces.append(current); current = "" } else { current.append(c) }
                i += 1
            }
            pieces.append(current)
            let parameters = pieces.compactMap { piece -> Parameter? in
                let text = piece.split(whereSeparator: \.isWhitespace).joined(separator: " ")
                guard let colon = text.firstIndex(of: ":") else { return nil }
                let names = text[..<colon].split(separator: " ")
                guard let parameterName = names.last else { return nil }
                var type = String(text[text.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
                if let eq = type.range(of: " = ") { type = String(type[..<eq.lowerBound]) }
                return Parameter(name: String(parameterName), type: type)
            }
            out.append((name, parameters))
        }
        return out
    }

    /// Every function in every Kernels/ file: pointer parameters the kernel writes (UnsafeMutablePointer)
    /// come before the ones it only reads (UnsafePointer), and inputs by name are never mutable.
    func testKernelsTakeReadOnlyInputsAfterOutputs() throws {
        let kernels = try Self.files(in: "Kernels")
        var checked = 0
        for (path, lines) in kernels where !Self.exempt.contains(String(path.split(separator: "/").last!)) {
            let code = lines.joined(separator: "\n")
            XCTAssertTrue(code.allSatisfy(\.isASCII), "\(path): non-ASCII code (outside comments) confuses the signature scan")
            for (name, parameters) in Self.functions(in: code) {
                let pointers = parameters.filter { $0.type.hasPrefix("Unsafe") }
                guard !pointers.isEmpty else { continue }
                checked += 1
                var firstReadOnly: Parameter?
                for p in pointers {
                    let mutable = p.type.hasPrefix("UnsafeMutable")
                    if mutable, let r = firstReadOnly {
                        XCTFail("\(path): \(name) takes the output \(p.name): \(p.type) after the read-only input \(r.name); outputs come first")
                    }
                    if !mutable, firstReadOnly == nil { firstReadOnly = p }
                    if mutable, Self.inputNames.contains(p.name) {
                        XCTFail("\(path): \(name) takes its input \(p.name) as \(p.type); read-only inputs are UnsafePointer")
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 100)
    }

    /// The scan itself, on declarations written the ways the kernels write them.
    func testSignatureScan() {
        let code = """
        static func sgemm(c: UnsafeMutablePointer<Float>, ldc: Int, transA: Bool,
                          a: UnsafePointer<Float>, beta: Float) {
        public static func forRanges(_ count: Int, minWork: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
        func bad(_ x: UnsafeMutablePointer<Float>?, _ y: UnsafeMutablePointer<Float>) -> Float {
        """
        let f = Self.functions(in: code)
        XCTAssertEqual(f.map(\.name), ["sgemm", "forRanges", "bad"])
        XCTAssertEqual(f[0].parameters, [Parameter(name: "c", type: "UnsafeMutablePointer<Float>"), Parameter(name: "ldc", type: "Int"),
                                         Parameter(name: "transA", type: "Bool"), Parameter(name: "a", type: "UnsafePointer<Float>"),
                                         Parameter(name: "beta", type: "Float")])
        XCTAssertEqual(f[1].parameters.map(\.type), ["Int", "Int", "(Range<Int>) -> Void"])
        XCTAssertEqual(f[2].parameters.map(\.name), ["x", "y"])
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
