/// The DHCPv4 client identifier NetworkManager sends: `ipv4.dhcp-client-id`.
///
/// Values this library does not know (from a newer NetworkManager) are kept in
/// ``other(_:)`` and sent back unchanged. Two values are equal when their wire text is.
public enum NMDHCPClientID: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// `mac`: The current MAC address, prefixed by the ARP type.
    case mac
    /// `perm-mac`: The permanent MAC address.
    case permanentMAC
    /// `duid`: An RFC 4361 IAID + DUID.
    case duid
    /// `ipv6-duid`: The IAID + the DUID of ipv6.dhcp-duid.
    case ipv6DUID
    /// `stable`: A value derived from the stable-id.
    case stable
    /// `none`: No client identifier.
    case none
    /// Any other value of `ipv4.dhcp-client-id`, verbatim.
    case other(String)

    /// Every value this library names.
    public static let known: [NMDHCPClientID] = [.mac, .permanentMAC, .duid, .ipv6DUID, .stable, .none]

    public init(rawValue: String) {
        switch rawValue {
        case "mac": self = .mac
        case "perm-mac": self = .permanentMAC
        case "duid": self = .duid
        case "ipv6-duid": self = .ipv6DUID
        case "stable": self = .stable
        case "none": self = .none
        default: self = .other(rawValue)
        }
    }

    public init(stringLiteral value: String) { self.init(rawValue: value) }

    public var rawValue: String {
        switch self {
        case .mac: return "mac"
        case .permanentMAC: return "perm-mac"
        case .duid: return "duid"
        case .ipv6DUID: return "ipv6-duid"
        case .stable: return "stable"
        case .none: return "none"
        case .other(let value): return value
        }
    }

    public var description: String { rawValue }
    public static func == (lhs: NMDHCPClientID, rhs: NMDHCPClientID) -> Bool { lhs.rawValue == rhs.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
}
