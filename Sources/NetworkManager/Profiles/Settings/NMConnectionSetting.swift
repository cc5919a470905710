public import DBus
#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// The `connection` setting: a profile's identity, its interface and, for a port, its controller.
///
/// Optional values are `nil` when the profile leaves them at NetworkManager's default;
/// NetworkManager omits such keys from `GetSettings`, and the codec omits them again.
public struct NMConnectionSetting: Hashable, Sendable, Codable {
    /// `connection.id`: the profile's name, as `nmcli connection show` lists it.
    public var id: String
    /// `connection.uuid`: the profile's stable identity. Sent in lower case, as NetworkManager writes it.
    public var uuid: UUID
    /// `connection.type`: which base setting describes the device (`802-3-ethernet`, `bridge`, ...).
    public var type: NMConnectionType
    /// `connection.interface-name`: the one interface the profile applies to; `nil` for any.
    public var interfaceName: NMInterfaceName?
    /// `connection.autoconnect`: whether NetworkManager activates the profile by itself. Default `true`.
    public var autoconnect: Bool?
    /// `connection.autoconnect-priority`: higher wins among autoconnecting profiles (-999...999). Default 0.
    public var autoconnectPriority: Int32?
    /// The controller of a port: its interface name or its profile's UUID.
    ///
    /// Sent as the legacy `connection.master`; NetworkManager 1.46 renamed it
    /// `connection.controller` but still reads the old key, prefers it when both are sent, and
    /// never writes the new one in `GetSettings`. `master` works with every version.
    public var controller: String?
    /// The kind of controller: sent as the legacy `connection.slave-type` (`port-type` since 1.46),
    /// for the same reasons as ``controller``.
    public var portType: NMPortType?
    /// Whether activating this controller also activates its ports: sent as the legacy
    /// `connection.autoconnect-slaves` (`autoconnect-ports` since 1.46). On the wire an `i`:
    /// -1 default (`nil` here), 0 no, 1 yes. Bridges over a NIC want `true` (else they come up
    /// without ports).
    public var autoconnectPorts: Bool?
    /// Keys of the `connection` setting this library does not model (`zone`, `permissions`,
    /// `timestamp`, `lldp`, ...), sent back exactly as read.
    public var extraKeys: [String: DBusValue]

    public init(id: String, uuid: UUID = UUID(), type: NMConnectionType, interfaceName: NMInterfaceName? = nil,
                autoconnect: Bool? = nil, autoconnectPriority: Int32? = nil, controller: String? = nil,
                portType: NMPortType? = nil, autoconnectPorts: Bool? = nil, extraKeys: [String: DBusValue] = [:]) {
        self.id = id
        self.uuid = uuid
        self.type = type
        self.interfaceName = interfaceName
        self.autoconnect = autoconnect
        self.autoconnectPriority = autoconnectPriority
        self.controller = controller
        self.portType = portType
        self.autoconnectPorts = autoconnectPorts
        self.extraKeys = extraKeys
    }

    /// Whether the profile is a port (it names a controller).
    public var isPort: Bool { controller != nil }
}
