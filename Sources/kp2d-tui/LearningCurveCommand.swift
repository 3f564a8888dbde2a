import ArgumentParser
import Datasets
import Evaluation
import Foundation
import KP2D
import Training

struct LearningCurveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "learning-curve",
        abstract: "Train from a fixed seed and evaluate the weights on a held-out HPatches-format set at regular points.",
        discussion: """
        Trains like `kp2d-tui train --headless` (same options: --preset, --seed, --size, --lr, --beta, ...) for \
        --steps N or --minutes M, and before the first step, every --eval-every steps and at the end evaluates the \
        current KeypointNet on --heldout (default: the bundled sample-data/heldout) with the official metrics at \
        240x320 top 300 and at the training size top 300, on all pairs and on the v_ (viewpoint) pairs alone. \
        One row per point: step, training minutes (evaluations excluded), steps/s since the previous row, the mean \
        L_loc, L_desc and descriptor recall over the steps since the previous row, then Rep, LocErr, C1, C3, C5 \
        and MScore per setting and split. --json prints one JSON object per row instead. No checkpoint is written \
        unless --checkpoint is given; with it, the per-step metrics log goes beside it as in `train` (--log to \
        choose the file).
        """)

    @OptionGroup var training: TrainingFlags

    @Option(help: "Held-out HPatches-format folder (default: the bundled sample-data/heldout).")
    var heldout: String?

    @Option(name: .customLong("eval-every"), help: "Evaluate every N steps (and at step 0 and at the end).")
    var evalEvery = 500

    @Flag(name: .customLong("no-training-size"), help: "Evaluate at 240x320 only, not also at the training size.")
    var noTrainingSize = false

    @Flag(help: "One JSON object per row on stdout (JSON lines) instead of the table.")
    var json = false

    @Option(help: "Also append every row as one JSON line to this file.")
    var out: String?

    func run() throws {
        guard training.resume == nil else { throw ValidationError("learning-curve starts a fresh run from its seed; --resume is not supported") }
        guard training.steps != nil || training.minutes != nil else {
            throw ValidationError("learning-curve needs a budget: --steps N or --minutes M (e.g. --steps 3000 --eval-every 500)")
        }
        guard evalEvery >= 1 else { throw ValidationError("--eval-every \(evalEvery): must be at least 1") }
        var o = try training.makeOptions()
        o.checkpointPath = training.checkpoint
        // As `train`: with --checkpoint the per-step log goes beside it (metrics.jsonl) unless --log says
        // where; without a checkpoint only an explicit --log is written.
        if training.checkpoint == nil { o.logPath = training.log }
        if o.checkpointPath == nil { o.checkpointEvery = 0 }
        do { try o.validate() } catch { throw ValidationError("\(error)") }
        guard let root = heldout ?? TrainingFlags.sampleFolderIfPresent("heldout") else {
            throw ValidationError("no held-out set: pass --heldout DIR (an HPatches-format folder) or run from the repository (sample-data/heldout)")
        }
        var settings = LearningCurveOptions.defaultSettings(for: o)
        if noTrainingSize { settings = [.official240] }
        let trainer = try training.makeTrainer(o)
        let curve: LearningCurve
        do { curve = try LearningCurve(trainer: trainer, options: LearningCurveOptions(heldout: root, evalEvery: evalEvery, settings: settings)) } catch {
            warn("error: \(error)")
            throw ExitCode(1)
        }
        for p in curve.dataset.problems { warn("warning: \(p)") }
        let pairs = curve.dataset.pairs.count, vPairs = curve.dataset.pairs.filter { $0.sequence.hasPrefix("v") }.count
        warn("learning-curve: \(o.preset.rawValue) preset, \(o.height)x\(o.width), batch \(o.batchSize), widths \(o.model.widthsDescription), dropout \(o.model.withDrop ? "on" : "off"), lr \(o.learningRate), weights a\(o.lossWeights.alpha) b\(o.lossWeights.beta) l\(o.lossWeights.lambda) g\(o.lossWeights.gamma), seed \(o.seed)")
        warn("data: \(trainer.folder.count) images in \(trainer.folder.root); held-out: \(root) (\(pairs) pairs, \(vPairs) v_); budget: \(o.steps.map { "\($0) steps" } ?? "")\(o.steps != nil && o.minutes != nil ? " or " : "")\(o.minutes.map { TrainingOptions.minutesText($0) } ?? "")")
        let outHandle: FileHandle?
        if let out {
            if !FileManager.default.fileExists(atPath: out) {
                guard FileManager.default.createFile(atPath: out, contents: nil) else {
                    throw ValidationError("--out \(out): cannot create the file; check the folder exists and is writable")
                }
            }
            guard let h = FileHandle(forWritingAtPath: out) else { throw ValidationError("--out \(out): cannot open it for writing") }
            h.seekToEndOfFile()
            outHandle = h
        } else { outHandle = nil }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        if !json { print(LearningCurveTable.header(settings: settings)) }
        curve.onRow = { row in
            let line = (try? enc.encode(row)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            if json { print(line) } else { print(LearningCurveTable.row(row)) }
            fflush(nil)   // all output streams (stdout is not concurrency-safe to name in Swift 6 mode)
            outHandle?.write(Data((line + "\n").utf8))
        }
        trainer.onMessage = { m in if !m.hasPrefix("step ") { warn(m) } }
        // Ctrl-C, SIGTERM, SIGHUP: finish the step, save (with --checkpoint), evaluate once more for the last
        // row and exit 0; a second signal exits at once (the checkpoint on disk is complete: saves are atomic).
        let saving = o.checkpointPath != nil
        let signals = StopSignals { name in
            stderrLine("\(name == "SIGINT" ? "interrupted" : "received \(name)"): finishing the step\(saving ? ", writing a final checkpoint" : "") and evaluating the weights for a last row (send it again to exit now)")
            if saving { trainer.send(.save) }
            trainer.send(.quit)
        }
        defer { signals.cancel() }
        do { try curve.run() } catch {
            warn("error: \(error)")
            throw ExitCode(1)
        }
        try? outHandle?.close()
    }
}

/// The text table of `learning-curve`: one line per evaluation point.
enum LearningCurveTable {
    static let metricNames = ["Rep", "LocE", "C1", "C3", "C5", "MS"]

    static func header(settings: [HPatchesEvalSettings]) -> String {
        var groups = [String]()
        for s in settings {
            for split in ["all", "v"] {
                groups.append("\(s.height)x\(s.width) \(split): " + metricNames.map { $0.padding(toLength: 5, withPad: " ", startingAt: 0) }.joined(separator: " "))
            }
        }
        return " step    min  st/s  L_loc  L_desc recall | " + groups.joined(separator: " | ")
    }

    static func row(_ r: LearningCurveRow) -> String {
        func opt(_ v: Double?, _ f: String, _ w: Int) -> String { v.map { String(format: f, $0) } ?? String(repeating: " ", count: w - 1) + "-" }
        var s = String(format: "%5d %6.2f %5.2f ", r.step, r.minutes, r.stepsPerSecond)
        s += opt(r.loc, "%6.3f", 6) + " " + opt(r.desc, "%6.4f", 6) + " " + opt(r.recall, "%6.3f", 6)
        for e in r.evaluations {
            for (split, m) in [("all", Optional(e.all)), ("v", e.viewpoint)] {
                let label = e.setting.split(separator: " ").first.map(String.init) ?? e.setting
                s += " | " + String(repeating: " ", count: label.count + split.count + 3)
                if let m {
                    s += String(format: "%.3f %5.2f %.3f %.3f %.3f %.3f", m.repeatability, m.localizationError, m.c1, m.c3, m.c5, m.matchingScore)
                } else {
                    s += "(no \(split) pairs)"
                }
            }
        }
        return s
    }
}
