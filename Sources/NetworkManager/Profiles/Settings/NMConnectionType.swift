/// A profile's type: `connection.type`.
///
/// Values this library does not know (from a newer NetworkManager) are kept in
/// ``other(_:)`` and sent back unchanged. Two values are equal when their wire text is.
public enum NMConnectionType: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// `802-3-ethernet`: Wired Ethernet (`802-3-ethernet`; nmcli also says `ethernet`).
    case ethernet
    /// `bridge`: A Linux bridge.
    case bridge
    /// `bond`: A bond.
    case bond
    /// `vlan`: An 802.1Q VLAN on a parent interface.
    case vlan
    /// `dummy`: A dummy interface (NetworkManager 1.8).
    case dummy
    /// `vxlan`: A VXLAN tunnel interface (NetworkManager 1.2).
    case vxlan
    /// `loopback`: The loopback interface (NetworkManager 1.42).
    case loopback
    /// `802-11-wireless`: Wi-Fi (not typed further by this library).
    case wifi
    /// Any other value of `connection.type`, verbatim.
    case other(String)

    /// Every value this library names.
    public static let known: [NMConnectionType] = [.ethernet, .bridge, .bond, .vlan, .dummy, .vxlan, .loopback, .wifi]

    public init(rawValue: String) {
        switch rawValue {
        case "802-3-ethernet", "ethernet": self = .ethernet
        case "bridge": self = .bridge
        case "bond": self = .bond
        case "vlan": self = .vlan
        case "dummy": self = .dummy
        case "vxlan": self = .vxlan
        case "loopback": self = .loopback
        case "802-11-wireless", "wifi": self = .wifi
        default: self = .other(rawValue)
        }
    }

    public init(stringLiteral value: String) { self.init(rawValue: value) }

    public var rawValue: String {
        switch self {
        case .ethernet: return "802-3-ethernet"
        case .bridge: return "bridge"
        case .bond: return "bond"
        case .vlan: return "vlan"
        case .dummy: return "dummy"
        case .vxlan: return "vxlan"
        case .loopback: return "loopback"
        case .wifi: return "802-11-wireless"
        case .other(let value): return value
        }
    }

    public var description: String { rawValue }
    public static func == (lhs: NMConnectionType, rhs: NMConnectionType) -> Bool { lhs.rawValue == rhs.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
}

/// Encodes as its wire text (`802-3-ethernet`, `bridge`, ...).
extension NMConnectionType: Codable {
    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
