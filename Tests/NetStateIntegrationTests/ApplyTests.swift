import Foundation
import NMTestSupport
import NetworkManager
import Testing

extension NetStateScenarios {
    /// Scenarios on the container's real NetworkManager: before -> applied -> rerun
    /// `unchanged`; a failing variant rolls back to exactly before.
    @Suite struct Apply {
        /// The container's NICs are all wired to its one LAN, so a bridge over two of them
        /// is a loop unless STP breaks it (with STP off, NetworkManager sees its own ARP probes,
        /// reports 192.168.1.210 "used on network", and the activation stalls): STP on, with
        /// short timers.
        static let bridge = """
            interfaces:
            - name: br0
              type: linux-bridge
              state: up
              ipv4:
                enabled: true
                dhcp: false
                address:
                - {ip: 192.168.1.210, prefix-length: 24}
              ipv6:
                enabled: true
                autoconf: false
                dhcp: false
                address:
                - {ip: 2001:db8:1::210, prefix-length: 64}
              bridge:
                options: {stp: {enabled: true, forward-delay: 4, hello-time: 1, max-age: 6}}
                port:
                - name: eno1
                - name: eno2
            """

        /// A bridge with two ports, static IPv4 and IPv6; the rerun is `unchanged`; `show | apply`
        /// is `unchanged`; a malformed file changes nothing.
        @Test func bridgeWithTwoPortsThenRerunThenShowRoundTrip() async throws {
            try await withNMContainer(nics: ["eno1", "eno2"]) { container in
                let nm = try await container.client()
                let before = try await NMHostSnapshot.take(container, nm)

                // A malformed file: refused with the key's path, nothing changed.
                let bad = try await container.apply(Self.bridge.replacingOccurrences(of: "    - name: eno2", with: "    - nme: eno2"))
                #expect(bad.status == 2 && bad.result == "rejected" && bad.errorPath == "interfaces[0].bridge.port[1].nme", "\(bad)")
                try await expectSnapshot(container, nm, equals: before)

                let dry = try await container.apply(Self.bridge, ["--dry-run"])
                #expect(dry.status == 0 && dry.result == "planned", "\(dry)")
                #expect(dry.planSteps.compactMap { $0["kind"] as? String }.contains("activate"), "\(dry)")
                try await expectSnapshot(container, nm, equals: before)

                let start = ContinuousClock.now
                let run = try await container.apply(Self.bridge, ["--no-probe"])
                print("netstate apply two-port bridge: \(run.result ?? "?") in \(ContinuousClock.now - start)")
                #expect(run.status == 0 && run.result == "committed" && run.hostState == "committed", "\(run)")
                #expect(try container.kernelAddresses("br0").contains("192.168.1.210/24"))
                #expect(try container.kernelAddresses("br0").contains("2001:db8:1::210/64"))
                #expect(try container.controller(of: "eno1") == "br0" && container.controller(of: "eno2") == "br0")

                let after = try await NMHostSnapshot.take(container, nm)
                let again = try await container.apply(Self.bridge, ["--no-probe"])
                #expect(again.status == 0 && again.result == "unchanged", "\(again)")
                try await expectSnapshot(container, nm, equals: after)

                // show | apply: nothing to do.
                let shown = try await container.netstate(["show"], json: false)
                #expect(shown.status == 0 && shown.stdout.contains("br0"), "\(shown)")
                let roundTrip = try await container.apply(shown.stdout, ["--no-probe"])
                #expect(roundTrip.status == 0 && roundTrip.result == "unchanged", "\(roundTrip)\n\(shown.stdout)")
                try await expectSnapshot(container, nm, equals: after)
            }
        }

        /// The seed's static eno1 onto a bridge, written as a state file; then a failing
        /// variant (a gateway that does not answer, probed) rolls back to exactly before.
        @Test func seedsBridgeAsAStateFileAndAFailingGatewayRollsBack() async throws {
            try await withNMContainer(eno1Static: true) { container in
                let nm = try await container.client()
                let before = try await NMHostSnapshot.take(container, nm)
                func state(gateway: String) -> String {
                    """
                    interfaces:
                    - name: br0
                      type: linux-bridge
                      ipv4:
                        enabled: true
                        address: [{ip: 192.168.1.200, prefix-length: 24}]
                      bridge:
                        options: {stp: {enabled: false}}
                        port: [{name: eno1}]
                    routes:
                      config:
                      - {destination: 0.0.0.0/0, next-hop-address: \(gateway), next-hop-interface: br0}
                    dns-resolver:
                      config: {server: [114.114.114.114]}
                    """
                }
                // 192.168.1.254 is on the container's LAN, and nothing answers there.
                let failing = try await container.apply(state(gateway: "192.168.1.254"))
                #expect(failing.status == 1 && failing.result == "rolled-back" && failing.hostState == "before", "\(failing)")
                let afterFailure = try await NMHostSnapshot.take(container, nm)
                #expect(afterFailure == before, "\(afterFailure.differences(from: before))")

                let run = try await container.apply(state(gateway: "192.168.1.1"))
                #expect(run.status == 0 && run.result == "committed", "\(run)")
                #expect(try container.kernelAddresses("br0") == ["192.168.1.200/24"])
                #expect(try container.controller(of: "eno1") == "br0")
                let again = try await container.apply(state(gateway: "192.168.1.1"))
                #expect(again.result == "unchanged", "\(again)")
            }
        }

        /// A static route added, then removed with `state: absent`; DNS changed.
        @Test func routeAddedThenRemovedAndDNSChanged() async throws {
            try await withNMContainer(eno1Static: true) { container in
                let nm = try await container.client()
                let add = """
                    routes:
                      config:
                      - {destination: 198.51.100.0/24, next-hop-address: 192.168.1.1, next-hop-interface: eno1, metric: 150}
                    """
                let run = try await container.apply(add, ["--no-probe"])
                #expect(run.status == 0 && run.result == "committed", "\(run)")
                let routes = try container.execChecked(["ip", "-4", "route", "show", "198.51.100.0/24"])
                #expect(routes.contains("via 192.168.1.1") && routes.contains("metric 150"), "\(routes)")
                #expect(try await container.apply(add, ["--no-probe"]).result == "unchanged")

                let remove = add.replacingOccurrences(of: "metric: 150}", with: "metric: 150, state: absent}")
                let removed = try await container.apply(remove, ["--no-probe"])
                #expect(removed.status == 0 && removed.result == "committed", "\(removed)")
                #expect(try container.execChecked(["ip", "-4", "route", "show", "198.51.100.0/24"]).isEmpty)

                let dns = """
                    interfaces:
                    - name: eno1
                      ipv4: {enabled: true, address: [{ip: 192.168.1.200, prefix-length: 24}]}
                    dns-resolver:
                      config: {server: [192.168.1.1, 2001:db8:1::1], search: [example.test]}
                    """
                let changed = try await container.apply(dns, ["--no-probe"])
                #expect(changed.status == 0 && changed.result == "committed", "\(changed)")
                let profile = try #require(try await nm.profiles(named: "eno1").first?.profile)
                #expect(profile.ipv4?.dns == ["192.168.1.1"] && profile.ipv4?.dnsSearch == ["example.test"])
                #expect(profile.ipv6?.dns == ["2001:db8:1::1"])
                #expect(try await container.apply(dns, ["--no-probe"]).result == "unchanged")
            }
        }
    }
}
