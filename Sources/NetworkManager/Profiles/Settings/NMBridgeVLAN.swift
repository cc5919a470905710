/// One VLAN range of `bridge.vlans` / `bridge-port.vlans` (`aa{sv}`: `vid-start` q,
/// `vid-end` q, `pvid` b, `untagged` b), as nmcli writes `"10 pvid untagged"` or `"20-30"`.
public struct NMBridgeVLAN: Hashable, Sendable, CustomStringConvertible, Codable {
    /// The VLAN ids, 1...4094; a single id is `10...10`.
    public var ids: ClosedRange<UInt16>
    /// Whether this is the port's PVID (untagged ingress goes to it). Only for a single id.
    public var pvid: Bool
    /// Whether egress frames of these VLANs leave untagged.
    public var untagged: Bool

    public init(ids: ClosedRange<UInt16>, pvid: Bool = false, untagged: Bool = false) {
        self.ids = ids
        self.pvid = pvid
        self.untagged = untagged
    }

    /// A single VLAN id.
    public init(id: UInt16, pvid: Bool = false, untagged: Bool = false) {
        self.init(ids: id...id, pvid: pvid, untagged: untagged)
    }

    public var description: String {
        var text = ids.count == 1 ? "\(ids.lowerBound)" : "\(ids.lowerBound)-\(ids.upperBound)"
        if pvid { text += " pvid" }
        if untagged { text += " untagged" }
        return text
    }
}
