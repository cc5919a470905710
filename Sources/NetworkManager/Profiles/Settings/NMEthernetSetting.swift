public import DBus

/// The `802-3-ethernet` setting (wired). NetworkManager also attaches it to bridges, bonds and
/// VLANs, where it carries their MAC address and MTU.
public struct NMEthernetSetting: Hashable, Sendable, Codable {
    /// `802-3-ethernet.mac-address` (`ay`): binds the profile to the NIC with this permanent MAC.
    public var macAddress: MACAddress?
    /// The MAC address the interface gets when activated: `802-3-ethernet.assigned-mac-address`
    /// (`s`). Read from the legacy `cloned-mac-address` (`ay`) when only that is present.
    public var assignedMACAddress: NMAssignedMACAddress?
    /// `802-3-ethernet.mtu`; `nil` or 0 leaves the MTU alone.
    public var mtu: UInt32?
    /// Keys this library does not model (`auto-negotiate`, `mac-address-blacklist`,
    /// `s390-options`, `wake-on-lan`, ...), sent back exactly as read.
    public var extraKeys: [String: DBusValue]

    public init(macAddress: MACAddress? = nil, assignedMACAddress: NMAssignedMACAddress? = nil, mtu: UInt32? = nil,
                extraKeys: [String: DBusValue] = [:]) {
        self.macAddress = macAddress
        self.assignedMACAddress = assignedMACAddress
        self.mtu = mtu
        self.extraKeys = extraKeys
    }
}

/// The value of `802-3-ethernet.assigned-mac-address`: a fixed address or one of
/// NetworkManager's policies.
public enum NMAssignedMACAddress: Hashable, Sendable, CustomStringConvertible {
    /// This exact address (for a bridge: usually its port's MAC, so DHCP leases survive).
    case address(MACAddress)
    /// `preserve`: keep whatever MAC the interface has.
    case preserve
    /// `permanent`: the device's permanent MAC.
    case permanent
    /// `random`: a new random MAC at each activation.
    case random
    /// `stable`: a MAC derived from the profile's stable-id.
    case stable
    /// Any other text NetworkManager accepts (such as `stable-ssid`), verbatim.
    case other(String)

    public init(rawValue: String) {
        switch rawValue {
        case "preserve": self = .preserve
        case "permanent": self = .permanent
        case "random": self = .random
        case "stable": self = .stable
        default:
            if let mac = try? MACAddress(rawValue) { self = .address(mac) } else { self = .other(rawValue) }
        }
    }

    public var rawValue: String {
        switch self {
        case .address(let mac): return mac.description
        case .preserve: return "preserve"
        case .permanent: return "permanent"
        case .random: return "random"
        case .stable: return "stable"
        case .other(let text): return text
        }
    }

    public var description: String { rawValue }
}
