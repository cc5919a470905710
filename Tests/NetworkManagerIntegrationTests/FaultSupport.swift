import DBus
import Foundation
import NMTestSupport
import NetworkManager
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// nm-testtool running `apply` (or another subcommand) as a separate process that the fault
/// tests can pause at a step and SIGKILL, as root or as `nobody`.
///
/// Foundation's `Process` is enough here: the tool starts no daemon that could hold its pipes
/// open (the trap described in Command.swift), and SIGKILL cannot be blocked by the signal
/// mask it inherits.
final class TestTool: Sendable {
    let process: Process
    private let stdinPipe = Pipe()
    private let lines: AsyncStream<String>
    private let collected = LineLog()

    /// Starts `nm-testtool ARGUMENTS`, as `nobody` through setpriv when `asNobody`.
    init(_ arguments: [String], asNobody: Bool = false) throws {
        let process = Process()
        if asNobody {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", PermissionTests.tool] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: PermissionTests.tool)
            process.arguments = arguments
        }
        let stdoutPipe = Pipe()
        process.standardOutput = stdoutPipe
        process.standardInput = stdinPipe
        self.process = process
        let (stream, continuation) = AsyncStream<String>.makeStream()
        lines = stream
        try process.run()
        // One thread reads the tool's stdout line by line and hands each line on.
        let reader = stdoutPipe.fileHandleForReading
        let collected = self.collected
        Thread.detachNewThread {
            var pending = Data()
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    collected.lines.withLock { $0.append(line) }
                    continuation.yield(line)
                }
            }
            if !pending.isEmpty {
                let line = String(decoding: pending, as: UTF8.self)
                collected.lines.withLock { $0.append(line) }
                continuation.yield(line)
            }
            continuation.finish()
        }
    }

    var pid: Int32 { process.processIdentifier }

    /// Waits for the line that starts with `prefix` (the tool prints it and flushes).
    func waitForLine(startingWith prefix: String, timeout: Duration = .seconds(60)) async throws -> String {
        let lines = self.lines
        let found = try await deadline(timeout, "nm-testtool printing \"\(prefix)\"") { () -> String? in
            for await line in lines where line.hasPrefix(prefix) { return line }
            return nil
        }
        guard let found else {
            throw NMError(.failed, "nm-testtool ended without printing \"\(prefix)\": \(collected.lines.withLock { $0 })")
        }
        return found
    }

    /// Lets a paused tool go on.
    func resume() {
        stdinPipe.fileHandleForWriting.write(Data("continue\n".utf8))
    }

    /// SIGKILL, as a crash or the OOM killer would; returns once it is gone.
    func kill() {
        _ = Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Waits for the tool to finish and decodes its JSON outcome (the last line it printed).
    func outcome(timeout: Duration = .seconds(120)) async throws -> ToolOutcome {
        let lines = self.lines
        _ = try await deadline(timeout, "nm-testtool finishing") { () -> Bool in
            for await _ in lines {}
            return true
        }
        process.waitUntilExit()
        guard let last = collected.lines.withLock({ $0.last(where: { $0.hasPrefix("{") }) }) else {
            throw NMError(.failed, "nm-testtool printed no outcome: \(collected.lines.withLock { $0 })")
        }
        return try JSONDecoder().decode(ToolOutcome.self, from: Data(last.utf8))
    }

    deinit {
        if process.isRunning { _ = Glibc.kill(process.processIdentifier, SIGKILL) }
    }
}

/// A value shared with closures that run elsewhere (progress callbacks, detached tasks).
final class Shared<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>
    init(_ value: Value) { storage = Mutex(value) }
    var value: Value {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
    /// Sets `newValue` and returns the old value, atomically.
    func exchange(_ newValue: Value) -> Value {
        storage.withLock { old in
            defer { old = newValue }
            return old
        }
    }
}

/// Every line a tool printed, shared with its reader thread.
final class LineLog: Sendable {
    let lines = Mutex<[String]>([])
}

/// What nm-testtool prints (Tests/NMTestTool/main.swift).
struct ToolOutcome: Decodable, CustomStringConvertible {
    var ok: Bool
    var code: String?
    var message: String?
    var hint: String?
    var dbusName: String?
    var detail: String?
    var step: String?
    var rollback: String?
    var rollbackMilliseconds: Int?
    var outcome: String?
    var checkpoint: String?

    var description: String {
        "ok=\(ok) step=\(step ?? "-") code=\(code ?? "-") rollback=\(rollback ?? "-") message=\(message ?? "-") hint=\(hint ?? "-") detail=\(detail ?? "-")"
    }
}

/// Runs `body` with a deadline; past it, throws a timeout naming `what`.
func deadline<T: Sendable>(_ timeout: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw NMError(.timeout, "\(what) did not happen within \(timeout)")
        }
        return value
    }
}

/// NetworkManager's part of a ``HostSnapshot``: which profile is active on which device,
/// the device states and the number of checkpoints. Cheap enough to read after every signal.
struct NMView: Equatable, CustomStringConvertible {
    var activeOnDevice: [String: String]
    var deviceStates: [String: String]
    var checkpoints: Int
    /// Whether nothing is on its way: no device in a transitional state, no active connection
    /// activating or deactivating, NetworkManager not starting up.
    var settled: Bool

    init(_ snapshot: NMSnapshot, startingUp: Bool = false) {
        var activeOnDevice: [String: String] = [:]
        var deviceStates: [String: String] = [:]
        for device in snapshot.devices where device.isReal {
            deviceStates[device.interface.rawValue] = device.state.description
            if let path = device.activeConnection, let active = snapshot.activeConnections.first(where: { $0.path == path }) {
                activeOnDevice[device.interface.rawValue] = active.name
            }
        }
        self.activeOnDevice = activeOnDevice
        self.deviceStates = deviceStates
        checkpoints = snapshot.checkpoints.count
        settled = !startingUp && !snapshot.devices.contains { $0.state.isTransitional }
            && !snapshot.activeConnections.contains { $0.state != .activated && $0.state != .deactivated }
    }

    init(_ host: HostSnapshot) {
        activeOnDevice = host.activeOnDevice
        deviceStates = host.deviceStates
        checkpoints = host.checkpoints
        settled = true
    }

    var description: String { "active=\(activeOnDevice) states=\(deviceStates) checkpoints=\(checkpoints) settled=\(settled)" }
}

extension NMClient {
    /// NetworkManager's view now.
    func view() async throws -> NMView {
        let snapshot = try await snapshot()
        let startingUp: Bool = (try? await connection.property(
            "Startup", of: "org.freedesktop.NetworkManager", at: "/org/freedesktop/NetworkManager", on: NMClient.service)) ?? false
        return NMView(snapshot, startingUp: startingUp)
    }

    /// Waits, on NetworkManager's PropertiesChanged signals (every state change, the
    /// Checkpoints property, Startup), until `condition` holds for a view (a settled one unless
    /// `settled` is false). Subscribes before the first look, so no change is missed; never sleeps.
    ///
    /// - Returns: the view that satisfied it.
    @discardableResult
    func waitForView(timeout: Duration, _ what: String, settled: Bool = true,
                     _ condition: @escaping @Sendable (NMView) -> Bool) async throws -> NMView {
        let requireSettled = settled
        // Every signal NetworkManager sends (state changes, PropertiesChanged) wakes the check.
        let changes = try await connection.signals(
            matching: DBusMatchRule(sender: NMClient.service, pathNamespace: "/org/freedesktop/NetworkManager"))
        let last = Mutex<NMView?>(nil)
        do {
            return try await deadline(timeout, what) {
                var view = try await self.view()
                last.withLock { $0 = view }
                if (view.settled || !requireSettled) && condition(view) { return view }
                for try await _ in changes {
                    view = try await self.view()
                    last.withLock { $0 = view }
                    if (view.settled || !requireSettled) && condition(view) { return view }
                }
                throw NMError(.disconnected, "NetworkManager's signals ended while waiting for \(what)")
            }
        } catch {
            throw NMError(.timeout, "\(error); last seen: \(last.withLock { $0 }.map(\.description) ?? "nothing")")
        }
    }

    /// Waits until NetworkManager's view is that of `host` (settled), as after a rollback.
    @discardableResult
    func waitUntilLike(_ host: HostSnapshot, timeout: Duration, _ what: String) async throws -> NMView {
        let wanted = NMView(host)
        return try await waitForView(timeout: timeout, what) { $0 == wanted }
    }
}

extension NMContainer {
    /// What a reboot does to NetworkManager's world, short of rebooting a kernel: NetworkManager
    /// is killed (SIGKILL, no clean shutdown), the kernel's software devices (`softwareDevices`,
    /// such as br0) disappear and the NICs come up unconfigured (addresses and routes flushed,
    /// link down), /run is emptied (in-memory profiles, device state files), and
    /// NetworkManager starts again with only what is on disk.
    func simulateReboot(softwareDevices: [String], nics: [String]) async throws {
        try await killNetworkManager()
        for device in softwareDevices {
            _ = try exec(["ip", "link", "del", device])  // absent is fine: it may not exist yet
        }
        for nic in nics {
            try execChecked(["ip", "link", "set", nic, "nomaster"])
            try execChecked(["ip", "addr", "flush", "dev", nic])
            try execChecked(["ip", "link", "set", nic, "down"])
        }
        try await restartNetworkManager(clearRun: true)
    }
}

/// Milliseconds, for printing measured times.
func ms(_ duration: Duration) -> Int {
    Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
}
