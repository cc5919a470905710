import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A private message bus (`dbus-daemon --session` with its own configuration) in a
/// temporary directory, for D-Bus integration tests, with python-dbusmock peers on it.
///
/// Nothing touches the host's system or session bus. Any user may connect (the socket
/// is world-writable and the policy allows every uid), so non-root callers can be tested
/// against the same bus.
///
/// ```swift
/// let bus = try PrivateBus.start()
/// defer { bus.stop() }
/// let peer = try bus.startMock(name: "com.example.Test", path: "/com/example/Test",
///                              interface: "com.example.Test")
/// try peer.addMethod(name: "Echo", inSignature: "s", outSignature: "s", code: "ret = args[0]")
/// ```
public final class PrivateBus: Sendable {
    /// The bus address: `unix:path=<directory>/bus`.
    public let address: String
    /// The temporary directory holding the socket, configuration and logs.
    public let directory: String
    /// The dbus-daemon's process id.
    public let pid: Int32

    private let daemon: ChildProcess
    private let mocks = Locked<[MockPeer]>([])
    private let stopped = Locked(false)

    private init(address: String, directory: String, daemon: ChildProcess) {
        self.address = address
        self.directory = directory
        self.daemon = daemon
        self.pid = daemon.pid
    }

    deinit { stop() }

    /// Environment that points libdbus's session bus at this bus
    /// (`DBUS_SESSION_BUS_ADDRESS`).
    public var environment: [String: String] { ["DBUS_SESSION_BUS_ADDRESS": address] }

    /// Starts a bus and waits (up to `timeout` seconds) until it answers.
    ///
    /// - Parameter limits: dbus-daemon `<limit>`s for the bus configuration, such as
    ///   `["max_replies_per_connection": 200]`; unset limits keep dbus-daemon's built-in
    ///   defaults (128 pending replies per connection in dbus 1.14).
    public static func start(timeout: Double = 10, limits: [String: Int] = [:]) throws -> PrivateBus {
        let dbusDaemon = try Command.locate("dbus-daemon", package: "dbus-daemon")
        let dbusSend = try Command.locate("dbus-send", package: "dbus-bin")

        var template = Array("/tmp/nmts-bus-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw TestSupportError(.unavailable, "mkdtemp failed: \(String(cString: strerror(errno)))")
        }
        let directory = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        chmod(directory, 0o755)
        let socket = directory + "/bus"
        let config = directory + "/bus.conf"
        // A session bus that any local user may use; a test bus has nothing to protect.
        let configText = """
            <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
             "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
            <busconfig>
              <type>session</type>
              <listen>unix:path=\(socket)</listen>
              <auth>EXTERNAL</auth>
              <policy context="default">
                <allow user="*"/>
                <allow send_destination="*" eavesdrop="true"/>
                <allow eavesdrop="true"/>
                <allow own="*"/>
              </policy>
            \(limits.sorted { $0.key < $1.key }.map { "  <limit name=\"\($0.key)\">\($0.value)</limit>\n" }.joined())</busconfig>

            """
        do {
            try configText.write(toFile: config, atomically: true, encoding: .utf8)
        } catch {
            throw TestSupportError(.unavailable, "cannot write \(config): \(error)")
        }

        let handle = try Command.spawn(
            dbusDaemon, ["--config-file=\(config)", "--nofork", "--nopidfile", "--nosyslog"],
            logPath: directory + "/dbus-daemon.log")
        OrphanGuard.watch(handle)
        let address = "unix:path=\(socket)"
        let bus = PrivateBus(address: address, directory: directory, daemon: handle)

        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if FileManager.default.fileExists(atPath: socket) {
                chmod(socket, 0o666)
                let ping = try Command.run(
                    dbusSend,
                    [
                        "--bus=\(address)", "--print-reply", "--dest=org.freedesktop.DBus",
                        "/org/freedesktop/DBus", "org.freedesktop.DBus.GetId",
                    ], timeout: 10)
                if ping.status == 0 { return bus }
            }
            if !handle.isRunning {
                let log = (try? String(contentsOfFile: directory + "/dbus-daemon.log", encoding: .utf8)) ?? ""
                throw TestSupportError(
                    .commandFailed, "dbus-daemon exited at once", command: [dbusDaemon, "--config-file=\(config)"],
                    status: handle.poll(), stderr: log)
            }
            if Date() >= deadline {
                throw TestSupportError(.timeout, "private bus did not answer within \(timeout) s")
            }
            usleep(10_000)
        }
    }

    /// Starts `python3 -m dbusmock NAME PATH INTERFACE` on this bus and waits (up to
    /// `timeout` seconds) until it owns `name`.
    ///
    /// - Parameter objectManager: also implement `org.freedesktop.DBus.ObjectManager` on
    ///   `path` (dbusmock `-m`).
    public func startMock(
        name: String, path: String, interface: String, objectManager: Bool = false, timeout: Double = 15
    ) throws -> MockPeer {
        let python = try Command.locate(MockPeer.python, package: "python3-dbusmock")
        let index = mocks.withLock { $0.count }
        let logPath = directory + "/mock-\(index)-calls.log"
        var arguments = ["-m", "dbusmock", "--session", "--logfile", logPath]
        if objectManager { arguments.append("--is-object-manager") }
        arguments += [name, path, interface]
        let outputPath = directory + "/mock-\(index).out"
        let process = try Command.spawn(python, arguments, environment: environment, logPath: outputPath)
        OrphanGuard.watch(process)
        let peer = MockPeer(
            busName: name, path: path, interface: interface, busAddress: address, logPath: logPath,
            outputPath: outputPath, process: process)
        mocks.withLock { $0.append(peer) }

        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if try nameHasOwner(name) { return peer }
            if !peer.isRunning {
                let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
                throw TestSupportError(
                    .commandFailed, "dbusmock for \(name) exited", command: [python] + arguments,
                    status: peer.process.poll(), stderr: output)
            }
            if Date() >= deadline {
                peer.kill()
                let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
                throw TestSupportError(
                    .timeout, "dbusmock did not own \(name) within \(timeout) s", command: [python] + arguments,
                    stderr: output)
            }
            usleep(20_000)
        }
    }

    /// Whether some connection owns `name` (`org.freedesktop.DBus.NameHasOwner`).
    public func nameHasOwner(_ name: String) throws -> Bool {
        let reply = try dbusSend(
            destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus",
            method: "org.freedesktop.DBus.NameHasOwner", arguments: ["string:\(name)"])
        return reply.contains("boolean true")
    }

    /// Calls a method with `dbus-send --print-reply` on this bus and returns the printed
    /// reply; throws (with dbus-send's error text) if the call fails.
    ///
    /// `arguments` use dbus-send's syntax: `string:eno1`, `uint32:7`, `array:string:a,b`.
    @discardableResult
    public func dbusSend(
        destination: String, path: String, method: String, arguments: [String] = [], timeout: Double = 25
    ) throws -> String {
        let dbusSend = try Command.locate("dbus-send", package: "dbus-bin")
        let output = try Command.run(
            dbusSend,
            [
                "--bus=\(address)", "--print-reply", "--reply-timeout=\(Int(timeout * 1000))",
                "--dest=\(destination)", path, method,
            ] + arguments, timeout: timeout + 5)
        return try output.check("\(method) on \(destination) failed").stdout
    }

    /// Kills the mocks started here and the daemon, and removes the directory. Idempotent.
    public func stop() {
        let first = stopped.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        for peer in mocks.withLock({ $0 }) { peer.kill() }
        daemon.terminate()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
