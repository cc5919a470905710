import DBus
import Foundation
import NetworkManager
import Testing

/// What an outside review found accepted and should not have been (issue 10): addresses no host
/// can have, gateways that route nowhere, DNS servers that cannot be servers, search domains
/// and names with control characters. Each table row is one value, with the code it must get
/// (`nil`: accepted), checked both on the single-value check and through a profile builder, so
/// that `plan` and `apply` refuse it at `validate`.
@Suite("Semantic validation: host addresses, gateways, DNS, search domains, names, text (issue 10)")
struct SemanticValidationTests {
    // MARK: Host addresses

    static let ipv4Addresses: [(String, NMError.Code?)] = [
        ("192.168.1.200/24", nil), ("10.9.9.9/24", nil), ("169.254.7.1/16", nil), ("100.64.0.1/10", nil),
        ("192.0.2.1/30", nil), ("192.0.2.2/30", nil),
        // /31 (RFC 3021) and /32 have no network or broadcast address.
        ("192.0.2.0/31", nil), ("192.0.2.1/31", nil), ("192.168.1.0/32", nil), ("192.168.1.255/32", nil),
        ("224.0.0.1/24", .invalidHostAddress), ("239.255.255.250/24", .invalidHostAddress),
        ("127.0.0.5/8", .invalidHostAddress), ("127.0.0.1/32", .invalidHostAddress),
        ("0.0.0.0/24", .invalidHostAddress), ("0.1.2.3/8", .invalidHostAddress),
        ("255.255.255.255/32", .invalidHostAddress), ("240.0.0.1/24", .invalidHostAddress),
        ("192.168.1.200/0", .invalidPrefix),
        ("192.168.1.0/24", .networkOrBroadcastAddress), ("192.168.1.255/24", .networkOrBroadcastAddress),
        ("10.0.0.0/8", .networkOrBroadcastAddress), ("10.255.255.255/8", .networkOrBroadcastAddress),
        ("192.0.2.0/30", .networkOrBroadcastAddress), ("192.0.2.3/30", .networkOrBroadcastAddress),
    ]

    @Test("IPv4 host addresses", arguments: ipv4Addresses)
    func ipv4HostAddress(text: String, code: NMError.Code?) throws {
        let entry = try IPv4AddressWithPrefix(text)
        try expect(code, text) { try NMConnectionProfile.validateHostAddress(entry, key: "--ipv4") }
        try expect(code, text) {
            _ = try NMConnectionProfile.bridge(name: "br0", interface: NMInterfaceName("br0"), ipv4: .static(addresses: [entry]))
        }
    }

    static let ipv6Addresses: [(String, NMError.Code?)] = [
        ("2001:db8:1::200/64", nil), ("fe80::5/64", nil), ("2001:db8::1/128", nil),
        // The subnet-router anycast address is left alone (IPv6 has no broadcast).
        ("2001:db8:1::/64", nil),
        ("ff02::1/64", .invalidHostAddress), ("::1/128", .invalidHostAddress), ("::/64", .invalidHostAddress),
        ("2001:db8::1/0", .invalidPrefix),
    ]

    @Test("IPv6 host addresses", arguments: ipv6Addresses)
    func ipv6HostAddress(text: String, code: NMError.Code?) throws {
        let entry = try IPv6AddressWithPrefix(text)
        try expect(code, text) { try NMConnectionProfile.validateHostAddress(entry, key: "--ipv6") }
        try expect(code, text) {
            _ = try NMConnectionProfile.bridge(name: "br0", interface: NMInterfaceName("br0"), ipv6: .static(addresses: [entry]))
        }
    }

    @Test("special-purpose blocks, at their edges")
    func specialPurpose() throws {
        let table: [(String, IPSpecialPurpose?)] = [
            ("0.0.0.0", .unspecified), ("0.255.255.255", .thisNetwork), ("1.0.0.0", nil), ("126.255.255.255", nil),
            ("127.0.0.0", .loopback), ("127.255.255.255", .loopback), ("128.0.0.0", nil), ("223.255.255.255", nil),
            ("224.0.0.0", .multicast), ("239.255.255.255", .multicast), ("240.0.0.0", .reserved),
            ("255.255.255.254", .reserved), ("255.255.255.255", .limitedBroadcast), ("169.254.0.1", nil),
        ]
        for (text, purpose) in table { #expect(try IPv4Address(text).specialPurpose == purpose, "\(text)") }
        let table6: [(String, IPSpecialPurpose?)] = [
            ("::", .unspecified), ("::1", .loopback), ("::2", nil), ("ff00::", .multicast), ("ff02::1", .multicast),
            ("feff::1", nil), ("fe80::1", nil), ("2001:db8::1", nil), ("1::", nil),
        ]
        for (text, purpose) in table6 { #expect(try IPv6Address(text).specialPurpose == purpose, "\(text)") }
        #expect(IPv4Address(169, 254, 1, 1).isLinkLocal && !IPv4Address(169, 255, 1, 1).isLinkLocal)
        #expect(try IPv4AddressWithPrefix(IPv4Address(192, 168, 1, 200), prefix: 24).broadcast == IPv4Address(192, 168, 1, 255))
        #expect(try IPv4AddressWithPrefix(IPv4Address(10, 1, 2, 3), prefix: 13).broadcast == IPv4Address(10, 7, 255, 255))
    }

    // MARK: Gateways

    static let ipv4Gateways: [([String], String, NMError.Code?)] = [
        (["192.168.1.200/24"], "192.168.1.1", nil), (["192.168.1.200/24"], "192.168.1.254", nil),
        (["192.0.2.0/31"], "192.0.2.1", nil), (["192.168.1.200/24", "10.0.0.5/8"], "10.0.0.1", nil),
        (["192.168.1.200/24"], "192.168.1.200", .gatewayIsOwnAddress),
        (["192.168.1.200/24", "10.0.0.5/8"], "10.0.0.5", .gatewayIsOwnAddress),
        (["192.168.1.200/24"], "192.168.1.0", .invalidGateway), (["192.168.1.200/24"], "192.168.1.255", .invalidGateway),
        (["192.168.1.200/24"], "224.0.0.1", .invalidGateway), (["192.168.1.200/24"], "127.0.0.1", .invalidGateway),
        (["192.168.1.200/24"], "0.0.0.0", .invalidGateway), (["192.168.1.200/24"], "255.255.255.255", .invalidGateway),
        (["192.168.1.200/24"], "10.0.0.1", .gatewayOutsideSubnet), (["10.9.9.9/24"], "192.168.1.1", .gatewayOutsideSubnet),
    ]

    @Test("IPv4 gateways", arguments: ipv4Gateways)
    func ipv4Gateway(addresses: [String], gateway: String, code: NMError.Code?) throws {
        let entries = try addresses.map { try IPv4AddressWithPrefix($0) }
        try expect(code, gateway) {
            _ = try NMConnectionProfile.bridge(name: "br0", interface: NMInterfaceName("br0"),
                                               ipv4: .static(addresses: entries, gateway: IPv4Address(gateway)))
        }
    }

    static let ipv6Gateways: [(String, NMError.Code?)] = [
        ("2001:db8:1::1", nil), ("fe80::1", nil),
        ("2001:db8:1::200", .gatewayIsOwnAddress), ("ff02::2", .invalidGateway), ("::", .invalidGateway),
        ("::1", .invalidGateway), ("2001:db8:2::1", .gatewayOutsideSubnet),
    ]

    @Test("IPv6 gateways (the address is 2001:db8:1::200/64)", arguments: ipv6Gateways)
    func ipv6Gateway(gateway: String, code: NMError.Code?) throws {
        try expect(code, gateway) {
            _ = try NMConnectionProfile.bridge(name: "br0", interface: NMInterfaceName("br0"),
                                               ipv6: .static(addresses: ["2001:db8:1::200/64"], gateway: IPv6Address(gateway)))
        }
    }

    // MARK: DNS servers and search domains

    static let dnsServers: [(String, NMError.Code?)] = [
        ("192.0.2.53", nil), ("127.0.0.53", nil), ("2001:db8::53", nil), ("::1", nil),
        ("0.0.0.0", .invalidDNSServer), ("0.0.0.1", .invalidDNSServer), ("224.0.0.251", .invalidDNSServer),
        ("255.255.255.255", .invalidDNSServer), ("240.0.0.1", .invalidDNSServer),
        ("::", .invalidDNSServer), ("ff02::fb", .invalidDNSServer),
    ]

    @Test("DNS servers", arguments: dnsServers)
    func dnsServer(text: String, code: NMError.Code?) throws {
        try expect(code, text) {
            if let v4 = try? IPv4Address(text) {
                try NMConnectionProfile.validateDNSServer(v4, key: "--dns")
                _ = try NMConnectionProfile.bridge(name: "br0", interface: NMInterfaceName("br0"),
                                                   ipv4: .static(addresses: ["192.168.1.200/24"], dns: [v4]))
            } else {
                let v6 = try IPv6Address(text)
                try NMConnectionProfile.validateDNSServer(v6, key: "--dns")
                _ = try NMConnectionProfile.bridge(name: "br0", interface: NMInterfaceName("br0"),
                                                   ipv6: .static(addresses: ["2001:db8:1::200/64"], dns: [v6]))
            }
        }
    }

    static let searchDomains: [(String, NMError.Code?)] = [
        ("lab.example", nil), ("example.com.", nil), ("a", nil), ("_tcp.lab.example", nil), ("xn--bcher-kva.example", nil),
        ("~lab.example", nil), ("~.", nil), ("Lab-1.Example", nil),
        (String(repeating: "a", count: 63) + ".example", nil),
        (Array(repeating: String(repeating: "a", count: 62), count: 4).joined(separator: ".") + ".a", nil),  // 253 bytes
        ("a\nnameserver 6.6.6.6", .invalidSearchDomain), ("lab\r.example", .invalidSearchDomain),
        ("lab example", .invalidSearchDomain), ("lab\t", .invalidSearchDomain), ("", .invalidSearchDomain),
        ("-lab.example", .invalidSearchDomain), ("lab-.example", .invalidSearchDomain), ("lab..example", .invalidSearchDomain),
        (".lab", .invalidSearchDomain), (".", .invalidSearchDomain), ("~", .invalidSearchDomain), ("a;b", .invalidSearchDomain),
        ("bücher.example", .invalidSearchDomain), ("$(id)", .invalidSearchDomain),
        (String(repeating: "a", count: 64) + ".example", .invalidSearchDomain),
        (Array(repeating: String(repeating: "a", count: 62), count: 4).joined(separator: ".") + ".ab", .invalidSearchDomain),
    ]

    @Test("search domains", arguments: searchDomains)
    func searchDomain(domain: String, code: NMError.Code?) throws {
        try expect(code, domain) { try NMConnectionProfile.validateSearchDomain(domain, key: "--dns-search") }
        try expect(code, domain) {
            _ = try NMConnectionProfile.bridge(name: "br0", interface: NMInterfaceName("br0"),
                                               ipv4: .static(addresses: ["192.168.1.200/24"], dnsSearch: [domain]))
        }
        try expect(code, domain) {
            var ipv6 = NMIPv6Setting.auto
            ipv6.dnsSearch = [domain]
            _ = try NMConnectionProfile.bridge(name: "br0", interface: NMInterfaceName("br0"), ipv6: ipv6)
        }
    }

    // MARK: Free text

    struct TextCase: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let code: NMError.Code?
        let build: @Sendable () throws -> NMConnectionProfile
    }

    static let textCases: [TextCase] = [
        TextCase(testDescription: "a plain profile name", code: nil) {
            try .ethernet(name: "eno1 (office) – büro", interface: NMInterfaceName("eno1"))
        },
        TextCase(testDescription: "a profile name with ANSI escapes", code: .controlCharacter) {
            try .ethernet(name: "x\u{1b}[31mred", interface: NMInterfaceName("eno1"))
        },
        TextCase(testDescription: "a profile name with a newline", code: .controlCharacter) {
            try .ethernet(name: "eno1\nbridgeify: committed", interface: NMInterfaceName("eno1"))
        },
        TextCase(testDescription: "a profile name with a right-to-left override", code: .controlCharacter) {
            try .ethernet(name: "eno1\u{202E}1one", interface: NMInterfaceName("eno1"))
        },
        TextCase(testDescription: "a DHCP host name with a carriage return", code: .controlCharacter) {
            try .ethernet(name: "p", interface: NMInterfaceName("eno1"), ipv4: .dhcp(hostname: "host\r"))
        },
        TextCase(testDescription: "a plain DHCP host name", code: nil) {
            try .ethernet(name: "p", interface: NMInterfaceName("eno1"), ipv4: .dhcp(hostname: "host-1"))
        },
        TextCase(testDescription: "an address label with BEL", code: .controlCharacter) {
            var profile = try NMConnectionProfile.ethernet(
                name: "p", interface: NMInterfaceName("eno1"), ipv4: .static(addresses: ["192.168.1.200/24"]))
            profile.ipv4?.addressAttributes = ["192.168.1.200/24": ["label": .variant(.string("eno1:\u{7}"))]]
            try profile.validate()
            return profile
        },
        TextCase(testDescription: "a plain address label", code: nil) {
            var profile = try NMConnectionProfile.ethernet(
                name: "p", interface: NMInterfaceName("eno1"), ipv4: .static(addresses: ["192.168.1.200/24"]))
            profile.ipv4?.addressAttributes = ["192.168.1.200/24": ["label": .string("eno1:web")]]
            try profile.validate()
            return profile
        },
        TextCase(testDescription: "a controller with a newline", code: .controlCharacter) {
            try .bridgePort(name: "p", interface: NMInterfaceName("eno1"), controller: "br0\n")
        },
        TextCase(testDescription: "a VLAN parent with ESC", code: .controlCharacter) {
            try .vlan(name: "v", parent: "eno1\u{1b}", id: 7, interface: NMInterfaceName("vlan7"))
        },
        TextCase(testDescription: "a bond option with a newline", code: .controlCharacter) {
            try .bond(name: "b", interface: NMInterfaceName("bond0"), mode: .activeBackup, options: ["primary": "eno1\nx"])
        },
    ]

    @Test("free text", arguments: textCases)
    func text(_ textCase: TextCase) throws {
        try expect(textCase.code, textCase.testDescription) { _ = try textCase.build() }
    }

    @Test("a refused value is in the message with its control characters made visible")
    func messagesShowTheValue() throws {
        let error = try #require(throws: NMError.self) {
            try NMConnectionProfile.ethernet(name: "x\u{1b}[2Jy", interface: NMInterfaceName("eno1"))
        }
        #expect(error.message == #"connection.id "x\u{1b}[2Jy" contains the control character \u{1b}"#)
        #expect(!error.description.unicodeScalars.contains { NMText.isControl($0) })
        let multicast = try #require(throws: NMError.self) {
            try NMConnectionProfile.validateHostAddress(IPv4AddressWithPrefix("224.0.0.1/24"), key: "--ipv4")
        }
        #expect(multicast.message == "--ipv4 224.0.0.1/24: 224.0.0.1 is a multicast address, not a host's address")
        let edge = try #require(throws: NMError.self) {
            try NMConnectionProfile.validateHostAddress(IPv4AddressWithPrefix("192.168.1.255/24"), key: "ipv4.addresses")
        }
        #expect(edge.message == "ipv4.addresses 192.168.1.255/24 is the broadcast address of 192.168.1.0/24, not a host's address")
        #expect(edge.hint?.hasPrefix("hosts of 192.168.1.0/24 are 192.168.1.1 to 192.168.1.254") == true, "\(edge.hint ?? "")")
        let domain = try #require(throws: NMError.self) {
            try NMConnectionProfile.validateSearchDomain("a\nnameserver 6.6.6.6", key: "--dns-search")
        }
        #expect(domain.message.hasPrefix(#"--dns-search "a\u{a}nameserver 6.6.6.6" is not a domain name"#), "\(domain.message)")
    }

    /// A profile another tool wrote (read back from NetworkManager) is superseded and restored
    /// through the codec: it must stay writable whatever it holds, or a rollback could be refused.
    @Test("the codec writes back a read profile that breaks the semantic rules; validate() refuses it")
    func encodeChecksStructureOnly() throws {
        var odd = try NMConnectionProfile(
            connection: NMConnectionSetting(id: "legacy\u{1b}[1m", type: .ethernet, interfaceName: NMInterfaceName("eno1")),
            ethernet: NMEthernetSetting(),
            ipv4: .static(addresses: ["10.0.0.0/8"], gateway: "10.0.0.0", dns: ["0.0.0.0"], dnsSearch: ["a b"]))
        odd.connection.autoconnect = false
        let wire = try NMSettingsCodec(version: NMVersion(1, 42, 4)).encode(odd)
        #expect(wire["connection"]?["autoconnect"] == .boolean(false))
        #expect(throws: NMError.self) { try odd.validate() }
        try odd.validateStructure()
        // The structural rules still hold in the codec.
        odd.ipv4?.gateway = "192.168.1.1"
        #expect { _ = try NMSettingsCodec(version: NMVersion(1, 42, 4)).encode(odd) } throws: {
            ($0 as? NMError)?.code == .gatewayOutsideSubnet
        }
    }

    // MARK: Interface names

    /// `try NMInterfaceName("...")` with a string literal used to be a literal coercion (SE-0213)
    /// to the trapping `init(stringLiteral:)`; the type has no literal conformance any more.
    @Test("try NMInterfaceName with a literal too long throws instead of trapping (issue 10)")
    func interfaceNameLiteralThrows() {
        #expect { try NMInterfaceName("a-name-longer-than-15") } throws: { ($0 as? NMError)?.code == .invalidInterfaceName }
        let tooLong = "a-name-longer-than-15"
        #expect { try NMInterfaceName(tooLong) } throws: { ($0 as? NMError)?.code == .invalidInterfaceName }
        #expect { try NMInterfaceName("br0;reboot\u{1b}") } throws: {
            ($0 as? NMError)?.message == #"invalid interface name "br0;reboot\u{1b}": it contains the control character \u{1b}"#
        }
    }

    // MARK: Helpers

    /// Runs `body` and expects it to throw an NMError with `code` (found locally, with a hint),
    /// or not to throw when `code` is nil.
    func expect(_ code: NMError.Code?, _ what: String, sourceLocation: SourceLocation = #_sourceLocation,
                _ body: () throws -> Void) throws {
        do {
            try body()
            #expect(code == nil, "\(what) was accepted, expected \(code?.rawValue ?? "")", sourceLocation: sourceLocation)
        } catch let error as NMError {
            #expect(error.code == code, "\(what): \(error)", sourceLocation: sourceLocation)
            #expect(error.domain == .local && error.hint?.isEmpty == false, "\(what): \(error)", sourceLocation: sourceLocation)
        }
    }
}

/// Text from the bus, made safe for a terminal.
@Suite("NMText.sanitized: control characters and length (issue 10)")
struct SanitizerTests {
    @Test("control characters are made visible, other text is kept", arguments: [
        ("\u{1b}[31mred\u{1b}[0m", #"\u{1b}[31mred\u{1b}[0m"#),
        ("a\r\nb\tc", #"a\u{d}\u{a}b\u{9}c"#),
        ("del\u{7f} c1\u{9b}2J nul\u{0}", #"del\u{7f} c1\u{9b}2J nul\u{0}"#),
        ("bidi\u{202E}txt\u{2066}", #"bidi\u{202e}txt\u{2066}"#),
        ("grüße ✓ 192.0.2.53 'quoted' \"double\"", "grüße ✓ 192.0.2.53 'quoted' \"double\""),
        ("", ""),
    ])
    func escapes(input: String, shown: String) {
        #expect(NMText.sanitized(input) == shown)
    }

    @Test("the length is bounded in Unicode scalars, never inside an escape")
    func bounded() {
        let exact = String(repeating: "x", count: 512)
        #expect(NMText.sanitized(exact) == exact)
        #expect(NMText.sanitized(exact + "y") == exact + "… (1 more character)")
        #expect(NMText.sanitized("abcdef", limit: 3) == "abc… (3 more characters)")
        // An escape (6 scalars) that does not fit is left out whole.
        #expect(NMText.sanitized("abcd\u{1b}", limit: 8) == "abcd… (1 more character)")
        // One grapheme cluster of 10,000 combining marks is still cut.
        let zalgo = "e" + String(repeating: "\u{301}", count: 10_000)
        #expect(NMText.sanitized(zalgo).unicodeScalars.count < 540)
    }

    @Test("a hostile peer's 100 KB message of ANSI escapes")
    func hostileMessage() throws {
        // "ESC [ 2 J" (clear the screen) 25,000 times: 100,000 scalars.
        let hostile = String(repeating: "\u{1b}[2J", count: 25_000)
        let shown = NMText.sanitized(hostile)
        #expect(!shown.unicodeScalars.contains { NMText.isControl($0) })
        // 56 whole groups (9 scalars shown each) = 504, then "\u{1b}[2" = 512: 227 scalars of the
        // input shown, 99,773 left out.
        #expect(shown == String(repeating: #"\u{1b}[2J"#, count: 56) + #"\u{1b}[2"# + "… (99773 more characters)")

        // Through NMError: the message is sanitized, the D-Bus error keeps the original.
        let dbus = DBusError.remote(name: "org.freedesktop.NetworkManager.Settings.Connection.InvalidProperty", message: hostile)
        let error = NMError(dbus)
        #expect(error.code == .invalidProperty)
        #expect(error.message == shown)
        #expect(error.dbusError?.message == hostile)
        #expect(!error.description.unicodeScalars.contains { NMText.isControl($0) })
        #expect(error.description.unicodeScalars.count < 1000)
        // Errors without a NetworkManager name and unknown names too.
        for name in ["org.freedesktop.DBus.Error.AccessDenied", "com.example.Hostile"] {
            let other = NMError(DBusError.remote(name: name, message: "\u{1b}]0;pwned\u{7}"))
            #expect(other.message == #"\u{1b}]0;pwned\u{7}"#, "\(name)")
        }
    }
}
