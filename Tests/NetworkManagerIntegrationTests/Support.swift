import DBus
import Foundation
import NMTestSupport
import NetworkManager
import Testing

extension NMContainer {
    /// A client of this container's NetworkManager.
    func client() async throws -> NMClient { try await NMClient.connect(address: busAddress) }

    /// `nmcli -t -f FIELDS ...` inside, as lines.
    func nmcliLines(_ arguments: [String]) throws -> [String] {
        try execChecked(["nmcli", "-t"] + arguments).split(separator: "\n").map(String.init)
    }

    /// The kernel's IPv4 addresses on `interface`, as "a.b.c.d/p".
    func kernelIPv4(_ interface: String) throws -> [String] {
        let json = try execChecked(["ip", "-j", "-4", "addr", "show", "dev", interface])
        let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
        return parsed.flatMap { ($0["addr_info"] as? [[String: Any]]) ?? [] }.compactMap {
            guard let local = $0["local"] as? String, let prefix = $0["prefixlen"] as? Int else { return nil }
            return "\(local)/\(prefix)"
        }
    }

    /// The kernel's controller (bridge) of `interface`, if any.
    func kernelController(_ interface: String) throws -> String? {
        let json = try execChecked(["ip", "-j", "link", "show", "dev", interface])
        let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
        return parsed.first?["master"] as? String
    }
}

/// GetSettings of every profile, keyed by profile name, with what differs by nature between two
/// runs removed (uuid, timestamp) and a controller named by UUID replaced by its name.
func normalisedSettings(_ nm: NMClient) async throws -> [String: [String: [String: DBusValue]]] {
    let profiles = try await nm.profiles()
    let uuidToName = Dictionary(profiles.map { ($0.profile.uuid.uuidString.lowercased(), $0.profile.name) }, uniquingKeysWith: { a, _ in a })
    var result: [String: [String: [String: DBusValue]]] = [:]
    for stored in profiles {
        let reply = try await nm.connection.call(
            destination: NMClient.service, path: stored.path,
            interface: "org.freedesktop.NetworkManager.Settings.Connection", member: "GetSettings")
        var settings = try NMSettingsCodec.settings(fromWire: reply[0])
        settings["connection"]?["uuid"] = nil
        settings["connection"]?["timestamp"] = nil
        if case .string(let master)? = settings["connection"]?["master"], let name = uuidToName[master] {
            settings["connection"]?["master"] = .string(name)
        }
        result[stored.profile.name] = settings
    }
    return result
}

extension NMContainer {
    /// The kernel's IPv4 routes in the main table through `interface`, as `ip route` prints
    /// them without `proto`, `scope` and `src` (what varies by who added them), e.g.
    /// "198.51.100.0/24 via 192.168.1.1 metric 100".
    func kernelRoutes(_ interface: String) throws -> [String] {
        try execChecked(["ip", "-4", "route", "show", "table", "main", "dev", interface])
            .split(separator: "\n").map {
                String($0).replacingOccurrences(of: #" (proto|scope|src) \S+"#, with: "", options: .regularExpression)
                    .trimmingCharacters(in: .whitespaces)
            }.sorted()
    }
}

/// The failure report of a transaction that must fail: `apply`, `confirm` and `rollback` throw
/// `NMError` only (docs/decisions/0007), with the report in `transaction`.
func requireTransactionFailure<T>(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T
) async throws -> NMTransactionError {
    let error = try await #require(throws: NMError.self, sourceLocation: sourceLocation) { try await body() }
    return try #require(error.transaction, "an NMError without a transaction report: \(error)", sourceLocation: sourceLocation)
}
