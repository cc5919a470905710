import Foundation
import NMTestSupport
import Testing

/// Bonds and VLANs, which the container's kernel cannot make (no `bonding`, no `8021q`):
/// `netstate apply` brings up an active-backup bond of the guest's two NICs, a bridge over the
/// bond holding the host's address, and a VLAN on the bridge; then a link is pulled through
/// QEMU's monitor and the host must stay reachable from the LAN over the other NIC.
///
/// Nested in ``VMIntegrationTests``: its traits (serialized, `NM_TEST_VM=1`) hold here too, so the
/// tier boots one VM at a time.
extension VMIntegrationTests {
    @Suite struct BondVLANTests {
        static let netstate = URL(fileURLWithPath: builtExecutable("netstate")).resolvingSymlinksInPath().path

        static let state = """
            interfaces:
            - name: bond0
              type: bond
              state: up
              link-aggregation:
                mode: active-backup
                options:
                  miimon: '100'
                port:
                - ens4
                - ens5
            - name: br0
              type: linux-bridge
              state: up
              bridge:
                options:
                  stp:
                    enabled: false
                port:
                - name: bond0
              ipv4:
                enabled: true
                dhcp: false
                address:
                - ip: 192.168.1.10
                  prefix-length: 24
              ipv6:
                enabled: false
            - name: br0.20
              type: vlan
              state: up
              vlan:
                base-iface: br0
                id: 20
              ipv4:
                enabled: true
                dhcp: false
                address:
                - ip: 192.168.20.10
                  prefix-length: 24
              ipv6:
                enabled: false
            """

        @Test func aBridgeOverAnActiveBackupBondWithAVLANSurvivesALinkPulled() async throws {
            let folder = URL(fileURLWithPath: Self.netstate).deletingLastPathComponent().path
            try await withNMVirtualMachine(nics: 2, shares: [folder]) { vm in
                try vm.runChecked("cat > /root/state.yml <<'EOS'\n\(Self.state)\nEOS")
                let applied = try vm.run("\(Self.netstate) apply /root/state.yml --json", timeout: 300)
                let report = try? JSONSerialization.jsonObject(with: Data(applied.stdout.utf8)) as? [String: Any]
                #expect(applied.status == 0 && report?["result"] as? String == "committed",
                        "exit \(applied.status)\n\(applied.stdout)\n\(applied.stderr)")

                // The kernel runs what was asked.
                let bonding = try vm.runChecked("cat /proc/net/bonding/bond0")
                #expect(bonding.contains("Bonding Mode: fault-tolerance (active-backup)"), "\(bonding)")
                #expect(bonding.contains("Slave Interface: ens4") && bonding.contains("Slave Interface: ens5"), "\(bonding)")
                #expect(bonding.contains("MII Polling Interval (ms): 100"), "\(bonding)")
                #expect(try vm.runChecked("ip -o link show bond0").contains("master br0"))
                let vlan = try vm.runChecked("ip -d -o link show br0.20")
                #expect(vlan.contains("vlan protocol 802.1Q id 20") && vlan.contains("br0.20@br0"), "\(vlan)")
                let addresses = try vm.runChecked("ip -4 -o addr show")
                #expect(addresses.contains(" br0 ") && addresses.contains("192.168.1.10/24"), "\(addresses)")
                #expect(addresses.contains(" br0.20 ") && addresses.contains("192.168.20.10/24"), "\(addresses)")
                #expect(try vm.runLAN(["ping", "-c", "3", "-W", "5", "192.168.1.10"]).status == 0)

                // The same state again changes nothing.
                let again = try vm.run("\(Self.netstate) apply /root/state.yml --json", timeout: 300)
                let second = try? JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any]
                #expect(again.status == 0 && second?["result"] as? String == "unchanged", "\(again.stdout)\n\(again.stderr)")

                // Pull the active port's link (QEMU netdev nic1 is ens4, nic2 ens5) while the LAN
                // pings the host every 200 ms; the bond fails over and the host stays reachable.
                let active = Self.activePort(bonding)
                #expect(active == "ens4" || active == "ens5", "\(bonding)")
                let netdev = active == "ens5" ? "nic2" : "nic1"
                let pinger = Task {
                    try vm.runLAN(["ping", "-D", "-i", "0.2", "-w", "40", "-W", "1", "192.168.1.10"], timeout: 120)
                }
                try await Task.sleep(for: .seconds(5))
                try vm.monitor("set_link \(netdev) off")
                try await Task.sleep(for: .seconds(2))
                let after = try vm.runChecked("cat /proc/net/bonding/bond0")
                let now = Self.activePort(after)
                #expect(now != nil && now != active, "the bond did not fail over from \(active ?? "?")\n\(after)")
                let pings = try await pinger.value
                let replies = Self.replyTimes(pings.stdout)
                let gaps = zip(replies.dropFirst(), replies).map { $0 - $1 }
                let longest = gaps.max() ?? .infinity
                print("VM bond: failover \(active ?? "?") -> \(now ?? "?"); \(replies.count) replies in 40 s, longest gap \(String(format: "%.1f", longest)) s")
                #expect(replies.count > 0 && (replies.last ?? 0) > (replies.first ?? 0) + 30, "no replies after the failover\n\(pings.stdout)")
                #expect(longest < 30, "the host was unreachable for \(longest) s after the failover\n\(pings.stdout)")
                try vm.monitor("set_link \(netdev) on")
            }
        }

        /// `Currently Active Slave: ens4` from /proc/net/bonding.
        static func activePort(_ bonding: String) -> String? {
            bonding.split(separator: "\n").first { $0.hasPrefix("Currently Active Slave: ") }
                .map { String($0.dropFirst("Currently Active Slave: ".count)) }
                .flatMap { $0 == "None" ? nil : $0 }
        }

        /// The arrival times (seconds) of ping's replies (`[1700000000.123456] 64 bytes from ...`).
        static func replyTimes(_ output: String) -> [Double] {
            output.split(separator: "\n").compactMap { line in
                guard line.hasPrefix("["), line.contains("bytes from"), let close = line.firstIndex(of: "]") else { return nil }
                return Double(line[line.index(after: line.startIndex)..<close])
            }
        }
    }
}
