public import NetworkManager
import Foundation

/// Everything about a container's host that a change may touch, read "exactly": for a test
/// that asserts a failed or undone operation left the host as it was before
/// (`#expect(try await NMHostSnapshot.take(container, nm) == before)`).
///
/// It holds the stored profiles with their full settings (`GetSettings` on
/// `org.freedesktop.NetworkManager.Settings.Connection`) and their storage (memory or disk),
/// which profile is active on which device and each real device's state, and from the kernel
/// (`ip -j addr`, `ip route show table main`) the addresses, routes, controllers (`master`) and
/// MACs of every interface but `lo`, and the number of checkpoints
/// (`org.freedesktop.NetworkManager.Checkpoints`).
///
/// What it leaves out, on purpose, so that two snapshots of an unchanged host are equal:
/// - every profile's `connection.timestamp` (NetworkManager updates it while a profile is active);
/// - link-local addresses, `fe80::` and `multicast` routes, and the routes' `proto` and
///   `expires` (they change with every router advertisement) and `linkdown` (the carrier: a
///   bridge with STP on has none until a port forwards, a forward delay after it is
///   committed);
/// - NetworkManager's own loopback profile's storage and UUID (after a reboot NetworkManager
///   makes a new one; its settings still count), and lo's `127.0.0.0/8` route: an undo after a
///   NetworkManager crash may activate lo's profile before NetworkManager has taken lo back as
///   "external", and NetworkManager then manages lo (docs/networkmanager-quirks.md).
///
/// Used by BridgeifyIntegrationTests and NetStateIntegrationTests; another package's tests may
/// use it with their own containers.
public struct NMHostSnapshot: Equatable, Sendable, CustomStringConvertible {
    /// Every stored profile by name: its settings as `GetSettings` returns them, without
    /// `connection.timestamp` (and, for the loopback profile, without `connection.uuid`).
    public var profiles: [String: [String: [String: DBusValue]]]
    /// Where each profile (but the loopback one) is stored: `"memory"` or `"disk"`.
    public var storage: [String: String]
    /// The active connection's name on each real device that has one, by interface.
    public var active: [String: String]
    /// Each real device's state (`NMDeviceState`'s description), by interface.
    public var deviceStates: [String: String]
    /// The kernel's addresses but link-local ones (`"a.b.c.d/p"`), sorted, by interface but `lo`.
    public var addresses: [String: [String]]
    /// The kernel's IPv4 and IPv6 routes of table main (`ip route` lines without `proto`,
    /// `expires` and `linkdown`), sorted; without `fe80::`, `multicast` and lo's `127.0.0.0/8`.
    public var routes: [String]
    /// Each port's controller (the kernel's `master`), by interface.
    public var controllers: [String: String]
    /// Each interface's MAC address (the kernel's), by interface.
    public var macs: [String: String]
    /// How many checkpoints NetworkManager holds.
    public var checkpoints: Int

    /// Creates a snapshot from its parts (a test that builds an expected state by hand).
    public init(
        profiles: [String: [String: [String: DBusValue]]], storage: [String: String], active: [String: String],
        deviceStates: [String: String], addresses: [String: [String]], routes: [String],
        controllers: [String: String], macs: [String: String], checkpoints: Int
    ) {
        self.profiles = profiles
        self.storage = storage
        self.active = active
        self.deviceStates = deviceStates
        self.addresses = addresses
        self.routes = routes
        self.controllers = controllers
        self.macs = macs
        self.checkpoints = checkpoints
    }

    /// Reads the host of `container` now: NetworkManager's side through `client` (a client of
    /// the same container's NetworkManager), the kernel's with `ip` inside the container.
    public static func take(_ container: NMContainer, _ client: NMClient) async throws -> NMHostSnapshot {
        let stored = try await client.profiles()
        var profiles: [String: [String: [String: DBusValue]]] = [:]
        var storage: [String: String] = [:]
        for profile in stored {
            let reply = try await client.connection.call(
                destination: NMClient.service, path: profile.path,
                interface: "org.freedesktop.NetworkManager.Settings.Connection", member: "GetSettings")
            var settings = try NMSettingsCodec.settings(fromWire: reply[0])
            settings["connection"]?["timestamp"] = nil
            if profile.profile.type == .loopback { settings["connection"]?["uuid"] = nil }
            profiles[profile.profile.name] = settings
            if profile.profile.type != .loopback { storage[profile.profile.name] = profile.isInMemory ? "memory" : "disk" }
        }
        let snapshot = try await client.snapshot()
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
                    .replacingOccurrences(of: " linkdown", with: "")
            }.filter { !$0.hasPrefix("fe80::") && !$0.hasPrefix("multicast") && !$0.hasPrefix("127.0.0.0/8 dev lo ") }
        }
        return NMHostSnapshot(
            profiles: profiles, storage: storage, active: active, deviceStates: states, addresses: addresses,
            routes: routes.sorted(), controllers: controllers, macs: macs, checkpoints: snapshot.checkpoints.count)
    }

    /// A one-line summary: profile names (not their settings), storage, active connections,
    /// device states, addresses, routes, controllers and checkpoints.
    public var description: String {
        "profiles=\(profiles.keys.sorted()) storage=\(storage) active=\(active) states=\(deviceStates) addresses=\(addresses) "
            + "routes=\(routes) controllers=\(controllers) checkpoints=\(checkpoints)"
    }

    /// What differs between this snapshot and `other`, one line per differing part ("profile
    /// NAME: ... vs ...", "routes: ... vs ..."), this snapshot's value first; empty when equal.
    public func differences(from other: NMHostSnapshot) -> [String] {
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

extension NMContainer {
    /// `ip -j ARGUMENTS` inside the container, parsed: one dictionary per link, address or route.
    public func ipJSON(_ arguments: [String]) throws -> [[String: Any]] {
        let text = try execChecked(["ip", "-j"] + arguments)
        return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] ?? []
    }
}
