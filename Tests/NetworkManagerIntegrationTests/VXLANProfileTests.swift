import DBus
import Foundation
import NMTestSupport
import NetworkManager
import Testing

/// The typed `vxlan` setting against the container's real NetworkManager: what the library
/// writes, NetworkManager and nmcli read the same; what nmcli writes, the library reads, keys
/// it does not model included.
@Suite(.serialized)
struct VXLANProfileTests {
    @Test func aTypedVXLANProfileRoundTripsThroughNetworkManagerAndNmcli() async throws {
        try await withNMContainer { container in
            let nm = try await NMClient.connect(address: container.busAddress)
            var profile = try NMConnectionProfile.vxlan(name: "vx-typed", interface: NMInterfaceName("vx7"), id: 16_000_001,
                                                        remote: "2001:db8:1::7", local: "2001:db8:1::200", destinationPort: 4789,
                                                        parent: "eno1")
            profile.vxlan?.extraKeys = ["ttl": .uint32(17)]
            try await nm.addProfile(profile)
            let stored = try #require(try await nm.profiles(named: "vx-typed").first?.profile)
            #expect(stored.connection.type == .vxlan)
            #expect(stored.vxlan == profile.vxlan, "\(String(describing: stored.vxlan))")
            let nmcli = try container.execChecked(["nmcli", "-g", "vxlan.id,vxlan.remote,vxlan.local,vxlan.destination-port,vxlan.parent,vxlan.ttl",
                                                   "connection", "show", "vx-typed"])
            #expect(nmcli.split(separator: "\n").map(String.init) == ["16000001", "2001\\:db8\\:1\\:\\:7", "2001\\:db8\\:1\\:\\:200", "4789", "eno1", "17"],
                    "\(nmcli)")
        }
    }

    @Test func nmclisVXLANWithTheDefaultPortReadsAsNilAndKeepsItsOtherKeys() async throws {
        try await withNMContainer { container in
            _ = try container.execChecked(["nmcli", "connection", "add", "type", "vxlan", "con-name", "vx-nmcli", "ifname", "vx8",
                                           "vxlan.id", "42", "vxlan.remote", "192.0.2.2", "vxlan.learning", "no",
                                           "vxlan.destination-port", "8472"])
            let nm = try await NMClient.connect(address: container.busAddress)
            let stored = try #require(try await nm.profiles(named: "vx-nmcli").first?.profile)
            let vxlan = try #require(stored.vxlan)
            #expect(vxlan.id == 42 && vxlan.remote == "192.0.2.2" && vxlan.local == nil && vxlan.parent == nil)
            // GetSettings leaves a key at its default out: 8472 is not sent (docs/networkmanager-quirks.md).
            #expect(vxlan.destinationPort == nil)
            #expect(vxlan.extraKeys["learning"] == .boolean(false), "\(vxlan.extraKeys)")
        }
    }
}
