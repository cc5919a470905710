import DBus
import Foundation
@testable import NetworkManager
import Testing

/// The `vxlan` setting: the builder's rules and the wire form, both ways (no bus; the
/// container round trip is in NetStateIntegrationTests' VXLAN scenario).
@Suite("VXLAN setting")
struct VXLANSettingTests {
    @Test("the builder rejects what NetworkManager would, with a hint", arguments: [
        (UInt32(16_777_216), "192.0.2.2", nil as String?, nil as UInt16?, "outside 0...16777215"),
        (5, "peer.example", nil, nil, "is not an IP address"),
        (5, "192.0.2.2", "2001:db8::5", nil, "different address families"),
        (5, "192.0.2.2", nil, 0, "destination-port is 0"),
    ])
    func rejected(_ id: UInt32, _ remote: String, _ local: String?, _ port: UInt16?, _ message: String) throws {
        do {
            _ = try NMConnectionProfile.vxlan(name: "vx0", interface: NMInterfaceName("vx0"), id: id, remote: remote,
                                              local: local, destinationPort: port)
            Issue.record("built")
        } catch {
            #expect(error.code == .invalidProfile && error.message.contains(message), "\(error.message)")
            #expect(error.hint != nil)
        }
    }

    @Test("encode then decode gives the same profile; keys not modelled survive")
    func roundTrip() throws {
        var profile = try NMConnectionProfile.vxlan(name: "vx0", interface: NMInterfaceName("vx0"), id: 16_777_215,
                                                    remote: "2001:db8::7", local: "2001:db8::5", destinationPort: 4789,
                                                    parent: "eno1")
        profile.vxlan?.extraKeys = ["ttl": .uint32(17), "learning": .boolean(false)]
        let codec = NMSettingsCodec(version: NMVersion(1, 42, 4))
        let wire = try codec.encode(profile)
        #expect(wire["connection"]?["type"]?.unwrapped == .string("vxlan"))
        #expect(wire["vxlan"]?["id"]?.unwrapped == .uint32(16_777_215))
        #expect(wire["vxlan"]?["destination-port"]?.unwrapped == .uint32(4789))
        #expect(wire["vxlan"]?["ttl"]?.unwrapped == .uint32(17))
        let back = try codec.decode(wire)
        #expect(back == profile)
        #expect(back.connection.type == .vxlan)
    }

    @Test("GetSettings' form: a default destination port is absent and reads as nil; a wrong type is refused")
    func decodeGetSettingsForm() throws {
        let codec = NMSettingsCodec(version: NMVersion(1, 42, 4))
        let uuid = "5f8c3a9e-2b1d-4c7e-9a6f-0d4e8b2c1a73"
        var settings: [String: [String: DBusValue]] = [
            "connection": ["id": .string("vx0"), "uuid": .string(uuid), "type": .string("vxlan"), "interface-name": .string("vx0")],
            "vxlan": ["id": .uint32(42), "remote": .string("192.0.2.2")],
        ]
        let profile = try codec.decode(settings)
        #expect(profile.vxlan == NMVXLANSetting(id: 42, remote: "192.0.2.2"))
        settings["vxlan"]?["id"] = .string("42")
        #expect(throws: NMError.self) { try codec.decode(settings) }
    }
}
