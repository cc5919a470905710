import Foundation
import NMTestSupport
import NetworkManager
import Testing

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
                #expect(try container.kernelAddresses("br0").contains("192.168.1.210/24"))

                let after = try await HostState.take(container, nm)
                let again = try await container.apply(one, ["--no-probe"])
                #expect(again.status == 0 && again.result == "unchanged", "\(again)")
                #expect(try await HostState.take(container, nm) == after)
            }
        }
    }
}
