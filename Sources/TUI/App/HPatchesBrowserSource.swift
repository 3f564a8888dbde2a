import Datasets
import Evaluation
import KP2D
import Training

// What the HPatches browser needs: EvaluatorHPatchesSource implements it with the real evaluator; the demo and
// the tests use DemoHPatches (Bench module).

/// Metrics of one pair, or means over a sequence's pairs. NaN where not (yet) known.
public struct HPatchesBrowserMetrics: Sendable, Equatable {
    public var repeatability: Double = .nan
    public var localizationError: Double = .nan
    /// Mean corner error of the estimated homography (pixels).
    public var cornerError: Double = .nan
    /// Homography correctness at 1, 3 and 5 pixels (fraction 0...1).
    public var c1: Double = .nan, c3: Double = .nan, c5: Double = .nan
    public var matchingScore: Double = .nan
    public init() {}
    public init(repeatability: Double, localizationError: Double, cornerError: Double, c1: Double, c3: Double, c5: Double,
                matchingScore: Double) {
        self.repeatability = repeatability; self.localizationError = localizationError; self.cornerError = cornerError
        self.c1 = c1; self.c3 = c3; self.c5 = c5; self.matchingScore = matchingScore
    }
}

public struct HPatchesBrowserSequence: Sendable, Equatable {
    /// e.g. "i_ajuntament", "v_boat".
    public var name: String
    /// Means over the evaluated pairs.
    public var metrics: HPatchesBrowserMetrics
    /// Number of pairs (normally 5: image 1 against images 2...6).
    public var pairCount: Int
    public init(name: String, metrics: HPatchesBrowserMetrics, pairCount: Int = 5) {
        self.name = name; self.metrics = metrics; self.pairCount = pairCount
    }
    public var isIllumination: Bool { name.hasPrefix("i_") }
    public var isViewpoint: Bool { name.hasPrefix("v_") }
}

/// One evaluated pair: image 1 of the sequence (source) against image `pairIndex + 2` (target).
public struct HPatchesBrowserPair: Sendable {
    public var sequence: String
    /// 0...4 (target image 2...6).
    public var pairIndex: Int
    public var pair: JudgedPair
    public var metrics: HPatchesBrowserMetrics
    public init(sequence: String, pairIndex: Int, pair: JudgedPair, metrics: HPatchesBrowserMetrics) {
        self.sequence = sequence; self.pairIndex = pairIndex; self.pair = pair; self.metrics = metrics
    }
}

/// Called from the UI thread only; implementations do heavy work elsewhere and return what they have.
public protocol HPatchesBrowserSource: AnyObject {
    /// Increases whenever sequences or pair results change (the browser refetches then).
    var version: Int { get }
    /// One line for the browser's title: "evaluated 116 sequences with step 12000", "evaluating 40/116", an error.
    var status: String { get }
    /// Every sequence with its mean metrics (NaN before evaluation).
    func sequences() -> [HPatchesBrowserSequence]
    /// The pair's images, keypoints, matches and metrics, or nil if not available (yet).
    func pair(sequence: String, index: Int) -> HPatchesBrowserPair?
    /// Start (re-)evaluating with the current model; returns at once.
    func requestEvaluation()
    /// The evaluation size in use (default: nil, not shown).
    var evaluationSize: String? { get }
    /// Switch to the next evaluation size (default: there is one).
    func nextEvaluationSize() -> String
    /// Stop evaluating for good and wait (at most `timeout` s) until no evaluation runs (the workbench quits).
    func cancelEvaluation(timeout: Double)
    /// Whether an evaluation is running or queued (default: false).
    var isEvaluating: Bool { get }
}

extension HPatchesBrowserSource {
    /// The evaluation size in use, e.g. "240x320" (HxW, with a note such as "official"), for the browser's
    /// title; nil if the source does not say.
    public var evaluationSize: String? { nil }
    /// Switch to the next evaluation size (results at the old size are dropped); returns a line for the
    /// status bar. Sources with one size say so.
    public func nextEvaluationSize() -> String { "this browser evaluates at one size only" }
    public func cancelEvaluation(timeout: Double) {}
    public var isEvaluating: Bool { false }
}

/// Columns of the sequence list, each sortable (worst first).
public enum HPatchesBrowserSortKey: String, CaseIterable, Sendable {
    case name, repeatability, localizationError, cornerError, c1, c3, c5, matchingScore

    public var label: String {
        switch self {
        case .name: return "name"
        case .repeatability: return "Rep"
        case .localizationError: return "LocErr"
        case .cornerError: return "CornE"
        case .c1: return "C1"
        case .c3: return "C3"
        case .c5: return "C5"
        case .matchingScore: return "MScore"
        }
    }

    /// Errors are worse when higher; the other metrics when lower.
    public var higherIsWorse: Bool { self == .localizationError || self == .cornerError }

    public func value(_ m: HPatchesBrowserMetrics) -> Double {
        switch self {
        case .name: return .nan
        case .repeatability: return m.repeatability
        case .localizationError: return m.localizationError
        case .cornerError: return m.cornerError
        case .c1: return m.c1
        case .c3: return m.c3
        case .c5: return m.c5
        case .matchingScore: return m.matchingScore
        }
    }
}

public enum HPatchesBrowserFilter: String, CaseIterable, Sendable {
    case all, illumination, viewpoint
    public var label: String { self == .all ? "all" : (self == .illumination ? "i_ only" : "v_ only") }
    public func accepts(_ s: HPatchesBrowserSequence) -> Bool {
        switch self {
        case .all: return true
        case .illumination: return s.isIllumination
        case .viewpoint: return s.isViewpoint
        }
    }
}

public enum HPatchesBrowserOrdering {
    /// Filter and sort: worst first (NaN last), ties by name; `reversed` flips to best first.
    public static func arrange(_ list: [HPatchesBrowserSequence], filter: HPatchesBrowserFilter, sort: HPatchesBrowserSortKey,
                               reversed: Bool) -> [HPatchesBrowserSequence] {
        let kept = list.filter(filter.accepts)
        if sort == .name {
            let s = kept.sorted { $0.name < $1.name }
            return reversed ? s.reversed() : s
        }
        return kept.sorted { a, b in
            let va = sort.value(a.metrics), vb = sort.value(b.metrics)
            if va.isNaN != vb.isNaN { return !va.isNaN }
            if va.isNaN || va == vb { return a.name < b.name }
            let worseFirst = sort.higherIsWorse ? va > vb : va < vb
            return reversed ? !worseFirst : worseFirst
        }
    }
}

// Conversions from the evaluator's results (module Training), for implementations of HPatchesBrowserSource.
extension HPatchesBrowserMetrics {
    /// The metrics of one evaluated pair (NaN where the evaluator had none).
    public init(_ r: HPatchesPairRecord) {
        self.init(repeatability: r.repeatability, localizationError: r.localizationError ?? .nan,
                  cornerError: r.cornerError ?? .nan, c1: r.c1, c3: r.c3, c5: r.c5, matchingScore: r.matchingScore)
    }

    /// Means over a sequence's pairs: the summary's values, and the mean corner error of the pairs that have one.
    public init(_ s: HPatchesSummary, pairs: [HPatchesPairRecord] = []) {
        let corners = pairs.compactMap(\.cornerError)
        self.init(repeatability: s.repeatability, localizationError: s.localizationError,
                  cornerError: corners.isEmpty ? .nan : corners.reduce(0, +) / Double(corners.count),
                  c1: s.c1, c3: s.c3, c5: s.c5, matchingScore: s.matchingScore)
    }
}
