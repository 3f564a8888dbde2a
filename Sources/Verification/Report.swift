import Foundation
import TensorEngine

/// The outcome of comparing one tensor with its expected value.
public struct CheckResult: Sendable {
    public var name: String
    public var count: Int
    public var maxAbsError: Double
    public var maxRelError: Double
    public var passed: Bool
    /// How it passed or why it failed, e.g. "via rel-L2 fallback 3.1e-3 <= 2e-2".
    public var note: String
}

/// Collects the checks of one fixture run.
public final class FixtureReport {
    public let fixture: Fixture
    public private(set) var results: [CheckResult] = []
    /// Errors that stopped the run (thrown by a handler), reported as failures.
    public var errors: [String] = []

    public init(fixture: Fixture) { self.fixture = fixture }

    public var passed: Bool { errors.isEmpty && !results.isEmpty && results.allSatisfy { $0.passed } }

    public func add(_ r: CheckResult) { results.append(r) }

    /// Compare float values with the expected tensor `name` under the fixture's rule for it.
    @discardableResult
    public func check(_ name: String, _ actual: [Float]) -> CheckResult {
        let r = Comparison.compare(name: name, actual: actual, fixture: fixture)
        results.append(r)
        return r
    }

    @discardableResult
    public func check(_ name: String, _ actual: Tensor) -> CheckResult { check(name, actual.array) }

    /// Integer tensors (masks, indices, counts) must match exactly.
    @discardableResult
    public func checkExact(_ name: String, _ actual: [Int64]) -> CheckResult {
        guard let e = fixture.file.tensors[name] else {
            let r = CheckResult(name: name, count: 0, maxAbsError: .nan, maxRelError: .nan, passed: false, note: "expected tensor missing from the fixture")
            results.append(r); return r
        }
        let exp = e.ints
        var mismatches = 0
        var maxAbs: Double = 0
        if exp.count == actual.count {
            for (a, b) in zip(actual, exp) where a != b {
                mismatches += 1
                maxAbs = max(maxAbs, Double(abs(a - b)))
            }
        }
        let ok = exp.count == actual.count && mismatches == 0
        let note = exp.count != actual.count ? "count \(actual.count) vs expected \(exp.count)"
            : (ok ? "exact" : "\(mismatches) of \(exp.count) differ")
        let r = CheckResult(name: name, count: exp.count, maxAbsError: maxAbs, maxRelError: 0, passed: ok, note: note)
        results.append(r)
        return r
    }

    /// Record a failure that is not a tensor comparison.
    public func fail(_ name: String, _ note: String) {
        results.append(CheckResult(name: name, count: 0, maxAbsError: .nan, maxRelError: .nan, passed: false, note: note))
    }
}

public enum Comparison {
    /// Section 1.4: elementwise |x-e| <= abs + rel|e|; gradients may pass by relative L2 <= max_rel_l2.
    public static func compare(name: String, actual: [Float], fixture: Fixture) -> CheckResult {
        guard let e = fixture.file.tensors[name] else {
            return CheckResult(name: name, count: 0, maxAbsError: .nan, maxRelError: .nan, passed: false, note: "expected tensor missing from the fixture")
        }
        return compare(name: name, actual: actual, expected: e.floats, rule: fixture.rule(for: name))
    }

    public static func compare(name: String, actual: [Float], expected: [Float], rule: ToleranceRule) -> CheckResult {
        guard actual.count == expected.count else {
            return CheckResult(name: name, count: expected.count, maxAbsError: .nan, maxRelError: .nan, passed: false,
                               note: "count \(actual.count) vs expected \(expected.count)")
        }
        var maxAbs = 0.0, maxRel = 0.0, worstExcess = 0.0
        var elementwiseOK = true
        var diffSq = 0.0, refSq = 0.0
        var nonFinite = 0, matchedNonFinite = 0
        for i in 0..<expected.count {
            let a = Double(actual[i]), x = Double(expected[i])
            // NaN/Inf: equal only where the fixture expects exactly that (NaN where it says NaN, the same
            // infinity); a NaN on one side only is a failure, never a silent `d > bound == false`.
            if !a.isFinite || !x.isFinite {
                if (a.isNaN && x.isNaN) || (a.isInfinite && a == x) { matchedNonFinite += 1 } else { nonFinite += 1; elementwiseOK = false }
                continue
            }
            let d = Swift.abs(a - x)
            maxAbs = max(maxAbs, d)
            if x != 0 { maxRel = max(maxRel, d / Swift.abs(x)) }
            let bound = rule.abs + rule.rel * Swift.abs(x)
            if d > bound { elementwiseOK = false; worstExcess = max(worstExcess, d - bound) }
            diffSq += d * d
            refSq += x * x
        }
        if nonFinite > 0 {
            return CheckResult(name: name, count: expected.count, maxAbsError: .nan, maxRelError: .nan, passed: false,
                               note: "\(nonFinite) NaN/Inf values where the other side differs")
        }
        if elementwiseOK {
            return CheckResult(name: name, count: expected.count, maxAbsError: maxAbs, maxRelError: maxRel, passed: true,
                               note: matchedNonFinite > 0 ? "\(matchedNonFinite) NaN/Inf as expected" : "")
        }
        let relL2 = refSq > 0 ? (diffSq / refSq).squareRoot() : (diffSq > 0 ? .infinity : 0)
        if let q = rule.maxRelL2, relL2 <= q {
            return CheckResult(name: name, count: expected.count, maxAbsError: maxAbs, maxRelError: maxRel, passed: true,
                               note: String(format: "via rel-L2 fallback %.2e <= %.0e", relL2, q))
        }
        return CheckResult(name: name, count: expected.count, maxAbsError: maxAbs, maxRelError: maxRel, passed: false,
                           note: String(format: "abs %.1e rel %.1e exceeded; rel-L2 %.2e", rule.abs, rule.rel, relL2))
    }
}
