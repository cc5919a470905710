public import DBus

/// The `vlan` setting of an 802.1Q VLAN profile.
public struct NMVLANSetting: Hashable, Sendable, Codable {
    /// `vlan.parent`: the parent's interface name or its profile's UUID. May be `nil` when
    /// `802-3-ethernet.mac-address` identifies the parent.
    public var parent: String?
    /// `vlan.id`: the VLAN id, 0...4094.
    public var id: UInt16
    /// `vlan.flags`; `nil` leaves NetworkManager's default (``NMVLANFlags/reorderHeaders``).
    public var flags: NMVLANFlags?
    /// Keys this library does not model (`ingress-priority-map`, `egress-priority-map`,
    /// `protocol`, ...), sent back exactly as read.
    public var extraKeys: [String: DBusValue]

    public init(parent: String?, id: UInt16, flags: NMVLANFlags? = nil, extraKeys: [String: DBusValue] = [:]) {
        self.parent = parent
        self.id = id
        self.flags = flags
        self.extraKeys = extraKeys
    }
}

/// `vlan.flags` (`NMVlanFlags`).
public struct NMVLANFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `NM_VLAN_FLAG_REORDER_HEADERS` (0x1): reorder output packet headers. NetworkManager's default.
    public static let reorderHeaders = NMVLANFlags(rawValue: 0x1)
    /// `NM_VLAN_FLAG_GVRP` (0x2): GARP VLAN Registration Protocol.
    public static let gvrp = NMVLANFlags(rawValue: 0x2)
    /// `NM_VLAN_FLAG_LOOSE_BINDING` (0x4): the VLAN's state does not follow its parent's.
    public static let looseBinding = NMVLANFlags(rawValue: 0x4)
    /// `NM_VLAN_FLAG_MVRP` (0x8): Multiple VLAN Registration Protocol.
    public static let mvrp = NMVLANFlags(rawValue: 0x8)
}
