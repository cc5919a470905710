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

/// Runs programs with Foundation's `Process`.
///
/// Output goes to unlinked temporary files, not pipes: a command that leaves a daemon
/// behind (scripts/nm-container starts several) would hold a pipe's write end open and a
/// read-to-EOF would never return; a full pipe that nobody drains would block the child.
///
/// A trap of swift-corelibs-foundation on Linux: `Process` learns that its child exited
/// when a socket it hands to the child reaches EOF, so a child that leaves a daemon
/// holding inherited descriptors is "running" for as long as the daemon lives
/// (`terminationHandler` never fires, `waitUntilExit()` never returns). scripts/nm-container
/// therefore closes every inherited descriptor above 2 first thing.
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

    /// Runs `executable` to completion and returns its status and output. Kills it with
    /// SIGKILL after `timeout` seconds and throws `.timeout`.
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        timeout: TimeInterval = 120
    ) throws -> CommandOutput {
        let out = try CapturedFile()
        let err = try CapturedFile()
        let process = makeProcess(executable, arguments, environment: environment, stdout: out, stderr: err)
        let command = [executable] + arguments
        do {
            try process.run()
        } catch {
            throw TestSupportError(.unavailable, "cannot run \(executable): \(error)", command: command)
        }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() >= deadline {
                kill(process.processIdentifier, SIGKILL)
                // Not waitUntilExit(): see the note on `Command` about descendants.
                let reapDeadline = Date().addingTimeInterval(5)
                while process.isRunning && Date() < reapDeadline { usleep(10_000) }
                throw TestSupportError(
                    .timeout, "\(executable) did not finish within \(timeout) s; killed", command: command,
                    stderr: err.readAll())
            }
            usleep(2_000)
        }
        process.waitUntilExit()
        return CommandOutput(
            command: command, status: process.terminationStatus, stdout: out.readAll(), stderr: err.readAll())
    }

    /// Like ``run(_:_:environment:timeout:)`` but suspends instead of blocking a thread of
    /// the cooperative pool while the command runs.
    static func runAsync(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        timeout: TimeInterval = 120
    ) async throws -> CommandOutput {
        let out = try CapturedFile()
        let err = try CapturedFile()
        let process = makeProcess(executable, arguments, environment: environment, stdout: out, stderr: err)
        let command = [executable] + arguments
        let timedOut = Locked(false)
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { process in
                continuation.resume(returning: process.terminationStatus)
            }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(
                    throwing: TestSupportError(.unavailable, "cannot run \(executable): \(error)", command: command))
                return
            }
            let pid = process.processIdentifier
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [process] in
                // Capturing `process` keeps the object alive until then. (A process that
                // exits right between the check and kill() leaves a tiny pid-reuse race,
                // acceptable for a 120 s test deadline.)
                if process.isRunning {
                    timedOut.withLock { $0 = true }
                    kill(pid, SIGKILL)
                }
            }
        }
        if timedOut.withLock({ $0 }) {
            throw TestSupportError(
                .timeout, "\(executable) did not finish within \(timeout) s; killed", command: command,
                stderr: err.readAll())
        }
        return CommandOutput(command: command, status: status, stdout: out.readAll(), stderr: err.readAll())
    }

    /// Starts a long-running program with its output appended to `logPath`.
    static func spawn(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], logPath: String
    ) throws -> Process {
        guard FileManager.default.createFile(atPath: logPath, contents: nil),
            let log = FileHandle(forWritingAtPath: logPath)
        else {
            throw TestSupportError(.invalidArgument, "cannot create log file \(logPath)")
        }
        defer { try? log.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = mergedEnvironment(environment)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        do {
            try process.run()
        } catch {
            throw TestSupportError(
                .unavailable, "cannot run \(executable): \(error)", command: [executable] + arguments)
        }
        return process
    }

    private static func makeProcess(
        _ executable: String, _ arguments: [String], environment: [String: String],
        stdout: CapturedFile, stderr: CapturedFile
    ) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = mergedEnvironment(environment)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdout.handle
        process.standardError = stderr.handle
        return process
    }

    static func mergedEnvironment(_ overrides: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in overrides { environment[key] = value }
        return environment
    }
}

/// An unlinked temporary file a child writes its output to; read back after it exits.
final class CapturedFile: @unchecked Sendable {
    let handle: FileHandle

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/nmts-output-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw TestSupportError(.unavailable, "mkstemp failed: \(String(cString: strerror(errno)))")
        }
        unlink(template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    /// Everything written so far, as UTF-8 (invalid bytes replaced).
    func readAll() -> String {
        do {
            try handle.seek(toOffset: 0)
            let data = try handle.readToEnd() ?? Data()
            return String(decoding: data, as: UTF8.self)
        } catch {
            return "<cannot read captured output: \(error)>"
        }
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
