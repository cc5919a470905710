import Foundation
import NMTestSupport
import NetworkManager
import Testing

let bridgeifyPath: String = builtExecutable("bridgeify")

extension NetStateScenarios {
    /// nmstate's port semantics on the container's NetworkManager: ports left out of a `port`
    /// list are detached; a bridge given back to its NIC (docs/netstate.md).
    @Suite struct Ports {
        /// A two-port bridge, then the same bridge with one port: the other is detached (its
        /// profile kept, naming no controller, the device out of the bridge); the rerun is
        /// `unchanged`.
        @Test func portLeftOutIsDetached() async throws {
            try await withNMContainer(nics: ["eno1", "eno2"]) { container in
                let nm = try await container.client()
                let two = try await container.apply(Apply.bridge, ["--no-probe"])
                #expect(two.status == 0 && two.result == "committed", "\(two)")
                #expect(try container.controller(of: "eno2") == "br0")
                let eno2Profile = try #require(try await nm.profiles().first { $0.profile.interfaceName?.rawValue == "eno2" }?.profile)

                let one = Apply.bridge.replacingOccurrences(of: "\n    - name: eno2", with: "")
                #expect(!one.contains("eno2"))
                let start = ContinuousClock.now
                let run = try await container.apply(one, ["--no-probe"])
                print("netstate detach eno2: \(run.result ?? "?") in \(ContinuousClock.now - start)")
                #expect(run.status == 0 && run.result == "committed" && run.hostState == "committed", "\(run)")
                #expect(try container.controller(of: "eno2") == nil, "eno2 is out of br0 in the kernel")
                #expect(try container.controller(of: "eno1") == "br0")
                let eno2Profiles = try await nm.profiles().filter { $0.profile.interfaceName?.rawValue == "eno2" }
                #expect(eno2Profiles.count == 1 && eno2Profiles.first?.profile.uuid == eno2Profile.uuid, "the same profile, kept")
                let detached = try #require(eno2Profiles.first?.profile)
                #expect(detached.connection.controller == nil && detached.connection.portType == nil)
                #expect(detached.ipv4?.method == .disabled && detached.ipv6?.method == .disabled)
                let active = try await nm.snapshot().activeConnections.map(\.uuid)
                #expect(active.contains(detached.uuid), "eno2 was up as a port: it stays up on its own (nmstate)")
                #expect(try container.kernelAddresses("br0").contains("192.168.1.210/24"))

                let after = try await NMHostSnapshot.take(container, nm)
                let again = try await container.apply(one, ["--no-probe"])
                #expect(again.status == 0 && again.result == "unchanged", "\(again)")
                try await expectSnapshot(container, nm, equals: after)
            }
        }

        /// The give-back recipe of docs/netstate.md, for the seed's eno1 bridged by bridgeify.
        static func giveBack(gateway: String) -> String {
            """
            interfaces:
            - name: br0
              type: linux-bridge
              state: absent
            - name: eno1
              type: ethernet
              state: up
              ipv4:
                enabled: true
                dhcp: false
                address:
                - {ip: 192.168.1.200, prefix-length: 24}
              ipv6:
                enabled: true
                autoconf: true
                dhcp: true
            routes:
              config:
              - {destination: 0.0.0.0/0, next-hop-address: \(gateway), next-hop-interface: eno1}
            dns-resolver:
              config: {server: [114.114.114.114]}
            """
        }

        /// bridgeify eno1, then the bridge's configuration given back to eno1 as a state
        /// file: first with a gateway that does not answer (the probe fails: rolled back to
        /// exactly the bridged host), then the real one: eno1 holds the address and the
        /// gateway, no br0, one profile autoconnecting on eno1, nothing naming br0; the rerun
        /// is `unchanged`.
        @Test func bridgeGivenBackToItsNIC() async throws {
            try await withNMContainer(eno1Static: true) { container in
                let nm = try await container.client()
                let bridged = try container.exec([bridgeifyPath, "eno1", "--no-probe", "--json"], timeout: 180)
                #expect(bridged.status == 0, "bridgeify: \(bridged.stdout) \(bridged.stderr)")
                #expect(try container.controller(of: "eno1") == "br0")
                let before = try await NMHostSnapshot.take(container, nm)

                // 192.168.1.254 is on the LAN, and nothing answers there.
                let failing = try await container.apply(Self.giveBack(gateway: "192.168.1.254"))
                #expect(failing.status == 1 && failing.result == "rolled-back" && failing.hostState == "before", "\(failing)")
                let afterFailure = try await NMHostSnapshot.take(container, nm)
                #expect(afterFailure == before, "\(afterFailure.differences(from: before))")

                // The commit's writes, in the order NetworkManager made them (its Updated and
                // ConnectionRemoved signals): br0's autoconnect off must come before eno1's port
                // becomes a plain profile on disk, so that no prefix of them boots with the
                // address on both (docs/transactions.md, "A power cut during the commit").
                let stored = try await nm.profiles()
                let bridgePath = try #require(stored.first { $0.profile.interfaceName?.rawValue == "br0" }?.path)
                let portPath = try #require(stored.first { $0.profile.connection.controller != nil }?.path)
                let writes = try await nm.connection.signals(matching: DBusMatchRule(sender: NMClient.service, pathNamespace: "/org/freedesktop/NetworkManager/Settings"))
                let seen = Task {
                    var order: [String] = []
                    for try await signal in writes {
                        let who = signal.path == bridgePath ? "br0" : signal.path == portPath ? "port" : nil
                        if let who, signal.member.rawValue == "Updated" { order.append("\(who) updated") }
                        if signal.member.rawValue == "ConnectionRemoved", signal.body.first == .objectPath(bridgePath) {
                            order.append("br0 removed")
                            return order
                        }
                    }
                    return order
                }
                let start = ContinuousClock.now
                let run = try await container.apply(Self.giveBack(gateway: "192.168.1.1"))
                print("netstate give-back br0 to eno1: \(run.result ?? "?") in \(ContinuousClock.now - start)")
                let order = try await seen.value
                let inert = order.firstIndex(of: "br0 updated"), plain = order.lastIndex(of: "port updated")
                #expect(inert != nil && plain != nil && inert! < plain! && order.last == "br0 removed",
                        "the commit writes br0 inert before eno1's profile leaves it: \(order)")
                #expect(run.status == 0 && run.result == "committed" && run.hostState == "committed", "\(run)")
                #expect(try container.kernelAddresses("eno1").contains("192.168.1.200/24"))
                #expect(try container.controller(of: "eno1") == nil)
                #expect(try container.ipJSON(["link"]).allSatisfy { ($0["ifname"] as? String) != "br0" }, "br0 is gone")
                let routes = try container.execChecked(["ip", "-4", "route", "show", "default"])
                #expect(routes.contains("via 192.168.1.1 dev eno1"), "\(routes)")
                let profiles = try await nm.profiles().map(\.profile)
                #expect(!profiles.contains { $0.interfaceName?.rawValue == "br0" })
                #expect(!profiles.contains { $0.connection.controller != nil }, "nothing names a controller any more")
                let eno1 = profiles.filter { $0.interfaceName?.rawValue == "eno1" }
                #expect(eno1.filter { $0.connection.autoconnect != false }.count == 1, "\(eno1.map { ($0.name, $0.connection.autoconnect) })")
                let active = try await nm.snapshot().activeConnections.map(\.uuid)
                let own = try #require(eno1.first { $0.connection.autoconnect != false })
                #expect(active.contains(own.uuid), "the autoconnecting profile is the active one")
                #expect(own.ipv4?.gateway == "192.168.1.1" && own.ipv4?.dns == ["114.114.114.114"])

                let after = try await NMHostSnapshot.take(container, nm)
                let again = try await container.apply(Self.giveBack(gateway: "192.168.1.1"))
                #expect(again.status == 0 && again.result == "unchanged", "\(again)")
                try await expectSnapshot(container, nm, equals: after)
            }
        }
    }
}
