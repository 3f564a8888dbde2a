import NN
import TensorEngine

// The official KP2D training loss (KeypointNetwithIOLoss.forward), one function per term, following
// the fixture README section 3.5 steps 2-11:
//   correspondences      warp the source keypoints, border mask, nearest target keypoint
//   locationLoss         L_loc  = mean nearest distance over the valid pairs (< 4 px, inside)
//   descriptorLoss       L_desc = per-image triplet loss with hardest negatives outside a +-4 px box
//   uspLoss              L_usp  = mean((s_t[nn] + s_s) * (d - mean d)) over the valid pairs
//   scoreConsistencyLoss L_cons = MSE(target score sampled at the warped points, source score)
//   ioLoss               L_IO   = MSE(IO-Net(pairs of the 300 lowest-score cells), +-1 labels)
// A term that is undefined for the batch (empty mask) is nil plus a flag; it never produces NaN.

public enum KP2DLoss {
    public static let cell = 8
    /// Pixel radius of a valid association (L_loc, L_usp) and of an IO inlier.
    public static let associationRadius: Float = 4
    /// Half-size of the box around an anchor's true position inside which no negative is taken.
    public static let relaxField: Float = 4
    public static let tripletMargin: Float = 0.2
    public static let descriptorMinPoints = 20
    public static let ioPointCount = 300
    /// The IO term counts only with more inliers than this.
    public static let ioMinInliers = 10

    /// A loss term: nil when undefined for this batch, with the reason.
    public struct Term {
        public var value: Variable?
        public var flags: [String] = []
        public var scalar: Float { value?.value.scalar ?? 0 }
    }

    /// Shapes and the network outputs of one pair batch.
    public struct Inputs {
        public var source: KeypointNetOutput
        public var target: KeypointNetOutput
        /// (B,3,3) normalised source -> target.
        public var homography: Tensor
        public var imageHeight: Int
        public var imageWidth: Int
        public var batch: Int { source.score.shape[0] }
        public var hc: Int { source.score.shape[2] }
        public var wc: Int { source.score.shape[3] }
        public var cells: Int { hc * wc }

        public init(source: KeypointNetOutput, target: KeypointNetOutput, homography: Tensor, imageHeight: Int, imageWidth: Int) {
            self.source = source; self.target = target; self.homography = homography
            self.imageHeight = imageHeight; self.imageWidth = imageWidth
        }
    }

    /// Steps 2-4: warped source keypoints, the border mask and the nearest target keypoints.
    public struct Correspondences {
        /// (B,Hc,Wc,2) normalised source / target keypoints and warped source keypoints.
        public var sourceUVNorm: Variable
        public var targetUVNorm: Variable
        public var warpedUVNorm: Variable
        /// (B,2,Hc,Wc) warped source keypoints in target pixels.
        public var warpedUV: Variable
        /// (B*Hc*Wc) inner cell whose warped point lies strictly inside the image (normalised (-1,1)).
        public var borderMask: [Bool]
        /// (B,Hc*Wc) distance from each warped source point to its nearest target keypoint; index of it.
        public var nearestDistance: Variable
        public var nearestIndex: [Int]
        /// nearest distance < 4 px AND border mask.
        public var distValidMask: [Bool]

        /// Flat (b*N + i) indices of the valid pairs / border cells, in raster order.
        public var distValidFlat: [Int] { distValidMask.indices.filter { distValidMask[$0] } }
        public var borderFlat: [Int] { borderMask.indices.filter { borderMask[$0] } }
    }

    public static func correspondences(_ x: Inputs, _ g: Graph) -> Correspondences {
        let (b, hc, wc, n) = (x.batch, x.hc, x.wc, x.cells)
        let sourceUVNorm = g.normalizeCoordinates(x.source.coord, imageHeight: x.imageHeight, imageWidth: x.imageWidth)
        let targetUVNorm = g.normalizeCoordinates(x.target.coord, imageHeight: x.imageHeight, imageWidth: x.imageWidth)
        let warpedUVNorm = g.warpPoints(sourceUVNorm, homographies: x.homography)
        let warpedUV = g.denormalizeCoordinates(warpedUVNorm, imageHeight: x.imageHeight, imageWidth: x.imageWidth)

        var border = [Bool](repeating: false, count: b * n)
        let wn = warpedUVNorm.value.data
        for bi in 0..<b where hc > 2 && wc > 2 {
            for i in 1..<(hc - 1) {
                for j in 1..<(wc - 1) {
                    let c = bi * n + i * wc + j
                    let u = wn[2 * c], v = wn[2 * c + 1]
                    border[c] = u > -1 && u < 1 && v > -1 && v < 1
                }
            }
        }

        let (dist, index) = g.nearestPointDistance(g.reshape(warpedUV, [b, 2, n]), g.reshape(x.target.coord, [b, 2, n]))
        var valid = border
        let d = dist.value.data
        for c in 0..<(b * n) where valid[c] { valid[c] = d[c] < associationRadius }
        return Correspondences(sourceUVNorm: sourceUVNorm, targetUVNorm: targetUVNorm, warpedUVNorm: warpedUVNorm,
                               warpedUV: warpedUV, borderMask: border, nearestDistance: dist, nearestIndex: index,
                               distValidMask: valid)
    }

    /// Step 5: mean nearest distance over the valid pairs.
    public static func locationLoss(_ c: Correspondences, _ g: Graph) -> Term {
        let valid = c.distValidFlat
        guard !valid.isEmpty else { return Term(value: nil, flags: ["loc: no valid pairs (< 4 px inside the border)"]) }
        return Term(value: g.mean(g.gather(c.nearestDistance, flatIndices: valid)))
    }

    /// A diagnostic beside L_loc (not a loss term, not in the official code): the same mean nearest distance
    /// (< 4 px, inside the border) over only the valid pairs whose source cell is among its image's `k`
    /// highest-score cells, i.e. the points an evaluation at top k would keep. nil when none is valid.
    public static func locationOfTopScores(_ x: Inputs, _ c: Correspondences, k: Int) -> Float? {
        let (b, n) = (x.batch, x.cells)
        let kk = Swift.min(k, n)
        let score = x.source.score.value
        let d = c.nearestDistance.value.data
        var sum: Double = 0
        var count = 0
        for bi in 0..<b {
            for i in TensorOps.topK(UnsafePointer(score.data + bi * n), count: n, k: kk, largest: true) where c.distValidMask[bi * n + i] {
                sum += Double(d[bi * n + i]); count += 1
            }
        }
        return count == 0 ? nil : Float(sum / Double(count))
    }

    /// Steps 6-7: the descriptor triplet loss (sum over images of the per-image mean / B) and the recall.
    public struct DescriptorResult {
        public var term: Term
        public var recall: Float
        public var perImage: [Float]
        public var negatives: [[Int]]
    }

    public static func descriptorLoss(_ x: Inputs, _ c: Correspondences, _ g: Graph) -> DescriptorResult {
        let (b, n) = (x.batch, x.cells)
        let dim = x.source.feat.shape[1]
        // Sampling positions are detached (official: source_uv_norm.detach(), source_uv_warped_norm.detach()).
        let sourceGrid = Variable(c.sourceUVNorm.value.copy())
        let warpedGrid = Variable(c.warpedUVNorm.value.copy())
        let sourceDesc = g.gridSample(x.source.feat, grid: sourceGrid)   // (B,D,Hc,Wc)
        let targetDesc = g.gridSample(x.target.feat, grid: warpedGrid)   // (B,D,Hc,Wc)
        let warpedPx = c.warpedUV.value.data                              // (B,2,N)

        var loss: Variable? = nil
        var recall: Float = 0
        var perImage = [Float](repeating: 0, count: b)
        var negatives = [[Int]](repeating: [], count: b)
        var flags: [String] = []
        for bi in 0..<b {
            let cells = (0..<n).filter { c.borderMask[bi * n + $0] }
            let m = cells.count
            if m < descriptorMinPoints {
                flags.append("desc: image \(bi) has \(m) < \(descriptorMinPoints) border-valid points, skipped")
                continue
            }
            // (D, m) columns of the border-valid cells, L2-normalised over D.
            var columns = [Int](repeating: 0, count: dim * m)
            for d in 0..<dim { for (k, cell) in cells.enumerated() { columns[d * m + k] = (bi * dim + d) * n + cell } }
            let anchors = g.reshape(g.l2Normalize(g.reshape(g.gather(sourceDesc, flatIndices: columns), [1, dim, m])), [dim, m])
            let positives = g.reshape(g.l2Normalize(g.reshape(g.gather(targetDesc, flatIndices: columns), [1, dim, m])), [dim, m])

            // Decisions on the (m, m) distance matrix, outside the graph.
            let distances = g.noGrad { g.descriptorDistance(anchors, positives) }.value
            defer { withExtendedLifetime(distances) {} }
            let dmat = distances.data
            var px = [Float](repeating: 0, count: m), py = px
            for (k, cell) in cells.enumerated() { px[k] = warpedPx[bi * 2 * n + cell]; py[k] = warpedPx[bi * 2 * n + n + cell] }
            let (hardest, correct) = hardestNegatives(distances: dmat, x: px, y: py)
            recall += (1 / Float(b)) * (Float(correct) / Float(m))
            negatives[bi] = hardest

            let anchorRows = g.permute(anchors, [1, 0])                      // (m, D)
            let positiveRows = g.permute(positives, [1, 0])
            let negativeRows = g.indexSelect(positiveRows, axis: 0, indices: hardest)
            let triplet = g.tripletMarginLoss(anchor: anchorRows, positive: positiveRows, negative: negativeRows,
                                              margin: tripletMargin)
            perImage[bi] = triplet.value.scalar
            let weighted = g.scale(triplet, 1 / Float(b))
            loss = loss.map { g.add($0, weighted) } ?? weighted
        }
        if loss == nil { flags.append("desc: no image with \(descriptorMinPoints) border-valid points") }
        return DescriptorResult(term: Term(value: loss, flags: flags), recall: recall, perImage: perImage, negatives: negatives)
    }

    /// For each anchor i (row of the (m, m) distance matrix), the candidate j with the smallest distance
    /// among those NOT within +-relaxField in both x and y of the anchor's true position (x[i], y[i]);
    /// as in the official code, when no candidate lies outside the box (or all those have the maximum
    /// distance 2), the nearest candidate. Also counts the anchors whose nearest candidate sits exactly
    /// at their own true position (the official recall numerator).
    public static func hardestNegatives(distances: UnsafePointer<Float>, x: [Float], y: [Float]) -> (negatives: [Int], correct: Int) {
        let m = x.count
        var hardest = [Int](repeating: 0, count: m)
        var correct = 0
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeBufferPointer { yb in
                hardest.withUnsafeMutableBufferPointer { hb in
                    let px = xb.baseAddress!, py = yb.baseAddress!
                    for i in 0..<m {
                        let row = distances + i * m
                        let xi = px[i], yi = py[i]
                        var nearest = 0, nearestValue = row[0]
                        var bestNeg = -1, bestNegValue = Float.infinity
                        for j in 0..<m {
                            let dij = row[j]
                            if dij < nearestValue { nearestValue = dij; nearest = j }
                            if dij < bestNegValue && (Swift.abs(px[j] - xi) > relaxField || Swift.abs(py[j] - yi) > relaxField) {
                                bestNegValue = dij; bestNeg = j
                            }
                        }
                        hb[i] = (bestNeg < 0 || bestNegValue >= 2) ? nearest : bestNeg
                        if px[nearest] == xi && py[nearest] == yi { correct += 1 }
                    }
                }
            }
        }
        return (hardest, correct)
    }

    /// Step 8: mean((s_t[nn] + s_s) * (d - mean d)) over the valid pairs (d not detached).
    public static func uspLoss(_ x: Inputs, _ c: Correspondences, _ g: Graph) -> Term {
        let valid = c.distValidFlat
        guard !valid.isEmpty else { return Term(value: nil, flags: ["usp: no valid pairs"]) }
        let n = x.cells
        let associated = valid.map { ($0 / n) * n + c.nearestIndex[$0] }
        let targetScore = g.gather(x.target.score, flatIndices: associated)
        let sourceScore = g.gather(x.source.score, flatIndices: valid)
        let d = g.gather(c.nearestDistance, flatIndices: valid)
        let centred = g.sub(d, g.mean(d))
        return Term(value: g.mean(g.mul(g.add(targetScore, sourceScore), centred)))
    }

    /// Step 9: MSE between the target score sampled (bilinear) at the detached warped source points and
    /// the source score, over the border-mask cells (before the official x2).
    public static func scoreConsistencyLoss(_ x: Inputs, _ c: Correspondences, _ g: Graph) -> Term {
        let border = c.borderFlat
        guard !border.isEmpty else { return Term(value: nil, flags: ["consistency: empty border mask"]) }
        let grid = Variable(c.warpedUVNorm.value.copy())
        let resampled = g.gridSample(x.target.score, grid: grid)   // (B,1,Hc,Wc)
        return Term(value: g.mseLoss(g.gather(resampled, flatIndices: border), g.gather(x.source.score, flatIndices: border)))
    }

    /// Step 10: the IO-Net term on the k = 300 (official; `points`) lowest-score cells of each image.
    public struct IOResult {
        public var term: Term
        public var inliers: Int
        public var topKMaskSource: [Bool]
        public var topKMaskTarget: [Bool]
        public var nearestIndex: [Int]
        public var nearestDistance: [Float]
        public var prediction: [Float]
        public var label: [Int]
    }

    /// Indices of the k lowest-score cells of image b, in raster order.
    static func lowestScoreCells(_ score: Tensor, image b: Int, cells n: Int, k: Int) -> [Int] {
        TensorOps.topK(UnsafePointer(score.data + b * n), count: n, k: k, largest: false).sorted()
    }

    /// `points`: how many lowest-score cells per image go to the IO-Net (official: 300; `--io-points`).
    public static func ioLoss(_ x: Inputs, _ c: Correspondences, ioNet: InlierNet, training: Bool,
                              points: Int = ioPointCount, _ g: Graph) -> IOResult {
        let (b, n) = (x.batch, x.cells)
        let k = Swift.min(points, n)
        let dim = x.source.feat.shape[1]
        var maskS = [Bool](repeating: false, count: b * n), maskT = maskS
        var selS: [[Int]] = [], selT: [[Int]] = []
        for bi in 0..<b {
            let s = lowestScoreCells(x.source.score.value, image: bi, cells: n, k: k)
            let t = lowestScoreCells(x.target.score.value, image: bi, cells: n, k: k)
            for i in s { maskS[bi * n + i] = true }
            for i in t { maskT[bi * n + i] = true }
            selS.append(s); selT.append(t)
        }
        // Selected normalised coordinates as sampling grids (B,1,k,2); NOT detached.
        var gridS = [Int](), gridT = [Int]()
        gridS.reserveCapacity(b * k * 2); gridT.reserveCapacity(b * k * 2)
        for bi in 0..<b {
            for i in 0..<k {
                for ch in 0..<2 {
                    gridS.append((bi * n + selS[bi][i]) * 2 + ch)
                    gridT.append((bi * n + selT[bi][i]) * 2 + ch)
                }
            }
        }
        let sourceGrid = g.reshape(g.gather(c.sourceUVNorm, flatIndices: gridS), [b, 1, k, 2])
        let targetGrid = g.reshape(g.gather(c.targetUVNorm, flatIndices: gridT), [b, 1, k, 2])
        let sourceDesc = g.l2Normalize(g.gridSample(x.source.feat, grid: sourceGrid))   // (B,D,1,k)
        let targetDesc = g.l2Normalize(g.gridSample(x.target.feat, grid: targetGrid))

        var nnIndex = [Int](repeating: 0, count: b * k)
        var nnDist = [Float](repeating: 0, count: b * k)
        var minima: [Variable] = []
        for bi in 0..<b {
            let s = g.reshape(g.slice(sourceDesc, axis: 0, range: bi..<(bi + 1)), [dim, k])
            let t = g.reshape(g.slice(targetDesc, axis: 0, range: bi..<(bi + 1)), [dim, k])
            // Nearest target point by descriptor (decision outside the graph), then the distance of the
            // chosen pairs in the graph: the same value and gradient as min(descriptorDistance) but
            // with a defined gradient at distance 0.
            let indices = g.noGrad { g.min(g.descriptorDistance(s, t), axis: 1).indices }
            let values = g.pairDescriptorDistance(s, t, pairs: indices)
            for i in 0..<k { nnIndex[bi * k + i] = indices[i]; nnDist[bi * k + i] = values.value.data[i] }
            minima.append(values)
        }
        // IO-Net input (B,5,k,1): source (xn, yn), associated target (xn, yn), descriptor distance.
        var srcChannels = [Int](), tgtChannels = [Int]()
        srcChannels.reserveCapacity(b * 2 * k); tgtChannels.reserveCapacity(b * 2 * k)
        for bi in 0..<b {
            for ch in 0..<2 {
                for i in 0..<k {
                    srcChannels.append((bi * n + selS[bi][i]) * 2 + ch)
                    tgtChannels.append((bi * n + selT[bi][nnIndex[bi * k + i]]) * 2 + ch)
                }
            }
        }
        let srcIn = g.reshape(g.gather(c.sourceUVNorm, flatIndices: srcChannels), [b, 2, k, 1])
        let tgtIn = g.reshape(g.gather(c.targetUVNorm, flatIndices: tgtChannels), [b, 2, k, 1])
        let distIn = g.reshape(g.concatenateFlat(minima), [b, 1, k, 1])
        let ioInput = g.concatChannels([srcIn, tgtIn, distIn])
        let prediction = g.reshape(ioNet(ioInput, g, training: training), [b * k])

        // Labels: the associated target keypoint lies < 4 px from the warped source point.
        let halfW = Float(x.imageWidth - 1) / 2, halfH = Float(x.imageHeight - 1) / 2
        let tn = c.targetUVNorm.value.data, wn = c.warpedUVNorm.value.data
        var label = [Int](repeating: -1, count: b * k)
        var inliers = 0
        for bi in 0..<b {
            for i in 0..<k {
                let t = (bi * n + selT[bi][nnIndex[bi * k + i]]) * 2
                let s = (bi * n + selS[bi][i]) * 2
                let dx = (tn[t] + 1) * halfW - (wn[s] + 1) * halfW
                let dy = (tn[t + 1] + 1) * halfH - (wn[s + 1] + 1) * halfH
                if (dx * dx + dy * dy).squareRoot() < associationRadius { label[bi * k + i] = 1; inliers += 1 }
            }
        }
        var term = Term(value: nil)
        if inliers > ioMinInliers {
            let truth = Variable(Tensor(shape: [b * k], values: label.map { Float($0) }))
            term.value = g.mseLoss(prediction, truth)
        } else {
            term.flags.append("io: \(inliers) inliers <= \(ioMinInliers), term skipped")
        }
        return IOResult(term: term, inliers: inliers, topKMaskSource: maskS, topKMaskTarget: maskT,
                        nearestIndex: nnIndex, nearestDistance: nnDist, prediction: prediction.value.array, label: label)
    }

    /// Step 11: alpha*L_loc + beta*2*L_desc + lambda*(L_usp + 2*L_cons) + gamma*L_IO over the defined terms;
    /// nil when no term is defined.
    public static func total(loc: Term, desc: Term, usp: Term, consistency: Term, io: Term,
                             lossWeights w: LossWeights, _ g: Graph) -> Variable? {
        let parts: [(Term, Float)] = [(loc, w.alpha), (desc, w.beta * 2), (usp, w.lambda), (consistency, w.lambda * 2), (io, w.gamma)]
        var total: Variable? = nil
        for (term, weight) in parts {
            guard let v = term.value else { continue }
            let weighted = g.scale(v, weight)
            total = total.map { g.add($0, weighted) } ?? weighted
        }
        return total
    }
}
