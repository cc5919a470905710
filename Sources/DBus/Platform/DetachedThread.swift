#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A thread of its own, outside Swift's cooperative pool, for work that blocks: a connection's
/// I/O loop (docs/decisions/0001) and, in the NetworkManager module, blocking system calls.
///
/// A few lines over pthreads rather than Foundation's `Thread`, which was the only reason the
/// DBus module needed Foundation: loading Foundation and ICU cost a short-lived command about
/// 10 ms before `main` (issue 6, docs/benchmarks.md item 4).
package enum DetachedThread {
    /// Runs `body` on a new, detached thread.
    /// - Parameter name: shown by `ps -L`, `top -H`, gdb and perf; Linux keeps 15 bytes of it.
    /// - Throws: ``DBusError`` (``DBusError/Code/noMemory``) when the system refuses a thread
    ///   (`pthread_create` fails with `EAGAIN` at the process's or the system's thread limit).
    package static func start(name: String? = nil, _ body: @escaping @Sendable () -> Void) throws(DBusError) {
        let status = spawn(Unmanaged.passRetained(Work(name: name, body: body)))
        guard status == 0 else {
            throw DBusError(.noMemory, "cannot start a thread (\(name ?? "unnamed")): \(String(cString: strerror(status)))",
                            hint: "the process or the system reached its thread limit")
        }
    }

    /// `pthread_create`, detached; on failure the work is released here. (Kept apart from
    /// `start`: Swift 6.3.1's region-based isolation checker crashes on the two together.)
    private static func spawn(_ work: Unmanaged<Work>) -> Int32 {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let status = pthread_create(&thread, &attributes, threadEntry, work.toOpaque())
        pthread_attr_destroy(&attributes)
        if status != 0 { work.release() }
        return status
    }

    /// Names the calling thread. Swift's Glibc module does not export `pthread_setname_np`
    /// (a `_GNU_SOURCE` function) and `prctl` is variadic, so this writes what both do: the
    /// thread's `comm`, which the kernel truncates to 15 bytes. Best effort: a name is a
    /// debugging aid, and a missing /proc changes nothing else.
    fileprivate static func setName(_ name: String) {
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    fileprivate final class Work {
        let name: String?
        let body: @Sendable () -> Void
        init(name: String?, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }
}

/// The new thread's entry point: takes back the retained work, names the thread, runs it.
private func threadEntry(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let work = Unmanaged<DetachedThread.Work>.fromOpaque(context!).takeRetainedValue()
    if let name = work.name { DetachedThread.setName(name) }
    work.body()
    return nil
}
