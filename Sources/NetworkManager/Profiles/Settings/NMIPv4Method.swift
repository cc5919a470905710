/// How IPv4 is configured: `ipv4.method`.
///
/// Values this library does not know (from a newer NetworkManager) are kept in
/// ``other(_:)`` and sent back unchanged. Two values are equal when their wire text is.
public enum NMIPv4Method: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// `auto`: DHCP (plus any static addresses).
    case auto
    /// `manual`: Static addresses only.
    case manual
    /// `link-local`: IPv4 link-local (169.254/16) only.
    case linkLocal
    /// `shared`: Share the connection with other hosts (NAT, DHCP server).
    case shared
    /// `disabled`: No IPv4.
    case disabled
    /// Any other value of `ipv4.method`, verbatim.
    case other(String)

    /// Every value this library names.
    public static let known: [NMIPv4Method] = [.auto, .manual, .linkLocal, .shared, .disabled]

    public init(rawValue: String) {
        switch rawValue {
        case "auto": self = .auto
        case "manual": self = .manual
        case "link-local": self = .linkLocal
        case "shared": self = .shared
        case "disabled": self = .disabled
        default: self = .other(rawValue)
        }
    }

    public init(stringLiteral value: String) { self.init(rawValue: value) }

    public var rawValue: String {
        switch self {
        case .auto: return "auto"
        case .manual: return "manual"
        case .linkLocal: return "link-local"
        case .shared: return "shared"
        case .disabled: return "disabled"
        case .other(let value): return value
        }
    }

    public var description: String { rawValue }
    public static func == (lhs: NMIPv4Method, rhs: NMIPv4Method) -> Bool { lhs.rawValue == rhs.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
}
