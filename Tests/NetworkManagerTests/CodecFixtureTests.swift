import DBus
import Foundation
import NetworkManager
import Testing

/// The codec on real `GetSettings` output of NetworkManager 1.42.4 (Fixtures/GetSettings,
/// made by scripts/capture-fixtures).
@Suite("Settings codec on real NetworkManager 1.42.4 output")
struct CodecFixtureTests {
    let codec142 = NMSettingsCodec(version: NMVersion(1, 42, 4))
    let codec140 = NMSettingsCodec(version: NMVersion(1, 40, 0))

    /// What the codec is expected to write back for a fixture: the fixture itself, minus keys
    /// NetworkManager derives from other keys and that the codec deliberately does not send.
    ///
    /// - `ipv4/ipv6.addresses`, `routes`: legacy forms of `address-data` / `route-data`. NM
    ///   writes both in GetSettings; if a client sends the legacy ones, NM ignores
    ///   `address-data` and `gateway`, so they are never sent.
    /// - `802-3-ethernet.cloned-mac-address` (`ay`): the legacy form of `assigned-mac-address`
    ///   (`s`), which is sent instead (it can also say "random", "stable", ...).
    /// - `bridge/bond/vlan.interface-name`: deprecated copies of `connection.interface-name`.
    /// - DNS: NM 1.42 writes both `dns` and `dns-data`; a 1.42 codec sends only `dns-data`
    ///   (sending both would make NM use `dns`), a 1.40 codec only `dns`.
    static func expectedWrite(of settings: [String: [String: DBusValue]], dnsKey: String) -> [String: [String: DBusValue]] {
        var expected = settings
        for dotted in NMSettingsCodec.keysReadButNotWritten {
            let parts = dotted.split(separator: ".", maxSplits: 1).map(String.init)
            expected[parts[0]]?.removeValue(forKey: parts[1])
        }
        let other = dnsKey == "dns" ? "dns-data" : "dns"
        expected["ipv4"]?.removeValue(forKey: other)
        expected["ipv6"]?.removeValue(forKey: other)
        return expected
    }

    @Test("fixtures come from NetworkManager 1.42.4", arguments: SettingsFixture.allNames)
    func fixtureVersion(name: String) throws {
        #expect(try SettingsFixture.load(name).nmVersion == "1.42.4")
    }

    @Test("decode then encode gives the original settings (1.42 codec)", arguments: SettingsFixture.allNames)
    func roundTrip142(name: String) throws {
        let fixture = try SettingsFixture.load(name)
        let profile = try codec142.decode(fixture.settings)
        let encoded = try codec142.encode(profile)
        let expected = Self.expectedWrite(of: fixture.settings, dnsKey: "dns-data")
        #expect(encoded == expected)
        // Setting by setting, for a readable failure.
        for setting in Set(encoded.keys).union(expected.keys) {
            #expect(encoded[setting] == expected[setting], "setting \(setting)")
        }
        // And the typed value is stable.
        #expect(try codec142.decode(encoded) == profile)
    }

    @Test("a 1.40 codec writes the legacy dns with NetworkManager's own numbers",
          arguments: SettingsFixture.allNames.filter { $0 != "unknown-keys" })
    func roundTrip140(name: String) throws {
        let fixture = try SettingsFixture.load(name)
        let encoded = try codec140.encode(try codec142.decode(fixture.settings))
        #expect(encoded == Self.expectedWrite(of: fixture.settings, dnsKey: "dns"))
    }

    @Test("the wire value is a{sa{sv}} and reads back")
    func wireValue() throws {
        let fixture = try SettingsFixture.load("ethernet-static")
        let value = NMSettingsCodec.wireValue(fixture.settings)
        #expect(value.type.signature == "a{sa{sv}}")
        try value.validate()
        #expect(try NMSettingsCodec.settings(fromWire: value) == fixture.settings)
        #expect(try codec142.decode(value) == codec142.decode(fixture.settings))
        // Values wrapped in variants (as DBusValue decoding of a{sv} gives them) read the same.
        let wrapped = fixture.settings.mapValues { $0.mapValues { DBusValue.variant($0) } }
        #expect(try codec142.decode(wrapped) == codec142.decode(fixture.settings))
    }

    // MARK: typed contents

    @Test("ethernet static: every typed key")
    func ethernetStatic() throws {
        let p = try codec142.decode(SettingsFixture.load("ethernet-static").settings)
        #expect(p.name == "eth-static")
        #expect(p.type == .ethernet)
        #expect(p.interfaceName?.rawValue == "eno1")
        #expect(p.connection.autoconnect == false)
        #expect(p.connection.autoconnectPriority == 5)
        #expect(p.ethernet?.mtu == 1400)
        #expect(p.ethernet?.macAddress == "02:AA:BB:CC:DD:EE")
        #expect(p.ethernet?.assignedMACAddress == .address("02:11:22:33:44:55"))
        let ipv4 = try #require(p.ipv4)
        #expect(ipv4.method == .manual)
        #expect(ipv4.addresses == ["192.168.1.200/24", "10.20.30.40/8"])
        #expect(ipv4.gateway == "192.168.1.1")
        #expect(ipv4.dns == ["192.0.2.53", "198.51.100.7"])
        #expect(ipv4.dnsSearch == ["example.com", "lab.example"])
        #expect(ipv4.routes == [NMIPRoute(destination: "10.10.0.0/16", nextHop: "192.168.1.254", metric: 100),
                                NMIPRoute(destination: "172.16.0.0/12")])
        #expect(ipv4.routeMetric == 300)
        #expect(ipv4.mayFail == false)
        #expect(ipv4.neverDefault == nil)  // "no" is the default: NM omits it
        let ipv6 = try #require(p.ipv6)
        #expect(ipv6.method == .manual)
        #expect(ipv6.addresses == ["2001:db8:1::200/64"])
        #expect(ipv6.gateway == "2001:db8:1::1")
        #expect(ipv6.dns == ["2001:db8::53", "2001:db8:0:1::7"])
        #expect(ipv6.routes == [NMIPRoute(destination: "2001:db8:2::/48", nextHop: "2001:db8:1::fe", metric: 50)])
        #expect(p.ethernet?.extraKeys.keys.sorted() == ["auto-negotiate", "mac-address-blacklist", "s390-options"])
        #expect(ipv4.extraKeys.isEmpty)
    }

    @Test("ethernet DHCP: DHCP options")
    func ethernetDHCP() throws {
        let ipv4 = try #require(try codec142.decode(SettingsFixture.load("ethernet-dhcp").settings).ipv4)
        #expect(ipv4.method == .auto)
        #expect(ipv4.dhcpClientID == .mac)
        #expect(ipv4.dhcpHostname == "host-1")
        #expect(ipv4.dhcpTimeout == .seconds(45))
        #expect(ipv4.ignoreAutoDNS == true)
        #expect(ipv4.routeMetric == 50)
        #expect(ipv4.addresses.isEmpty && ipv4.gateway == nil && ipv4.dns.isEmpty)
    }

    @Test("bridge: every bridge key, seconds as durations")
    func bridge() throws {
        let p = try codec142.decode(SettingsFixture.load("bridge").settings)
        #expect(p.type == .bridge)
        #expect(p.interfaceName?.rawValue == "br9")
        #expect(p.connection.autoconnectPorts == true)
        let bridge = try #require(p.bridge)
        #expect(bridge == NMBridgeSetting(stp: false, forwardDelay: .seconds(4), helloTime: .seconds(1), maxAge: .seconds(10),
                                          ageingTime: .seconds(120), priority: 4096, multicastSnooping: false,
                                          vlanFiltering: true, vlanDefaultPVID: 10, groupForwardMask: 8))
        #expect(p.ipv6?.method == .disabled)
    }

    @Test("bridge port: controller, port type, bridge-port keys, no IP")
    func bridgePort() throws {
        let p = try codec142.decode(SettingsFixture.load("bridge-port").settings)
        #expect(p.isPort)
        #expect(p.connection.controller == "br9")
        #expect(p.connection.portType == .bridge)
        #expect(p.type == .ethernet)
        #expect(p.ipv4 == nil && p.ipv6 == nil)  // NM normalizes IP settings away on ports
        #expect(p.bridgePort == NMBridgePortSetting(
            priority: 16, pathCost: 250, hairpinMode: true,
            vlans: [NMBridgeVLAN(id: 10, pvid: true, untagged: true), NMBridgeVLAN(ids: 20...30)]))
        try p.validate()
    }

    @Test("VLAN, bond and dummy")
    func vlanBondDummy() throws {
        let vlan = try codec142.decode(SettingsFixture.load("vlan").settings)
        #expect(vlan.type == .vlan)
        #expect(vlan.vlan?.parent == "eno1")
        #expect(vlan.vlan?.id == 100)
        #expect(vlan.vlan?.flags == [.reorderHeaders, .gvrp])
        #expect(vlan.interfaceName?.rawValue == "eno1.100")
        #expect(vlan.ipv6?.method == .linkLocal)
        #expect(vlan.vlan?.extraKeys.keys.sorted() == ["egress-priority-map", "ingress-priority-map"])

        let bond = try codec142.decode(SettingsFixture.load("bond").settings)
        #expect(bond.type == .bond)
        #expect(bond.bond?.mode == .activeBackup)
        #expect(bond.bond?.options == ["mode": "active-backup", "miimon": "100", "primary": "eno1"])
        #expect(bond.ipv6?.method == .ignore)

        let dummy = try codec142.decode(SettingsFixture.load("dummy").settings)
        #expect(dummy.type == .dummy)
        #expect(dummy.dummy == NMDummySetting())  // GetSettings sends "dummy": {}
        #expect(dummy.ipv4?.addresses == ["10.99.0.1/24"])
    }

    // MARK: DNS byte order (reference field problem 11)

    @Test("DNS: dns-data and the legacy au agree, with non-palindromic addresses")
    func dnsByteOrder() throws {
        let fixture = try SettingsFixture.load("ethernet-static")
        // What NetworkManager 1.42.4 itself sent for ipv4.dns 192.0.2.53,198.51.100.7.
        guard case .array(.uint32, let raw)? = fixture.settings["ipv4"]?["dns"] else {
            Issue.record("the fixture has no ipv4.dns au")
            return
        }
        let numbers = raw.compactMap { value -> UInt32? in if case .uint32(let n) = value { return n } else { return nil } }
        #if _endian(little)
        #expect(numbers == [889_323_712, 124_007_366])  // 0x350200C0, 0x0764_33C6: octets in memory order
        #endif
        // Reading the legacy form alone (dns-data removed, as from NetworkManager < 1.42).
        var legacy = fixture.settings
        legacy["ipv4"]?.removeValue(forKey: "dns-data")
        #expect(try codec140.decode(legacy).ipv4?.dns == ["192.0.2.53", "198.51.100.7"])
        // Writing it: the same numbers NetworkManager wrote.
        let written = try codec140.encode(try codec142.decode(fixture.settings))
        #expect(written["ipv4"]?["dns"] == .array(.uint32, numbers.map(DBusValue.uint32)))
        #expect(written["ipv4"]?["dns-data"] == nil)
        // And each number holds the octets in memory order.
        for (number, text) in zip(numbers, ["192.0.2.53", "198.51.100.7"]) {
            #expect(try withUnsafeBytes(of: number) { Array($0) } == IPv4Address(text).bytes)
        }
    }

    @Test("DNS: IPv6 legacy aay reads like dns-data")
    func dnsIPv6Legacy() throws {
        var legacy = try SettingsFixture.load("ethernet-static").settings
        legacy["ipv6"]?.removeValue(forKey: "dns-data")
        #expect(try codec142.decode(legacy).ipv6?.dns == ["2001:db8::53", "2001:db8:0:1::7"])
    }

    // MARK: legacy and new forms

    @Test("legacy addresses/routes/gateway read like address-data/route-data")
    func legacyAddresses() throws {
        let fixture = try SettingsFixture.load("ethernet-static")
        let modern = try codec142.decode(fixture.settings)
        var legacy = fixture.settings
        for family in ["ipv4", "ipv6"] {
            for key in ["address-data", "route-data", "gateway", "dns-data"] { legacy[family]?.removeValue(forKey: key) }
        }
        let old = try codec142.decode(legacy)
        #expect(old.ipv4?.addresses == modern.ipv4?.addresses)
        #expect(old.ipv4?.gateway == modern.ipv4?.gateway)  // from the first legacy address's gateway field
        #expect(old.ipv4?.routes == modern.ipv4?.routes)
        #expect(old.ipv4?.dns == modern.ipv4?.dns)
        #expect(old.ipv6?.addresses == modern.ipv6?.addresses)
        #expect(old.ipv6?.gateway == modern.ipv6?.gateway)
        #expect(old.ipv6?.routes == modern.ipv6?.routes)
        // Written back in the modern form only.
        let written = try codec142.encode(old)
        #expect(written["ipv4"]?["addresses"] == nil && written["ipv4"]?["routes"] == nil)
        #expect(written["ipv4"]?["address-data"] == fixture.settings["ipv4"]?["address-data"])
        #expect(written["ipv4"]?["route-data"] == fixture.settings["ipv4"]?["route-data"])
    }

    @Test("NetworkManager 1.46 names (controller, port-type, autoconnect-ports) are read, legacy names written")
    func controllerNames() throws {
        var settings = try SettingsFixture.load("seed-port").settings
        var connection = settings["connection"] ?? [:]
        connection["controller"] = connection.removeValue(forKey: "master")
        connection["port-type"] = connection.removeValue(forKey: "slave-type")
        connection["autoconnect-ports"] = .int32(1)
        settings["connection"] = connection
        let profile = try codec142.decode(settings)
        #expect(profile.connection.controller == "br0")
        #expect(profile.connection.portType == .bridge)
        #expect(profile.connection.autoconnectPorts == true)
        let written = try NMSettingsCodec(version: NMVersion(1, 52)).encode(profile)["connection"] ?? [:]
        #expect(written["master"] == .string("br0"))
        #expect(written["slave-type"] == .string("bridge"))
        #expect(written["autoconnect-slaves"] == .int32(1))
        #expect(written["controller"] == nil && written["port-type"] == nil && written["autoconnect-ports"] == nil)
    }

    @Test("when legacy and new controller keys disagree, the legacy one wins, as in the daemon")
    func legacyPrecedence() throws {
        var settings = try SettingsFixture.load("seed-port").settings
        settings["connection"]?["controller"] = .string("br-other")
        #expect(try codec142.decode(settings).connection.controller == "br0")
    }

    @Test("missing keys are tolerated: NetworkManager omits defaults")
    func missingKeys() throws {
        let minimal: [String: [String: DBusValue]] = [
            "connection": ["id": .string("x"), "uuid": .string("0b4d5c1e-39a8-4d0e-8c1a-1f2e3d4c5b6a"), "type": .string("bridge")],
            "bridge": [:],
            "ipv4": ["method": .string("auto")],
            "ipv6": [:],
        ]
        let profile = try codec142.decode(minimal)
        #expect(profile.bridge == NMBridgeSetting())
        #expect(profile.bridge?.stp == nil)  // NM's default: on
        #expect(profile.ipv4 == .dhcp)
        #expect(profile.ipv6 == .auto)
        #expect(profile.connection.autoconnect == nil)
        #expect(profile.interfaceName == nil)
    }

    @Test("type errors name the key", arguments: [
        ("connection", "autoconnect", DBusValue.string("yes")),
        ("ipv4", "address-data", DBusValue.array(.string, [.string("192.0.2.1/24")])),
        ("ipv4", "dns", DBusValue.array(.string, [.string("192.0.2.53")])),
        ("bridge", "stp", DBusValue.uint32(1)),
        ("ipv4", "route-metric", DBusValue.int32(5)),
    ])
    func typeErrors(setting: String, key: String, value: DBusValue) throws {
        var settings = try SettingsFixture.load("bridge").settings
        settings[setting]?[key] = value
        #expect {
            _ = try codec142.decode(settings)
        } throws: { error in
            guard let error = error as? NMError else { return false }
            return error.code == .invalidSettings && error.message.hasPrefix("\(setting).\(key):")
        }
    }

    @Test("a missing connection setting or a bad UUID is an error")
    func badConnection() {
        let noConnection: [String: [String: DBusValue]] = ["ipv4": [:]]
        #expect { try codec142.decode(noConnection) } throws: { ($0 as? NMError)?.code == .invalidSettings }
        let badUUID: [String: [String: DBusValue]] = [
            "connection": ["id": .string("x"), "uuid": .string("nope"), "type": .string("dummy")],
        ]
        #expect { try codec142.decode(badUUID) } throws: { ($0 as? NMError)?.code == .invalidSettings }
    }

    // MARK: what the model does not know

    @Test("settings and keys the model does not type survive a read-modify-write untouched")
    func unknownKeysSurvive() throws {
        let fixture = try SettingsFixture.load("unknown-keys")
        var profile = try codec142.decode(fixture.settings)
        // NM 1.42 adds an empty "proxy" setting to every profile.
        #expect(profile.unknownSettings.keys.sorted() == ["802-1x", "ethtool", "match", "proxy"])
        #expect(profile.connection.extraKeys["zone"] == .string("trusted"))
        #expect(profile.connection.extraKeys["lldp"] == .int32(1))
        #expect(profile.ipv4?.extraKeys["dhcp-iaid"] == .string("mac"))
        #expect(profile.ipv6?.extraKeys["ip6-privacy"] == .int32(2))
        #expect(profile.ipv4?.dhcpClientID == .duid)

        // Modify typed values, write back.
        profile.name = "eth-extras-renamed"
        profile.ipv4?.dhcpHostname = "renamed"
        profile.ipv4?.dns = ["192.0.2.53"]
        let written = try codec142.encode(profile)
        for name in ["802-1x", "ethtool", "match"] {
            #expect(written[name] == fixture.settings[name], "setting \(name)")
        }
        for key in ["zone", "lldp", "mdns", "permissions"] {
            #expect(written["connection"]?[key] == fixture.settings["connection"]?[key], "connection.\(key)")
        }
        #expect(written["ipv4"]?["dhcp-iaid"] == .string("mac"))
        #expect(written["ipv6"]?["addr-gen-mode"] == fixture.settings["ipv6"]?["addr-gen-mode"])
        #expect(written["connection"]?["id"] == .string("eth-extras-renamed"))
        #expect(written["ipv4"]?["dhcp-hostname"] == .string("renamed"))
        #expect(written["ipv4"]?["dns-data"] == .array(.string, [.string("192.0.2.53")]))
    }

    @Test("route attributes and address attributes survive")
    func attributesSurvive() throws {
        var settings = try SettingsFixture.load("dummy").settings
        let route: DBusValue = .dictionary(key: .string, value: .variant, [
            .init(.string("dest"), .variant(.string("10.98.0.0"))), .init(.string("prefix"), .variant(.uint32(16))),
            .init(.string("onlink"), .variant(.boolean(true))), .init(.string("table"), .variant(.uint32(100))),
        ])
        let address: DBusValue = .dictionary(key: .string, value: .variant, [
            .init(.string("address"), .variant(.string("10.99.0.1"))), .init(.string("prefix"), .variant(.uint32(24))),
            .init(.string("label"), .variant(.string("dummy3:lab"))),
        ])
        settings["ipv4"]?["route-data"] = .array(.dictionary(key: .string, value: .variant), [route])
        settings["ipv4"]?["address-data"] = .array(.dictionary(key: .string, value: .variant), [address])
        let profile = try codec142.decode(settings)
        #expect(profile.ipv4?.routes.first?.attributes == ["onlink": .boolean(true), "table": .uint32(100)])
        #expect(profile.ipv4?.addressAttributes["10.99.0.1/24"] == ["label": .string("dummy3:lab")])
        let written = try codec142.encode(profile)
        #expect(written["ipv4"]?["route-data"] == settings["ipv4"]?["route-data"])
        #expect(written["ipv4"]?["address-data"] == settings["ipv4"]?["address-data"])
    }

    @Test("dns-data entries that are more than an address (1.48 '#server-name') are kept verbatim")
    func dnsDataVerbatim() throws {
        var settings = try SettingsFixture.load("bridge").settings
        let servers: DBusValue = .array(.string, [.string("192.0.2.53#dns.example"), .string("198.51.100.7")])
        settings["ipv4"]?["dns-data"] = servers
        let profile = try codec142.decode(settings)
        #expect(profile.ipv4?.dns == [])
        #expect(profile.ipv4?.extraKeys["dns-data"] == servers)
        #expect(try codec142.encode(profile)["ipv4"]?["dns-data"] == servers)
        // A 1.40 daemon would reject the key: refuse, naming it.
        #expect {
            try codec140.encode(profile)
        } throws: { ($0 as? NMError)?.message == "NetworkManager 1.40 lacks ipv4.dns-data (added in 1.42)" }
    }

    @Test("a 1.40 codec refuses keys added in 1.42 that a profile carries")
    func refusesNewerExtraKeys() throws {
        let profile = try codec142.decode(SettingsFixture.load("unknown-keys").settings)
        #expect {
            try codec140.encode(profile)
        } throws: { error in
            guard let error = error as? NMError else { return false }
            return error.code == .unsupportedByVersion && error.message == "NetworkManager 1.40 lacks ipv4.dhcp-iaid (added in 1.42)"
        }
    }
}
