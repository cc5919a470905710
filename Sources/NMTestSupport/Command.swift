import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a finished command left behind.
struct CommandOutput: Sendable {
    var command: [String]
    var status: Int32
    var stdout: String
    var stderr: String

    /// Throws ``TestSupportError`` (kind `.commandFailed`, with stderr) unless status is 0.
    @discardableResult
    func check(_ what: @autoclosure () -> String) throws -> CommandOutput {
        guard status == 0 else {
            throw TestSupportError(
                .commandFailed, what(), command: command, status: status,
                stderr: stderr.isEmpty ? stdout : stderr)
        }
        return self
    }
}

/// Runs programs: `posix_spawn` and `waitpid`, not Foundation's `Process`.
///
/// Two traps of `Process` in swift-corelibs-foundation on Linux, both met here:
/// - It learns that its child exited when a socket it hands down reaches EOF, so a child
///   that leaves a daemon behind holding inherited descriptors stays "running" for the
///   daemon's lifetime (`terminationHandler` never fires, `waitUntilExit()` never returns).
///   scripts/nm-container starts daemons.
/// - The child inherits the signal mask of the spawning thread, and Swift Testing's
///   threads block most signals (SIGTERM, SIGCHLD, ...): a dbus-daemon started that way
///   ignored SIGTERM, and a shell would not see SIGCHLD.
///
/// So children here get an empty signal mask and default dispositions, their own process
/// group (a timeout kills the whole group), and no descriptors but 0, 1 and 2. Output goes
/// to unlinked temporary files, never pipes: nothing to drain, nothing to deadlock.
enum Command {
    /// Directories searched after `PATH`: daemons live in sbin, which a non-root PATH lacks.
    static let extraSearchPath = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]

    /// The absolute path of program `name`, or `.unavailable` naming the Debian package.
    static func locate(_ name: String, package: String) throws -> String {
        if name.hasPrefix("/") {
            guard FileManager.default.isExecutableFile(atPath: name) else {
                throw TestSupportError(
                    .unavailable, "\(name) is missing; install the Debian package \(package)")
            }
            return name
        }
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for dir in path + extraSearchPath where !dir.isEmpty {
            let candidate = dir + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw TestSupportError(
            .unavailable, "\(name) not found; install the Debian package \(package) (apt-get install \(package))")
    }

    /// Runs `executable` to completion and returns its status and output. After `timeout`
    /// seconds kills its process group with SIGKILL and throws `.timeout`.
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        timeout: TimeInterval = 120
    ) throws -> CommandOutput {
        let out = try CapturedFile()
        let err = try CapturedFile()
        let command = [executable] + arguments
        let child = try ChildProcess.spawn(
            executable, arguments, environment: environment, stdout: out.fd, stderr: err.fd)
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let status = child.poll() {
                return CommandOutput(command: command, status: status, stdout: out.readAll(), stderr: err.readAll())
            }
            if Date() >= deadline {
                child.kill(SIGKILL, group: true)
                _ = child.wait()
                throw TestSupportError(
                    .timeout, "\(executable) did not finish within \(timeout) s; killed", command: command,
                    stderr: err.readAll())
            }
            usleep(2_000)
        }
    }

    /// Like ``run(_:_:environment:timeout:)``, but suspends instead of blocking a thread of
    /// the cooperative pool: a plain thread waits for the child.
    static func runAsync(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        timeout: TimeInterval = 120
    ) async throws -> CommandOutput {
        let out = try CapturedFile()
        let err = try CapturedFile()
        let command = [executable] + arguments
        let child = try ChildProcess.spawn(
            executable, arguments, environment: environment, stdout: out.fd, stderr: err.fd)
        let timedOut = Locked(false)
        let timer = DispatchWorkItem {
            // kill() does nothing once the child is reaped, so the pid cannot be reused here.
            if child.kill(SIGKILL, group: true) { timedOut.withLock { $0 = true } }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: timer)
        let status: Int32 = await withCheckedContinuation { continuation in
            Thread {
                continuation.resume(returning: child.wait())
            }.start()
        }
        timer.cancel()
        if timedOut.withLock({ $0 }) {
            throw TestSupportError(
                .timeout, "\(executable) did not finish within \(timeout) s; killed", command: command,
                stderr: err.readAll())
        }
        return CommandOutput(command: command, status: status, stdout: out.readAll(), stderr: err.readAll())
    }

    /// Starts a long-running program with stdout and stderr appended to `logPath`.
    static func spawn(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], logPath: String
    ) throws -> ChildProcess {
        let fd = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw TestSupportError(.invalidArgument, "cannot open log file \(logPath): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        return try ChildProcess.spawn(executable, arguments, environment: environment, stdout: fd, stderr: fd)
    }

    static func mergedEnvironment(_ overrides: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in overrides { environment[key] = value }
        return environment
    }
}

/// A child process we spawned and alone reap (`waitpid` on its pid only).
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    private let lock = NSLock()
    private var exitStatus: Int32?
    private var waiting = false

    private init(pid: pid_t) { self.pid = pid }

    /// The exit status if the child has ended (reaping it), else nil.
    func poll() -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid {
            exitStatus = Self.decode(status)
        } else if result < 0 && errno == ECHILD && !waiting {
            exitStatus = -1  // reaped by someone else (SIGCHLD ignored?): gone, status unknown
        }
        return exitStatus
    }

    /// Blocks until the child ends; returns its exit status (128+N for signal N).
    func wait() -> Int32 {
        var status: Int32 = 0
        lock.withLock { waiting = true }
        defer { lock.withLock { waiting = false } }
        while true {
            if let done = lock.withLock({ exitStatus }) { return done }
            // Not under the lock: kill() and poll() must stay usable while we block here.
            let result = waitpid(pid, &status, 0)
            if result == pid {
                return lock.withLock {
                    if exitStatus == nil { exitStatus = Self.decode(status) }
                    return exitStatus!
                }
            }
            if result < 0 && errno == EINTR { continue }
            // ECHILD: reaped by a concurrent poll().
            if let done = lock.withLock({ exitStatus }) { return done }
            return -1
        }
    }

    var isRunning: Bool { poll() == nil }

    /// Sends `signal` to the child (or its whole process group) unless it was already
    /// reaped. Returns whether a signal was sent.
    @discardableResult
    func kill(_ signal: Int32, group: Bool = false) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        // Reaped children keep no pid: never signal a number that may belong to someone else.
        guard exitStatus == nil else { return false }
        return sendSignal(group ? -pid : pid, signal) == 0
    }

    /// SIGKILL, then reap.
    func killAndReap() {
        kill(SIGKILL)
        _ = wait()
    }

    /// SIGTERM, then SIGKILL after `grace` seconds; returns once the child is reaped.
    func terminate(grace: TimeInterval = 2) {
        guard kill(SIGTERM) else { _ = wait(); return }
        let deadline = Date().addingTimeInterval(grace)
        while isRunning && Date() < deadline { usleep(5_000) }
        if isRunning { kill(SIGKILL) }
        _ = wait()
    }

    private static func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }

    /// posix_spawn with an empty signal mask, default signal dispositions, a new process
    /// group, stdin from /dev/null and only descriptors 0-2 open.
    static func spawn(
        _ executable: String, _ arguments: [String], environment: [String: String], stdout: Int32, stderr: Int32
    ) throws -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        if let closeFrom = addCloseFrom {
            _ = closeFrom(&actions, 3)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = Command.mergedEnvironment(environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw TestSupportError(
                .unavailable, "cannot run \(executable): \(String(cString: strerror(result)))",
                command: [executable] + arguments)
        }
        return ChildProcess(pid: pid)
    }

    /// glibc ≥ 2.34's `posix_spawn_file_actions_addclosefrom_np`, which Swift's Glibc
    /// module does not export (it is a GNU extension).
    private static let addCloseFrom:
        (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
            else { return nil }
            return unsafeBitCast(
                symbol,
                to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
        }()
}

/// Kills daemons we started if this process dies without stopping them (a crashed test).
///
/// A detached shell polls once a second: when this process has ended (or is a zombie) it
/// SIGKILLs the daemon; when the daemon has ended it exits. Both are identified by pid and
/// start time, so a reused pid is never signalled. (`PR_SET_PDEATHSIG` would fire when the
/// spawning *thread* exits, which Swift's threads do.)
enum OrphanGuard {
    static func watch(_ child: ChildProcess) {
        let me = ProcessInfo.processInfo.processIdentifier
        guard let myStart = startTime(of: me), let childStart = startTime(of: child.pid) else { return }
        let loop = """
            st() { [ -r /proc/$1/stat ] && sed -E 's/^.*\\) //' /proc/$1/stat | awk '{ print ($1 == "Z") ? "Z" : $20 }'; }
            while [ "$(st \(child.pid))" = "\(childStart)" ]; do
                if [ "$(st \(me))" != "\(myStart)" ]; then kill -KILL \(child.pid); exit 0; fi
                sleep 1
            done
            """
        // The outer shell backgrounds the loop and exits at once (reaped here); the loop is
        // left to init, so no zombie of ours accumulates.
        _ = try? Command.run("/bin/sh", ["-c", "( \(loop)\n) >/dev/null 2>&1 &"], timeout: 10)
    }

    /// Field 22 of /proc/PID/stat: start time in clock ticks since boot.
    static func startTime(of pid: Int32) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? String(fields[19]) : nil
    }
}

/// An unlinked temporary file a child writes its output to; read back after it exits.
final class CapturedFile: @unchecked Sendable {
    let fd: Int32

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/nmts-output-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw TestSupportError(.unavailable, "mkstemp failed: \(String(cString: strerror(errno)))")
        }
        // Children get it through dup2 only; no other spawn (Foundation's, another
        // thread's) may inherit it.
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        unlink(template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        self.fd = fd
    }

    deinit { close(fd) }

    /// Everything written so far, as UTF-8 (invalid bytes replaced).
    func readAll() -> String {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        var offset: off_t = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data += buffer[0..<n]
            offset += off_t(n)
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// `kill(2)`, under a name that methods called `kill()` do not shadow.
@discardableResult
func sendSignal(_ pid: Int32, _ signal: Int32) -> Int32 {
    kill(pid, signal)
}

/// A value behind a lock, for the few mutable bits of otherwise immutable handles.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
