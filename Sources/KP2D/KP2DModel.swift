import Foundation
import NN
import TensorEngine

/// KeypointNet + IO-Net with the official loss (KeypointNetwithIOLoss).
public final class KP2DModel: Module {
    public let keypointNet: KeypointNet
    public let ioNet: InlierNet
    /// Lowest-score cells per image that go to the IO-Net (official: 300; fewer with `--io-points`).
    public var ioPoints = KP2DLoss.ioPointCount

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

    /// Forward both images (source = imageAug first, then target = image) and compute every loss term and the
    /// weighted total. image, imageAug: (B,3,H,W) in [0,1]; homography (B,3,3) maps normalised source -> target
    /// points. The graph is reset first; the returned evaluation's variables live on it until the next reset.
    /// `training` true records the tape for `backward`. `training` false gives a validation loss: the same
    /// forward (BatchNorm with batch statistics, as the loss needs the dense descriptor map of the
    /// training-mode network) with nothing recorded, and every BatchNorm buffer restored afterwards.
    /// Dropout draws come from `keypointNet.dropoutRandom` (the trainer reseeds it per step).
    public func loss(image: Tensor, imageAug: Tensor, homography: Tensor, lossWeights: LossWeights,
                     graph g: Graph, training: Bool) -> KP2DLossEvaluation {
        loss(image: image, imageAug: imageAug, homography: homography, lossWeights: lossWeights, graph: g,
             mode: training ? .training : .batchStatistics)
    }

    /// How `loss` runs the networks.
    public enum LossMode: Sendable {
        /// Training: BatchNorm with batch statistics (running statistics updated), dropout, the tape recorded.
        case training
        /// `training: false`: the training-mode forward, nothing recorded, BatchNorm buffers restored.
        case batchStatistics
        /// Eval mode (PyTorch's `model.eval()` for the layers): BatchNorm with its running statistics, no dropout,
        /// nothing recorded, nothing changed; KeypointNet still returns its dense descriptor map, which the loss
        /// needs (the eval-mode head samples it at the keypoints instead). The fixed probe batch uses this.
        case eval
    }

    public func loss(image: Tensor, imageAug: Tensor, homography: Tensor, lossWeights: LossWeights,
                     graph g: Graph, mode: LossMode) -> KP2DLossEvaluation {
        let training = mode == .training
        let networkTraining = mode != .eval
        let (b, c, h, w) = image.nchw
        precondition(imageAug.shape == image.shape, "loss: image \(image.shape) and image_aug \(imageAug.shape) differ")
        precondition(c == 3 && h % KP2DLoss.cell == 0 && w % KP2DLoss.cell == 0 && b >= 1,
                     "loss: images must be (B,3,H,W) with H, W multiples of 8, got \(image.shape)")
        homography.expectShape([b, 3, 3], "loss homography")

        g.reset()
        let recording = g.isRecording
        g.isRecording = training
        defer { g.isRecording = recording }
        // Validation: keep the running statistics as they were.
        let buffers = mode != .batchStatistics ? [] : stateEntries().filter { if case .parameter = $0.kind { return false }; return true }
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
        let source = keypointNet(Variable(KeypointNet.normalize(imageAug)), g, training: networkTraining, denseDescriptors: true)
        let target = keypointNet(Variable(KeypointNet.normalize(image)), g, training: networkTraining, denseDescriptors: true)
        timings.networkForward = lap()

        let inputs = KP2DLoss.Inputs(source: source, target: target, homography: homography, imageHeight: h, imageWidth: w)
        let corr = KP2DLoss.correspondences(inputs, g)
        let loc = KP2DLoss.locationLoss(corr, g)
        let desc = KP2DLoss.descriptorLoss(inputs, corr, g)
        let usp = KP2DLoss.uspLoss(inputs, corr, g)
        let cons = KP2DLoss.scoreConsistencyLoss(inputs, corr, g)
        let io = KP2DLoss.ioLoss(inputs, corr, ioNet: ioNet, training: networkTraining, points: ioPoints, g)
        let total = KP2DLoss.total(loc: loc, desc: desc.term, usp: usp, consistency: cons, io: io.term, lossWeights: lossWeights, g)

        var terms = LossTerms()
        terms.loc = loc.scalar
        terms.locTop300 = KP2DLoss.locationOfTopScores(inputs, corr, k: 300)
        terms.locTop100 = KP2DLoss.locationOfTopScores(inputs, corr, k: 100)
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
        return KP2DLossEvaluation(inputs: inputs, correspondences: corr, descriptor: desc, io: io, total: total,
                                  terms: terms, timings: timings)
    }

    /// Backpropagate a training evaluation's total into the parameters' .grad (which are NOT zeroed here).
    /// Like PyTorch, every parameter takes part (a skipped IO term gives zero gradients). A non-finite total is
    /// flagged in `terms.flags` and nothing is backpropagated. The graph's tape is consumed as it goes
    /// (`Graph.backwardReleasingTape`: activations are freed once their ops have run); the evaluation's own
    /// values stay readable.
    public func backward(_ e: inout KP2DLossEvaluation, graph g: Graph) {
        let t0 = DispatchTime.now().uptimeNanoseconds
        for p in parameters() { _ = p.gradient() }
        if let t = e.total {
            if t.value.scalar.isFinite {
                g.backwardReleasingTape(t)
            } else {
                e.terms.flags.append("non-finite total \(t.value.scalar): backward skipped")
            }
        }
        e.timings.backward = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }

    /// `loss`, then (when training) `backward`, then the graph is reset: the terms and timings of one step.
    public func forwardBackward(image: Tensor, imageAug: Tensor, homography: Tensor, lossWeights: LossWeights,
                                graph: Graph, training: Bool) -> StepResult {
        var e = loss(image: image, imageAug: imageAug, homography: homography, lossWeights: lossWeights, graph: graph, training: training)
        if training { backward(&e, graph: graph) }
        graph.reset()
        return StepResult(terms: e.terms, timings: e.timings)
    }
}

/// One evaluation of the KP2D loss: the network outputs, the correspondences, every term's intermediate
/// values, the weighted total and its terms. Its variables live on the graph until the graph is reset.
public struct KP2DLossEvaluation {
    public let inputs: KP2DLoss.Inputs
    public let correspondences: KP2DLoss.Correspondences
    public let descriptor: KP2DLoss.DescriptorResult
    public let io: KP2DLoss.IOResult
    /// The weighted total (nil when no term is defined for the batch).
    public let total: Variable?
    public var terms: LossTerms
    public var timings: StepTimings

    /// The intermediate values the reference fixture kp2d.train_step compares.
    public var details: LossDetails {
        let x = inputs, corr = correspondences
        let (b, n) = (x.batch, x.cells)
        return LossDetails(
            sourceScore: x.source.score.value, sourceCoord: x.source.coord.value,
            targetScore: x.target.score.value, targetCoord: x.target.coord.value,
            sourceUVWarped: corr.warpedUV.value, borderMask: corr.borderMask,
            nearestDistance: corr.nearestDistance.value.reshaped([b, x.hc, x.wc]),
            nearestIndex: corr.nearestIndex, distValidMask: corr.distValidMask,
            borderValidCount: (0..<b).map { bi in (0..<n).filter { corr.borderMask[bi * n + $0] }.count },
            distValidCount: (0..<b).map { bi in (0..<n).filter { corr.distValidMask[bi * n + $0] }.count },
            descriptorNegativeIndex: descriptor.negatives, descriptorLossPerImage: descriptor.perImage,
            ioTopKMaskSource: io.topKMaskSource, ioTopKMaskTarget: io.topKMaskTarget,
            ioNearestIndex: io.nearestIndex, ioNearestDistance: io.nearestDistance,
            ioPrediction: io.prediction, ioLabel: io.label)
    }
}
