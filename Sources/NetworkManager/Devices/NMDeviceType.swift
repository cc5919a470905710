/// The kind of a device (`NMDeviceType`, the `org.freedesktop.NetworkManager.Device.DeviceType` property).
///
/// Values NetworkManager adds later arrive as unnamed raw values rather than failing to decode.
public struct NMDeviceType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let unknown = NMDeviceType(rawValue: 0)
    public static let ethernet = NMDeviceType(rawValue: 1)
    public static let wifi = NMDeviceType(rawValue: 2)
    public static let bluetooth = NMDeviceType(rawValue: 5)
    public static let olpcMesh = NMDeviceType(rawValue: 6)
    public static let wimax = NMDeviceType(rawValue: 7)
    public static let modem = NMDeviceType(rawValue: 8)
    public static let infiniband = NMDeviceType(rawValue: 9)
    public static let bond = NMDeviceType(rawValue: 10)
    public static let vlan = NMDeviceType(rawValue: 11)
    public static let adsl = NMDeviceType(rawValue: 12)
    public static let bridge = NMDeviceType(rawValue: 13)
    public static let generic = NMDeviceType(rawValue: 14)
    public static let team = NMDeviceType(rawValue: 15)
    public static let tun = NMDeviceType(rawValue: 16)
    public static let ipTunnel = NMDeviceType(rawValue: 17)
    public static let macvlan = NMDeviceType(rawValue: 18)
    public static let vxlan = NMDeviceType(rawValue: 19)
    /// A veth pair end. It takes `802-3-ethernet` profiles like a real NIC (nmcli prints "ethernet").
    public static let veth = NMDeviceType(rawValue: 20)
    public static let macsec = NMDeviceType(rawValue: 21)
    public static let dummy = NMDeviceType(rawValue: 22)
    public static let ppp = NMDeviceType(rawValue: 23)
    public static let ovsInterface = NMDeviceType(rawValue: 24)
    public static let ovsPort = NMDeviceType(rawValue: 25)
    public static let ovsBridge = NMDeviceType(rawValue: 26)
    public static let wpan = NMDeviceType(rawValue: 27)
    public static let sixLowPAN = NMDeviceType(rawValue: 28)
    public static let wireguard = NMDeviceType(rawValue: 29)
    public static let wifiP2P = NMDeviceType(rawValue: 30)
    public static let vrf = NMDeviceType(rawValue: 31)
    public static let loopback = NMDeviceType(rawValue: 32)
    public static let hsr = NMDeviceType(rawValue: 33)
    public static let ipvlan = NMDeviceType(rawValue: 34)

    private static let names: [UInt32: String] = [
        0: "unknown", 1: "ethernet", 2: "wifi", 5: "bluetooth", 6: "olpc-mesh", 7: "wimax", 8: "modem",
        9: "infiniband", 10: "bond", 11: "vlan", 12: "adsl", 13: "bridge", 14: "generic", 15: "team",
        16: "tun", 17: "ip-tunnel", 18: "macvlan", 19: "vxlan", 20: "veth", 21: "macsec", 22: "dummy",
        23: "ppp", 24: "ovs-interface", 25: "ovs-port", 26: "ovs-bridge", 27: "wpan", 28: "6lowpan",
        29: "wireguard", 30: "wifi-p2p", 31: "vrf", 32: "loopback", 33: "hsr", 34: "ipvlan",
    ]

    /// Whether the device carries Ethernet frames and takes `802-3-ethernet` profiles:
    /// real NICs (type 1) and veth ends (type 20), which NetworkManager reports differently.
    public var isEthernetLike: Bool { self == .ethernet || self == .veth }

    public var description: String { Self.names[rawValue] ?? "type-\(rawValue)" }
}
