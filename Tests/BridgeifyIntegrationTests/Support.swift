import DBus
import Foundation
import NMTestSupport
import NetworkManager
import Testing

/// Every bridgeify test, one at a time: each starts its own container, and the timings they
/// print (a conversion end to end, a restore) mean little when containers compete for two cores.
@Suite(.serialized)
struct BridgeifyTests {}

// MARK: - Running bridgeify

/// The built bridgeify, next to the test bundle (`swift build` puts both in the same directory).
let bridgeifyPath: String = builtExecutable("bridgeify")

/// One run of bridgeify inside a container.
struct BridgeifyRun: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String
    /// The JSON document, when the run printed one (`--json`).
    var report: BridgeifyReport?

    var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }
}

/// The JSON document, as docs/bridgeify.md describes it.
struct BridgeifyReport: Decodable {
    struct Step: Decodable { var step: String; var detail: String; var milliseconds: Int; var endedAtMilliseconds: Int }
    /// `before` and `after` are structured D-Bus values (`{"signature", "value"}`), not text.
    struct Change: Decodable { var setting: String; var key: String; var before: DBusValue?; var after: DBusValue? }
    struct PlanStep: Decodable { var kind: String; var profile: String; var changes: [Change]; var alreadyDone: Bool }
    struct Plan: Decodable { var steps: [PlanStep] }
    struct IP: Decodable { var method: String; var addresses: [String]; var gateway: String?; var dns: [String]; var dnsSearch: [String]; var routes: [String] }
    struct Configuration: Decodable { var mac: String; var mtu: UInt32?; var stp: Bool; var ipv4: IP?; var ipv6: IP?; var source: String }
    struct Profile: Decodable { var name: String; var uuid: String }
    struct Profiles: Decodable { var bridge: Profile; var port: Profile; var superseded: [Profile] }
    struct Pending: Decodable {
        var id: String; var label: String; var checkpoint: String; var revertsAt: String?; var confirm: String; var rollback: String
        var state: String; var staleReason: String?
    }
    struct Rollback: Decodable { var restored: Bool; var milliseconds: Int?; var error: String? }
    struct ErrorInfo: Decodable { var code: String; var message: String; var hint: String?; var step: String? }

    var command: String
    var result: String
    var interface: String?
    var bridge: String?
    var elapsedMilliseconds: Int?
    var steps: [Step]
    var plan: Plan?
    var configuration: Configuration?
    var probes: [String]?
    var rollbackTimeoutSeconds: Int?
    var profiles: Profiles?
    var pending: [Pending]?
    var rollback: Rollback?
    var error: ErrorInfo?
    /// Where the host was read back in: before, committed, pending, needs-attention.
    var state: String?
    var differences: [String]?
    var warnings: [String]
    var restore: [String]?
    var summary: String?

    func milliseconds(of step: String) -> Int? { steps.last { $0.step == step }?.milliseconds }
}

extension NMContainer {
    /// Runs bridgeify inside the container, as an operator on the host would: in its network
    /// namespace (probes ping from there) and on its system bus, with `--json` unless told
    /// otherwise. `SSH_CONNECTION` is the test's choice, never the test runner's own.
    func bridgeify(_ arguments: [String], json: Bool = true, environment: [String: String] = [:],
                   asNobody: Bool = false, timeout: Double = 180) async throws -> BridgeifyRun {
        var command = ["env", "-u", "SSH_CONNECTION"] + environment.map { "\($0.key)=\($0.value)" }.sorted()
        if asNobody { command += ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] }
        command += [bridgeifyPath] + arguments + (json ? ["--json"] : [])
        let output = try await execAsync(command, timeout: timeout)
        var run = BridgeifyRun(status: output.status, stdout: output.stdout, stderr: output.stderr)
        if json { run.report = try? JSONDecoder().decode(BridgeifyReport.self, from: Data(output.stdout.utf8)) }
        return run
    }

    /// `exec` on a thread of its own: a conversion can take half a minute (STP), which must
    /// not hold a thread of the cooperative pool other suites share.
    func execAsync(_ arguments: [String], timeout: Double = 120) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try self.exec(arguments, timeout: timeout) }) }
        }
    }

    /// `execLAN` on a thread of its own.
    func execLANAsync(_ arguments: [String], timeout: Double = 120) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try self.execLAN(arguments, timeout: timeout) }) }
        }
    }

    /// A client of this container's NetworkManager, from the test process.
    func client() async throws -> NMClient { try await NMClient.connect(address: busAddress) }

    /// The kernel's global addresses on `interface` ("a.b.c.d/p", "2001:db8::1/64").
    func kernelAddresses(_ interface: String) throws -> [String] {
        try ipJSON(["addr", "show", "dev", interface]).flatMap { ($0["addr_info"] as? [[String: Any]]) ?? [] }.compactMap {
            guard let local = $0["local"] as? String, let prefix = $0["prefixlen"] as? Int, ($0["scope"] as? String) == "global"
            else { return nil }
            return "\(local)/\(prefix)"
        }.sorted()
    }

    /// The kernel's link facts of `interface`: controller, MAC, MTU.
    func kernelLink(_ interface: String) throws -> (controller: String?, mac: String?, mtu: Int?) {
        let link = try ipJSON(["link", "show", "dev", interface]).first ?? [:]
        return (link["master"] as? String, (link["address"] as? String)?.uppercased(), link["mtu"] as? Int)
    }

    /// Kills NetworkManager, removes what it configured in the kernel (bridges deleted, NICs
    /// detached and flushed), empties /run/NetworkManager and starts NetworkManager again: a
    /// reboot, as far as NetworkManager can tell.
    func simulateReboot(deleting bridges: [String]) async throws {
        try await crashNetworkManager()
        var script = bridges.map { "ip link del \($0) 2>/dev/null;" }.joined()
        for nic in nics { script += "ip link set \(nic) nomaster 2>/dev/null; ip addr flush dev \(nic); ip link set \(nic) down; ip link set \(nic) up;" }
        try execChecked(["sh", "-c", script])
        try await restartNetworkManager(clearRun: true)
    }

    /// Kills the container's NetworkManager with SIGKILL, as a crash would, and returns once
    /// it is gone. Nothing restarts it (`restartNetworkManager()` does).
    func crashNetworkManager() async throws {
        let status = try execHost([NMContainer.scriptPath, "status", name, "--json"])
        let parsed = try JSONSerialization.jsonObject(with: Data(status.utf8)) as? [[String: Any]] ?? []
        let pid = try #require(parsed.first?["networkManagerPid"] as? Int)
        // Only our NetworkManager: its name, and its network namespace is the container's.
        let comm = try String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let theirs = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/net")
        let ours = try FileManager.default.attributesOfItem(atPath: "/run/netns/\(name)")[.systemFileNumber] as? Int
        try #require(comm == "NetworkManager" && theirs == "net:[\(ours ?? -1)]", "pid \(pid) is not this container's NetworkManager")
        kill(Int32(pid), SIGKILL)
        let deadline = Date().addingTimeInterval(10)
        while let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), !stat.contains(") Z "), Date() < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func execHost(_ command: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

/// Polls `condition` every 100 ms until it holds or `timeout` passes (for states reached
/// after a NetworkManager restart, which no signal of ours announces).
func waitUntil(_ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    Issue.record("timed out waiting until \(what)")
}

/// The profiles that could autoconnect on `interface`.
func autoconnecting(on interface: String, _ nm: NMClient) async throws -> [String] {
    try await nm.profiles().filter {
        $0.profile.interfaceName?.rawValue == interface && $0.profile.connection.autoconnect != false
    }.map(\.profile.name).sorted()
}

/// Expects the host of `container` to equal `expected` now, and says what differs if not.
func expectSnapshot(_ container: NMContainer, _ client: NMClient, equals expected: NMHostSnapshot,
                    sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let now = try await NMHostSnapshot.take(container, client)
    #expect(now == expected, "the host differs: \(now.differences(from: expected).joined(separator: "; "))", sourceLocation: sourceLocation)
}
