import DBus
import Foundation
import NMTestSupport
import NetworkManager
import Testing

/// The first slice of NMClient against the container's real NetworkManager.
@Suite(.serialized)
struct NMClientReadTests {
    func withContainer(_ body: (NMContainer) async throws -> Void) async throws {
        try await withNMContainer(nics: ["eno1", "eno2"], eno1Static: true, body)
    }

    @Test func readsTheVersionThatNmcliReports() async throws {
        try await withContainer { container in
            let nm = try await NMClient.connect(address: container.busAddress)
            let version = try await nm.version()
            let nmcliVersion = try container.execChecked(["nmcli", "-t", "-f", "VERSION", "general"])
                .trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(version.rawValue == nmcliVersion)
            #expect(version >= NMVersion(1, 20))
        }
    }

    @Test func snapshotShowsTheVethDevicesAndTheSeedProfile() async throws {
        try await withContainer { container in
            let nm = try await NMClient.connect(address: container.busAddress)
            let snapshot = try await nm.snapshot()
            let eno1 = try #require(snapshot.device(named: "eno1"))
            #expect(eno1.type == .veth)  // veth, not ethernet: see docs/networkmanager-quirks.md
            #expect(eno1.type.isEthernetLike)
            #expect(eno1.managed)
            #expect(eno1.state == .activated)
            #expect(eno1.activeConnection != nil)
            // The MAC agrees with the kernel's.
            let kernelMAC = try container.execChecked(["cat", "/sys/class/net/eno1/address"])
                .trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(eno1.hardwareAddress?.lowercased() == kernelMAC.lowercased())
            let eno2 = try #require(snapshot.device(named: "eno2"))
            #expect(eno2.state == .disconnected)  // no-auto-default=*: no profile was made for it
            #expect(snapshot.profiles.isEmpty, "snapshot() reads no typed profiles")
            let seed = try #require(snapshot.profileSummaries.first { $0.name == "eno1" })
            #expect(seed.type == .ethernet)
            #expect(seed.interfaceName?.rawValue == "eno1")
            #expect(!seed.unsaved)
            #expect(seed.filename?.hasPrefix("/etc/NetworkManager/system-connections/") == true)
        }
    }

    @Test func seesAProfileThatNmcliCreatedInsideTheContainer() async throws {
        try await withContainer { container in
            let uuid = UUID()
            try container.execChecked([
                "nmcli", "connection", "add", "con-name", "made-by-nmcli", "connection.uuid", uuid.uuidString.lowercased(), "ifname", "eno2",
                "type", "802-3-ethernet", "ipv4.method", "manual", "ipv4.addresses", "192.0.2.10/24", "autoconnect", "no",
            ])
            let nm = try await NMClient.connect(address: container.busAddress)
            let profiles = try await nm.profileSummaries()
            let made = try #require(profiles.first { $0.uuid == uuid })
            #expect(made.name == "made-by-nmcli")
            #expect(made.interfaceName?.rawValue == "eno2")
            // Every profile nmcli lists, the library lists, and no more.
            let nmcliUUIDs = Set(try container.execChecked(["nmcli", "-t", "-f", "UUID", "connection", "show"])
                .split(separator: "\n").map { $0.lowercased() })
            #expect(Set(profiles.map { $0.uuid.uuidString.lowercased() }) == nmcliUUIDs)
        }
    }

    /// One host-state type for reads, planning and transactions (issue 11): what
    /// snapshotWithProfiles() reads survives JSON unchanged, real profiles included; a state
    /// read without the profiles' settings is refused by plan(_:basedOn:) before anything.
    @Test func theHostStateRoundTripsThroughJSONAndPlansOnlyWithProfiles() async throws {
        try await withContainer { container in
            let nm = try await NMClient.connect(address: container.busAddress)
            let state = try await nm.snapshotWithProfiles()
            #expect(!state.profiles.isEmpty && state.profiles.count == state.profileSummaries.count)
            #expect(Set(state.profiles.map(\.profile.uuid)) == Set(state.profileSummaries.map(\.uuid)))
            let eno1 = try #require(state.device(named: "eno1"))
            let active = try #require(eno1.activeConnection.flatMap { state.activeConnection(at: $0) })
            #expect(state.profileSummaries.contains { $0.uuid == active.uuid && $0.type == active.type })
            let data = try JSONEncoder().encode(state)
            let decoded = try JSONDecoder().decode(NMHostState.self, from: data)
            #expect(decoded == state, "\(String(decoding: data, as: UTF8.self).prefix(2000))")
            // Each device's IPv4 configuration is keyed by its path in a JSON object.
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect((object["ipv4"] as? [String: Any])?[eno1.path.rawValue] != nil, "\(object["ipv4"] ?? "none")")

            let port = try NMConnectionProfile.dummy(name: "hs-dummy", interface: NMInterfaceName("hs0"))
            let plan = try await nm.plan(NMTransaction([.add(port)]), basedOn: state)
            #expect(plan.steps.map(\.kind) == [.add])
            let withoutProfiles = try await nm.snapshot()
            let refused = await #expect(throws: NMError.self) {
                try await nm.plan(NMTransaction([.add(port)]), basedOn: withoutProfiles)
            }
            #expect(refused?.code == .invalidProfile && refused?.hint?.contains("snapshotWithProfiles") == true, "\(String(describing: refused))")
        }
    }

    /// Device events carry the interface name (issue 11): a device that appears after the
    /// subscription is named from its `Interface` property.
    @Test func deviceStateChangesCarryTheInterfaceName() async throws {
        try await withContainer { container in
            let nm = try await NMClient.connect(address: container.busAddress)
            // The first activation of evbr0, or nil after 30 s.
            let seen = try await withThrowingTaskGroup(of: NMDeviceStateChange?.self) { group in
                group.addTask {
                    try await Task.sleep(for: .seconds(30))
                    return nil
                }
                group.addTask {
                    // Subscribed first, then the device is made.
                    let changes = try await nm.deviceStateChanges()
                    try container.execChecked([
                        "nmcli", "connection", "add", "type", "bridge", "con-name", "ev-bridge", "ifname", "evbr0", "bridge.stp", "no",
                        "ipv4.method", "disabled", "ipv6.method", "disabled",
                    ])
                    // (A bridge: the container has no dummy driver; activated by hand, as nmcli add may not.)
                    try container.execChecked(["nmcli", "connection", "up", "ev-bridge"])
                    for try await change in changes where change.interface?.rawValue == "evbr0" && change.new == .activated {
                        return change
                    }
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return first
            }
            let change = try #require(seen, "no activation of evbr0 within 30 s")
            #expect(try await nm.device(at: change.device).interface == change.interface)
            try container.execChecked(["nmcli", "connection", "delete", "ev-bridge"])
        }
    }

    @Test func aMissingServiceIsATypedError() async throws {
        let bus = try PrivateBus.start()
        defer { bus.stop() }
        let nm = try await NMClient.connect(address: bus.address)
        let error = try await #require(throws: NMError.self) { try await nm.version() }
        #expect(error.code == .notRunning, "\(error)")
        #expect(error.dbusError?.code == .serviceUnknown, "the D-Bus error stays available as the cause")
    }
}
