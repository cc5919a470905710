public import DBus
#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// A NetworkManager connection profile, typed: what `GetSettings` returns and `AddConnection2`
/// / `Update2` take (`a{sa{sv}}`), as one value.
///
/// Build one for the intent with ``ethernet(name:interface:uuid:autoconnect:macAddress:mtu:ipv4:ipv6:)``,
/// ``bridge(name:interface:uuid:autoconnect:stp:options:autoconnectPorts:macAddress:ipv4:ipv6:)``,
/// ``bridgePort(name:interface:controller:uuid:autoconnect:port:)``, ``vlan(name:parent:id:interface:uuid:autoconnect:flags:ipv4:ipv6:)``,
/// ``bond(name:interface:mode:options:uuid:autoconnect:autoconnectPorts:ipv4:ipv6:)`` or
/// ``dummy(name:interface:uuid:autoconnect:ipv4:ipv6:)`` or
/// ``vxlan(name:interface:id:remote:local:destinationPort:parent:uuid:autoconnect:ipv4:ipv6:)``; they reject invalid combinations
/// (``validate()``) before anything reaches the bus. Read and write the wire form with
/// ``NMSettingsCodec``.
///
/// Settings and keys the typed model does not know are kept (``unknownSettings`` and each
/// setting's `extraKeys`) and sent back unchanged, so a read-modify-write loses nothing.
/// ``description`` and ``debugDescription`` mask values whose key looks secret.
public struct NMConnectionProfile: Hashable, Sendable, Codable {
    /// The `connection` setting: name, UUID, type, interface, controller.
    public var connection: NMConnectionSetting
    /// The `802-3-ethernet` setting.
    public var ethernet: NMEthernetSetting?
    /// The `bridge` setting (bridge profiles).
    public var bridge: NMBridgeSetting?
    /// The `bridge-port` setting (profiles attached to a bridge).
    public var bridgePort: NMBridgePortSetting?
    /// The `ipv4` setting; `nil` on ports, which carry no IP settings.
    public var ipv4: NMIPv4Setting?
    /// The `ipv6` setting; `nil` on ports.
    public var ipv6: NMIPv6Setting?
    /// The `vlan` setting (VLAN profiles).
    public var vlan: NMVLANSetting?
    /// The `bond` setting (bond profiles).
    public var bond: NMBondSetting?
    /// The `dummy` setting (dummy profiles).
    public var dummy: NMDummySetting?
    /// The `vxlan` setting (VXLAN profiles).
    public var vxlan: NMVXLANSetting?
    /// Whole settings this library does not model (`802-1x`, `ethtool`, `match`, `proxy`, ...),
    /// by setting name, sent back exactly as read.
    public var unknownSettings: [String: [String: DBusValue]]

    public init(connection: NMConnectionSetting, ethernet: NMEthernetSetting? = nil, bridge: NMBridgeSetting? = nil,
                bridgePort: NMBridgePortSetting? = nil, ipv4: NMIPv4Setting? = nil, ipv6: NMIPv6Setting? = nil,
                vlan: NMVLANSetting? = nil, bond: NMBondSetting? = nil, dummy: NMDummySetting? = nil,
                vxlan: NMVXLANSetting? = nil, unknownSettings: [String: [String: DBusValue]] = [:]) {
        self.connection = connection
        self.ethernet = ethernet
        self.bridge = bridge
        self.bridgePort = bridgePort
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.vlan = vlan
        self.bond = bond
        self.dummy = dummy
        self.vxlan = vxlan
        self.unknownSettings = unknownSettings
    }

    /// `connection.id`.
    public var name: String {
        get { connection.id }
        set { connection.id = newValue }
    }

    /// `connection.uuid`.
    public var uuid: UUID { connection.uuid }

    /// `connection.type`.
    public var type: NMConnectionType { connection.type }

    /// `connection.interface-name`.
    public var interfaceName: NMInterfaceName? { connection.interfaceName }

    /// Whether the profile is a port (`connection.master` is set).
    public var isPort: Bool { connection.isPort }
}
