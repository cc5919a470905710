import Glibc
import NetworkManager
import Testing

@Suite("Addresses, prefixes, MAC addresses and interface names")
struct AddressTests {
    @Test("IPv4 text round-trips", arguments: ["0.0.0.0", "192.0.2.53", "198.51.100.7", "255.255.255.255", "10.20.30.40", "1.0.10.100"])
    func ipv4RoundTrip(text: String) throws {
        #expect(try IPv4Address(text).description == text)
    }

    @Test("IPv4 rejects malformed text", arguments: ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1..2.3", "a.b.c.d",
                                                    " 1.2.3.4", "1.2.3.4/24", "-1.2.3.4", "1.2.3.+4",
                                                    "1.2.3.", ".1.2.3", "1.2.3.04", "1.2.3.256", "0.0.0.00", "1234.1.1.1", "1.2.3.4 "])
    func ipv4Rejects(text: String) {
        #expect(throws: NMError.self) { try IPv4Address(text) }
        do { _ = try IPv4Address(text) } catch { #expect(error.code == .invalidAddress) }
    }

    @Test("IPv4 parsing agrees with glibc's inet_pton on 25,000 random strings")
    func ipv4AgreesWithInetPton() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789.")
        for _ in 0..<20_000 {
            let length = Int.random(in: 1...16, using: &generator)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            var raw = in_addr()
            let glibc = inet_pton(AF_INET, text, &raw) == 1
            let ours = try? IPv4Address(text)
            #expect((ours != nil) == glibc, "\(text)")
            if let ours { #expect(ours.inAddr == raw.s_addr, "\(text)") }
        }
        // Near misses of valid addresses: octets up to 300, some with a leading zero.
        for _ in 0..<5_000 {
            let text = (0..<4).map { _ in
                let octet = String(Int.random(in: 0...300, using: &generator))
                return Int.random(in: 0..<8, using: &generator) == 0 ? "0" + octet : octet
            }.joined(separator: ".")
            var raw = in_addr()
            let glibc = inet_pton(AF_INET, text, &raw) == 1
            let ours = try? IPv4Address(text)
            #expect((ours != nil) == glibc, "\(text)")
            if let ours { #expect(ours.inAddr == raw.s_addr && ours.description == text, "\(text)") }
        }
    }

    @Test("IPv4 in_addr_t holds the octets in memory order (field problem 11)")
    func ipv4InAddr() {
        let address: IPv4Address = "192.0.2.53"
        let raw = address.inAddr
        let memory = withUnsafeBytes(of: raw) { Array($0) }
        #expect(memory == [192, 0, 2, 53])
        #expect(IPv4Address(inAddr: raw) == address)
        #if _endian(little)
        #expect(raw == 0x3502_00C0)
        #endif
    }

    // Expected texts are what glibc's inet_ntop prints (NetworkManager's formatter).
    @Test("IPv6 formats like inet_ntop", arguments: [
        ("2001:0db8:0000:0000:0000:0000:0000:0053", "2001:db8::53"),
        ("2001:db8:0:1::7", "2001:db8:0:1::7"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),        // first of two equal runs
        ("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"),           // longest run wins
        ("2001:db8:1:2:3:4:0:5", "2001:db8:1:2:3:4:0:5"),      // a single zero group is not compressed
        ("::", "::"), ("::1", "::1"), ("fe80::", "fe80::"), ("FE80::1", "fe80::1"),
        ("::ffff:192.0.2.53", "::ffff:192.0.2.53"), ("::ffff:c000:0235", "::ffff:192.0.2.53"),
        ("::192.0.2.53", "::192.0.2.53"), ("1::", "1::"), ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("64:ff9b::192.0.2.53", "64:ff9b::c000:235"),
    ])
    func ipv6Format(input: String, expected: String) throws {
        let address = try IPv6Address(input)
        #expect(address.description == expected)
        #expect(try IPv6Address(expected) == address)
    }

    @Test("IPv6 rejects malformed text", arguments: ["", ":", ":::", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "g::1",
                                                    "1:2:3:4:5:6:7", "::1.2.3", "1.2.3.4::", "2001:db8::/64", "::ffff:256.1.1.1",
                                                    "1:2:3:4:5:6:7:8::"])
    func ipv6Rejects(text: String) {
        #expect(throws: NMError.self) { try IPv6Address(text) }
    }

    @Test("IPv6 bytes and link-local detection")
    func ipv6Bytes() throws {
        let address: IPv6Address = "2001:db8::53"
        #expect(address.bytes == [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53])
        #expect(try IPv6Address(bytes: address.bytes) == address)
        #expect(IPv6Address("fe80::1").isLinkLocal)
        #expect(IPv6Address("febf::1").isLinkLocal)
        #expect(!IPv6Address("fec0::1").isLinkLocal)
    }

    @Test("prefixes: IPv4 up to 32, IPv6 up to 128", arguments: [
        ("192.168.1.200/24", true), ("192.168.1.200/32", true), ("192.168.1.200/0", true), ("192.168.1.200/33", false),
        ("192.168.1.200/", false), ("192.168.1.200/-1", false), ("192.168.1.200/2a", false),
    ])
    func ipv4Prefix(text: String, valid: Bool) {
        if valid {
            #expect(throws: Never.self) { try IPv4AddressWithPrefix(text) }
        } else {
            #expect { try IPv4AddressWithPrefix(text) } throws: { ($0 as? NMError)?.code == .invalidPrefix }
        }
    }

    @Test("IPv6 prefixes", arguments: [("2001:db8::1/64", true), ("2001:db8::1/128", true), ("2001:db8::1/129", false)])
    func ipv6Prefix(text: String, valid: Bool) {
        if valid {
            #expect(throws: Never.self) { try IPv6AddressWithPrefix(text) }
        } else {
            #expect { try IPv6AddressWithPrefix(text) } throws: { ($0 as? NMError)?.code == .invalidPrefix }
        }
    }

    @Test("a prefix over the address width is rejected when the value is built")
    func prefixBuiltInvalid() {
        #expect { try IPAddressWithPrefix(IPv4Address(192, 0, 2, 1), prefix: 33) } throws: {
            ($0 as? NMError)?.code == .invalidPrefix
        }
        #expect { try IPAddressWithPrefix(IPv6Address(high: 0, low: 1), prefix: 129) } throws: {
            ($0 as? NMError)?.code == .invalidPrefix
        }
    }

    @Test("subnets: network and containment")
    func subnets() throws {
        let a: IPv4AddressWithPrefix = "192.168.1.200/24"
        #expect(a.network == "192.168.1.0")
        #expect(a.contains("192.168.1.1"))
        #expect(!a.contains("192.168.2.1"))
        let odd: IPv4AddressWithPrefix = "10.1.2.3/13"
        #expect(odd.network == "10.0.0.0")
        #expect(odd.contains("10.7.255.255"))
        #expect(!odd.contains("10.8.0.0"))
        let v6: IPv6AddressWithPrefix = "2001:db8:1::200/64"
        #expect(v6.network == "2001:db8:1::")
        #expect(v6.contains("2001:db8:1::1"))
        #expect(IPv4AddressWithPrefix("192.0.2.1").prefix == 32)
    }

    @Test("MAC addresses parse with ':' or '-' and format upper-case", arguments: [
        ("02:11:22:33:44:55", "02:11:22:33:44:55"), ("02:aa:bb:cc:dd:ee", "02:AA:BB:CC:DD:EE"),
        ("02-AA-BB-CC-DD-EE", "02:AA:BB:CC:DD:EE"), ("2:a:b:c:d:e", "02:0A:0B:0C:0D:0E"),
    ])
    func macFormat(input: String, expected: String) throws {
        #expect(try MACAddress(input).description == expected)
    }

    @Test("MAC addresses reject malformed text", arguments: ["", "02:11:22:33:44", "02:11:22:33:44:55:66", "02:11:22:33:44:5g",
                                                            "021:1:22:33:44:55", "02:11:22:33:44:"])
    func macRejects(text: String) {
        #expect { try MACAddress(text) } throws: { ($0 as? NMError)?.code == .invalidMACAddress }
    }

    @Test("MAC bytes")
    func macBytes() throws {
        let mac: MACAddress = "02:AA:BB:CC:DD:EE"
        #expect(mac.bytes == [2, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE])
        #expect(mac.isLocallyAdministered)
        #expect { try MACAddress(bytes: [1, 2, 3]) } throws: { ($0 as? NMError)?.code == .invalidMACAddress }
    }

    @Test("interface names: the kernel's and NetworkManager's rules, and no control characters", arguments: [
        ("eno1", true), ("br0", true), ("eno1.100", true), ("a", true), ("fifteen-chars-x", true), ("br_0", true),
        ("-x", true), ("all0", true), ("brü0", true),
        ("sixteen-chars-xx", false), ("", false), ("br/0", false), ("br 0", false), ("br\t0", false), ("br\n", false),
        (".", false), ("..", false), ("...", true), ("üüüüüüüü", false),
        // NetworkManager's additions (nm_utils_ifname_valid): '%' and three reserved names.
        ("br%d", false), ("all", false), ("default", false), ("bonding_masters", false),
        // The kernel's isspace() counts 0xA0, also as the second byte of "à" (C3 A0).
        ("br\u{a0}0", false), ("brà", false),
        // Control characters, which the kernel and NetworkManager accept.
        ("br\u{1b}[2J", false), ("br\u{7f}", false), ("br\u{7}", false), ("br\u{9b}0", false), ("br:0", false),
    ])
    func interfaceNames(name: String, valid: Bool) {
        if valid {
            #expect(NMInterfaceName(rawValue: name)?.rawValue == name)
        } else {
            #expect(NMInterfaceName(rawValue: name) == nil)
            #expect { try NMInterfaceName(name) } throws: { ($0 as? NMError)?.code == .invalidInterfaceName }
        }
    }
}
