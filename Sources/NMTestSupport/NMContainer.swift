import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real NetworkManager in the project's namespace container (`scripts/nm-container`).
///
/// Each container has its own network namespace with veth NICs (default `eno1`) whose
/// other ends sit on a "LAN" bridge holding the gateway 192.168.1.1/24 and
/// 2001:db8:1::1/64 in the namespace `NAME-lan`, and its own system bus, reachable from
/// the host at ``busAddress``. Requires root; when the environment cannot run it,
/// ``start(name:nics:dhcp:eno1Static:release:)`` throws (tests fail, they do not skip).
///
/// The NetworkManager is the host's (Debian 12: 1.42), or another Debian release's when
/// ``defaultRelease`` (`$NM_CONTAINER_RELEASE`, e.g. `trixie` for 1.52) or `release:` names
/// one: `scripts/nm-container start --release`, which builds that release's root filesystem
/// once and runs its NetworkManager chrooted in the same namespaces.
///
/// ```swift
/// let container = try await NMContainer.start()
/// defer { try? container.stop() }
/// let devices = try container.execChecked(["nmcli", "-t", "device"])
/// ```
///
/// See docs/testing.md for the layout and for inspecting a container by hand.
public final class NMContainer: Sendable {
    /// The container's name: its network namespace, and `NAME-lan` for the LAN.
    public let name: String
    /// The container's system bus, as seen from the host: `unix:path=...`.
    public let busAddress: String
    /// The container's NICs (veth ends inside it).
    public let nics: [String]
    /// Where the container keeps its state: logs, private configuration, bus socket.
    public let stateDirectory: String
    /// The Debian release whose NetworkManager runs inside, or nil for the host's own.
    public let release: String?

    private let stopped = Locked(false)

    private init(name: String, busAddress: String, nics: [String], stateDirectory: String, release: String?) {
        self.name = name
        self.busAddress = busAddress
        self.nics = nics
        self.stateDirectory = stateDirectory
        self.release = release
    }

    deinit {
        // A test that forgot stop() (or threw before it) still leaves nothing behind.
        if !stopped.withLock({ $0 }) {
            _ = try? Command.run(Self.scriptPath, ["stop", name], timeout: 60)
        }
    }

    /// Path of the container script (`scripts/nm-container` in this repository): in order,
    ///
    /// 1. `$NM_CONTAINER_SCRIPT`, if set and not empty (an override, for trying a changed script);
    /// 2. the copy in NMTestSupport's resource bundle, next to the test executable: what a
    ///    downstream package that depends on the `NMTestSupport` product uses, with nothing
    ///    to copy or set;
    /// 3. the script in the sources this file was compiled from
    ///    (`Sources/NMTestSupport/Resources/nm-container`), when no bundle is found.
    ///
    /// ``start(name:nics:dhcp:eno1Static:release:)`` throws ``TestSupportError`` when the
    /// path it settles on holds no executable. Found once per process.
    public static let scriptPath: String = {
        if let path = ProcessInfo.processInfo.environment["NM_CONTAINER_SCRIPT"], !path.isEmpty {
            return path
        }
        if let path = ResourceBundle.file("nm-container") { return path }
        return PackageRoot.path + "/Sources/NMTestSupport/Resources/nm-container"
    }()

    /// The Debian release whose NetworkManager containers run unless told otherwise:
    /// `$NM_CONTAINER_RELEASE` (`scripts/test` sets it to `trixie` for its second pass), or
    /// nil, the host's NetworkManager.
    public static var defaultRelease: String? {
        let value = ProcessInfo.processInfo.environment["NM_CONTAINER_RELEASE"] ?? ""
        return value.isEmpty ? nil : value
    }

    /// Starts a container and waits until its NetworkManager has finished starting.
    ///
    /// - Parameters:
    ///   - name: 1-10 characters of `[a-z0-9-]`; by default a fresh unique name.
    ///   - nics: NIC names to create inside (veth), each wired to the LAN bridge.
    ///   - dhcp: run a DHCP server (dnsmasq, 192.168.1.100-150) on the LAN.
    ///   - eno1Static: add and activate the seed profile `eno1` (192.168.1.200/24,
    ///     gateway 192.168.1.1, DNS 114.114.114.114) with nmcli.
    ///   - release: a Debian release (`trixie`) whose NetworkManager runs inside instead of
    ///     the host's; its root filesystem is built on first use (a minute or two), which
    ///     this call then waits for.
    /// - Throws: ``TestSupportError`` carrying the script's stderr (not root, a package
    ///   missing, NetworkManager not answering with its log tail, ...).
    public static func start(
        name: String? = nil, nics: [String] = ["eno1"], dhcp: Bool = false, eno1Static: Bool = false,
        release: String? = NMContainer.defaultRelease
    ) async throws -> NMContainer {
        let name = name ?? uniqueName()
        // The script stops the container by itself once this process has ended: a test
        // process that crashes cannot run stop() or deinit, and its NetworkManager would
        // otherwise keep running.
        var arguments = ["start", name, "--owner-pid", String(ProcessInfo.processInfo.processIdentifier)]
        for nic in nics { arguments += ["--nic", nic] }
        if dhcp { arguments.append("--dhcp") }
        if eno1Static { arguments.append("--config-eno1-static") }
        if let release { arguments += ["--release", release] }
        // Room for building the release's root filesystem, or for waiting on another test
        // process that builds it (the script's own bound is 1200 s).
        let timeout: Double = release == nil ? 120 : 1500
        let script = try Command.locate(scriptPath, package: "(the project's scripts/nm-container)")
        var output = try await Command.runAsync(script, arguments, timeout: timeout)
        if output.status != 0 && output.stderr.contains("did not") && !output.stderr.contains("THE HOST CHANGED") {
            // Seen twice in a day on a loaded 2-core machine: a NetworkManager that never
            // answered within the start timeout (the script cleans up after itself). One more
            // try, with the first failure printed so that it stays visible in the log.
            FileHandle.standardError.write(Data(
                "NMContainer: starting '\(name)' failed once; retrying. First attempt:\n\(output.stderr.suffix(4000))\n".utf8))
            output = try await Command.runAsync(script, arguments, timeout: timeout)
        }
        try output.check("could not start NetworkManager container '\(name)'")
        let address = output.stdout.split(separator: "\n").last.map(String.init) ?? ""
        guard address.hasPrefix("unix:path=") else {
            throw TestSupportError(
                .commandFailed, "nm-container start printed no bus address", command: output.command,
                status: output.status, stderr: output.stderr + output.stdout)
        }
        let root = ProcessInfo.processInfo.environment["NM_CONTAINER_ROOT"] ?? "/tmp/nm-container"
        return NMContainer(name: name, busAddress: address, nics: nics, stateDirectory: root + "/" + name, release: release)
    }

    /// A name no other container of this process (nor, very likely, of another) uses.
    public static func uniqueName() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return "t" + String((0..<7).map { _ in alphabet.randomElement()! })
    }

    /// Runs a command inside the container (its mount, pid, uts and network namespaces;
    /// `nmcli` there talks to this container's NetworkManager).
    public func exec(_ arguments: [String], timeout: Double = 120) throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        let output = try Command.run(Self.scriptPath, ["exec", name, "--"] + arguments, timeout: timeout)
        return (output.status, output.stdout, output.stderr)
    }

    /// Runs a command inside the container and returns its stdout; throws unless it exits 0.
    @discardableResult
    public func execChecked(_ arguments: [String], timeout: Double = 120) throws -> String {
        let output = try Command.run(Self.scriptPath, ["exec", name, "--"] + arguments, timeout: timeout)
        return try output.check("command failed in container '\(name)'").stdout
    }

    /// Runs a command in the LAN namespace (`NAME-lan`: the bridge `lan0` with the gateway
    /// addresses, the DHCP server, the far ends `p-NIC` of the NICs).
    public func execLAN(_ arguments: [String], timeout: Double = 120) throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        let output = try Command.run(Self.scriptPath, ["nsexec-lan", name, "--"] + arguments, timeout: timeout)
        return (output.status, output.stdout, output.stderr)
    }

    /// Kills NetworkManager with SIGKILL and starts it again; returns once it answers.
    ///
    /// - Parameter clearRun: empty `/run/NetworkManager` (in-memory profiles, device
    ///   state) before the restart, as after a reboot.
    public func restartNetworkManager(clearRun: Bool = false) async throws {
        let arguments = ["restart-nm", name] + (clearRun ? ["--clear-run"] : [])
        try await Command.runAsync(Self.scriptPath, arguments, timeout: 120)
            .check("could not restart NetworkManager in '\(name)'")
    }

    /// The host pid of the container's NetworkManager, or nil when it does not run
    /// (`nm-container status NAME --json`).
    public func networkManagerPID() throws -> Int32? {
        (try status()["networkManagerPid"] as? Int).map(Int32.init)
    }

    /// The version the container's NetworkManager reported when it started ("1.52.1"), as
    /// `nm-container status NAME --json` gives it.
    public func networkManagerVersion() throws -> String? {
        try status()["networkManagerVersion"] as? String
    }

    /// `nm-container status NAME --json`, this container's entry.
    private func status() throws -> [String: Any] {
        let output = try Command.run(Self.scriptPath, ["status", name, "--json"]).check("no status for '\(name)'").stdout
        let parsed = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]] ?? []
        return parsed.first ?? [:]
    }

    /// Kills the container's NetworkManager with SIGKILL, as a crash would, and returns once it
    /// is gone. Nothing restarts it: ``restartNetworkManager(clearRun:)`` starts it again (and
    /// says so when it was not running).
    ///
    /// The pid is checked to be NetworkManager and to live in the container's network
    /// namespace before it is signalled.
    public func killNetworkManager() async throws {
        guard let pid = try networkManagerPID() else {
            throw TestSupportError(.commandFailed, "no NetworkManager runs in '\(name)'")
        }
        let comm = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // stat(2) follows /proc/PID/ns/net (a symlink) to the namespace itself.
        func namespace(_ path: String) -> (UInt64, UInt64)? {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            return (UInt64(info.st_dev), UInt64(info.st_ino))
        }
        let ours = namespace("/run/netns/\(name)")
        let theirs = namespace("/proc/\(pid)/ns/net")
        guard comm == "NetworkManager", let ours, let theirs, ours == theirs else {
            throw TestSupportError(.commandFailed, "pid \(pid) is not the NetworkManager of '\(name)' (\(comm ?? "gone"))")
        }
        kill(pid, SIGKILL)
        let deadline = Date().addingTimeInterval(10)
        // Gone once reaped by the container's init; a zombie (state Z) is dead already.
        while let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), !stat.contains(") Z ") {
            guard Date() < deadline else {
                throw TestSupportError(.timeout, "NetworkManager (pid \(pid)) survived SIGKILL for 10 s")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// NetworkManager's log (debug level) since the container started.
    public func networkManagerLog() throws -> String {
        try Command.run(Self.scriptPath, ["log", name]).check("no log for '\(name)'").stdout
    }

    /// Whether the container's pid 1 still runs (from `nm-container status NAME`).
    public var isRunning: Bool {
        (try? Command.run(Self.scriptPath, ["status", name]).status) == 0
    }

    /// Stops the container and removes its namespaces and state. Idempotent.
    public func stop() throws {
        try Command.run(Self.scriptPath, ["stop", name], timeout: 60)
            .check("could not stop container '\(name)'")
        stopped.withLock { $0 = true }
    }
}

/// The package's root directory, found from this file's path
/// (`<root>/Sources/NMTestSupport/NMContainer.swift`). Holds in this repository and in a
/// downstream package's checkout of it, as long as the sources stay where they were built.
enum PackageRoot {
    static var path: String {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // NMTestSupport
            .deletingLastPathComponent()  // Sources
            .deletingLastPathComponent()  // root
            .path
    }
}

/// NMTestSupport's resources (Package.swift: `resources: [.copy("Resources/nm-container")]`).
///
/// Not `Bundle.module`: its accessor traps when the bundle is missing, and the bundle's name
/// starts with the package's identity (`swift-networkmanager_NMTestSupport.resources`, but a
/// dependency on a fork or a renamed checkout gets another). SwiftPM puts the bundle next to
/// the executables it builds, so this looks there for any `*_NMTestSupport.resources`.
enum ResourceBundle {
    static func file(_ name: String) -> String? {
        var directories = [Bundle.main.bundleURL.path]
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            directories.append(URL(fileURLWithPath: executable).deletingLastPathComponent().path)
        }
        for directory in directories {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for entry in entries.sorted() where entry.hasSuffix("_NMTestSupport.resources") {
                let path = directory + "/" + entry + "/" + name
                if FileManager.default.isExecutableFile(atPath: path) { return path }
            }
        }
        return nil
    }
}

/// Runs `body` with a fresh container, stopped when the test ends whatever happens (a suite
/// instance's deinit is not guaranteed to run before the test process exits).
public func withNMContainer(
    nics: [String] = ["eno1"], dhcp: Bool = false, eno1Static: Bool = false,
    release: String? = NMContainer.defaultRelease,
    _ body: (NMContainer) async throws -> Void
) async throws {
    let container = try await NMContainer.start(nics: nics, dhcp: dhcp, eno1Static: eno1Static, release: release)
    do {
        try await body(container)
    } catch {
        try? container.stop()
        throw error
    }
    try container.stop()
}
