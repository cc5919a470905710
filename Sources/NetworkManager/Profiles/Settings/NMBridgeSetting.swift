public import DBus

/// The `bridge` setting of a bridge profile.
///
/// Times are whole seconds on the wire (`u`); a `Duration` with a fraction is rejected when
/// the profile is encoded. `nil` leaves a value at NetworkManager's default.
public struct NMBridgeSetting: Hashable, Sendable, Codable {
    /// `bridge.stp`: spanning tree. NetworkManager's default is **on**, which delays
    /// forwarding by 2 x ``forwardDelay`` (30 s) each time a port comes up.
    public var stp: Bool?
    /// `bridge.forward-delay` (s). Default 15 s.
    public var forwardDelay: Duration?
    /// `bridge.hello-time` (s). Default 2 s.
    public var helloTime: Duration?
    /// `bridge.max-age` (s). Default 20 s.
    public var maxAge: Duration?
    /// `bridge.ageing-time` (s): how long learned MAC addresses are kept. Default 300 s.
    public var ageingTime: Duration?
    /// `bridge.priority`: STP bridge priority. Default 0x8000.
    public var priority: UInt16?
    /// `bridge.multicast-snooping` (1.2). Default `true`.
    public var multicastSnooping: Bool?
    /// `bridge.vlan-filtering` (1.18). Default `false`.
    public var vlanFiltering: Bool?
    /// `bridge.vlan-default-pvid` (1.18). Default 1.
    public var vlanDefaultPVID: UInt16?
    /// `bridge.group-forward-mask` (1.10): which link-local group addresses are forwarded.
    public var groupForwardMask: UInt16?
    /// `bridge.vlans` (1.18): the VLANs of the bridge itself.
    public var vlans: [NMBridgeVLAN]
    /// Keys this library does not model (`multicast-*`, `vlan-protocol`, the deprecated
    /// `mac-address`, ...), sent back exactly as read.
    public var extraKeys: [String: DBusValue]

    public init(stp: Bool? = nil, forwardDelay: Duration? = nil, helloTime: Duration? = nil, maxAge: Duration? = nil,
                ageingTime: Duration? = nil, priority: UInt16? = nil, multicastSnooping: Bool? = nil,
                vlanFiltering: Bool? = nil, vlanDefaultPVID: UInt16? = nil, groupForwardMask: UInt16? = nil,
                vlans: [NMBridgeVLAN] = [], extraKeys: [String: DBusValue] = [:]) {
        self.stp = stp
        self.forwardDelay = forwardDelay
        self.helloTime = helloTime
        self.maxAge = maxAge
        self.ageingTime = ageingTime
        self.priority = priority
        self.multicastSnooping = multicastSnooping
        self.vlanFiltering = vlanFiltering
        self.vlanDefaultPVID = vlanDefaultPVID
        self.groupForwardMask = groupForwardMask
        self.vlans = vlans
        self.extraKeys = extraKeys
    }
}
