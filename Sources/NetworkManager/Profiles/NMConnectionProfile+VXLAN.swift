#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

extension NMConnectionProfile {
    /// A VXLAN profile (NetworkManager 1.2), like
    /// `nmcli connection add type vxlan ifname vx0 vxlan.id 42 vxlan.remote 192.0.2.2 vxlan.destination-port 4789`.
    ///
    /// - Parameters:
    ///   - id: `vxlan.id`, the VNI, 0...16777215.
    ///   - remote: `vxlan.remote`: the peer's (or multicast group's) IPv4 or IPv6 address.
    ///   - local: `vxlan.local`: the source address, of the same family as `remote`.
    ///   - destinationPort: `vxlan.destination-port`; `nil` is NetworkManager's default, 8472.
    ///   - parent: `vxlan.parent`: the interface name or profile UUID the tunnel runs over.
    /// - Throws: ``NMError`` (``NMError/Code/invalidProfile``) for a VNI over 16777215, an
    ///   address that is not one, `local` and `remote` of different families, or another rule of
    ///   ``validate()``.
    public static func vxlan(name: String, interface: NMInterfaceName, id: UInt32, remote: String? = nil,
                             local: String? = nil, destinationPort: UInt16? = nil, parent: String? = nil,
                             uuid: UUID = UUID(), autoconnect: Bool? = nil, ipv4: NMIPv4Setting = .disabled,
                             ipv6: NMIPv6Setting = .disabled) throws(NMError) -> NMConnectionProfile {
        let profile = NMConnectionProfile(
            connection: NMConnectionSetting(id: name, uuid: uuid, type: .vxlan, interfaceName: interface,
                                            autoconnect: autoconnect),
            ipv4: ipv4, ipv6: ipv6,
            vxlan: NMVXLANSetting(id: id, remote: remote, local: local, destinationPort: destinationPort, parent: parent))
        try profile.validate()
        return profile
    }

    /// The rules of a `vxlan` setting: the VNI is 24 bits, `remote` and `local` are IP addresses
    /// of one family, a destination port is not 0; with `semantic`, a `parent` is text
    /// NetworkManager can take.
    static func validate(_ vxlan: NMVXLANSetting, semantic: Bool) throws(NMError) {
        guard vxlan.id <= NMVXLANSetting.maximumID else {
            throw NMError(.invalidProfile, "vxlan.id \(vxlan.id) is outside 0...\(NMVXLANSetting.maximumID)",
                          hint: "VXLAN network identifiers (VNIs) are 24 bits")
        }
        func family(_ text: String?, _ key: String) throws(NMError) -> Int? {
            guard let text else { return nil }
            if (try? IPv4Address(text)) != nil { return 4 }
            if (try? IPv6Address(text)) != nil { return 6 }
            throw NMError(.invalidProfile, "\(key) \(NMText.quoted(text)) is not an IP address",
                          hint: "give an IPv4 or IPv6 address, without a prefix length")
        }
        let remote = try family(vxlan.remote, "vxlan.remote"), local = try family(vxlan.local, "vxlan.local")
        if let remote, let local, remote != local {
            throw NMError(.invalidProfile, "vxlan.local and vxlan.remote are of different address families",
                          hint: "use IPv4 for both or IPv6 for both")
        }
        if vxlan.destinationPort == 0 {
            throw NMError(.invalidProfile, "vxlan.destination-port is 0",
                          hint: "use a UDP port 1...65535 (4789 is IANA's), or leave it out for 8472")
        }
        if semantic, let parent = vxlan.parent { try validateText(parent, key: "vxlan.parent") }
    }
}
