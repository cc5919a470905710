import DBus
import NetworkManager
import Testing

/// The per-key "since" table: never send a key the running NetworkManager lacks.
@Suite("Settings codec versions")
struct CodecVersionTests {
    static let dnsProfile: NMConnectionProfile = {
        try! NMConnectionProfile.ethernet(
            name: "dns", interface: NMInterfaceName("eno1"),
            ipv4: .static(addresses: ["192.0.2.10/24"], gateway: "192.0.2.1", dns: ["192.0.2.53", "198.51.100.7"]),
            ipv6: .static(addresses: ["2001:db8::10/64"], dns: ["2001:db8::53"]))
    }()

    @Test("a 1.40 codec sends dns (au of in_addr_t, aay) and never dns-data")
    func dns140() throws {
        let written = try NMSettingsCodec(version: NMVersion(1, 40)).encode(Self.dnsProfile)
        #expect(written["ipv4"]?["dns-data"] == nil)
        #expect(written["ipv4"]?["dns"] == .array(.uint32, [.uint32(IPv4Address(192, 0, 2, 53).inAddr),
                                                             .uint32(IPv4Address(198, 51, 100, 7).inAddr)]))
        #if _endian(little)
        #expect(written["ipv4"]?["dns"] == .array(.uint32, [.uint32(0x3502_00C0), .uint32(0x0764_33C6)]))
        #endif
        #expect(written["ipv6"]?["dns-data"] == nil)
        #expect(written["ipv6"]?["dns"] == .array(.array(.byte), [
            .array(.byte, [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53].map(DBusValue.byte)),
        ]))
    }

    @Test("a 1.42 codec sends dns-data only", arguments: [NMVersion(1, 42), NMVersion(1, 42, 4), NMVersion(1, 56)])
    func dns142(version: NMVersion) throws {
        let written = try NMSettingsCodec(version: version).encode(Self.dnsProfile)
        #expect(written["ipv4"]?["dns"] == nil)
        #expect(written["ipv4"]?["dns-data"] == .array(.string, [.string("192.0.2.53"), .string("198.51.100.7")]))
        #expect(written["ipv6"]?["dns"] == nil)
        #expect(written["ipv6"]?["dns-data"] == .array(.string, [.string("2001:db8::53")]))
    }

    @Test("addresses and routes go only as address-data, gateway, route-data", arguments: [NMVersion(1, 0), NMVersion(1, 42)])
    func noLegacyAddresses(version: NMVersion) throws {
        var profile = Self.dnsProfile
        profile.ipv4?.routes = [NMIPRoute(destination: "10.0.0.0/8", nextHop: "192.0.2.254")]
        let ipv4 = try NMSettingsCodec(version: version).encode(profile)["ipv4"] ?? [:]
        #expect(ipv4["addresses"] == nil && ipv4["routes"] == nil)
        #expect(ipv4["address-data"] != nil && ipv4["route-data"] != nil && ipv4["gateway"] == .string("192.0.2.1"))
    }

    @Test("ipv4.dad-timeout goes as whole milliseconds and -1 reads as the default")
    func dadTimeout() throws {
        let codec = NMSettingsCodec(version: NMVersion(1, 52))
        var profile = Self.dnsProfile
        #expect(try codec.encode(profile)["ipv4"]?["dad-timeout"] == nil)
        profile.ipv4?.dadTimeout = .zero
        #expect(try codec.encode(profile)["ipv4"]?["dad-timeout"] == .int32(0))
        profile.ipv4?.dadTimeout = .milliseconds(200)
        let written = try codec.encode(profile)
        #expect(written["ipv4"]?["dad-timeout"] == .int32(200))
        #expect(try codec.decode(written).ipv4?.dadTimeout == .milliseconds(200))
        var explicitDefault = written
        explicitDefault["ipv4"]?["dad-timeout"] = .int32(-1)
        #expect(try codec.decode(explicitDefault).ipv4?.dadTimeout == nil)
        for bad: Duration in [.seconds(31), .microseconds(1500), .milliseconds(-5)] {
            profile.ipv4?.dadTimeout = bad
            #expect(throws: NMError.self, "\(bad)") { try profile.validate() }
        }
    }

    @Test("the since table", arguments: [
        ("ipv4", "dns-data", NMVersion(1, 40), false), ("ipv4", "dns-data", NMVersion(1, 42), true),
        ("ipv6", "dns-data", NMVersion(1, 41, 90), false),
        ("bridge", "vlan-filtering", NMVersion(1, 16), false), ("bridge", "vlan-filtering", NMVersion(1, 18), true),
        ("bridge", "group-forward-mask", NMVersion(1, 8), false), ("bridge-port", "vlans", NMVersion(1, 18), true),
        ("connection", "autoconnect-slaves", NMVersion(1, 0), false), ("connection", "master", NMVersion(1, 0), true),
        ("connection", "controller", NMVersion(1, 44), false), ("connection", "controller", NMVersion(1, 46), true),
        ("ipv4", "dhcp-iaid", NMVersion(1, 40), false), ("ipv4", "replace-local-rule", NMVersion(1, 42), false),
        ("ipv4", "replace-local-rule", NMVersion(1, 42, 2), true), ("ipv4", "address-data", NMVersion(1, 0), true),
        ("802-3-ethernet", "assigned-mac-address", NMVersion(1, 2), false),
    ])
    func sinceTable(setting: String, key: String, version: NMVersion, supported: Bool) {
        #expect(NMSettingsCodec(version: version).supports(setting: setting, key: key) == supported)
    }

    @Test("profiles needing newer keys are refused with 'NetworkManager X.Y lacks Z'", arguments: [
        (NMVersion(1, 16), "bridge", "NetworkManager 1.16 lacks bridge.vlan-filtering (added in 1.18)"),
        (NMVersion(1, 6), "dummy", "NetworkManager 1.6 lacks dummy profiles (added in 1.8)"),
        (NMVersion(1, 18), "ipv6-disabled", "NetworkManager 1.18 lacks ipv6.method 'disabled' (added in 1.20)"),
        (NMVersion(1, 0), "bridge-mac", "NetworkManager 1.0 lacks connection.autoconnect-slaves (added in 1.2)"),
        (NMVersion(1, 2), "bridge-mac-1.2", "NetworkManager 1.2 lacks 802-3-ethernet.assigned-mac-address (added in 1.4)"),
    ])
    func refusals(version: NMVersion, which: String, message: String) throws {
        let profile: NMConnectionProfile
        switch which {
        case "bridge":
            profile = try .bridge(name: "b", interface: NMInterfaceName("br0"), options: NMBridgeSetting(vlanFiltering: true))
        case "dummy":
            profile = try .dummy(name: "d", interface: NMInterfaceName("dummy0"), ipv4: .disabled, ipv6: .ignore)
        case "ipv6-disabled":
            profile = try .ethernet(name: "e", interface: NMInterfaceName("eno1"), ipv6: .disabled)
        default:
            profile = try .bridge(name: "b", interface: NMInterfaceName("br0"), macAddress: "02:11:22:33:44:55")
        }
        #expect {
            try NMSettingsCodec(version: version).encode(profile)
        } throws: { error in
            guard let error = error as? NMError else { return false }
            return error.code == .unsupportedByVersion && error.message == message && error.hint != nil
        }
    }

    @Test("newer keys left empty are simply not sent to older daemons")
    func emptyNewerKeysOmitted() throws {
        let bridge = try NMConnectionProfile.bridge(name: "b", interface: NMInterfaceName("br0"), stp: false, autoconnectPorts: nil)
        let written116 = try NMSettingsCodec(version: NMVersion(1, 16)).encode(bridge)
        #expect(written116["bridge"]?["vlans"] == nil)
        let written142 = try NMSettingsCodec(version: NMVersion(1, 42)).encode(bridge)
        #expect(written142["bridge"]?["vlans"] == .array(.dictionary(key: .string, value: .variant), []))
    }

    @Test("encoding validates first")
    func encodeValidates() {
        var profile = Self.dnsProfile
        profile.ipv4?.gateway = "203.0.113.1"
        #expect { try NMSettingsCodec(version: NMVersion(1, 42)).encode(profile) } throws: {
            ($0 as? NMError)?.code == .gatewayOutsideSubnet
        }
    }
}
