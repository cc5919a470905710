import DBus
import Foundation
import NMTestSupport
import NetworkManager
import Testing

// Support for NetStateIntegrationTests. `HostState` is BridgeifyIntegrationTests' reader of
// "everything a test compares", copied (test targets cannot share code without a new support
// target; noted in docs/netstate.md as later work).

/// Every netstate test, one at a time: each starts its own container.
@Suite(.serialized)
struct NetStateScenarios {}

let netstatePath: String = builtExecutable("netstate")

struct NetStateRun: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String
    var report: [String: Any]?
    var result: String? { report?["result"] as? String }
    var hostState: String? { report?["state"] as? String }
    var errorPath: String? { (report?["error"] as? [String: Any])?["path"] as? String }
    var planSteps: [[String: Any]] { ((report?["plan"] as? [String: Any])?["steps"] as? [[String: Any]]) ?? [] }
    var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }
}

extension NMContainer {
    /// Runs netstate inside the container (its namespace and bus), `--json` unless told otherwise.
    func netstate(_ arguments: [String], json: Bool = true, timeout: Double = 180) async throws -> NetStateRun {
        let command = [netstatePath] + arguments + (json ? ["--json"] : [])
        let output = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try self.exec(command, timeout: timeout) }) }
        }
        var run = NetStateRun(status: output.status, stdout: output.stdout, stderr: output.stderr)
        if json, arguments.first != "show" {
            run.report = try? JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        }
        return run
    }

    /// `netstate apply` of `yaml`, written to a file the container can read.
    func apply(_ yaml: String, _ extra: [String] = []) async throws -> NetStateRun {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("netstate-\(UUID().uuidString).yml").path
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        return try await netstate(["apply", file] + extra)
    }

    func client() async throws -> NMClient { try await NMClient.connect(address: busAddress) }

    func ipJSON(_ arguments: [String]) throws -> [[String: Any]] {
        let text = try execChecked(["ip", "-j"] + arguments)
        return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] ?? []
    }

    func kernelAddresses(_ interface: String) throws -> [String] {
        try ipJSON(["addr", "show", "dev", interface]).flatMap { ($0["addr_info"] as? [[String: Any]]) ?? [] }.compactMap {
            guard let local = $0["local"] as? String, let prefix = $0["prefixlen"] as? Int, ($0["scope"] as? String) == "global"
            else { return nil }
            return "\(local)/\(prefix)"
        }.sorted()
    }

    func controller(of interface: String) throws -> String? {
        try ipJSON(["link", "show", "dev", interface]).first?["master"] as? String
    }
}
struct HostState: Equatable, CustomStringConvertible {
    var profiles: [String: [String: [String: DBusValue]]]
    var storage: [String: String]
    var active: [String: String]
    var deviceStates: [String: String]
    var addresses: [String: [String]]
    var routes: [String]
    var controllers: [String: String]
    var macs: [String: String]
    var checkpoints: Int

    static func take(_ container: NMContainer, _ nm: NMClient) async throws -> HostState {
        let stored = try await nm.profiles()
        var profiles: [String: [String: [String: DBusValue]]] = [:]
        var storage: [String: String] = [:]
        for profile in stored {
            let reply = try await nm.connection.call(
                destination: NMClient.service, path: profile.path,
                interface: "org.freedesktop.NetworkManager.Settings.Connection", member: "GetSettings")
            var settings = try NMSettingsCodec.settings(fromWire: reply[0])
            settings["connection"]?["timestamp"] = nil
            if profile.profile.type == .loopback { settings["connection"]?["uuid"] = nil }
            profiles[profile.profile.name] = settings
            if profile.profile.type != .loopback { storage[profile.profile.name] = profile.isInMemory ? "memory" : "disk" }
        }
        let snapshot = try await nm.snapshot()
        var active: [String: String] = [:]
        var states: [String: String] = [:]
        for device in snapshot.devices where device.isReal {
            states[device.interface.rawValue] = device.state.description
            if let path = device.activeConnection, let connection = snapshot.activeConnections.first(where: { $0.path == path }) {
                active[device.interface.rawValue] = connection.name
            }
        }
        var addresses: [String: [String]] = [:]
        var controllers: [String: String] = [:]
        var macs: [String: String] = [:]
        for link in try container.ipJSON(["addr"]) {
            guard let name = link["ifname"] as? String, name != "lo" else { continue }
            addresses[name] = ((link["addr_info"] as? [[String: Any]]) ?? []).compactMap { info -> String? in
                guard let local = info["local"] as? String, let prefix = info["prefixlen"] as? Int,
                    (info["scope"] as? String) != "link"
                else { return nil }
                return "\(local)/\(prefix)"
            }.sorted()
            if let master = link["master"] as? String { controllers[name] = master }
            if let mac = link["address"] as? String { macs[name] = mac }
        }
        var routes: [String] = []
        for family in ["-4", "-6"] {
            routes += try container.execChecked(["ip", family, "route", "show", "table", "main"]).split(separator: "\n").map {
                String($0).replacingOccurrences(of: #" proto \w+"#, with: "", options: .regularExpression)
                    .replacingOccurrences(of: #" expires \d+sec"#, with: "", options: .regularExpression)
            }.filter { !$0.hasPrefix("fe80::") && !$0.hasPrefix("multicast") && !$0.hasPrefix("127.0.0.0/8 dev lo ") }
        }
        return HostState(profiles: profiles, storage: storage, active: active, deviceStates: states, addresses: addresses,
                         routes: routes.sorted(), controllers: controllers, macs: macs, checkpoints: snapshot.checkpoints.count)
    }

    var description: String {
        "profiles=\(profiles.keys.sorted()) storage=\(storage) active=\(active) states=\(deviceStates) addresses=\(addresses) "
            + "routes=\(routes) controllers=\(controllers) checkpoints=\(checkpoints)"
    }

    func differences(from other: HostState) -> [String] {
        var out: [String] = []
        for name in Set(profiles.keys).union(other.profiles.keys).sorted() where profiles[name] != other.profiles[name] {
            out.append("profile \(name): \(String(describing: profiles[name])) vs \(String(describing: other.profiles[name]))")
        }
        if storage != other.storage { out.append("storage: \(storage) vs \(other.storage)") }
        if active != other.active { out.append("active: \(active) vs \(other.active)") }
        if deviceStates != other.deviceStates { out.append("device states: \(deviceStates) vs \(other.deviceStates)") }
        if addresses != other.addresses { out.append("addresses: \(addresses) vs \(other.addresses)") }
        if routes != other.routes { out.append("routes: \(routes) vs \(other.routes)") }
        if controllers != other.controllers { out.append("controllers: \(controllers) vs \(other.controllers)") }
        if macs != other.macs { out.append("MACs: \(macs) vs \(other.macs)") }
        if checkpoints != other.checkpoints { out.append("checkpoints: \(checkpoints) vs \(other.checkpoints)") }
        return out
    }
}

