import Foundation
import NN
import TensorEngine

/// KeypointNet + IO-Net with the official loss (KeypointNetwithIOLoss).
public final class KP2DModel: Module {
    public let keypointNet: KeypointNet
    public let ioNet: InlierNet

    public init(config: KeypointNetConfig, rng: inout SeededRandom) {
        keypointNet = KeypointNet(config: config, rng: &rng)
        ioNet = InlierNet(rng: &rng)
    }

    /// Keys prefixed "keypoint_net." and "io_net." as in KeypointNetwithIOLoss.state_dict().
    public func stateEntries(prefix: String) -> [StateEntry] {
        keypointNet.stateEntries(prefix: prefix + "keypoint_net.") + ioNet.stateEntries(prefix: prefix + "io_net.")
    }

    /// The two official Adam parameter groups (KeypointNet, InlierNet).
    public func parameterGroups(lr: Float) -> [ParameterGroup] {
        [ParameterGroup(name: "KeypointNet", parameters: keypointNet.parameters(), lr: lr),
         ParameterGroup(name: "InlierNet", parameters: ioNet.parameters(), lr: lr)]
    }

    /// Forward both images (source = imageAug first, then target = image), compute every loss term and
    /// the weighted total, and backpropagate into the parameters' .grad (which are NOT zeroed here).
    /// image, imageAug: (B,3,H,W) in [0,1]; homography (B,3,3) maps normalised source -> target points.
    /// A non-finite total is flagged and nothing is backpropagated.
    /// `training` false gives a validation loss: the same forward (BatchNorm with batch statistics, as the
    /// loss needs the dense descriptor map of the training-mode network) but nothing is recorded or
    /// backpropagated and every BatchNorm buffer is restored afterwards.
    /// Dropout draws come from `keypointNet.dropoutRandom` (the trainer reseeds it per step); `rng` is
    /// not consumed. `graph` is reset at the start and at the end (its tape holds this step only).
    public func forwardBackward(image: Tensor, imageAug: Tensor, homography: Tensor, weights: LossWeights,
                                graph: Graph, training: Bool, rng: inout SeededRandom) -> StepResult {
        forwardBackwardDetailed(image: image, imageAug: imageAug, homography: homography, weights: weights,
                                graph: graph, training: training, rng: &rng).result
    }

    /// `forwardBackward` that also returns every intermediate of the loss (for the reference fixture).
    public func forwardBackwardDetailed(image: Tensor, imageAug: Tensor, homography: Tensor, weights: LossWeights,
                                        graph g: Graph, training: Bool, diagnostics wantDiagnostics: Bool = true,
                                        rng: inout SeededRandom) -> (result: StepResult, details: LossDetails) {
        let (b, c, h, w) = image.nchw
        precondition(imageAug.shape == image.shape, "forwardBackward: image \(image.shape) and image_aug \(imageAug.shape) differ")
        precondition(c == 3 && h % KP2DLoss.cell == 0 && w % KP2DLoss.cell == 0 && b >= 1,
                     "forwardBackward: images must be (B,3,H,W) with H, W multiples of 8, got \(image.shape)")
        homography.expectShape([b, 3, 3], "forwardBackward homography")

        g.reset()
        let recording = g.isRecording
        g.isRecording = training
        defer { g.isRecording = recording; g.reset() }
        // Validation: keep the running statistics as they were.
        let buffers = training ? [] : stateEntries().filter { if case .parameter = $0.kind { return false }; return true }
        let savedBuffers = buffers.map { $0.tensor.copy() }
        defer { for (e, saved) in zip(buffers, savedBuffers) { e.tensor.assign(saved) } }

        var timings = StepTimings()
        var clock = DispatchTime.now().uptimeNanoseconds
        func lap() -> Double {
            let now = DispatchTime.now().uptimeNanoseconds
            defer { clock = now }
            return Double(now - clock) / 1e9
        }

        // 1. Source (image_aug) first: the BatchNorm running statistics are updated in this order.
        let source = keypointNet(Variable(KeypointNet.normalize(imageAug)), g, training: true)
        let target = keypointNet(Variable(KeypointNet.normalize(image)), g, training: true)
        timings.networkForward = lap()

        let inputs = KP2DLoss.Inputs(source: source, target: target, homography: homography, imageHeight: h, imageWidth: w)
        let corr = KP2DLoss.correspondences(inputs, g)
        let loc = KP2DLoss.locationLoss(corr, g)
        let desc = KP2DLoss.descriptorLoss(inputs, corr, g)
        let usp = KP2DLoss.uspLoss(inputs, corr, g)
        let cons = KP2DLoss.scoreConsistencyLoss(inputs, corr, g)
        let io = KP2DLoss.ioLoss(inputs, corr, ioNet: ioNet, training: true, g)
        let total = KP2DLoss.total(loc: loc, desc: desc.term, usp: usp, consistency: cons, io: io.term, weights: weights, g)

        var terms = LossTerms()
        terms.loc = loc.scalar
        terms.desc = desc.term.scalar
        terms.usp = usp.scalar
        terms.consistency = cons.scalar
        terms.io = io.term.scalar
        terms.total = total?.value.scalar ?? 0
        terms.recall = desc.recall
        terms.ioInliers = io.inliers
        terms.flags = loc.flags + desc.term.flags + usp.flags + cons.flags + io.term.flags
        if total == nil { terms.flags.append("no loss term defined for this batch") }
        timings.loss = lap()

        if training {
            // Like PyTorch, every parameter takes part in the step (a skipped IO term gives zero gradients).
            for p in parameters() { _ = p.gradient() }
            if let t = total {
                if t.value.scalar.isFinite {
                    g.backward(t)
                } else {
                    terms.flags.append("non-finite total \(t.value.scalar): backward skipped")
                }
            }
        }
        timings.backward = lap()

        let diagnostics = wantDiagnostics ? pairDiagnostics(inputs, corr, io, g) : PairDiagnostics()
        timings.diagnostics = lap()

        let n = inputs.cells
        let details = LossDetails(
            sourceScore: source.score.value, sourceCoord: source.coord.value,
            targetScore: target.score.value, targetCoord: target.coord.value,
            sourceUVWarped: corr.warpedUV.value, borderMask: corr.borderMask,
            nearestDistance: corr.nearestDistance.value.reshaped([b, inputs.hc, inputs.wc]),
            nearestIndex: corr.nearestIndex, distValidMask: corr.distValidMask,
            borderValidCount: (0..<b).map { bi in (0..<n).filter { corr.borderMask[bi * n + $0] }.count },
            distValidCount: (0..<b).map { bi in (0..<n).filter { corr.distValidMask[bi * n + $0] }.count },
            descriptorNegativeIndex: desc.negatives, descriptorLossPerImage: desc.perImage,
            ioTopKMaskSource: io.topKMaskSource, ioTopKMaskTarget: io.topKMaskTarget,
            ioNearestIndex: io.nearestIndex, ioNearestDistance: io.nearestDistance,
            ioPrediction: io.prediction, ioLabel: io.label)
        return (StepResult(terms: terms, diagnostics: diagnostics, timings: timings), details)
    }

    /// Number of keypoints shown per image in the preview (the official visualisation's top_k2).
    public static let previewKeypoints = 300

    /// Batch element 0: the highest-score keypoints of both images, descriptor nearest-neighbour matches
    /// source -> target judged against the true warp (< 4 px), and the IO-Net confusion counts.
    func pairDiagnostics(_ x: KP2DLoss.Inputs, _ c: KP2DLoss.Correspondences, _ io: KP2DLoss.IOResult, _ g: Graph) -> PairDiagnostics {
        g.noGrad {
            var out = PairDiagnostics()
            let n = x.cells
            let k = Swift.min(KP2DModel.previewKeypoints, n)
            let ss = x.source.score.value.data, ts = x.target.score.value.data
            let sc = x.source.coord.value.data, tc = x.target.coord.value.data
            let wp = c.warpedUV.value.data
            let srcCells = TensorOps.topK(UnsafePointer(ss), count: n, k: k, largest: true)
            let tgtCells = TensorOps.topK(UnsafePointer(ts), count: n, k: k, largest: true)
            out.sourceKeypoints = srcCells.map { (x: sc[$0], y: sc[n + $0], score: ss[$0]) }
            out.targetKeypoints = tgtCells.map { (x: tc[$0], y: tc[n + $0], score: ts[$0]) }
            out.sourceKeypointsWarped = srcCells.map { (x: wp[$0], y: wp[n + $0]) }

            // Descriptors of image 0 at the chosen cells: (1,D,1,k), unit length.
            func descriptors(_ feat: Variable, _ uv: Variable, _ cells: [Int]) -> Variable {
                var idx = [Int]()
                for cell in cells { idx.append(cell * 2); idx.append(cell * 2 + 1) }
                let grid = g.reshape(g.gather(uv, flatIndices: idx), [1, 1, cells.count, 2])
                let first = g.slice(feat, axis: 0, range: 0..<1)
                return g.reshape(g.l2Normalize(g.gridSample(first, grid: grid)), [feat.shape[1], cells.count])
            }
            let ds = descriptors(x.source.feat, c.sourceUVNorm, srcCells)
            let dt = descriptors(x.target.feat, c.targetUVNorm, tgtCells)
            let nearest = g.min(g.descriptorDistance(ds, dt), axis: 1).indices
            for (i, j) in nearest.enumerated() {
                let dx = out.targetKeypoints[j].x - out.sourceKeypointsWarped[i].x
                let dy = out.targetKeypoints[j].y - out.sourceKeypointsWarped[i].y
                out.matches.append((source: i, target: j, correct: (dx * dx + dy * dy).squareRoot() < KP2DLoss.associationRadius))
            }

            let kIO = io.label.count / Swift.max(x.batch, 1)
            for i in 0..<kIO {
                let predicted = io.prediction[i] > 0, truth = io.label[i] > 0
                if predicted && truth { out.ioTruePositives += 1 }
                if predicted && !truth { out.ioFalsePositives += 1 }
                if !predicted && truth { out.ioFalseNegatives += 1 }
            }
            return out
        }
    }
}
