import Foundation
import NMTestSupport
import NetworkManager
import Testing

extension NetStateScenarios {
    /// A VXLAN port on a bridge, on the container's kernel (it has the vxlan module):
    /// before -> applied -> rerun `unchanged`, and `show | apply` `unchanged`.
    @Suite struct VXLAN {
        static let state = """
            interfaces:
            - name: br1
              type: linux-bridge
              ipv4:
                enabled: true
                address: [{ip: 192.0.2.1, prefix-length: 24}]
              bridge:
                options: {stp: {enabled: false}}
                port: [{name: vx0}]
            - name: vx0
              type: vxlan
              vxlan:
                base-iface: eno1
                id: 4242
                remote: 192.168.1.1
                local: 192.168.1.200
                destination-port: 4789
            """

        @Test func vxlanPortOnABridgeThenRerunThenShowRoundTrip() async throws {
            try await withNMContainer(eno1Static: true) { container in
                let nm = try await container.client()
                let before = try await NMHostSnapshot.take(container, nm)

                let dry = try await container.apply(Self.state, ["--dry-run"])
                #expect(dry.status == 0 && dry.result == "planned", "\(dry)")
                try await expectSnapshot(container, nm, equals: before)

                let run = try await container.apply(Self.state)
                #expect(run.status == 0 && run.result == "committed" && run.hostState == "committed", "\(run)")
                // The kernel's view: a vxlan link with the keys given, enslaved to br1.
                let link = try #require(try container.ipJSON(["-d", "link", "show", "dev", "vx0"]).first)
                let info = (link["linkinfo"] as? [String: Any])?["info_data"] as? [String: Any] ?? [:]
                #expect((link["linkinfo"] as? [String: Any])?["info_kind"] as? String == "vxlan", "\(link)")
                #expect(info["id"] as? Int == 4242 && info["port"] as? Int == 4789, "\(info)")
                #expect(info["remote"] as? String == "192.168.1.1" && info["local"] as? String == "192.168.1.200", "\(info)")
                #expect(info["link"] as? String == "eno1", "\(info)")
                #expect(try container.controller(of: "vx0") == "br1")
                #expect(try container.kernelAddresses("br1") == ["192.0.2.1/24"])
                // eno1 is not touched: still its seed profile and address.
                #expect(try container.kernelAddresses("eno1") == ["192.168.1.200/24"])

                let after = try await NMHostSnapshot.take(container, nm)
                let again = try await container.apply(Self.state)
                #expect(again.status == 0 && again.result == "unchanged", "\(again)")
                try await expectSnapshot(container, nm, equals: after)

                // show renders vx0 as a vxlan with the same keys; applying it changes nothing.
                let shown = try await container.netstate(["show", "br1", "vx0"], json: false)
                #expect(shown.status == 0 && shown.stdout.contains("type: vxlan") && shown.stdout.contains("id: 4242"), "\(shown)")
                #expect(shown.stdout.contains("destination-port: 4789") && shown.stdout.contains("base-iface: eno1"), "\(shown.stdout)")
                let roundTrip = try await container.apply(shown.stdout)
                #expect(roundTrip.status == 0 && roundTrip.result == "unchanged", "\(roundTrip)\n\(shown.stdout)")
                try await expectSnapshot(container, nm, equals: after)
            }
        }
    }
}
