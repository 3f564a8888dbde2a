import Datasets
import Evaluation
import KP2D

// The training pair as a PNG figure (the workbench's picture key in the training view): source and target at
// the training size, the step's descriptor matches as lines (green when the true homography puts the source
// point less than KP2DLoss.associationRadius px from its match, as the loss counts them), and the pair's
// statistics as a caption.

public enum PreviewFigure {
    public static func render(_ p: PairPreview) -> Canvas {
        let pair = p.pair
        func f(_ v: Double, _ d: Int) -> String { v.isFinite ? String(format: "%.\(d)f", v) : "-" }
        let s = p.stats
        let correct = pair.matches.filter(\.correct).count
        let r = Int(KP2DLoss.associationRadius)
        let caption = [
            "training pair, step \(p.step)  \(pair.target.height)x\(pair.target.width) (HxW)  source (warped) | target",
            "keypoints \(pair.sourceKeypoints.count)/\(pair.targetKeypoints.count)  Rep \(f(s.repeatability, 3))  LocErr \(f(s.localizationError, 2))  "
                + "corner err \(f(s.cornerError, 2)) px  descriptor recall \(f(s.descriptorRecall, 3))",
            "\(pair.matches.count) matches: \(correct) correct (green), \(pair.matches.count - correct) wrong (red) at < \(r) px",
        ]
        return PairFigure.render(pair, caption: caption)
    }
}
