/// An IPv4 address, such as `192.0.2.53`.
///
/// NetworkManager carries IPv4 addresses in two forms: text (`address-data`, `gateway`,
/// `dns-data`) and, in legacy keys (`ipv4.dns`, `ipv4.addresses`), a `u` holding the four octets
/// *in memory order* (an `in_addr_t`). ``inAddr`` and ``init(inAddr:)`` are the only
/// conversions to that second form; see docs/networkmanager-quirks.md.
public struct IPv4Address: IPAddressProtocol, ExpressibleByStringLiteral {
    /// The address as a number, first octet most significant: 192.0.2.53 is `0xC000_0235`.
    public var value: UInt32

    public static var bitWidth: Int { 32 }
    public static var familyName: String { "IPv4" }

    /// The address `a.b.c.d`.
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// The address whose number (first octet most significant) is `value`.
    public init(value: UInt32) { self.value = value }

    public init(bytes: [UInt8]) throws(NMError) {
        guard bytes.count == 4 else {
            throw NMError(.invalidAddress, "an IPv4 address has 4 bytes, not \(bytes.count)")
        }
        self.init(bytes[0], bytes[1], bytes[2], bytes[3])
    }

    /// Parses dotted-quad text: four decimal numbers 0-255 without leading zeros.
    public init(_ text: String) throws(NMError) {
        guard let parsed = Self.parse(Substring(text)) else {
            throw NMError(.invalidAddress, "\(NMText.quoted(text)) is not an IPv4 address",
                          hint: "write IPv4 addresses as four numbers 0-255 joined by dots, such as 192.0.2.53")
        }
        self = parsed
    }

    public init(stringLiteral value: String) {
        do { try self.init(value) } catch { preconditionFailure("\(error)") }
    }

    /// One pass over the UTF-8 bytes, no allocation: profiles carry many addresses, and reading
    /// 500 of them parsed addresses in a tenth of the decoding time with `split`.
    static func parse(_ text: Substring) -> IPv4Address? {
        var value: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var dots = 0
        var leadingZero = false
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if leadingZero { return nil }  // "01": no leading zeros
                if digits == 0 && byte == UInt8(ascii: "0") { leadingZero = true }
                octet = octet * 10 + UInt32(byte - UInt8(ascii: "0"))
                digits += 1
                guard digits <= 3, octet <= 255 else { return nil }
            case UInt8(ascii: "."):
                guard digits > 0, dots < 3 else { return nil }
                value = value << 8 | octet
                octet = 0
                digits = 0
                dots += 1
                leadingZero = false
            default:
                return nil
            }
        }
        guard dots == 3, digits > 0 else { return nil }
        return IPv4Address(value: value << 8 | octet)
    }

    public var bytes: [UInt8] {
        [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8),
         UInt8(truncatingIfNeeded: value)]
    }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }

    /// The address as an `in_addr_t`: a `UInt32` whose bytes *in memory* are the octets in
    /// order. This is what NetworkManager's legacy `ipv4.dns` (`au`) and `ipv4.addresses`
    /// (`aau`) carry. It is built from the octets in native order, never by reading the address
    /// as a big-endian number: on a little-endian host 192.0.2.53 is `0x3502_00C0`.
    public var inAddr: UInt32 {
        var result: UInt32 = 0
        withUnsafeMutableBytes(of: &result) { raw in
            for (index, octet) in bytes.enumerated() { raw[index] = octet }
        }
        return result
    }

    /// The address held by an `in_addr_t` (see ``inAddr``).
    public init(inAddr: UInt32) {
        var octets: [UInt8] = []
        withUnsafeBytes(of: inAddr) { raw in octets = Array(raw) }
        self.init(octets[0], octets[1], octets[2], octets[3])
    }
}
