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
            let seed = try #require(snapshot.profiles.first { $0.name == "eno1" })
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

    @Test func aMissingServiceIsATypedError() async throws {
        let bus = try PrivateBus.start()
        defer { bus.stop() }
        let nm = try await NMClient.connect(address: bus.address)
        let error = try await #require(throws: NMError.self) { try await nm.version() }
        #expect(error.code == .notRunning, "\(error)")
        #expect(error.dbusError?.code == .serviceUnknown, "the D-Bus error stays available as the cause")
    }
}
