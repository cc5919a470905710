/// What ``IPv4Address`` and ``IPv6Address`` share: a fixed number of bits, parsing from and
/// formatting to NetworkManager's text form, and raw bytes in network order.
///
/// It lets ``IPAddressWithPrefix`` and ``NMIPRoute`` be written once for both families while an
/// IPv4 setting still cannot hold an IPv6 address.
public protocol IPAddressProtocol: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// 32 for IPv4, 128 for IPv6: the largest valid prefix length.
    static var bitWidth: Int { get }
    /// "IPv4" or "IPv6", for messages.
    static var familyName: String { get }
    /// Parses the text form (`192.0.2.53`, `2001:db8::1`).
    /// - Throws: ``NMError`` with code ``NMError/Code/invalidAddress``.
    init(_ text: String) throws(NMError)
    /// Builds the address from its bytes in network order (4 or 16 of them).
    /// - Throws: ``NMError`` with code ``NMError/Code/invalidAddress`` for a wrong count.
    init(bytes: [UInt8]) throws(NMError)
    /// The address's bytes in network order.
    var bytes: [UInt8] { get }
    /// Why the address cannot be a host's own (multicast, loopback, ...), or `nil`.
    var specialPurpose: IPSpecialPurpose? { get }
}

extension IPAddressProtocol {
    /// The address with every bit after the first `prefix` bits cleared: the network address.
    public func masked(toPrefix prefix: Int) -> Self {
        var out = bytes
        for index in out.indices {
            let bitsBefore = index * 8
            if bitsBefore >= prefix {
                out[index] = 0
            } else if bitsBefore + 8 > prefix {
                let keep = prefix - bitsBefore
                out[index] &= UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
            }
        }
        // The byte count is unchanged, so this cannot fail.
        return (try? Self(bytes: out)) ?? self
    }

    /// The address with every bit after the first `prefix` bits set: for IPv4, the
    /// broadcast address of the subnet.
    public func filled(fromPrefix prefix: Int) -> Self {
        var out = bytes
        for index in out.indices {
            let bitsBefore = index * 8
            if bitsBefore >= prefix {
                out[index] = 0xFF
            } else if bitsBefore + 8 > prefix {
                let keep = prefix - bitsBefore
                out[index] |= UInt8(truncatingIfNeeded: 0xFF >> keep)
            }
        }
        return (try? Self(bytes: out)) ?? self
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}
