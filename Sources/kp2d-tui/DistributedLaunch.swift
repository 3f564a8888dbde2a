import Distributed
import Foundation
import Training

// `mpirun -np N kp2d-tui ...`: what the commands do differently under an MPI launcher.
//   - MPI is initialised only here, and only when a launcher started the process (Launcher.isActive);
//     a plain `kp2d-tui` never touches it.
//   - --resume: rank 0 reads the checkpoint and sends its bytes to every rank, so the other machines
//     need no copy of it (they get a private temporary file for the options).
//   - rank 0 opens the workbench (or prints progress); the other ranks train headless and quietly.
//   - SIGTERM (mpirun stops the job: a rank died, or Ctrl-C on mpirun): rank 0 writes the last
//     completed step if it can within a second (mpirun sends SIGKILL after odls_base_sigkill_timeout,
//     1 s by default), every rank says why it stops, naming a rank of this machine that died, and
//     exits 143.
struct DistributedLaunch {
    let communicator: Communicator?
    var coordinator: RunCoordinator { communicator.map { MPIRunCoordinator(communicator: $0) } ?? LocalRun() }
    var isFollower: Bool { (communicator?.rank ?? 0) != 0 }
    private let temporaryResume: String?

    /// Start MPI if launched; under MPI, fetch rank 0's --resume checkpoint into `flags`.
    static func prepare(_ flags: inout TrainingFlags) throws -> DistributedLaunch {
        let comm: Communicator?
        do { comm = try Communicator.start() } catch { throw CommandFailure("\(error)") }
        guard let comm, comm.size > 1 else { return DistributedLaunch(communicator: comm, temporaryResume: nil) }
        var temporary: String?
        if let resume = flags.resume {
            var bytes: [UInt8] = []
            var readError: Error?
            if comm.isRoot { do { bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: resume))) } catch { readError = error } }
            let shared = try comm.broadcast(bytes: bytes, what: "the --resume checkpoint broadcast")
            if let readError { throw CommandFailure("rank 0 cannot read --resume \(resume): \(readError.localizedDescription)") }
            if shared.isEmpty { throw CommandFailure("rank \(comm.rank): rank 0 could not read --resume \(resume)") }
            if !comm.isRoot {
                let path = NSTemporaryDirectory() + "kp2d-resume-rank\(comm.rank)-\(getpid()).safetensors"
                try Data(shared).write(to: URL(fileURLWithPath: path))
                flags.resume = path
                temporary = path
            }
        }
        return DistributedLaunch(communicator: comm, temporaryResume: temporary)
    }

    /// "rank 1 of 2: " under MPI, "" otherwise.
    var prefix: String { communicator.map { "rank \($0.rank) of \($0.size): " } ?? "" }

    /// Remove the temporary copy of the resume checkpoint (once the trainer has read it).
    func cleanUp() { if let t = temporaryResume { try? FileManager.default.removeItem(atPath: t) } }

    /// MPI_Finalize after a normal end.
    func finish() { communicator?.finish() }

    /// Handle the launcher's SIGTERM as described above. Keep the returned source alive.
    func handleTermination(trainer: Trainer) -> DispatchSourceSignal? {
        guard let comm = communicator, comm.size > 1 else { return nil }
        if comm.isRoot { comm.beforeWatchdogAbort = { [weak trainer] in trainer?.emergencySave(timeout: 5) ?? "" } }
        signal(SIGTERM, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
        source.setEventHandler {
            let dead = comm.deadLocalPeers()
            let why = dead.isEmpty
                ? "the launcher is stopping the job (Ctrl-C on mpirun, or a rank on another machine ended: mpirun's message names it)"
                : dead.map { "rank \($0.rank) (pid \($0.pid) on \($0.host)) has died" }.joined(separator: ", ") + "; the launcher is stopping the job"
            var line = "kp2d-tui rank \(comm.rank) of \(comm.size): \(why)"
            if comm.isRoot {
                let saved = trainer.emergencySave(timeout: 0.7)
                if !saved.isEmpty { line += "; " + saved }
            }
            FileHandle.standardError.write(Data((line + "\n").utf8))
            // The other ranks do not exit by themselves: a rank that exits during mpirun's shutdown makes
            // it SIGKILL the rest at once, before rank 0's save (measured). mpirun's SIGKILL ends them.
            if !comm.isRoot { sleep(10) }
            exit(143)
        }
        source.resume()
        return source
    }

    /// Rank 0's workbench under mpirun: its stdin is a pipe from mpirun (or /dev/null), its stdout
    /// mpirun's pty, and mpirun puts it in a process group of its own, in the background of the terminal.
    /// So attach the launching terminal (/dev/tty) directly and make rank 0's group the terminal's
    /// foreground (keys and Ctrl-C then reach the workbench; the previous foreground group, mpirun's, is
    /// given the terminal back at exit). Start such runs with `mpirun --stdin none` so that mpirun itself
    /// does not read the keys.
    func attachTerminalForWorkbench() {
        guard communicator != nil, !isFollower, isatty(STDIN_FILENO) == 0 else { return }
        let fd = open("/dev/tty", O_RDWR)
        guard fd >= 0 else { return }
        signal(SIGTTOU, SIG_IGN)
        signal(SIGTTIN, SIG_IGN)
        let previous = tcgetpgrp(fd)
        if previous > 0, previous != getpgrp(), tcsetpgrp(fd, getpgrp()) == 0 {
            DistributedLaunch.previousForeground = previous
            atexit { DistributedLaunch.restoreForeground() }
        }
        dup2(fd, STDIN_FILENO)
        dup2(fd, STDOUT_FILENO)
        close(fd)
    }

    nonisolated(unsafe) static var previousForeground: pid_t = 0
    static func restoreForeground() {
        guard previousForeground > 0 else { return }
        _ = tcsetpgrp(STDIN_FILENO, previousForeground)
    }
}
