import DBus
import Foundation
import NMTestSupport
import NetworkManager
import Testing

extension BridgeifyTests {
    @Suite struct Conversions {
        /// The README's case: the seed's static eno1 moves onto br0; a rerun changes nothing;
        /// the result survives a NetworkManager restart and a reboot.
        @Test func theSeedsStaticEno1MovesOntoBr0AndStaysThere() async throws {
            try await withNMContainer(eno1Static: true) { container in
                let nm = try await container.client()
                let before = try await NMHostSnapshot.take(container, nm)
                let mac = try container.kernelLink("eno1").mac

                // --dry-run: the plan as a diff, and nothing changes.
                let dry = try await container.bridgeify(["eno1", "--dry-run"])
                let planned = try #require(dry.report, "\(dry)")
                #expect(dry.status == 0 && planned.result == "planned", "\(dry)")
                #expect(planned.plan?.steps.map(\.kind) == ["add", "add", "activate", "supersede"])
                let bridgeChanges = planned.plan?.steps.first?.changes ?? []
                #expect(bridgeChanges.contains { $0.key == "address-data" && $0.after?.description.contains("'192.168.1.200'") == true })
                #expect(bridgeChanges.contains { $0.setting == "bridge" && $0.key == "stp" && $0.after == .boolean(false) })
                #expect(bridgeChanges.contains { $0.key == "assigned-mac-address" && $0.after?.description.uppercased().contains(mac ?? "?") == true })
                #expect(planned.probes == ["gateway 192.168.1.1 answers ICMP echo"])
                try await expectSnapshot(container, nm, equals: before)
                let human = try await container.bridgeify(["eno1", "--dry-run"], json: false)
                #expect(human.stdout.contains("+ ipv4.address-data"), "\(human)")
                #expect(human.stdout.contains("type: linux-bridge") && human.stdout.contains("ip: 192.168.1.200"), "\(human)")

                // The conversion.
                let run = try await container.bridgeify(["eno1"])
                let report = try #require(run.report, "\(run)")
                #expect(run.status == 0 && report.result == "committed", "\(run)")
                #expect(report.error == nil)
                let steps = Set(report.steps.map(\.step))
                #expect(steps.isSuperset(of: ["inspect", "plan", "checkpoint", "stage", "activate", "verify", "probe", "commit"]), "\(steps)")
                #expect(report.steps.allSatisfy { $0.milliseconds >= 0 && $0.endedAtMilliseconds <= (report.elapsedMilliseconds ?? 0) })
                #expect(report.profiles?.superseded.map(\.name) == ["eno1"])
                #expect(report.restore?.count == 3)
                print("bridgeify eno1: committed in \(report.elapsedMilliseconds ?? -1) ms end to end: "
                    + report.steps.map { "\($0.step) \($0.milliseconds)" }.joined(separator: ", "))

                try await Self.expectConverted(container, nm, address: "192.168.1.200/24", mac: mac)
                let bridgeProfile = try #require(try await nm.profiles(named: "br0").first)
                #expect(bridgeProfile.profile.ipv4?.gateway == "192.168.1.1")
                #expect(bridgeProfile.profile.ipv4?.dns == ["114.114.114.114"])
                #expect(bridgeProfile.profile.bridge?.stp == false)
                // The old profile is kept, on disk, unable to autoconnect.
                let old = try #require(try await nm.profiles(named: "eno1").first)
                #expect(old.profile.connection.autoconnect == false && !old.isInMemory)
                #expect(old.profile.ipv4?.addresses == ["192.168.1.200/24"])

                // Again: nothing to do, and it says so.
                let after = try await NMHostSnapshot.take(container, nm)
                let again = try await container.bridgeify(["eno1"])
                #expect(again.status == 0 && again.report?.result == "unchanged", "\(again)")
                #expect(again.report?.summary?.contains("nothing to do") == true)
                #expect(!(again.report?.steps.contains { $0.step == "checkpoint" } ?? true))
                try await expectSnapshot(container, nm, equals: after)
                let human2 = try await container.bridgeify(["eno1"], json: false)
                #expect(human2.status == 0 && human2.stdout.contains("nothing to do"), "\(human2)")

                // A NetworkManager restart: the same profiles come back on the same devices.
                try await container.restartNetworkManager()
                try await Self.waitConverted(container, nm)
                try await Self.expectConverted(container, nm, address: "192.168.1.200/24", mac: mac)

                // A reboot, as NetworkManager sees one: /run empty, nothing configured in the
                // kernel. The profiles on disk bring everything back.
                try await container.simulateReboot(deleting: ["br0"])
                try await Self.waitConverted(container, nm)
                try await Self.expectConverted(container, nm, address: "192.168.1.200/24", mac: mac)
                let third = try await container.bridgeify(["eno1"])
                #expect(third.report?.result == "unchanged", "\(third)")
            }
        }

        /// docs/bridgeify.md's "Going back": the JSON document's `restore` commands bring the
        /// superseded profile back, as it was, without the LAN losing the host.
        @Test func theRestoreCommandsGoBack() async throws {
            try await withNMContainer(eno1Static: true) { container in
                let nm = try await container.client()
                let before = try await NMHostSnapshot.take(container, nm)
                let run = try await container.bridgeify(["eno1"])
                let restore = try #require(run.report?.restore, "\(run)")
                #expect(restore.count == 3)
                // The LAN pings the host every 50 ms meanwhile.
                let lan = Task { try await container.execLANAsync(["ping", "-n", "-i", "0.05", "-w", "3", "192.168.1.200"]) }
                try await Task.sleep(for: .milliseconds(300))
                for command in restore {
                    try container.execChecked(command.split(separator: " ").map(String.init))
                }
                // The NIC moves from the bridge to its old profile in one activation: at most
                // a ping or two (50-100 ms) is lost.
                let pings = try await lan.value
                let sent = pings.stdout.firstMatch(of: /(\d+) packets transmitted/).map { Int($0.1) ?? 0 } ?? 0
                let received = pings.stdout.firstMatch(of: /(\d+) received/).map { Int($0.1) ?? 0 } ?? 0
                #expect(sent > 40 && sent - received <= 2, "\(pings.stdout)")
                print("going back: the LAN got \(received) of \(sent) pings sent every 50 ms")
                try await waitUntil("eno1 is back on its own profile") {
                    try await NMHostSnapshot.take(container, nm) == before
                }
                let after = try await NMHostSnapshot.take(container, nm)
                #expect(after == before, "\(after.differences(from: before))")
            }
        }

        /// DHCP: the bridge takes eno1's MAC, so the DHCP server on the LAN hands out the
        /// same address, now and after a reboot.
        @Test func aDHCPConfiguredEno1KeepsItsLeaseOnTheBridge() async throws {
            try await withNMContainer(dhcp: true) { container in
                let nm = try await container.client()
                try container.execChecked(["nmcli", "connection", "add", "con-name", "wired", "ifname", "eno1",
                                           "type", "ethernet", "ipv4.method", "auto", "ipv6.method", "disabled"])
                try container.execChecked(["nmcli", "--wait", "30", "connection", "up", "wired"])
                let lease = try container.kernelAddresses("eno1")
                try #require(lease.count == 1 && lease[0].hasPrefix("192.168.1.1"), "\(lease)")
                let mac = try container.kernelLink("eno1").mac

                let run = try await container.bridgeify(["eno1"])
                let report = try #require(run.report, "\(run)")
                #expect(run.status == 0 && report.result == "committed", "\(run)")
                #expect(report.configuration?.ipv4?.method == "auto")
                #expect(report.probes?.contains("br0 got the same DHCP address \(lease[0].split(separator: "/")[0])") == true,
                        "\(report.probes ?? [])")
                #expect(report.probes?.contains("gateway 192.168.1.1 answers ICMP echo") == true)
                print("DHCP conversion committed in \(report.elapsedMilliseconds ?? -1) ms (activate \(report.milliseconds(of: "activate") ?? -1) ms)")
                try await Self.expectConverted(container, nm, address: lease[0], mac: mac, oldProfile: "wired")

                try await container.simulateReboot(deleting: ["br0"])
                try await Self.waitConverted(container, nm, address: lease[0])
                try await Self.expectConverted(container, nm, address: lease[0], mac: mac, oldProfile: "wired")
            }
        }

        /// "The bridge takes all of it": routes, DNS servers and search domains, MTU, IPv6.
        @Test func routesDNSSearchMTUAndIPv6MoveToo() async throws {
            try await withNMContainer(eno1Static: true) { container in
                let nm = try await container.client()
                try container.execChecked(["nmcli", "connection", "modify", "eno1",
                                           "+ipv4.routes", "10.10.0.0/16 192.168.1.1", "ipv4.dns-search", "lab.example",
                                           "+ipv4.dns", "192.0.2.53", "802-3-ethernet.mtu", "1400",
                                           "ipv6.method", "manual", "ipv6.addresses", "2001:db8:1::200/64",
                                           "ipv6.gateway", "2001:db8:1::1", "ipv6.dns", "2001:db8:1::53"])
                try container.execChecked(["nmcli", "--wait", "30", "connection", "up", "eno1"])

                let run = try await container.bridgeify(["eno1"])
                #expect(run.status == 0 && run.report?.result == "committed", "\(run)")
                let ipv4 = run.report?.configuration?.ipv4
                #expect(ipv4?.routes == ["10.10.0.0/16 via 192.168.1.1"])
                #expect(ipv4?.dnsSearch == ["lab.example"] && ipv4?.dns == ["114.114.114.114", "192.0.2.53"])
                #expect(run.report?.configuration?.mtu == 1400)
                #expect(run.report?.configuration?.ipv6?.addresses == ["2001:db8:1::200/64"])

                #expect(try container.kernelAddresses("br0") == ["192.168.1.200/24", "2001:db8:1::200/64"])
                #expect(try container.kernelLink("br0").mtu == 1400)
                #expect(try container.kernelLink("eno1").mtu == 1400)
                let routes = try container.execChecked(["ip", "route", "show", "10.10.0.0/16"])
                #expect(routes.contains("via 192.168.1.1 dev br0"), "\(routes)")
                let v6default = try container.execChecked(["ip", "-6", "route", "show", "default"])
                #expect(v6default.contains("via 2001:db8:1::1 dev br0"), "\(v6default)")
                let bridge = try #require(try await nm.profiles(named: "br0").first)
                #expect(bridge.profile.ipv4?.dnsSearch == ["lab.example"])
                #expect(bridge.profile.ipv6?.dns == ["2001:db8:1::53"])
                // The port keeps the NIC's link settings and nothing of IP.
                let port = try #require(try await nm.profiles(named: "br0-port-eno1").first)
                #expect(port.profile.ethernet?.mtu == 1400 && port.profile.ipv4 == nil && port.profile.ipv6 == nil)
                // IPv6 through the bridge works (the LAN's gateway has 2001:db8:1::1) once
                // duplicate address detection has cleared the new address.
                try await waitUntil("2001:db8:1::1 answers through br0", timeout: .seconds(10)) {
                    try container.exec(["ping", "-6", "-c", "1", "-W", "1", "2001:db8:1::1"]).status == 0
                }
            }
        }

        /// Options supply the configuration of an interface that has none, and override one
        /// that has.
        @Test func optionsSupplyOrOverrideTheConfiguration() async throws {
            try await withNMContainer(nics: ["eno1", "eno4"], eno1Static: true) { container in
                let nm = try await container.client()
                // eno4 has no profile at all.
                let supplied = try await container.bridgeify([
                    "eno4", "--bridge", "br4", "--ipv4", "192.168.1.204/24", "--gateway", "192.168.1.1", "--dns", "192.0.2.53",
                    "--ipv6", "2001:db8:1::204/64", "--dns-search", "lab.example",
                ])
                #expect(supplied.status == 0 && supplied.report?.result == "committed", "\(supplied)")
                #expect(supplied.report?.configuration?.source == "options")
                #expect(try container.kernelAddresses("br4") == ["192.168.1.204/24", "2001:db8:1::204/64"])
                #expect(try container.kernelLink("eno4").controller == "br4")
                let br4 = try #require(try await nm.profiles(named: "br4").first)
                #expect(br4.profile.ipv4?.dns == ["192.0.2.53"] && br4.profile.ipv4?.dnsSearch == ["lab.example"])
                #expect(try await autoconnecting(on: "eno4", nm) == ["br4-port-eno4"])

                // eno1 has the seed's configuration; --ipv4 replaces the address, the gateway
                // (still in the subnet) and the DNS server stay.
                let overridden = try await container.bridgeify(["eno1", "--ipv4", "192.168.1.201/24"])
                #expect(overridden.status == 0 && overridden.report?.result == "committed", "\(overridden)")
                #expect(try container.kernelAddresses("br0") == ["192.168.1.201/24"])
                let br0 = try #require(try await nm.profiles(named: "br0").first)
                #expect(br0.profile.ipv4?.gateway == "192.168.1.1" && br0.profile.ipv4?.dns == ["114.114.114.114"])
                // A rerun with the same options is unchanged; with different ones, refused.
                let same = try await container.bridgeify(["eno1", "--ipv4", "192.168.1.201/24"])
                #expect(same.status == 0 && same.report?.result == "unchanged", "\(same)")
                let different = try await container.bridgeify(["eno1", "--ipv4", "192.168.1.202/24"])
                #expect(different.status == 2 && different.report?.error?.code == "already-converted", "\(different)")
            }
        }

        /// --stp: spanning tree on, and the rollback timeout and the first probe's budget grow
        /// by the forwarding delay, which the gateway probe then waits out (about 30 s).
        @Test func stpOnWaitsOutTheForwardingDelay() async throws {
            try await withNMContainer(eno1Static: true) { container in
                let plain = try await container.bridgeify(["eno1", "--dry-run"])
                let withSTP = try await container.bridgeify(["eno1", "--dry-run", "--stp"])
                let plainTimeout = try #require(plain.report?.rollbackTimeoutSeconds)
                let stpTimeout = try #require(withSTP.report?.rollbackTimeoutSeconds)
                #expect(stpTimeout >= plainTimeout + 60, "\(plainTimeout) -> \(stpTimeout)")
                #expect(withSTP.report?.configuration?.stp == true)

                let run = try await container.bridgeify(["eno1", "--stp"])
                #expect(run.status == 0 && run.report?.result == "committed", "\(run)")
                let probe = try #require(run.report?.milliseconds(of: "probe"))
                print("with STP the gateway answered after \(probe) ms (forwarding delay)")
                #expect(try container.execChecked(["cat", "/sys/class/net/br0/bridge/stp_state"]).hasPrefix("1"))
            }
        }

        // MARK: - Checks

        static func waitConverted(_ container: NMContainer, _ nm: NMClient, address: String = "192.168.1.200/24") async throws {
            try await waitUntil("br0 and its port are active again") {
                let snapshot = try await nm.snapshot()
                guard let br0 = snapshot.device(named: "br0"), br0.state == .activated,
                    let eno1 = snapshot.device(named: "eno1"), eno1.state == .activated
                else { return false }
                return try container.kernelAddresses("br0").contains(address)
            }
        }

        /// br0 holds `address` and eno1's MAC, eno1 is its port with no address, both on disk,
        /// exactly one profile can autoconnect on each, the gateway answers through br0, and no
        /// checkpoint is left.
        static func expectConverted(_ container: NMContainer, _ nm: NMClient, address: String, mac: String?,
                                    oldProfile: String = "eno1") async throws {
            #expect(try container.kernelAddresses("br0").contains(address))
            #expect(try container.kernelAddresses("eno1").isEmpty)
            #expect(try container.kernelLink("eno1").controller == "br0")
            #expect(try container.kernelLink("br0").mac == mac)
            let snapshot = try await nm.snapshot()
            #expect(snapshot.checkpoints.isEmpty)
            let active = Dictionary(snapshot.devices.compactMap { device in
                device.activeConnection.flatMap { path in snapshot.activeConnections.first { $0.path == path } }
                    .map { (device.interface.rawValue, $0.name) }
            }, uniquingKeysWith: { a, _ in a })
            #expect(active["br0"] == "br0" && active["eno1"] == "br0-port-eno1", "\(active)")
            #expect(try await autoconnecting(on: "br0", nm) == ["br0"])
            #expect(try await autoconnecting(on: "eno1", nm) == ["br0-port-eno1"])
            let profiles = try await nm.profiles()
            for name in ["br0", "br0-port-eno1", oldProfile] {
                let profile = profiles.first { $0.profile.name == name }
                #expect(profile != nil && profile?.isInMemory == false, "\(name) on disk")
            }
            #expect(profiles.allSatisfy { $0.profile.userData.isEmpty }, "no transaction bookkeeping is left in user data")
            let route = try container.execChecked(["ip", "route", "show", "default"])
            #expect(route.contains("via 192.168.1.1 dev br0"), "\(route)")
            let ping = try container.exec(["ping", "-c", "1", "-W", "2", "192.168.1.1"])
            #expect(ping.status == 0, "\(ping.stdout)")
        }
    }
}
