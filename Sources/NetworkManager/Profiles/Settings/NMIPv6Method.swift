/// How IPv6 is configured: `ipv6.method`.
///
/// Values this library does not know (from a newer NetworkManager) are kept in
/// ``other(_:)`` and sent back unchanged. Two values are equal when their wire text is.
public enum NMIPv6Method: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// `auto`: SLAAC / router advertisements, with DHCPv6 as the router says.
    case auto
    /// `dhcp`: DHCPv6 only.
    case dhcp
    /// `manual`: Static addresses only.
    case manual
    /// `link-local`: Only a link-local address.
    case linkLocal
    /// `shared`: Share the connection (prefix delegation).
    case shared
    /// `ignore`: NetworkManager leaves IPv6 alone.
    case ignore
    /// `disabled`: IPv6 is switched off on the interface (NetworkManager 1.20).
    case disabled
    /// Any other value of `ipv6.method`, verbatim.
    case other(String)

    /// Every value this library names.
    public static let known: [NMIPv6Method] = [.auto, .dhcp, .manual, .linkLocal, .shared, .ignore, .disabled]

    public init(rawValue: String) {
        switch rawValue {
        case "auto": self = .auto
        case "dhcp": self = .dhcp
        case "manual": self = .manual
        case "link-local": self = .linkLocal
        case "shared": self = .shared
        case "ignore": self = .ignore
        case "disabled": self = .disabled
        default: self = .other(rawValue)
        }
    }

    public init(stringLiteral value: String) { self.init(rawValue: value) }

    public var rawValue: String {
        switch self {
        case .auto: return "auto"
        case .dhcp: return "dhcp"
        case .manual: return "manual"
        case .linkLocal: return "link-local"
        case .shared: return "shared"
        case .ignore: return "ignore"
        case .disabled: return "disabled"
        case .other(let value): return value
        }
    }

    public var description: String { rawValue }
    public static func == (lhs: NMIPv6Method, rhs: NMIPv6Method) -> Bool { lhs.rawValue == rhs.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
}
