import Foundation
import NMTestSupport
import Testing

/// The container itself works: NetworkManager runs, manages the test NIC, two containers
/// live side by side, and the host is left as it was.
@Suite(.serialized)
struct ContainerSmokeTests {
    @Test func twoContainersSideBySideManageTheirNICsAndLeaveTheHostAlone() async throws {
        let resolvBefore = try Data(contentsOf: URL(fileURLWithPath: "/etc/resolv.conf"))

        let first = try await NMContainer.start()
        defer { try? first.stop() }

        let devices = try first.execChecked(["nmcli", "-t", "-f", "DEVICE,TYPE,STATE", "device"])
        let eno1 = devices.split(separator: "\n").first { $0.hasPrefix("eno1:") }
        #expect(eno1 != nil, "eno1 missing from nmcli device:\n\(devices)")
        #expect(eno1.map { !$0.contains("unmanaged") } == true, "eno1 is not managed: \(eno1 ?? "")")

        let second = try await NMContainer.start(dhcp: true)
        defer { try? second.stop() }
        #expect(first.name != second.name)
        #expect(first.busAddress != second.busAddress)
        #expect(first.isRunning)
        #expect(second.isRunning)
        let secondState = try second.execChecked(["nmcli", "-t", "-f", "RUNNING", "general"])
        #expect(secondState.trimmingCharacters(in: .whitespacesAndNewlines) == "running")
        // The DHCP server answers from the LAN side of the second container only.
        let lan = try second.execLAN(["ip", "-br", "addr", "show", "lan0"])
        #expect(lan.status == 0)
        #expect(lan.stdout.contains("192.168.1.1/24"))

        try second.stop()
        try first.stop()
        for name in [first.name, second.name] {
            #expect(!FileManager.default.fileExists(atPath: "/run/netns/\(name)"), "netns \(name) left behind")
            #expect(!FileManager.default.fileExists(atPath: "/run/netns/\(name)-lan"), "netns \(name)-lan left behind")
        }
        #expect(!first.isRunning)

        let resolvAfter = try Data(contentsOf: URL(fileURLWithPath: "/etc/resolv.conf"))
        #expect(resolvBefore == resolvAfter, "the host's /etc/resolv.conf changed")
    }

    @Test func networkManagerComesBackAfterSIGKILL() async throws {
        let container = try await NMContainer.start()
        defer { try? container.stop() }
        try await container.restartNetworkManager(clearRun: true)
        let state = try container.execChecked(["nmcli", "-t", "-f", "DEVICE,STATE", "device"])
        #expect(state.contains("eno1:"), "eno1 missing after restart:\n\(state)")
    }
}
