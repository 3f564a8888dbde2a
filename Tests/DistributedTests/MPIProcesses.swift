import Foundation

/// The pid of the kp2d-tui process of MPI rank `rank` (its OMPI_COMM_WORLD_RANK, read from /proc) for which
/// `belongs(commandLine, parentPid)` holds, that is, of this test's own job; nil if there is none.
func mpiRankPid(_ rank: Int, _ belongs: (_ commandLine: String, _ parent: Int32) -> Bool) -> Int32? {
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let pid = Int32(entry),
              let env = FileManager.default.contents(atPath: "/proc/\(entry)/environ"),
              let cmd = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
              let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8) else { continue }
        let commandLine = String(decoding: cmd, as: UTF8.self)
        guard commandLine.contains("kp2d-tui"),
              env.split(separator: 0).contains(where: { String(decoding: $0, as: UTF8.self) == "OMPI_COMM_WORLD_RANK=\(rank)" })
        else { continue }
        // stat: "pid (comm) state ppid ..."; the fields after the command name's closing parenthesis.
        let fields = stat.split(separator: ")").last!.split(separator: " ")
        guard fields.count > 1, let parent = Int32(fields[1]) else { continue }
        if belongs(commandLine, parent) { return pid }
    }
    return nil
}
