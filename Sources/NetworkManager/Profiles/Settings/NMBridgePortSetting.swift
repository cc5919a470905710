public import DBus

/// The `bridge-port` setting of a profile attached to a bridge. An empty one is valid and
/// marks the profile as a bridge port.
public struct NMBridgePortSetting: Hashable, Sendable, Codable {
    /// `bridge-port.priority`: STP port priority (0...63). Default 32.
    public var priority: UInt16?
    /// `bridge-port.path-cost`: STP path cost (1...65535). Default 100.
    public var pathCost: UInt32?
    /// `bridge-port.hairpin-mode`: send frames back out of the port they came in. Default `false`.
    public var hairpinMode: Bool?
    /// `bridge-port.vlans` (1.18): the VLANs of this port.
    public var vlans: [NMBridgeVLAN]
    /// Keys this library does not model, sent back exactly as read.
    public var extraKeys: [String: DBusValue]

    public init(priority: UInt16? = nil, pathCost: UInt32? = nil, hairpinMode: Bool? = nil, vlans: [NMBridgeVLAN] = [],
                extraKeys: [String: DBusValue] = [:]) {
        self.priority = priority
        self.pathCost = pathCost
        self.hairpinMode = hairpinMode
        self.vlans = vlans
        self.extraKeys = extraKeys
    }
}
