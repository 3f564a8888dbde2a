import Training

// The workbench's side of comparing two models (HPatchesComparisonSource): the pin keys and the compare view.

extension Workbench {
    /// b: pin the live weights as the browser's baseline B (again: re-pin).
    func pinBaseline() {
        guard let c = hpatches as? HPatchesComparisonSource, c.canPin else {
            state.message = hpatches == nil ? "no HPatches data attached (start with --hpatches DIR)" : "nothing to pin here"
            return
        }
        state.message = c.pin()
    }

    /// B: drop the baseline.
    func clearBaseline() {
        guard let c = hpatches as? HPatchesComparisonSource else { state.message = "nothing pinned"; return }
        state.message = c.clearPin()
        baselinePairCache = nil
    }

    /// The browser when A and B are compared: the list of both and the pair of both, stacked.
    func drawComparison(_ c: HPatchesComparisonSource, into grid: inout CellGrid, rect: Rect) {
        let list = HPatchesBrowserOrdering.arrange(c.comparedSequences(), filter: state.hpatchesFilter, sort: state.hpatchesSort,
                                                   reversed: state.hpatchesReversed)
        resolveSelection(names: list.map(\.name))
        let b = c.baseline
        var pairA: HPatchesBrowserPair? = nil, pairB: HPatchesBrowserPair? = nil
        if !list.isEmpty {
            let seq = list[state.hpatchesSelected]
            state.hpatchesPair = max(0, min(state.hpatchesPair, max(0, seq.pairCount - 1)))
            let key = "\(seq.name)#\(state.hpatchesPair)"
            // pairCache holds A's pair (the picture key saves it), baselinePairCache B's.
            let v = c.version
            if let p = pairCache, p.key == key, p.version == v { pairA = p.result }
            else { pairA = c.primary.pair(sequence: seq.name, index: state.hpatchesPair); pairCache = (key, v, pairA) }
            if let b {
                let bKey = key + "@" + b.label
                if let p = baselinePairCache, p.key == bKey, p.version == v { pairB = p.result }
                else { pairB = b.source.pair(sequence: seq.name, index: state.hpatchesPair); baselinePairCache = (bKey, v, pairB) }
            }
        }
        let content = HPatchesCompareView.Content(list: list, pairA: pairA, pairB: pairB, labelA: c.primaryLabel, labelB: b?.label ?? "-",
                                                  statusA: c.primary.status + (c.pinStatus.isEmpty ? "" : " · " + c.pinStatus),
                                                  statusB: b?.source.status ?? "", size: c.evaluationSize)
        HPatchesCompareView.draw(into: &grid, rect: rect, content: content, state: state, env: env)
    }
}
