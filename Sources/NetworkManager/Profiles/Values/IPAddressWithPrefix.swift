/// An address with its prefix length, such as `192.168.1.200/24`: one entry of
/// `ipv4.address-data` / `ipv6.address-data` (`{"address": s, "prefix": u}`).
///
/// The prefix is checked when the value is built: at most 32 for IPv4, 128 for IPv6.
public struct IPAddressWithPrefix<Address: IPAddressProtocol>: Hashable, Sendable, CustomStringConvertible {
    /// The address itself (host bits may be set: `192.168.1.200/24` is a host in its subnet).
    public let address: Address
    /// The prefix length.
    public let prefix: Int

    /// - Throws: ``NMError`` with code ``NMError/Code/invalidPrefix`` when `prefix` is negative
    ///   or longer than the address (32 bits for IPv4, 128 for IPv6).
    public init(_ address: Address, prefix: Int) throws(NMError) {
        guard (0...Address.bitWidth).contains(prefix) else {
            throw NMError(.invalidPrefix, "prefix /\(prefix) of \(address) is out of range for \(Address.familyName)",
                          hint: "an \(Address.familyName) prefix is 0-\(Address.bitWidth)")
        }
        self.address = address
        self.prefix = prefix
    }

    /// Parses `address/prefix`. Without `/prefix` the address is a single host (/32 or /128),
    /// as nmcli does.
    public init(_ text: String) throws(NMError) {
        guard let slash = text.firstIndex(of: "/") else {
            try self.init(try Address(text), prefix: Address.bitWidth)
            return
        }
        let prefixText = text[text.index(after: slash)...]
        guard !prefixText.isEmpty, prefixText.count <= 3, prefixText.allSatisfy(\.isASCII),
              let prefix = Int(prefixText) else {
            throw NMError(.invalidPrefix, "\(NMText.quoted(text)) has no valid prefix length after '/'",
                          hint: "write an address with its prefix as 192.168.1.200/24")
        }
        try self.init(try Address(String(text[..<slash])), prefix: prefix)
    }

    /// The network this address lies in: the address with its host bits cleared.
    public var network: Address { address.masked(toPrefix: prefix) }

    /// The address of the subnet with every host bit set: for IPv4, its broadcast address.
    public var broadcast: Address { address.filled(fromPrefix: prefix) }

    /// Whether this is an IPv4 address with a prefix of /30 or shorter that is its subnet's
    /// network address (host bits all zero) or broadcast address (all one): neither can be a
    /// host's. /31 (RFC 3021) and /32 have neither. IPv6 has no broadcast, and its
    /// subnet-router anycast address is left alone: always `false`.
    public var isNetworkOrBroadcastAddress: Bool {
        Address.bitWidth == 32 && prefix <= 30 && (address == network || address == broadcast)
    }

    /// Whether `other` lies in this address's subnet.
    public func contains(_ other: Address) -> Bool {
        other.masked(toPrefix: prefix) == network
    }

    public var description: String { "\(address)/\(prefix)" }
}

extension IPAddressWithPrefix: ExpressibleByStringLiteral, ExpressibleByUnicodeScalarLiteral,
    ExpressibleByExtendedGraphemeClusterLiteral {
    /// A literal such as `"192.168.1.200/24"`; an invalid literal stops the program
    /// (a literal is the programmer's input).
    public init(stringLiteral value: String) {
        do { try self.init(value) } catch { preconditionFailure("\(error)") }
    }
}

/// An IPv4 address with a prefix length, such as `192.168.1.200/24`.
public typealias IPv4AddressWithPrefix = IPAddressWithPrefix<IPv4Address>
/// An IPv6 address with a prefix length, such as `2001:db8:1::200/64`.
public typealias IPv6AddressWithPrefix = IPAddressWithPrefix<IPv6Address>
