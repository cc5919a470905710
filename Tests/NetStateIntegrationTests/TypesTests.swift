import Foundation
import NMTestSupport
import NetworkManager
import Testing

extension NetStateScenarios {
    @Suite struct Types {
        /// A bridge without ports added with a static address, then set `absent`: its profile
        /// is deleted and the kernel's link goes away; a rerun of `absent` is `unchanged`.
        /// (A bridge, not a dummy: this kernel has no dummy module either, "Operation not supported".)
        @Test func interfaceAddedThenAbsent() async throws {
            try await withNMContainer { container in
                let nm = try await container.client()
                print("netstate types: NetworkManager \(try await nm.version())")
                let before = try await NMHostSnapshot.take(container, nm)
                let add = """
                    interfaces:
                    - name: br9
                      type: linux-bridge
                      bridge: {options: {stp: {enabled: false}}, port: []}
                      ipv4: {enabled: true, address: [{ip: 10.99.0.1, prefix-length: 24}]}
                      ipv6: {enabled: false}
                    """
                let run = try await container.apply(add, ["--no-probe"])
                #expect(run.status == 0 && run.result == "committed", "\(run)")
                #expect(try container.kernelAddresses("br9") == ["10.99.0.1/24"])
                #expect(try await container.apply(add, ["--no-probe"]).result == "unchanged")

                let absent = "interfaces:\n- name: br9\n  state: absent\n"
                let removed = try await container.apply(absent, ["--no-probe"])
                #expect(removed.status == 0 && removed.result == "committed", "\(removed)")
                #expect(try await nm.profiles().allSatisfy { $0.profile.connection.interfaceName?.rawValue != "br9" })
                try await waitUntil("br9 gone") { (try? container.kernelAddresses("br9")) == nil }
                #expect(try await container.apply(absent, ["--no-probe"]).result == "unchanged")
                try await expectSnapshot(container, nm, equals: before)
            }
        }

        /// VLAN and bond states are planned against a real NetworkManager (--dry-run): this
        /// kernel has no 8021q or bonding module, so they are not activated here.
        @Test func vlanAndBondArePlannedOnly() async throws {
            try await withNMContainer(nics: ["eno1", "eno2"]) { container in
                let nm = try await container.client()
                let before = try await NMHostSnapshot.take(container, nm)
                let vlan = """
                    interfaces:
                    - name: eno1.100
                      type: vlan
                      vlan: {base-iface: eno1, id: 100}
                      ipv4: {enabled: true, address: [{ip: 10.100.0.1, prefix-length: 24}]}
                    """
                let plannedVLAN = try await container.apply(vlan, ["--dry-run"])
                #expect(plannedVLAN.status == 0 && plannedVLAN.result == "planned", "\(plannedVLAN)")
                #expect(plannedVLAN.planSteps.map { $0["kind"] as? String } == ["add", "activate"], "\(plannedVLAN)")
                let bond = """
                    interfaces:
                    - name: bond0
                      type: bond
                      link-aggregation: {mode: active-backup, options: {miimon: 100}, port: [eno2]}
                      ipv4: {enabled: true, dhcp: true}
                    """
                let plannedBond = try await container.apply(bond, ["--dry-run"])
                #expect(plannedBond.status == 0 && plannedBond.result == "planned", "\(plannedBond)")
                #expect(plannedBond.planSteps.compactMap { $0["profile"] as? String }.contains("eno2"), "\(plannedBond)")
                let human = try await container.netstate(["apply", "-", "--dry-run"], json: false)
                #expect(human.status == 2, "stdin is empty here: an empty document is refused\n\(human)")
                try await expectSnapshot(container, nm, equals: before)
            }
        }
    }
}

/// Polls `condition` every 100 ms until it holds or `timeout` passes.
func waitUntil(_ what: String, timeout: Duration = .seconds(15), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    Issue.record("timed out waiting for \(what)")
}
