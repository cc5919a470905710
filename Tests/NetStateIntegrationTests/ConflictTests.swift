import Foundation
import NMTestSupport
import NetworkManager
import Testing

extension NetStateScenarios {
    /// The failing variant "an address conflict": the state gives the bridge an address another
    /// host on the LAN already has. NetworkManager's duplicate address detection (which netstate
    /// asks for on addresses the state adds, on every version) finds the other host, the
    /// activation fails, and the transaction rolls back to exactly before.
    @Suite struct Conflict {
        /// IPv6 off: with IPv6 on `auto` (a new bridge's default) and `may-fail` on, NetworkManager
        /// fails the activation only when IPv6 has given up too, after about 30 s (1.42.4,
        /// measured: 32 s to `rolled-back`, against 0.7 s with IPv6 off).
        static func state(address: String) -> String {
            """
            interfaces:
            - name: br0
              type: linux-bridge
              ipv4:
                enabled: true
                address: [{ip: \(address), prefix-length: 24}]
              ipv6: {enabled: false}
              bridge:
                options: {stp: {enabled: false}}
                port: [{name: eno1}]
            """
        }

        @Test func anAddressInUseOnTheLANRollsBackToExactlyBefore() async throws {
            try await withNMContainer(eno1Static: true) { container in
                let nm = try await container.client()
                let before = try await NMHostSnapshot.take(container, nm)

                // 192.168.1.1 is the LAN gateway's (lan0 in the LAN namespace).
                let run = try await container.apply(Self.state(address: "192.168.1.1"))
                #expect(run.status == 1 && run.result == "rolled-back" && run.hostState == "before", "\(run)")
                let error = run.report?["error"] as? [String: Any]
                #expect(error?["code"] as? String == "ip-config-failed", "\(run)")
                #expect((error?["hint"] as? String)?.contains("in use on the network") == true, "\(run)")
                let after = try await NMHostSnapshot.take(container, nm)
                #expect(after == before, "\(after.differences(from: before))")
                // NetworkManager said why: the other host's answer (its log, as evidence the probe ran).
                #expect(try container.networkManagerLog().contains("192.168.1.1 is used on network"))

                // The same state with a free address commits (the probe finds nobody) and reruns unchanged.
                let free = try await container.apply(Self.state(address: "192.168.1.77"))
                #expect(free.status == 0 && free.result == "committed", "\(free)")
                #expect(try container.kernelAddresses("br0") == ["192.168.1.77/24"])
                let profile = try #require(try await nm.profiles(named: "br0").first?.profile)
                #expect(profile.ipv4?.dadTimeout == .milliseconds(200))
                #expect(try await container.apply(Self.state(address: "192.168.1.77")).result == "unchanged")
            }
        }
    }
}
