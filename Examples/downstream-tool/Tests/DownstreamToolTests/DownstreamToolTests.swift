import DownstreamTool
import NMTestSupport
import NetworkManager
import Testing

/// What another team's test looks like: NMTestSupport starts a real NetworkManager in the
/// project's container (root only; it fails, not skips, without), the tool runs inside it, and
/// the test reads the result back through the library over the container's bus. Nothing to
/// copy, nothing to set: the container script comes from NMTestSupport's resource bundle.
@Suite(.serialized) struct DownstreamToolTests {
    /// The README's transaction example, as written (`downstream-tool readme-bridge`): eno1's
    /// seed configuration (192.168.1.200/24, gateway 192.168.1.1) moves onto a new bridge br0.
    /// The tool runs inside the container, because the transaction's gateway probe pings from
    /// the calling process: run in this test process, it would ping from the host.
    @Test func readmeBridgeExampleCommitsAndTheHostRunsIt() async throws {
        // The script came from NMTestSupport's bundle, not from the sources next to it (which a
        // dependency fetched by URL has too, but a built test may outlive).
        #expect(NMContainer.scriptPath.hasSuffix("_NMTestSupport.resources/nm-container"), "\(NMContainer.scriptPath)")
        try await withNMContainer(eno1Static: true) { container in
            let tool = builtExecutable("downstream-tool")
            let run = try container.exec([tool, "readme-bridge"])
            #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
            #expect(run.stdout.contains("outcome: committed; end state: committed"), "\(run.stdout)")

            // Read back over the container's bus, as a downstream tool would.
            let nm = try await NMClient.connect(address: container.busAddress)
            let bridges = try await nm.profiles(named: "br0")
            #expect(bridges.count == 1)
            #expect(bridges.first?.isInMemory == false)  // committed: written to disk
            let old = try #require(try await nm.profiles(named: "eno1").first)
            #expect(old.profile.connection.autoconnect == false)  // superseded, kept for a person
            let report = try await deviceReport(nm)
            let br0 = try #require(report.first { $0.hasPrefix("br0 ") }, "\(report)")
            #expect(br0.contains("192.168.1.200/24"), "\(report)")

            // And the kernel agrees: eno1 is br0's port, br0 holds the address.
            let link = try container.execChecked(["ip", "-o", "link", "show", "dev", "eno1"])
            #expect(link.contains("master br0"), "\(link)")
            let address = try container.execChecked(["ip", "-o", "-4", "addr", "show", "dev", "br0"])
            #expect(address.contains("192.168.1.200/24"), "\(address)")
        }
    }
}
