import Foundation
import KP2D
import TensorEngine
import Training

// `kp2d-tui bench --only mpi`: data-parallel training on this machine, the same global batch run as
//   1 process x all cores (OpenBLAS and our loops on every core)   versus
//   N ranks x cores/N threads each (mpirun --oversubscribe -np N, gradients allreduced every step),
// for the fast preset (128x192, global batch 4) and the paper preset (--height x --width, global batch
// --batch). Each run is the real `kp2d-tui train --headless` (its metrics log gives the per-step time
// and, under MPI, the allreduce time and bytes). Reports steps/s, images/s, the allreduce share, and the
// scaling model of docs/distributed.md: images/s on M machines = M*B / (t_compute + t_ring(M)), with
// t_ring = 2(M-1)/M * gradient bytes / bandwidth + 2(M-1) * 50 us, at 10 and 100 Gbit/s.
public struct MPIBenchSection: BenchSection {
    public var name: String { "mpi" }
    public var abstract: String { "data-parallel training: 1 rank x 2 threads vs 2 ranks x 1 thread (mpirun), allreduce time, scaling model" }

    let executable: String
    let dataPath: String?
    var ranks = 2

    /// `executable`: the kp2d-tui binary to start (under mpirun for the multi-rank rows).
    public init(executable: String, dataPath: String?, ranks: Int = 2) {
        self.executable = executable; self.dataPath = dataPath; self.ranks = ranks
    }

    static func findMpirun() -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") + ["/usr/bin", "/usr/local/bin"] {
            let p = "\(dir)/mpirun"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    struct Measured { var stepSeconds: Double; var allreduceSeconds: Double?; var bytes: Int?; var steps: Int }

    /// One headless run; the median step time of the steps after `warmup`.
    func measure(ranks: Int, mpirun: String?, preset: String, size: String, globalBatch: Int, steps: Int, warmup: Int) throws -> Measured {
        let dir = NSTemporaryDirectory() + "kp2d-bench-mpi-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = ["train", "--headless", "--preset", preset, "--size", size, "--batch-size", "\(globalBatch / ranks)",
                    "--steps", "\(steps + warmup)", "--checkpoint", dir + "/ck.safetensors", "--checkpoint-every", "0",
                    "--progress-every", "1000000"] + (dataPath.map { ["--data", $0] } ?? [])
        let p = Process()
        var env = ProcessInfo.processInfo.environment
        for k in env.keys where k.hasPrefix("OMPI_COMM_WORLD") || k.hasPrefix("PMI") { env[k] = nil }
        if ranks > 1 {
            guard let mpirun else { throw MPIBenchError("mpirun not found (apt-get install openmpi-bin)") }
            p.executableURL = URL(fileURLWithPath: mpirun)
            p.arguments = ["--oversubscribe", "--bind-to", "none", "-np", "\(ranks)", executable] + args
            env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"; env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        } else {
            p.executableURL = URL(fileURLWithPath: executable)
            p.arguments = args
        }
        p.environment = env
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let output = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw MPIBenchError("\(ranks) rank(s) \(preset): exit \(p.terminationStatus): \(String(decoding: output, as: UTF8.self).suffix(400))")
        }
        let records = try MetricsLog.read(dir + "/metrics.jsonl")
        let timed = records.filter { $0.step > warmup }
        var durations: [Double] = []
        var previous = records.first { $0.step == warmup }?.time ?? 0
        for r in timed { durations.append(r.time - previous); previous = r.time }
        func median(_ v: [Double]) -> Double { let s = v.sorted(); return s.isEmpty ? .nan : s[s.count / 2] }
        let ar = timed.compactMap(\.allreduceSeconds)
        return Measured(stepSeconds: median(durations), allreduceSeconds: ar.isEmpty ? nil : median(ar),
                        bytes: timed.last?.allreduceBytes, steps: timed.count)
    }

    /// Images/s on `machines` machines from a measured compute time per step (per-rank batch `batch`).
    static func modelImagesPerSecond(machines: Int, batch: Int, compute: Double, bytes: Int, gbitPerSecond: Double) -> Double {
        let m = Double(machines)
        let ring = machines > 1 ? 2 * (m - 1) / m * Double(bytes) * 8 / (gbitPerSecond * 1e9) + 2 * (m - 1) * 50e-6 : 0
        return m * Double(batch) / (compute + ring)
    }

    public func run(_ context: BenchContext) throws -> BenchReport {
        var report = BenchReport(section: name)
        let mpirun = MPIBenchSection.findMpirun()
        if mpirun == nil { report.notes.append("mpirun not found: only the 1-rank rows are measured (apt-get install openmpi-bin libopenmpi-dev)") }
        let o = context.options
        let configs: [(preset: String, size: String, batch: Int, steps: Int)] = [
            ("fast", "128x192", 4, max(8, 4 * o.repeats)),
            ("paper", "\(o.height)x\(o.width)", o.batch, max(2, o.repeats)),
        ]
        let cores = ProcessInfo.processInfo.activeProcessorCount
        for c in configs {
            let one = try measure(ranks: 1, mpirun: mpirun, preset: c.preset, size: c.size, globalBatch: c.batch, steps: c.steps, warmup: o.warmup + 1)
            report.rows.append(row(c.preset, c.size, c.batch, "1 x \(cores) threads", one, baseline: one))
            guard mpirun != nil, c.batch % ranks == 0 else { continue }
            let many = try measure(ranks: ranks, mpirun: mpirun, preset: c.preset, size: c.size, globalBatch: c.batch, steps: c.steps, warmup: o.warmup + 1)
            report.rows.append(row(c.preset, c.size, c.batch, "\(ranks) x \(max(1, cores / ranks)) thread\(cores / ranks == 1 ? "" : "s")", many, baseline: one))
            // The scaling model from this machine's single-process step (one machine = one rank with all
            // its cores, per-rank batch = the global batch here) and the measured gradient bytes.
            if let bytes = many.bytes {
                for gbit in [10.0, 100.0] {
                    var values: [(key: String, value: BenchValue)] = [("model", .text("\(c.preset) \(Int(gbit)) Gbit/s"))]
                    for m in [1, 2, 4, 8, 16, 64, 256] {
                        let ips = MPIBenchSection.modelImagesPerSecond(machines: m, batch: c.batch, compute: one.stepSeconds, bytes: bytes, gbitPerSecond: gbit)
                        values.append(("img/s \(m)", .number(ips, format: ips < 10 ? "%.2f" : "%.1f")))
                    }
                    let ring = 2 * Double(bytes) * 8 / (gbit * 1e9)
                    values.append(("efficiency limit", .ratio(one.stepSeconds / (one.stepSeconds + ring))))
                    report.summary.append(contentsOf: [(key: "\(c.preset) \(Int(gbit))G", value: .text(values.dropFirst().map { "\($0.key)=\($0.value.display)" }.joined(separator: " ")))])
                }
            }
        }
        report.notes.append("allreduce ms is the time inside MPI_Allreduce on rank 0, waiting for the slower rank included")
        report.notes.append("same global batch in both rows; steps/s from the metrics log (median step after \(o.warmup + 1) warm-up steps), machine load: \(Self.load())")
        report.notes.append("scaling model: M machines each as fast as this one (all cores, the same per-machine batch), ring allreduce 2(M-1)/M x gradient bytes / bandwidth + 2(M-1) x 50 us")
        return report
    }

    func row(_ preset: String, _ size: String, _ batch: Int, _ layout: String, _ m: Measured, baseline: Measured) -> BenchRow {
        var v: [(key: String, value: BenchValue)] = [
            ("preset", .text(preset)), ("size", .text(size)), ("global batch", .number(Double(batch), format: "%.0f")),
            ("ranks x threads", .text(layout)), ("steps", .number(Double(m.steps), format: "%.0f")),
            ("step ms", .ms(m.stepSeconds)), ("steps/s", .number(1 / m.stepSeconds, format: "%.3f")),
            ("images/s", .number(Double(batch) / m.stepSeconds, format: "%.2f")),
            ("speed-up", .ratio(baseline.stepSeconds / m.stepSeconds)),
        ]
        v.append(("allreduce ms", m.allreduceSeconds.map { .ms($0) } ?? .text("-")))
        v.append(("allreduce MB", m.bytes.map { .number(Double($0) / 1e6, format: "%.2f") } ?? .text("-")))
        return BenchRow(v)
    }

    static func load() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)).map { $0.split(separator: " ").prefix(3).joined(separator: " ") } ?? "?"
    }
}

struct MPIBenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = "bench mpi: " + d }
}
