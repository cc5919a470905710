import Foundation
import NMTestSupport
import NetworkManager
import Testing

extension NetStateScenarios {
    /// A DHCP bridge keeping its NIC's lease: the DHCP server answers by MAC, so the bridge
    /// takes eno1's MAC (`copy-mac-from: eno1`) and gets eno1's address.
    @Suite struct DHCP {
        static let state = """
            interfaces:
            - name: br0
              type: linux-bridge
              state: up
              copy-mac-from: eno1
              ipv4: {enabled: true, dhcp: true}
              ipv6: {enabled: false}
              bridge:
                options: {stp: {enabled: false}}
                port: [{name: eno1}]
            """

        /// eno1 on DHCP; the state makes br0 over eno1 with DHCP and eno1's MAC: br0 gets the
        /// address eno1 had, eno1's MAC; the rerun is `unchanged`.
        @Test func dhcpBridgeKeepsTheLease() async throws {
            try await withNMContainer(dhcp: true) { container in
                let nm = try await container.client()
                try container.execChecked(["nmcli", "connection", "add", "con-name", "wired", "ifname", "eno1",
                                           "type", "ethernet", "ipv4.method", "auto", "ipv6.method", "disabled"])
                try container.execChecked(["nmcli", "--wait", "30", "connection", "up", "wired"])
                let lease = try container.kernelAddresses("eno1")
                try #require(lease.count == 1 && lease[0].hasPrefix("192.168.1.1"), "\(lease)")
                let mac = try #require(try container.ipJSON(["link", "show", "dev", "eno1"]).first?["address"] as? String)

                let start = ContinuousClock.now
                let run = try await container.apply(Self.state)
                print("netstate DHCP bridge over eno1: \(run.result ?? "?") in \(ContinuousClock.now - start)")
                #expect(run.status == 0 && run.result == "committed" && run.hostState == "committed", "\(run)")
                #expect(try container.kernelAddresses("br0") == lease, "br0 got eno1's lease")
                #expect(try container.kernelAddresses("eno1").isEmpty)
                #expect(try container.controller(of: "eno1") == "br0")
                let brMAC = try container.ipJSON(["link", "show", "dev", "br0"]).first?["address"] as? String
                #expect(brMAC == mac, "br0 has eno1's MAC")
                let profile = try #require(try await nm.profiles().first { $0.profile.interfaceName?.rawValue == "br0" }?.profile)
                #expect(profile.ethernet?.assignedMACAddress == .address(try MACAddress(mac)) && profile.ipv4?.method == .auto)

                let after = try await NMHostSnapshot.take(container, nm)
                let again = try await container.apply(Self.state)
                #expect(again.status == 0 && again.result == "unchanged", "\(again)")
                try await expectSnapshot(container, nm, equals: after)
            }
        }
    }
}
