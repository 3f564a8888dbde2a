import Datasets
import KP2D
import Foundation

// The figure of one evaluated HPatches pair (`kp2d-tui eval --figures DIR`).

public enum HPatchesFigure {
    /// "v_boat_1_3.png" for pair (1, 3) of v_boat.
    public static func fileName(_ pair: HPatchesPair) -> String { "\(pair.sequence)_1_\(pair.index).png" }

    /// Both images as the network saw them (at the evaluation size; shown in RGB whatever `order` they were fed
    /// in), the homography-correctness matches of the top-k points coloured by the 3 px rule, and a caption
    /// with the pair's official metrics. `note` is added to the title line (e.g. the weights file).
    public static func render(sample: HPatchesSample, first: KeypointSet, second: KeypointSet, metrics: PairMetrics,
                              topK: Int, order: ChannelOrder, note: String = "") -> Canvas {
        let pair = EvaluationPair(first: first, second: second, homography: sample.homography,
                                  width: sample.first.width, height: sample.first.height)
        let (a, b, matches) = PairFigure.homographyMatches(pair, topK: topK)
        let rgb1 = order == .bgr ? sample.first.swappingRedBlue() : sample.first
        let rgb2 = order == .bgr ? sample.second.swappingRedBlue() : sample.second
        let title = "\(sample.pair.sequence)  image 1 -> \(sample.pair.index)  \(sample.first.height)x\(sample.first.width) (HxW)  top-\(topK)"
            + (note.isEmpty ? "" : "  " + note)
        let judged = JudgedPair(source: rgb1, target: rgb2, sourceKeypoints: a.keypoints, targetKeypoints: b.keypoints,
                                matches: matches, homography: sample.homography)
        return PairFigure.render(judged, caption: PairFigure.caption(title: title, metrics: metrics, matches: matches))
    }
}
