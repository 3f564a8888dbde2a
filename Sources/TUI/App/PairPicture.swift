import Datasets
import Evaluation
import Foundation
import Training

// The picture key (p): the pair on screen as a PNG figure at the images' own resolution (training size in
// the training view, evaluation size in the browser), in WorkbenchOptions.picturesDirectory. It runs on the UI
// thread: one key press, about 0.1 s on a heavily loaded 2-core machine (docs/figures.md).

enum PairPicture {
    /// The training preview of `snapshot`; returns the path written.
    static func saveTraining(_ snapshot: TrainerSnapshot, directory: String) throws -> String? {
        guard let p = snapshot.preview else { return nil }
        let path = (directory as NSString).appendingPathComponent("train_step\(p.step).png")
        try PreviewFigure.render(p).savePNG(to: path)
        return path
    }

    /// A browser pair (matches coloured by the browser's 3 px rule) with its metrics.
    static func render(_ p: HPatchesBrowserPair, size: String?) -> Canvas {
        let pair = p.pair, m = p.metrics
        func f(_ v: Double, _ d: Int) -> String { v.isFinite ? String(format: "%.\(d)f", v) : "-" }
        let correct = pair.matches.filter(\.correct).count
        let caption = [
            "\(p.sequence)  image 1 -> \(p.pairIndex + 2)  \(pair.source.height)x\(pair.source.width) (HxW)" + (size.map { "  evaluated at \($0)" } ?? ""),
            "Rep \(f(m.repeatability, 3))  LocErr \(f(m.localizationError, 2))  C1 \(f(m.c1, 0))  C3 \(f(m.c3, 0))  C5 \(f(m.c5, 0))  "
                + "corner err \(f(m.cornerError, 2)) px  MScore \(f(m.matchingScore, 3))",
            "\(pair.matches.count) matches: \(correct) correct (green), \(pair.matches.count - correct) wrong (red) at "
                + "\(Int(JudgedMatches.correctDistance)) px",
        ]
        return PairFigure.render(pair, caption: caption)
    }

    static func saveBrowser(_ p: HPatchesBrowserPair, size: String?, directory: String) throws -> String {
        let tag = "\(p.pair.source.height)x\(p.pair.source.width)"
        let path = (directory as NSString).appendingPathComponent("\(p.sequence)_1_\(p.pairIndex + 2)_\(tag).png")
        try render(p, size: size).savePNG(to: path)
        return path
    }
}
