import DBus
import Foundation
@testable import NetworkManager
import Testing

/// The JSON forms of the module's values: each decodes back to the value it was made from,
/// and plans carry structured values, not GVariant text.
@Suite("Codable forms: round trips and structured plan values")
struct CodableTests {
    static func roundTrip<T: Codable & Equatable>(_ value: T) throws -> T {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(value)
        let decoded = try JSONDecoder().decode(T.self, from: data)
        #expect(decoded == value, "\(String(decoding: data, as: UTF8.self))")
        return decoded
    }

    static func json(_ value: some Encodable) throws -> Any {
        try JSONSerialization.jsonObject(with: try JSONEncoder().encode(value), options: [.fragmentsAllowed])
    }

    @Test("every GetSettings fixture decodes to a profile whose JSON decodes to the same profile",
          arguments: SettingsFixture.allNames)
    func profileFromFixture(name: String) throws {
        let profile = try NMSettingsCodec(version: NMVersion(1, 42, 4)).decode(try SettingsFixture.load(name).settings)
        _ = try Self.roundTrip(profile)
    }

    @Test("built profiles round-trip, addresses, routes, durations and VLAN ranges included")
    func builtProfiles() throws {
        var ipv4 = NMIPv4Setting(method: .manual)
        ipv4.addresses = [IPv4AddressWithPrefix("192.0.2.10/24")]
        ipv4.addressAttributes = [IPv4AddressWithPrefix("192.0.2.10/24"): ["label": .string("eno1:7")]]
        ipv4.gateway = IPv4Address("192.0.2.1")
        ipv4.dns = [IPv4Address("192.0.2.53")]
        ipv4.routes = [NMIPRoute(destination: IPv4AddressWithPrefix("198.51.100.0/24"), nextHop: IPv4Address("192.0.2.254"), metric: 107)]
        ipv4.dadTimeout = .zero
        ipv4.extraKeys = ["dns-priority": .int32(-51), "route-table": .uint32(254)]
        let bridge = try NMConnectionProfile.bridge(name: "br0", interface: NMInterfaceName("br0"), stp: false, ipv4: ipv4)
        var port = try NMConnectionProfile.bridgePort(name: "br0-port-eno1", interface: NMInterfaceName("eno1"), controller: "br0")
        port.bridgePort?.vlans = [NMBridgeVLAN(ids: 10...20, pvid: false, untagged: true)]
        port.unknownSettings = ["ethtool": ["feature-rx": .boolean(false)],
                                "match": ["interface-name": .array(.string, [.string("eno*"), .string("!eno9")])]]
        let vlan = try NMConnectionProfile.vlan(name: "v31", parent: "eno1", id: 31)
        _ = try Self.roundTrip(bridge)
        _ = try Self.roundTrip(port)
        _ = try Self.roundTrip(vlan)
        // Address attributes are an object keyed by the address.
        let object = try #require(try Self.json(bridge) as? [String: Any])
        let attributes = (object["ipv4"] as? [String: Any])?["addressAttributes"] as? [String: Any]
        #expect(attributes?["192.0.2.10/24"] != nil, "\(object)")
    }

    @Test("D-Bus values keep their types through JSON, containers as lists and objects")
    func dbusValues() throws {
        let values: [DBusValue] = [
            .byte(7), .boolean(true), .int16(-3), .uint16(3), .int32(-2_147_483_648), .uint32(24), .int64(-5), .uint64(.max),
            .double(0.25), .string("eno1"), .objectPath("/org/freedesktop/NetworkManager/Devices/3"), .signature("a{sv}"),
            .array(.uint32, []), .array(.string, [.string("a"), .string("b")]),
            .dictionary(key: .string, value: .variant, [.init(.string("address"), .variant(.string("192.0.2.10"))),
                                                         .init(.string("prefix"), .variant(.uint32(24)))]),
            .dictionary(key: .uint32, value: .string, [.init(.uint32(9), .string("x")), .init(.uint32(1), .string("y"))]),
            .structure([.uint32(1), .array(.byte, [.byte(2)]), .string("z")]),
            .variant(.variant(.int64(42))),
        ]
        for value in values { _ = try Self.roundTrip(value) }
        let prefix = try #require(try Self.json(DBusValue.variant(.uint32(24))) as? [String: Any])
        #expect(prefix["signature"] as? String == "v")
        let inner = try #require(prefix["value"] as? [String: Any])
        #expect(inner["signature"] as? String == "u" && inner["value"] as? Int == 24, "\(prefix)")
        // A payload that does not fit the signature is refused.
        let bad = Data(#"{"signature": "u", "value": -1}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(DBusValue.self, from: bad) }
    }

    @Test("a device read from NetworkManager with a name the checked initializer refuses round-trips")
    func tolerantInterfaceName() throws {
        // The kernel accepts ESC in a name; NMInterfaceName(_:) refuses control characters.
        let odd = NMInterfaceName(unchecked: "odd\u{1B}name")
        #expect(!odd.isValid)
        #expect(throws: NMError.self) { try NMInterfaceName("odd\u{1B}name") }
        let device = try JSONDecoder().decode(NMDevice.self, from: Data(#"""
            {"path": "/org/freedesktop/NetworkManager/Devices/9", "interface": "odd\u001bname", "type": 1, "state": 100,
             "managed": true, "isReal": true}
            """#.utf8))
        #expect(device.interface == odd && device.type == .ethernet && device.state == .activated)
        _ = try Self.roundTrip(device)
        // A name in a profile is input: decoding checks it.
        let profileName = Data(#""odd\u001bname""#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(NMInterfaceName.self, from: profileName) }
    }

    @Test("active connections, stored profiles and profile summaries round-trip")
    func hostObjects() throws {
        let uuid = UUID()
        let active = try JSONDecoder().decode(NMActiveConnection.self, from: Data(#"""
            {"path": "/org/freedesktop/NetworkManager/ActiveConnection/4", "name": "br0", "uuid": "\#(uuid.uuidString)",
             "type": "bridge", "devices": ["/org/freedesktop/NetworkManager/Devices/5"], "state": 2, "stateFlags": 33,
             "isDefault": true}
            """#.utf8))
        #expect(active.uuid == uuid && active.type == .bridge && active.stateFlags.contains(.controllerHasPorts))
        _ = try Self.roundTrip(active)
        // (NMStoredProfile has no public initializer: it is read, or decoded.)
        let profile = try Self.json(try NMConnectionProfile.dummy(name: "d0", interface: NMInterfaceName("d0")))
        let storedJSON: [String: Any] = ["path": "/org/freedesktop/NetworkManager/Settings/3", "profile": profile, "flags": 1,
                                         "filename": "/run/NetworkManager/system-connections/d0.nmconnection", "versionID": 7]
        let stored = try JSONDecoder().decode(NMStoredProfile.self, from: try JSONSerialization.data(withJSONObject: storedJSON))
        #expect(stored.isInMemory && stored.versionID == 7 && stored.profile.name == "d0")
        _ = try Self.roundTrip(stored)
        let summary = NMProfileSummary(path: "/org/freedesktop/NetworkManager/Settings/4", name: "x", uuid: uuid, type: .other("wireguard"),
                                       interfaceName: NMInterfaceName(unchecked: "all"), filename: nil, unsaved: false)
        _ = try Self.roundTrip(summary)
    }

    @Test("errors keep code, domain, message, hint and the D-Bus error's name and message")
    func errors() throws {
        let remote = NMError(.permissionDenied, "not authorized", hint: "grant org.freedesktop.NetworkManager.settings.modify.system",
                             domain: .settings,
                             dbusError: .remote(name: "org.freedesktop.NetworkManager.Settings.PermissionDenied", message: "not authorized"))
        let decoded = try Self.roundTrip(remote)
        #expect(decoded.dbusName == "org.freedesktop.NetworkManager.Settings.PermissionDenied")
        _ = try Self.roundTrip(NMError(.invalidInterfaceName, "invalid interface name", hint: "1-15 bytes"))
        let object = try #require(try Self.json(remote) as? [String: Any])
        #expect(object["code"] as? String == "permission-denied" && object["domain"] as? String == "settings", "\(object)")
        #expect((object["dbusError"] as? [String: Any])?["name"] as? String == "org.freedesktop.NetworkManager.Settings.PermissionDenied")
    }

    @Test("a plan's JSON has numbers, lists and objects where the GVariant text had them; the text stays for people")
    func planValues() throws {
        let codec = NMSettingsCodec(version: NMVersion(1, 42, 4))
        var ipv4 = NMIPv4Setting(method: .manual)
        ipv4.addresses = [IPv4AddressWithPrefix("192.0.2.10/24")]
        let profile = try NMConnectionProfile.bridge(name: "br0", interface: NMInterfaceName("br0"), ipv4: ipv4)
        let wire = try codec.encode(profile)
        let addressData = try #require(wire["ipv4"]?["address-data"])
        let mtuLike = DBusValue.uint32(1500)
        let plan = NMTransactionPlan(steps: [
            .init(kind: .add, profile: "br0", uuid: profile.uuid, ports: [], changes: [
                .init(setting: "ipv4", key: "address-data", before: nil, after: addressData),
                .init(setting: "802-3-ethernet", key: "mtu", before: nil, after: mtuLike),
            ], alreadyDone: false),
        ], networkManagerVersion: "1.42.4")
        _ = try Self.roundTrip(plan)
        // The human rendering is GVariant text.
        #expect(plan.description.contains("+ 802-3-ethernet.mtu = uint32 1500"), "\(plan.description)")
        #expect(plan.description.contains("<'192.0.2.10'>"), "\(plan.description)")
        // The JSON: a number for the uint32, a list of objects for aa{sv}.
        let object = try #require(try Self.json(plan) as? [String: Any])
        let changes = try #require(((object["steps"] as? [[String: Any]])?.first)?["changes"] as? [[String: Any]])
        let mtu = try #require(changes.first { $0["key"] as? String == "mtu" }?["after"] as? [String: Any])
        #expect(mtu["signature"] as? String == "u" && mtu["value"] as? Int == 1500, "\(mtu)")
        let addresses = try #require(changes.first { $0["key"] as? String == "address-data" }?["after"] as? [String: Any])
        #expect(addresses["signature"] as? String == "aa{sv}")
        let list = try #require(addresses["value"] as? [[String: Any]], "\(addresses)")
        let prefix = try #require(list.first?["prefix"] as? [String: Any])
        #expect(prefix["value"] as? Int == 24 && prefix["signature"] as? String == "u", "\(list)")
        #expect((list.first?["address"] as? [String: Any])?["value"] as? String == "192.0.2.10")
        // No GVariant text anywhere in the JSON.
        let text = String(decoding: try JSONEncoder().encode(plan), as: UTF8.self)
        #expect(!text.contains("uint32") && !text.contains("<"), "\(text)")
    }
}
