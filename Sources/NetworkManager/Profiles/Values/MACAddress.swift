/// An Ethernet MAC address (6 bytes), such as `02:11:22:33:44:55`.
///
/// NetworkManager carries it as `ay` (`802-3-ethernet.mac-address`, `cloned-mac-address`) or
/// as text (`assigned-mac-address`). Text is parsed with `:` or `-` separators and formatted
/// as NetworkManager does (`nm_utils_hwaddr_ntoa`): upper-case hex joined by colons.
public struct MACAddress: Hashable, Sendable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The 48 bits, first byte most significant.
    public let value: UInt64

    public init(bytes: [UInt8]) throws(NMError) {
        guard bytes.count == 6 else {
            throw NMError(.invalidMACAddress, "a MAC address has 6 bytes, not \(bytes.count)",
                          hint: "only Ethernet (6-byte) hardware addresses are typed; InfiniBand uses 20")
        }
        value = bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    public init(_ text: String) throws(NMError) {
        let parts = text.split(separator: text.contains("-") ? "-" : ":", omittingEmptySubsequences: false)
        guard parts.count == 6,
              parts.allSatisfy({ (1...2).contains($0.count) && $0.allSatisfy(\.isHexDigit) && $0.allSatisfy(\.isASCII) }) else {
            throw NMError(.invalidMACAddress, "\(NMText.quoted(text)) is not a MAC address",
                          hint: "write MAC addresses as six hex bytes joined by colons, such as 02:11:22:33:44:55")
        }
        try self.init(bytes: parts.map { UInt8($0, radix: 16) ?? 0 })
    }

    public init(stringLiteral value: String) {
        do { try self.init(value) } catch { preconditionFailure("\(error)") }
    }

    public var bytes: [UInt8] { (0..<6).map { UInt8(truncatingIfNeeded: value >> (40 - 8 * $0)) } }

    /// Whether the locally-administered bit is set (as in addresses made up by software).
    public var isLocallyAdministered: Bool { bytes[0] & 0x02 != 0 }

    public var description: String {
        bytes.map { byte in
            let hex = String(byte, radix: 16, uppercase: true)
            return hex.count == 1 ? "0" + hex : hex
        }.joined(separator: ":")
    }

    public static func < (lhs: MACAddress, rhs: MACAddress) -> Bool { lhs.value < rhs.value }
}
