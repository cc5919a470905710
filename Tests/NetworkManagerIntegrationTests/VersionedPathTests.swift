import DBus
import Foundation
import NMTestSupport
import NetworkManager
import Testing

/// The code paths that depend on NetworkManager's version, each against the container's real
/// NetworkManager: the host's 1.42 and, with `NM_CONTAINER_RELEASE=trixie`, Debian 13's 1.52
/// (`scripts/test` runs this target on both). Every test asserts on both versions: what the
/// version that has the feature does, and what the one without it does instead.
@Suite(.serialized)
struct VersionedPathTests {
    // MARK: - VersionId (1.44): the settings cache

    /// `profiles()` reads the settings of an unchanged profile once per NetworkManager instance
    /// when `VersionId` exists (1.44), and every profile every time before it. Counted by a
    /// `dbus-monitor` on the container's bus, an observer outside the library. A restarted
    /// NetworkManager numbers its profiles and `VersionId`s afresh: the cache must not serve the
    /// old daemon's replies to the new one (it did, and an undo after a crash left the staged
    /// bridge behind on 1.52).
    @Test func theVersionIdCacheReadsOnlyChangedProfilesAndNothingOfAnEarlierInstance() async throws {
        try await withNMContainer(nics: ["eno1", "eno2"], eno1Static: true) { container in
            for (name, address) in [("vc-a", "192.0.2.11/24"), ("vc-b", "192.0.2.12/24")] {
                try container.execChecked(["nmcli", "connection", "add", "con-name", name, "ifname", "eno2", "type", "802-3-ethernet",
                                           "autoconnect", "no", "ipv4.method", "manual", "ipv4.addresses", address])
            }
            let nm = try await container.client()
            let cached = try await nm.version() >= NMVersion(1, 44)
            _ = try await nm.snapshot()  // a first read fills the cache
            let count = try await nm.profiles().count
            #expect(count >= 3)

            // Unchanged: nothing read again (1.44), or everything (before).
            let unchanged = try await countingGetSettings(container) { _ = try await nm.profiles() }
            #expect(unchanged == (cached ? 0 : count), "GetSettings calls for \(count) unchanged profiles")

            // One profile changed: only it is read again, and its new settings are what comes back.
            try container.execChecked(["nmcli", "connection", "modify", "vc-a", "ipv4.dns", "192.0.2.53"])
            var afterChange: [NMStoredProfile] = []
            let changed = try await countingGetSettings(container) { afterChange = try await nm.profiles() }
            #expect(changed == (cached ? 1 : count), "GetSettings calls after one profile changed")
            #expect(afterChange.first { $0.profile.name == "vc-a" }?.profile.ipv4?.dns == ["192.0.2.53"])

            // A restarted NetworkManager: every profile read again, each under its own name.
            try await container.restartNetworkManager()
            var afterRestart: [NMStoredProfile] = []
            let restarted = try await countingGetSettings(container) { afterRestart = try await nm.profiles() }
            #expect(restarted == afterRestart.count, "GetSettings calls after a restart")
            let nmcli = try container.nmcliLines(["-f", "NAME,UUID", "connection", "show"])
            #expect(Set(afterRestart.map { "\($0.profile.name):\($0.profile.uuid.uuidString.lowercased())" }) == Set(nmcli))
            // Each path holds the profile the library says it holds (asked of the daemon directly).
            for stored in afterRestart {
                let raw = try NMSettingsCodec.settings(fromWire: try await nm.connection.call(
                    destination: NMClient.service, path: stored.path, interface: "org.freedesktop.NetworkManager.Settings.Connection",
                    member: "GetSettings")[0])
                #expect(raw["connection"]?["uuid"] == .string(stored.profile.uuid.uuidString.lowercased()), "\(stored.path): \(stored.profile.name)")
            }
            #expect(afterRestart.first { $0.profile.name == "vc-a" }?.profile.ipv4?.dns == ["192.0.2.53"])
        }
    }

    // MARK: - connection.controller / port-type (1.46)

    /// NetworkManager 1.46 accepts a port's controller under the new names `controller` /
    /// `port-type`, still answers `GetSettings` with the legacy `master` / `slave-type` only, and
    /// the codec writes the legacy names on every version (older daemons reject the new ones).
    @Test func aPortGivenByControllerAndPortTypeIsReadAndRewrittenWithTheLegacyNames() async throws {
        try await withNMContainer { container in
            let nm = try await container.client()
            let version = try await nm.version()
            let codec = try await nm.codec()
            let bridge = try NMConnectionProfile.bridge(name: "vp-br", interface: NMInterfaceName("vpbr0"), stp: false, ipv4: NMIPv4Setting(method: .disabled), ipv6: .disabled)
            try await nm.addProfile(bridge, storage: .memory)

            // The codec's own form, on this version: legacy names only.
            let port = try NMConnectionProfile.bridgePort(name: "vp-port", interface: NMInterfaceName("eno1"), controller: "vpbr0")
            let encoded = try codec.encode(port)
            #expect(encoded["connection"]?["master"] == .string("vpbr0"))
            #expect(encoded["connection"]?["slave-type"] == .string("bridge"))
            #expect(encoded["connection"]?["controller"] == nil && encoded["connection"]?["port-type"] == nil)

            // The new names, as a newer tool would send them.
            let uuid = UUID()
            let settings: [String: [String: DBusValue]] = [
                "connection": ["id": .string("vp-new-names"), "uuid": .string(uuid.uuidString.lowercased()),
                               "type": .string("802-3-ethernet"), "interface-name": .string("eno1"), "autoconnect": .boolean(false),
                               "controller": .string("vpbr0"), "port-type": .string("bridge")],
            ]
            let add = {
                try await nm.connection.call(
                    destination: NMClient.service, path: "/org/freedesktop/NetworkManager/Settings",
                    interface: "org.freedesktop.NetworkManager.Settings", member: "AddConnection2",
                    arguments: [NMSettingsCodec.wireValue(settings), .uint32(0x2), .dictionary(key: .string, value: .variant, [])])
            }
            guard version >= NMVersion(1, 46) else {
                // Before 1.46 the new names are unknown properties: the daemon refuses the profile.
                let error = await #expect(throws: DBusError.self) { try await add() }
                #expect(error?.name?.hasSuffix("InvalidProperty") == true, "\(String(describing: error))")
                #expect(try await nm.profile(uuid: uuid) == nil)
                return
            }
            let path = try #require(try await add().first.flatMap { if case .objectPath(let p) = $0 { p } else { nil } })
            let raw = try NMSettingsCodec.settings(fromWire: try await nm.connection.call(
                destination: NMClient.service, path: path, interface: "org.freedesktop.NetworkManager.Settings.Connection",
                member: "GetSettings")[0])
            #expect(raw["connection"]?["master"] == .string("vpbr0"), "\(raw["connection"] ?? [:])")
            #expect(raw["connection"]?["slave-type"] == .string("bridge"))
            #expect(raw["connection"]?["controller"] == nil, "GetSettings now returns the new names too: update the codec's notes")

            // Read, change, write back: the port stays a port of vpbr0.
            var stored = try await nm.profile(at: path)
            #expect(stored.profile.connection.controller == "vpbr0")
            #expect(stored.profile.connection.portType == .bridge)
            stored.profile.connection.autoconnectPriority = 5
            try await nm.updateProfile(path, to: stored.profile)
            let again = try await nm.profile(at: path)
            #expect(again.profile.connection.controller == "vpbr0" && again.profile.connection.portType == .bridge)
            #expect(again.profile.connection.autoconnectPriority == 5)
        }
    }

    // MARK: - dns-data (1.42)

    /// From 1.42 the codec writes DNS servers as `dns-data` (strings) and never the legacy `dns`;
    /// NetworkManager derives the legacy `au` from it (octets in memory order) and the codec
    /// reads the servers back from `dns-data`. A server with a name (`#`) stays verbatim.
    @Test func dnsServersGoAsDnsDataAndComeBackTheSame() async throws {
        try await withNMContainer { container in
            let nm = try await container.client()
            let codec = try await nm.codec()
            #expect(codec.supports(setting: "ipv4", key: "dns-data"))
            let profile = try NMConnectionProfile.ethernet(
                name: "dd-test", interface: NMInterfaceName("eno1"), autoconnect: false,
                ipv4: .static(addresses: ["192.0.2.9/24"], dns: ["192.0.2.53", "198.51.100.7"]))
            let wire = try codec.encode(profile)
            #expect(wire["ipv4"]?["dns-data"] == .array(.string, [.string("192.0.2.53"), .string("198.51.100.7")]))
            #expect(wire["ipv4"]?["dns"] == nil)
            let path = try await nm.addProfile(profile, storage: .memory)
            let raw = try NMSettingsCodec.settings(fromWire: try await nm.connection.call(
                destination: NMClient.service, path: path, interface: "org.freedesktop.NetworkManager.Settings.Connection",
                member: "GetSettings")[0])
            #expect(raw["ipv4"]?["dns-data"] == .array(.string, [.string("192.0.2.53"), .string("198.51.100.7")]))
            // The daemon's legacy form: each address's octets in memory order (a little-endian
            // host reads 192.0.2.53 as 0x350200C0).
            #expect(raw["ipv4"]?["dns"] == .array(.uint32, [.uint32(0x3502_00C0), .uint32(0x0764_33C6)]))
            #expect(try await nm.profile(at: path).profile.ipv4?.dns == ["192.0.2.53", "198.51.100.7"])

            // A server given with a name (DNS over TLS): kept as it is through an update.
            try container.execChecked(["nmcli", "connection", "modify", "dd-test", "ipv4.dns", "192.0.2.53#dns.example"])
            var named = try await nm.profile(at: path)
            #expect(named.profile.ipv4?.extraKeys["dns-data"] == .array(.string, [.string("192.0.2.53#dns.example")]))
            named.profile.connection.autoconnectPriority = 3
            try await nm.updateProfile(path, to: named.profile)
            let kept = try container.execChecked(["nmcli", "-g", "ipv4.dns", "connection", "show", "dd-test"])
            #expect(kept.trimmingCharacters(in: .whitespacesAndNewlines) == "192.0.2.53#dns.example")
        }
    }

    // MARK: - CheckpointCreate flag TRACK_INTERNAL_GLOBAL_DNS (1.48)

    /// A transaction's checkpoint asks NetworkManager 1.48 and later to track the global DNS set
    /// over D-Bus, so a rollback restores it; before 1.48 there is no such flag and the change
    /// outlives the rollback (docs/transactions.md, "What a checkpoint covers").
    @Test func aRollbackRestoresGlobalDNSFrom148AndLeavesItBefore() async throws {
        try await withNMContainer(nics: ["eno1"], eno1Static: true) { container in
            let nm = try await container.client()
            let tracked = try await nm.version() >= NMVersion(1, 48)
            func globalDNS() async throws -> [String: DBusVariant] {
                try await nm.connection.property("GlobalDnsConfiguration", of: "org.freedesktop.NetworkManager",
                                                 at: "/org/freedesktop/NetworkManager", on: NMClient.service)
            }
            #expect(try await globalDNS().isEmpty)
            let servers = DBusValue.dictionary(key: .string, value: .variant, [.init(.string("servers"), .variant(.array(.string, [.string("192.0.2.53")])))])
            let config = DBusValue.dictionary(key: .string, value: .variant, [
                .init(.string("searches"), .variant(.array(.string, [.string("example.test")]))),
                .init(.string("domains"), .variant(.dictionary(key: .string, value: .variant, [.init(.string("*"), .variant(servers))]))),
            ])
            var transaction = try await BridgeConversion.make(nm).transaction
            // During the transaction, someone (here the transaction's own hook) sets global DNS;
            // then a probe fails and everything rolls back.
            transaction.afterActivation = [NMTransactionHook("set global DNS", required: true) {
                try await nm.connection.setProperty("GlobalDnsConfiguration", of: "org.freedesktop.NetworkManager",
                                                    at: "/org/freedesktop/NetworkManager", on: NMClient.service, to: config)
                return "set"
            }]
            transaction.probes = [.custom("fails on purpose", budget: .seconds(2)) { throw NMError(.failed, "on purpose") }]
            let error = try await requireTransactionFailure { try await nm.apply(transaction) }
            #expect(error.step == .probe && error.hostRestored, "\(error)")
            let after = try await globalDNS()
            if tracked {
                #expect(after.isEmpty, "global DNS survived the rollback: \(after)")
            } else {
                #expect(after["searches"]?.value == .array(.string, [.string("example.test")]), "\(after)")
            }
        }
    }

    // MARK: - NetworkManager's own loopback profile

    /// NetworkManager keeps a profile of its own for `lo` (generated, volatile, external: seen
    /// on 1.42.4 and 1.52.1; the issue expected it from 1.50 only), active on lo. A transaction
    /// must neither plan nor change anything of it, committed or rolled back, nor may
    /// `removeStaleTransactions()` after a restart: activating that profile would make
    /// NetworkManager manage lo from then on (docs/networkmanager-quirks.md).
    @Test func networkManagersLoopbackProfileIsLeftAloneByTransactions() async throws {
        try await withNMContainer(nics: ["eno1"], eno1Static: true) { container in
            let nm = try await container.client()
            /// lo's profile (settings without the timestamp), its flags, what is active on lo, lo's state.
            func loopback() async throws -> (settings: [String: [String: DBusValue]]?, flags: NMSettingsConnectionFlags?,
                                             active: String?, state: NMDeviceState?) {
                let snapshot = try await nm.snapshot()
                let device = snapshot.device(named: "lo")
                let active = device?.activeConnection.flatMap { path in snapshot.activeConnections.first { $0.path == path }?.name }
                let profiles = try await nm.profiles().filter { $0.profile.type == .loopback }
                #expect(profiles.count == 1, "\(profiles.map(\.profile.name))")
                guard let stored = profiles.first else { return (nil, nil, active, device?.state) }
                var settings = try NMSettingsCodec.settings(fromWire: try await nm.connection.call(
                    destination: NMClient.service, path: stored.path, interface: "org.freedesktop.NetworkManager.Settings.Connection",
                    member: "GetSettings")[0])
                settings["connection"]?["timestamp"] = nil
                return (settings, stored.flags, active, device?.state)
            }
            let before = try await loopback()
            #expect(before.active == "lo" && before.state == .activated, "lo: \(String(describing: before.active))")
            #expect(before.flags?.isSuperset(of: [.generated, .external]) == true, "\(String(describing: before.flags))")

            // Planned: nothing of lo.
            let conversion = try await BridgeConversion.make(nm)
            let plan = try await nm.plan(conversion.transaction)
            #expect(!plan.steps.contains { $0.profile == "lo" || $0.ports.contains("lo") }, "\(plan)")

            // Rolled back, then committed: lo as before each time.
            var failing = conversion.transaction
            failing.probes = [.custom("fails on purpose", budget: .seconds(2)) { throw NMError(.failed, "on purpose") }]
            let error = try await requireTransactionFailure { try await nm.apply(failing) }
            #expect(error.hostRestored, "\(error)")
            var now = try await loopback()
            #expect(now.settings == before.settings && now.flags == before.flags && now.active == before.active && now.state == before.state)
            // What an undo without the checkpoint would activate again (the record's list):
            // eno1's profile, never lo's, which NetworkManager brings back itself.
            var committing = conversion.transaction
            committing.afterActivation = [
                NMTransactionHook("reads the record") {
                    let records = try await nm.profiles().filter { $0.profile.userData["org.swift-networkmanager.record"] != nil }
                    guard records.count == 1, let json = records[0].profile.userData["org.swift-networkmanager.record"] else {
                        throw NMError(.failed, "\(records.count) transaction records")
                    }
                    return json
                },
            ]
            let result = try await nm.apply(committing)
            #expect(result.outcome == .committed)
            let record = try #require(result.steps.first { $0.step == .afterActivation }?.detail)
            #expect(record.contains("\"reactivate\"") && record.contains("\"eno1\""), "\(record)")
            #expect(!record.contains("\"lo\""), "\(record)")
            now = try await loopback()
            #expect(now.settings == before.settings && now.flags == before.flags && now.active == before.active && now.state == before.state)

            // A restart, then the clean-up any client runs: still nothing of lo changes.
            try await container.restartNetworkManager()
            let removed = try await nm.removeStaleTransactions()
            #expect(removed.isEmpty, "\(removed)")
            now = try await loopback()
            #expect(now.settings == before.settings, "\(String(describing: now.settings)) vs \(String(describing: before.settings))")
            #expect(now.flags == before.flags && now.active == before.active)
        }
    }
}

/// How many `GetSettings` calls reach the container's bus while `body` runs: a `dbus-monitor`
/// started inside the container first, read back after.
func countingGetSettings(_ container: NMContainer, _ body: () async throws -> Void) async throws -> Int {
    let log = container.stateDirectory + "/getsettings-\(UUID().uuidString).log"
    defer { try? FileManager.default.removeItem(atPath: log) }
    // On a thread of its own (a blocking wait must not hold the cooperative pool); it ends by
    // itself (timeout), and the marker below tells when it has seen everything before it.
    let command = ["sh", "-c", "exec timeout 15 dbus-monitor --system \"type='method_call',member='GetSettings'\" "
                       + "\"type='method_call',member='Ping',interface='org.freedesktop.DBus.Peer'\" > \(log) 2>&1"]
    Thread.detachNewThread { _ = try? container.exec(command, timeout: 30) }
    // Ready once it has printed its own NameLost (it has become a monitor).
    try await waitForFile(log, containing: "NameLost")
    try await body()
    // The library's calls were all answered before `body` returned, so the bus had passed them
    // to the monitor before this marker.
    let marker = try await DBusConnection.connect(address: container.busAddress)
    defer { marker.close() }
    _ = try await marker.call(destination: NMClient.service, path: "/org/freedesktop/NetworkManager",
                              interface: "org.freedesktop.DBus.Peer", member: "Ping")
    try await waitForFile(log, containing: "member=Ping")
    let text = try String(contentsOfFile: log, encoding: .utf8)
    return text.split(separator: "\n").filter { $0.contains("member=GetSettings") }.count
}

func waitForFile(_ path: String, containing needle: String, timeout: Duration = .seconds(10)) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let text = try? String(contentsOfFile: path, encoding: .utf8), text.contains(needle) { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw TestSupportError(.timeout, "\(path) never showed \(needle)")
}
