public import DBus

/// The `vxlan` setting of a VXLAN profile (NetworkManager 1.2): a Linux `vxlan` device,
/// like `ip link add vx0 type vxlan id 42 remote 192.0.2.2 dstport 4789 dev eno1`.
///
/// The typed keys are those nmstate's `vxlan` interface has; every other key of the setting
/// (`source-port-min`, `ttl`, `learning`, ...) is kept in ``extraKeys`` and sent back as read.
public struct NMVXLANSetting: Hashable, Sendable, Codable {
    /// `vxlan.id`: the VXLAN Network Identifier (VNI), 0...16777215.
    public var id: UInt32
    /// `vxlan.remote`: the unicast destination IP address (IPv4 or IPv6), or the multicast
    /// group to join; `nil` leaves it unset.
    public var remote: String?
    /// `vxlan.local`: the source IP address (same family as ``remote``); `nil`: chosen by the kernel.
    public var local: String?
    /// `vxlan.destination-port`: the UDP port; `nil` is NetworkManager's default, 8472 (the
    /// Linux default; IANA's port is 4789). `GetSettings` leaves the key out at its default.
    public var destinationPort: UInt16?
    /// `vxlan.parent`: the interface name or profile UUID of the device the tunnel runs over;
    /// `nil` lets the kernel route to ``remote``.
    public var parent: String?
    /// Keys this library does not model (`source-port-min`, `source-port-max`, `tos`, `ttl`,
    /// `ageing`, `limit`, `learning`, `proxy`, `rsc`, `l2-miss`, `l3-miss`), sent back exactly as read.
    public var extraKeys: [String: DBusValue]

    /// The largest VNI: VXLAN ids are 24 bits.
    public static let maximumID: UInt32 = 16_777_215

    /// NetworkManager's default `vxlan.destination-port` (the Linux kernel's): 8472.
    public static let defaultDestinationPort: UInt16 = 8472

    public init(id: UInt32, remote: String? = nil, local: String? = nil, destinationPort: UInt16? = nil,
                parent: String? = nil, extraKeys: [String: DBusValue] = [:]) {
        self.id = id
        self.remote = remote
        self.local = local
        self.destinationPort = destinationPort
        self.parent = parent
        self.extraKeys = extraKeys
    }
}
