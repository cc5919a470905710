extension NMSettingsCodec {
    /// The NetworkManager version that introduced `setting` (for whole settings) or
    /// `setting.key`; `nil` when it is older than 1.0 or not in the table. Keys not in the table
    /// are assumed to exist (settings the model does not type are sent back to the daemon they
    /// were read from).
    ///
    /// Sources: `NM_AVAILABLE_IN_*` in libnm's headers (`nm-setting-*.h`) and NetworkManager's NEWS.
    public static func since(setting: String, key: String? = nil) -> NMVersion? {
        if let key { return keySince[setting + "." + key] }
        return settingSince[setting]
    }

    /// Whether NetworkManager ``version`` knows `setting` / `setting.key`.
    public func supports(setting: String, key: String? = nil) -> Bool {
        guard let since = Self.since(setting: setting, key: key) else { return true }
        return version >= since
    }

    /// When whole settings appeared (`NM_AVAILABLE_IN_*` on their `get_type`).
    static let settingSince: [String: NMVersion] = [
        "dummy": NMVersion(1, 8),
        "macvlan": NMVersion(1, 2), "vxlan": NMVersion(1, 2), "ip-tunnel": NMVersion(1, 2), "tun": NMVersion(1, 2),
        "macsec": NMVersion(1, 6), "proxy": NMVersion(1, 6), "user": NMVersion(1, 8),
        "ovs-bridge": NMVersion(1, 10), "ovs-port": NMVersion(1, 10), "ovs-interface": NMVersion(1, 10),
        "ovs-patch": NMVersion(1, 10), "tc": NMVersion(1, 12),
        "ethtool": NMVersion(1, 14), "match": NMVersion(1, 14), "sriov": NMVersion(1, 14),
        "6lowpan": NMVersion(1, 14), "wpan": NMVersion(1, 14),
        "wireguard": NMVersion(1, 16), "wifi-p2p": NMVersion(1, 16), "ovs-dpdk": NMVersion(1, 20),
        "vrf": NMVersion(1, 24), "veth": NMVersion(1, 30), "hostname": NMVersion(1, 30),
        "ovs-external-ids": NMVersion(1, 30), "bond-port": NMVersion(1, 34),
        "loopback": NMVersion(1, 42), "ovs-other-config": NMVersion(1, 42),
        "link": NMVersion(1, 44), "hsr": NMVersion(1, 46),
    ]

    /// When individual keys appeared. Typed keys first, then keys the model keeps verbatim
    /// (so that a profile read from a newer daemon is refused by an older one, not rejected by it).
    static let keySince: [String: NMVersion] = [
        // connection
        "connection.autoconnect-slaves": NMVersion(1, 2),
        "connection.controller": NMVersion(1, 46),
        "connection.port-type": NMVersion(1, 46),
        "connection.autoconnect-ports": NMVersion(1, 46),
        "connection.stable-id": NMVersion(1, 4),
        "connection.metered": NMVersion(1, 2),
        "connection.lldp": NMVersion(1, 2),
        "connection.autoconnect-retries": NMVersion(1, 6),
        "connection.auth-retries": NMVersion(1, 10),
        "connection.mdns": NMVersion(1, 12),
        "connection.llmnr": NMVersion(1, 14),
        "connection.multi-connect": NMVersion(1, 14),
        "connection.wait-device-timeout": NMVersion(1, 20),
        "connection.mud-url": NMVersion(1, 26),
        "connection.dns-over-tls": NMVersion(1, 34),
        "connection.wait-activation-delay": NMVersion(1, 40),
        "connection.mptcp-flags": NMVersion(1, 42),
        // 802-3-ethernet
        "802-3-ethernet.assigned-mac-address": NMVersion(1, 4),
        "802-3-ethernet.generate-mac-address-mask": NMVersion(1, 4),
        "802-3-ethernet.accept-all-mac-addresses": NMVersion(1, 32),
        // bridge
        "bridge.multicast-snooping": NMVersion(1, 2),
        "bridge.group-forward-mask": NMVersion(1, 10),
        "bridge.vlan-filtering": NMVersion(1, 18),
        "bridge.vlan-default-pvid": NMVersion(1, 18),
        "bridge.vlans": NMVersion(1, 18),
        "bridge.group-address": NMVersion(1, 24),
        "bridge.vlan-protocol": NMVersion(1, 24),
        "bridge.vlan-stats-enabled": NMVersion(1, 24),
        "bridge.multicast-router": NMVersion(1, 24),
        "bridge.multicast-query-use-ifaddr": NMVersion(1, 24),
        "bridge.multicast-querier": NMVersion(1, 24),
        "bridge-port.vlans": NMVersion(1, 18),
        // ipv4 / ipv6. dns-data first appeared in the 1.41.4 development snapshot; the table uses
        // the first release, 1.42, so a 1.41.x snapshot gets the legacy dns, which it still reads.
        "ipv4.dns-data": NMVersion(1, 42),
        "ipv6.dns-data": NMVersion(1, 42),
        "ipv4.dhcp-timeout": NMVersion(1, 2),
        "ipv6.dhcp-timeout": NMVersion(1, 2),
        "ipv4.dad-timeout": NMVersion(1, 2),
        "ipv4.dhcp-fqdn": NMVersion(1, 2),
        "ipv4.dns-priority": NMVersion(1, 4),
        "ipv6.dns-priority": NMVersion(1, 4),
        "ipv4.route-table": NMVersion(1, 10),
        "ipv6.route-table": NMVersion(1, 10),
        "ipv6.dhcp-duid": NMVersion(1, 12),
        "ipv4.routing-rules": NMVersion(1, 18),
        "ipv6.routing-rules": NMVersion(1, 18),
        "ipv4.dhcp-hostname-flags": NMVersion(1, 22),
        "ipv6.dhcp-hostname-flags": NMVersion(1, 22),
        "ipv6.ra-timeout": NMVersion(1, 24),
        "ipv4.dhcp-vendor-class-identifier": NMVersion(1, 28),
        "ipv4.dhcp-reject-servers": NMVersion(1, 28),
        "ipv4.required-timeout": NMVersion(1, 34),
        "ipv6.required-timeout": NMVersion(1, 34),
        "ipv6.mtu": NMVersion(1, 40),
        "ipv4.dhcp-iaid": NMVersion(1, 42),
        "ipv6.dhcp-iaid": NMVersion(1, 42),
        "ipv4.link-local": NMVersion(1, 42),
        "ipv4.auto-route-ext-gw": NMVersion(1, 42),
        "ipv6.auto-route-ext-gw": NMVersion(1, 42),
        "ipv4.replace-local-rule": NMVersion(1, 42, 2),
        "ipv6.replace-local-rule": NMVersion(1, 42, 2),
        "ipv6.addr-gen-mode": NMVersion(1, 2),
        "ipv6.token": NMVersion(1, 4),
        // vlan
        "vlan.protocol": NMVersion(1, 42),
    ]

    /// Method values that appeared after their key: `ipv6.method disabled` (1.20).
    static let valueSince: [String: NMVersion] = [
        "ipv6.method=disabled": NMVersion(1, 20),
    ]

    /// Keys the decoder reads and the encoder never writes, because the daemon derives them
    /// from keys that are written, or because their newer replacement is written instead:
    /// legacy `addresses` / `routes` (from `address-data` / `route-data`), `cloned-mac-address`
    /// (from `assigned-mac-address`), the deprecated `interface-name` of bridge, bond and vlan
    /// (from `connection.interface-name`), and 1.46's `controller` / `port-type` /
    /// `autoconnect-ports` (written under their legacy names). The DNS keys depend on the
    /// version: `dns` is written below 1.42, `dns-data` from 1.42.
    public static let keysReadButNotWritten: Set<String> = [
        "ipv4.addresses", "ipv4.routes", "ipv6.addresses", "ipv6.routes",
        "802-3-ethernet.cloned-mac-address",
        "bridge.interface-name", "bond.interface-name", "vlan.interface-name",
        "connection.controller", "connection.port-type", "connection.autoconnect-ports",
    ]
}
