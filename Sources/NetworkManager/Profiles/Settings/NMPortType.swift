/// The kind of controller a port is attached to: `connection.slave-type` on the wire (`connection.port-type` since NetworkManager 1.46).
///
/// Values this library does not know (from a newer NetworkManager) are kept in
/// ``other(_:)`` and sent back unchanged. Two values are equal when their wire text is.
public enum NMPortType: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// `bridge`: A port of a Linux bridge.
    case bridge
    /// `bond`: A port of a bond.
    case bond
    /// `team`: A port of a team.
    case team
    /// `ovs-port`: An Open vSwitch port.
    case ovsPort
    /// `ovs-bridge`: An Open vSwitch bridge port.
    case ovsBridge
    /// `vrf`: A port of a VRF (the only kind of port that keeps IP settings).
    case vrf
    /// Any other value of `connection.slave-type`, verbatim.
    case other(String)

    /// Every value this library names.
    public static let known: [NMPortType] = [.bridge, .bond, .team, .ovsPort, .ovsBridge, .vrf]

    public init(rawValue: String) {
        switch rawValue {
        case "bridge": self = .bridge
        case "bond": self = .bond
        case "team": self = .team
        case "ovs-port": self = .ovsPort
        case "ovs-bridge": self = .ovsBridge
        case "vrf": self = .vrf
        default: self = .other(rawValue)
        }
    }

    public init(stringLiteral value: String) { self.init(rawValue: value) }

    public var rawValue: String {
        switch self {
        case .bridge: return "bridge"
        case .bond: return "bond"
        case .team: return "team"
        case .ovsPort: return "ovs-port"
        case .ovsBridge: return "ovs-bridge"
        case .vrf: return "vrf"
        case .other(let value): return value
        }
    }

    public var description: String { rawValue }
    public static func == (lhs: NMPortType, rhs: NMPortType) -> Bool { lhs.rawValue == rhs.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
}
