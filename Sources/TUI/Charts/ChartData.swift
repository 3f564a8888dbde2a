import KP2D
import Training

/// The five loss series of a run and their EMAs, extended incrementally as the history grows (a frame then
/// costs O(new steps) here instead of O(history)). Rebuilt when the history is not an extension of what was
/// seen (a new run, a trimmed history) or the smoothing changes.
public final class ChartData {
    public private(set) var steps: [Int] = []
    public private(set) var values: [ChartID: [Double]] = [:]
    public private(set) var ema: [ChartID: [Double]] = [:]
    private var emaStates: [ChartID: Series.EMAState] = [:]
    private var smoothing = -1.0
    private var firstStep = Int.min, lastStep = Int.min

    public init() {}

    public func update(history: [StepRecord], smoothing s: Double) {
        let n = history.count
        let isExtension = s == smoothing && steps.count <= n && (steps.isEmpty ||
            (history[0].step == firstStep && history[steps.count - 1].step == lastStep))
        if !isExtension {
            steps = []; smoothing = s
            for id in ChartID.allCases { values[id] = []; ema[id] = []; emaStates[id] = Series.EMAState(smoothing: s) }
        }
        guard steps.count < n else { return }
        let from = steps.count
        steps.reserveCapacity(n)
        for i in from..<n { steps.append(history[i].step) }
        for id in ChartID.allCases {
            var v = values[id] ?? [], e = ema[id] ?? [], st = emaStates[id] ?? Series.EMAState(smoothing: s)
            values[id] = nil; ema[id] = nil   // keep the arrays uniquely referenced while appending
            v.reserveCapacity(n); e.reserveCapacity(n)
            for i in from..<n {
                let x = id.value(history[i])
                v.append(x)
                e.append(st.push(x))
            }
            values[id] = v; ema[id] = e; emaStates[id] = st
        }
        firstStep = history[0].step
        lastStep = history[n - 1].step
    }

    /// The run overlaid on every chart (`--compare-run`): its name, its smoothed series and its change markers.
    public private(set) var comparison: (name: String, overlays: [ChartID: ChartOverlay])?
    private var comparisonKey: (name: String, steps: Int, smoothing: Double)?

    /// Compute (once per run and smoothing) the overlaid run's smoothed series, or drop them.
    public func updateComparison(_ run: RecordedRun?, smoothing s: Double) {
        guard let run else { comparison = nil; comparisonKey = nil; return }
        if let k = comparisonKey, k.name == run.name, k.steps == run.history.count, k.smoothing == s { return }
        let steps = run.history.map(\.step)
        let changeSteps = run.changes.map(\.step)
        var overlays: [ChartID: ChartOverlay] = [:]
        for id in ChartID.allCases {
            overlays[id] = ChartOverlay(steps: steps, values: Series.ema(run.history.map { id.value($0) }, smoothing: s),
                                        changeSteps: changeSteps)
        }
        comparison = (run.name, overlays)
        comparisonKey = (run.name, run.history.count, s)
    }
}

extension ChartID {
    /// The chart's value of a set of loss terms (a probe record's), as `value(_: StepRecord)` takes it from a step.
    public func value(terms t: LossTerms) -> Double {
        switch self {
        case .total: return Double(t.total)
        case .loc: return Double(t.loc)
        case .desc: return Double(t.desc)
        case .score: return Double(t.usp + 2 * t.consistency)
        case .io: return Double(t.io)
        }
    }
}
