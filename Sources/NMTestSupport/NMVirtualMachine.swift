import Foundation

/// A Debian virtual machine running a real NetworkManager under QEMU (`scripts/nm-vm`), for
/// what the container cannot do: a real reboot, a power cut, a link dropped under a bond.
///
/// The VM lives in a network namespace of its own (`nmvm-NAME`) holding its taps, the LAN
/// bridge (gateway 192.168.1.1/24) with the NICs under test (guest `ens4`, `ens5`, ...),
/// and a management link NetworkManager does not manage, over which ``run(_:timeout:)``
/// reaches the guest by SSH. The build folder and the Swift runtime are shared read-only
/// over 9p at the same paths as on the host, so a binary built here runs in the guest.
/// Requires root and qemu-system-x86; when a VM cannot be built or booted, ``start(nics:shares:)``
/// throws (the tier fails, it does not skip).
///
/// ```swift
/// try await withNMVirtualMachine { vm in
///     let devices = try vm.runChecked("nmcli -t device")
///     try await vm.reboot()
/// }
/// ```
public final class NMVirtualMachine: Sendable {
    /// The VM's name (namespace `nmvm-NAME`).
    public let name: String
    /// The guest's NICs under test, in QEMU netdev order `nic1`, `nic2`, ...
    public let nics: [String]

    private let stopped = Locked(false)

    private init(name: String, nics: [String]) {
        self.name = name
        self.nics = nics
    }

    deinit {
        if !stopped.withLock({ $0 }) {
            _ = try? Command.run(Self.scriptPath, ["stop", name], timeout: 60)
        }
    }

    /// `$NM_VM_SCRIPT` if set, else `scripts/nm-vm` of the package this file was built from.
    public static let scriptPath: String = {
        if let path = ProcessInfo.processInfo.environment["NM_VM_SCRIPT"], !path.isEmpty { return path }
        return PackageRoot.path + "/scripts/nm-vm"
    }()

    /// Boots a fresh VM (a copy-on-write overlay of the cached image, built on first use)
    /// and waits until SSH answers and NetworkManager has finished starting.
    ///
    /// - Parameters:
    ///   - nics: how many NICs under test (1-4), wired to the LAN bridge.
    ///   - shares: host folders mounted read-only at the same path in the guest (the Swift
    ///     runtime always is).
    public static func start(nics: Int = 2, shares: [String] = []) async throws -> NMVirtualMachine {
        let name = "v" + String((0..<6).map { _ in Array("abcdefghijklmnopqrstuvwxyz0123456789").randomElement()! })
        var arguments = ["start", name, "--nics", String(nics)]
        for share in shares { arguments += ["--share", share] }
        let script = try Command.locate(scriptPath, package: "(the project's scripts/nm-vm)")
        // Room for the image build (debootstrap, several minutes) and a TCG boot.
        try await Command.runAsync(script, arguments, timeout: 2400).check("could not start VM '\(name)'")
        return NMVirtualMachine(name: name, nics: (0..<nics).map { "ens\($0 + 4)" })
    }

    /// Runs a shell command in the guest as root (multiplexed SSH over the management link).
    public func run(_ command: String, timeout: Double = 300) throws -> (status: Int32, stdout: String, stderr: String) {
        let output = try Command.run(Self.scriptPath, ["ssh", name, "--", command], timeout: timeout)
        return (output.status, output.stdout, output.stderr)
    }

    /// Runs a shell command in the guest and returns its stdout; throws unless it exits 0.
    @discardableResult
    public func runChecked(_ command: String, timeout: Double = 300) throws -> String {
        try Command.run(Self.scriptPath, ["ssh", name, "--", command], timeout: timeout)
            .check("command failed in VM '\(name)'").stdout
    }

    /// Runs a command in the VM's namespace: the LAN side (192.168.1.1 on `lan0`).
    public func runLAN(_ arguments: [String], timeout: Double = 300) throws -> (status: Int32, stdout: String, stderr: String) {
        let output = try Command.run(Self.scriptPath, ["lan", name, "--"] + arguments, timeout: timeout)
        return (output.status, output.stdout, output.stderr)
    }

    /// Sends a QEMU monitor command (`set_link nic1 off`) and returns its reply.
    @discardableResult
    public func monitor(_ command: String) throws -> String {
        try Command.run(Self.scriptPath, ["monitor", name, command], timeout: 30)
            .check("monitor command '\(command)' failed for '\(name)'").stdout
    }

    /// Reboots the guest (`systemctl reboot`) and waits until it is back with NetworkManager ready.
    public func reboot() async throws {
        try await Command.runAsync(Self.scriptPath, ["reboot", name], timeout: 900).check("VM '\(name)' did not reboot")
    }

    /// Kills QEMU (SIGKILL, by its pid): the disk keeps what reached it, nothing more.
    public func powerCut() async throws {
        try await Command.runAsync(Self.scriptPath, ["powercut", name], timeout: 60).check("could not power-cut '\(name)'")
    }

    /// Starts QEMU again on the same disk and waits as ``start(nics:shares:)`` does.
    public func boot() async throws {
        try await Command.runAsync(Self.scriptPath, ["boot", name], timeout: 900).check("VM '\(name)' did not boot")
    }

    /// The serial console log of every boot so far.
    public func console() throws -> String {
        try Command.run(Self.scriptPath, ["console", name]).stdout
    }

    /// Stops QEMU and removes the namespace and the overlay. Idempotent.
    public func stop() throws {
        try Command.run(Self.scriptPath, ["stop", name], timeout: 60).check("could not stop VM '\(name)'")
        stopped.withLock { $0 = true }
    }
}

/// Runs `body` with a fresh VM, stopped when the test ends whatever happens.
public func withNMVirtualMachine(
    nics: Int = 2, shares: [String] = [], _ body: (NMVirtualMachine) async throws -> Void
) async throws {
    let vm = try await NMVirtualMachine.start(nics: nics, shares: shares)
    do {
        try await body(vm)
    } catch {
        try? vm.stop()
        throw error
    }
    try vm.stop()
}
