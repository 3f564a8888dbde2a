import Foundation
import TensorEngine
import XCTest

// Where the reference fixtures (official PyTorch values) are for the tests: $KP2D_FIXTURES, else
// ../shared/fixtures beside the checkout. A test that needs one calls `requireFixture` and is skipped,
// saying how to provide them, when they are absent.

/// The path of fixture `name` (without .safetensors), or nil.
public func fixturePath(_ name: String, anchor: String = #filePath) -> String? {
    var folders: [String] = []
    if let env = ProcessInfo.processInfo.environment["KP2D_FIXTURES"] { folders.append(env) }
    var url = URL(fileURLWithPath: anchor)
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            folders.append(url.appendingPathComponent("../shared/fixtures").standardized.path)
            break
        }
    }
    return folders.map { ($0 as NSString).appendingPathComponent(name + ".safetensors") }
        .first { FileManager.default.fileExists(atPath: $0) }
}

/// The path of fixture `name`, or XCTSkip naming what is missing.
public func requireFixture(_ name: String, anchor: String = #filePath) throws -> String {
    guard let path = fixturePath(name, anchor: anchor) else {
        throw XCTSkip("fixtures not found: \(name).safetensors is neither in $KP2D_FIXTURES nor in ../shared/fixtures")
    }
    return path
}

/// `checkGradients` on fresh variables made from `inputs`: d sum(f(inputs) * r) against central differences.
public func checkGradients(of inputs: [Tensor], h: Float = 1e-2, tolerance: Double = 2e-3,
                           file: StaticString = #filePath, line: UInt = #line, _ f: (Graph, [Variable]) -> Variable) {
    let vars = inputs.map { Variable($0.copy(), requiresGrad: true) }
    checkGradients(vars, h: h, tolerance: tolerance, file: file, line: line) { g in f(g, vars) }
}
