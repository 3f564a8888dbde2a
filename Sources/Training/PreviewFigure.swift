import Datasets
import Evaluation
import KP2D

// The training pair as a PNG figure (the workbench's picture key in the training view): source and target at
// the training size, the step's descriptor matches as lines (green when the true homography puts the source
// point less than KP2DLoss.associationRadius px from its match, as the loss counts them), and the pair's
// statistics as a caption.

public enum PreviewFigure {
    public static func render(_ p: PairPreview) -> Canvas {
        func kps(_ k: [Keypoint]) -> [Evaluation.Keypoint] { k.map { Evaluation.Keypoint(x: $0.x, y: $0.y, score: $0.score) } }
        let matches = p.matches.map { FigureMatch(source: $0.source, target: $0.target, correct: $0.correct) }
        func f(_ v: Double, _ d: Int) -> String { v.isFinite ? String(format: "%.\(d)f", v) : "-" }
        let s = p.stats
        let correct = matches.filter(\.correct).count
        let r = Int(KP2DLoss.associationRadius)
        let caption = [
            "training pair, step \(p.step)  \(p.target.height)x\(p.target.width) (HxW)  source (warped) | target",
            "keypoints \(p.sourceKeypoints.count)/\(p.targetKeypoints.count)  Rep \(f(s.repeatability, 3))  LocErr \(f(s.localizationError, 2))  "
                + "corner err \(f(s.cornerError, 2)) px  descriptor recall \(f(s.descriptorRecall, 3))",
            "\(matches.count) matches: \(correct) correct (green), \(matches.count - correct) wrong (red) at < \(r) px",
        ]
        return PairFigure.render(first: p.source, second: p.target, firstKeypoints: kps(p.sourceKeypoints),
                                 secondKeypoints: kps(p.targetKeypoints), matches: matches, caption: caption)
    }
}
