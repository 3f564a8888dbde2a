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
}
