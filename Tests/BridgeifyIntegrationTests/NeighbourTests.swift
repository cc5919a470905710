import Foundation
import NMTestSupport
import NetworkManager
import Testing

extension BridgeifyTests {
    /// Issue 6: NetworkManager 1.42 puts eno1's address on br0 before eno1 is its port, while
    /// br0 has no carrier. A neighbour lookup started then (a reply to the LAN's pings, a ping
    /// of the gateway) was lost, and the kernel asked again only a second later: the host was
    /// unreachable from the LAN for about a second. bridgeify now writes eno1's neighbour entries
    /// onto br0 right after the activation (Examples/bridgeify/Neighbours.swift). These tests
    /// check what it does, not how long anything takes: the outage is measured by the benchmark
    /// (scripts/bench --only outage).
    @Suite struct Neighbours {
        /// Traffic both ways during the conversion, as a busy host sees it, so that lookups start
        /// in the carrier gap; no probe, so that nothing but bridgeify's step can resolve br0's
        /// entry for the gateway in time. Right after bridgeify returns, br0 knows the gateway's
        /// MAC and the first ping of the gateway is answered at once.
        @Test func aGatewayLookupLostInTheCarrierGapIsNotWaitedOut() async throws {
            try await withNMContainer(eno1Static: true) { container in
                let gatewayMAC = try #require(try container.lanLinkAddress("lan0"))
                let lan = Task { try await container.execLANAsync(["ping", "-n", "-q", "-i", "0.01", "-w", "4", "192.168.1.200"]) }
                let host = Task { try await container.execAsync(["ping", "-n", "-q", "-i", "0.01", "-w", "4", "192.168.1.1"]) }
                try await waitUntil("eno1 knows the gateway's MAC", timeout: .seconds(3)) {
                    try container.neighbour("192.168.1.1", on: "eno1")?.isResolved == true
                }

                let run = try await container.bridgeify(["eno1", "--no-probe"])
                // First, before anything else can make the kernel look again.
                let entry = try container.neighbour("192.168.1.1", on: "br0")
                let ping = try await container.execAsync(["ping", "-n", "-c", "1", "-W", "0.5", "192.168.1.1"])

                let report = try #require(run.report, "\(run)")
                #expect(run.status == 0 && report.result == "committed", "\(run)")
                #expect(entry?.mac == gatewayMAC && entry?.isResolved == true,
                        "br0's entry for the gateway: \(String(describing: entry)), the LAN's MAC \(gatewayMAC)")
                #expect(ping.status == 0, "the first ping of the gateway after the conversion: \(ping.stdout)")
                // The step, between the activation and the verification.
                let steps = report.steps.map(\.step)
                let hook = try #require(report.steps.first { $0.step == "afterActivation" }, "\(steps)")
                #expect(hook.detail.hasPrefix("neighbours: "), "\(hook.detail)")
                #expect(hook.detail.contains("carried to br0 (192.168.1.1") || hook.detail.contains("already resolved on br0"),
                        "\(hook.detail)")
                #expect(steps.firstIndex(of: "activate")! < steps.firstIndex(of: "afterActivation")!
                    && steps.firstIndex(of: "afterActivation")! < steps.firstIndex(of: "verify")!, "\(steps)")
                print("bridgeify eno1: \(hook.detail)")
                _ = try await lan.value
                _ = try await host.value
            }
        }

        /// With no traffic during the conversion nothing makes br0 look the gateway up by
        /// itself: an entry for it on br0 can only have been carried over from eno1, with its
        /// MAC, and left for the kernel to confirm (STALE). The terminal output names the step.
        @Test func eno1sEntriesAreCarriedOntoBr0AsStale() async throws {
            try await withNMContainer(eno1Static: true) { container in
                let gatewayMAC = try #require(try container.lanLinkAddress("lan0"))
                try container.execChecked(["ping", "-n", "-c", "1", "-W", "1", "192.168.1.1"])
                let known = try #require(try container.neighbour("192.168.1.1", on: "eno1"))
                #expect(known.isResolved && known.mac == gatewayMAC, "\(known)")

                let run = try await container.bridgeify(["eno1", "--no-probe"], json: false)
                #expect(run.status == 0, "\(run)")
                #expect(run.stdout.contains("afterActivation  neighbours: ") && run.stdout.contains("carried to br0 (192.168.1.1"), "\(run)")
                let carried = try #require(try container.neighbour("192.168.1.1", on: "br0"))
                #expect(carried.mac == gatewayMAC && carried.states == ["STALE"], "\(carried)")
            }
        }
    }
}

/// One entry of the kernel's neighbour table, as `ip -j neigh` prints it.
struct KernelNeighbour: CustomStringConvertible {
    var mac: String?
    var states: [String]
    /// REACHABLE, STALE, DELAY, PROBE or PERMANENT: the kernel holds a MAC it uses.
    var isResolved: Bool {
        mac != nil && !states.contains { ["INCOMPLETE", "FAILED", "NOARP", "NONE"].contains($0) }
    }
    var description: String { "\(mac ?? "no MAC") \(states.joined(separator: ","))" }
}

extension NMContainer {
    /// The kernel's neighbour entry for `address` on `interface`, inside the container.
    func neighbour(_ address: String, on interface: String) throws -> KernelNeighbour? {
        guard let entry = try ipJSON(["neigh", "show", "to", address, "dev", interface]).first else { return nil }
        return KernelNeighbour(mac: (entry["lladdr"] as? String)?.uppercased(), states: entry["state"] as? [String] ?? [])
    }

    /// The MAC of `interface` in the LAN namespace (`lan0`: the gateway's bridge).
    func lanLinkAddress(_ interface: String) throws -> String? {
        let output = try execLAN(["ip", "-j", "link", "show", "dev", interface])
        let links = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[String: Any]] ?? []
        return (links.first?["address"] as? String)?.uppercased()
    }
}
