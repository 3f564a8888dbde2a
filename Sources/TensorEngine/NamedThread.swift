import Foundation

// Every long-lived thread of the tool (trainer, batch loader, validation, probe, the workbench's evaluation and
// pin workers, the MPI watchdog, the signal watcher) starts here, so each has a name that gdb, `top -H`,
// `perf` and /proc/PID/task/*/comm show. Foundation's `Thread.name` does not reach the OS with this toolchain
// (the thread keeps the process's name), so the new thread names itself before running its body.

public enum NamedThread {
    /// Linux keeps at most 15 bytes of a thread name (`pthread_setname_np` refuses longer ones with ERANGE).
    public static let maxNameBytes = 15

    /// Start `body` on a new thread called `name` (at most `maxNameBytes` bytes) with the given stack size
    /// (Foundation's default when nil).
    @discardableResult
    public static func start(_ name: String, stackSize: Int? = nil,
                             _ body: @escaping @Sendable () -> Void) -> Thread {
        precondition(name.utf8.count <= maxNameBytes, "thread name \"\(name)\" is longer than \(maxNameBytes) bytes")
        let t = Thread {
            nameCurrentThread(name)
            body()
        }
        t.name = name
        if let stackSize { t.stackSize = stackSize }
        t.start()
        return t
    }

    /// Name the calling thread as the OS shows it (cut to `maxNameBytes` bytes).
    public static func nameCurrentThread(_ name: String) {
        // pthread_setname_np is not visible to Swift through Glibc (it needs _GNU_SOURCE) and prctl is
        // variadic; writing the thread's own comm file is what both do.
        let fd = open("/proc/thread-self/comm", O_WRONLY)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array(name.utf8.prefix(maxNameBytes))
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// The calling thread's name as the OS shows it ("" where it cannot be read).
    public static func currentName() -> String {
        guard let s = try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8) else { return "" }
        return s.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
