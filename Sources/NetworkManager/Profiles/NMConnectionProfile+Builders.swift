#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

extension NMConnectionProfile {
    /// A wired Ethernet profile, like
    /// `nmcli connection add type 802-3-ethernet con-name NAME ifname IFACE ipv4.method manual ...`.
    ///
    /// ```swift
    /// let eno1 = try NMConnectionProfile.ethernet(
    ///     name: "eno1", interface: "eno1",
    ///     ipv4: .static(addresses: ["192.168.1.200/24"], gateway: "192.168.1.1", dns: ["114.114.114.114"]))
    /// ```
    /// - Parameters:
    ///   - macAddress: `802-3-ethernet.mac-address`: bind the profile to the NIC with this MAC.
    ///   - mtu: `802-3-ethernet.mtu`.
    ///   - ipv4: default DHCP. - ipv6: default `auto` (as nmcli).
    /// - Throws: ``NMError`` when the profile breaks a rule of ``validate()``.
    public static func ethernet(name: String, interface: NMInterfaceName?, uuid: UUID = UUID(), autoconnect: Bool? = nil,
                                macAddress: MACAddress? = nil, mtu: UInt32? = nil,
                                ipv4: NMIPv4Setting = .dhcp, ipv6: NMIPv6Setting = .auto) throws(NMError) -> NMConnectionProfile {
        let profile = NMConnectionProfile(
            connection: NMConnectionSetting(id: name, uuid: uuid, type: .ethernet, interfaceName: interface,
                                            autoconnect: autoconnect),
            ethernet: NMEthernetSetting(macAddress: macAddress, mtu: mtu),
            ipv4: ipv4, ipv6: ipv6)
        try profile.validate()
        return profile
    }

    /// A Linux bridge profile, like `nmcli connection add type bridge con-name br0 ifname br0 ...`.
    ///
    /// - Parameters:
    ///   - stp: `bridge.stp`. NetworkManager's default is on (30 s before a port forwards);
    ///     `nil` keeps that default. Overrides `options.stp`.
    ///   - options: the other `bridge` keys.
    ///   - autoconnectPorts: `connection.autoconnect-slaves`; default `true`, so activating the
    ///     bridge brings its ports up.
    ///   - macAddress: `802-3-ethernet.assigned-mac-address` of the bridge; give it the port
    ///     NIC's MAC to keep DHCP leases and switch port security.
    /// - Throws: ``NMError`` when the profile breaks a rule of ``validate()``.
    public static func bridge(name: String, interface: NMInterfaceName, uuid: UUID = UUID(), autoconnect: Bool? = nil,
                              stp: Bool? = nil, options: NMBridgeSetting = NMBridgeSetting(),
                              autoconnectPorts: Bool? = true, macAddress: MACAddress? = nil,
                              ipv4: NMIPv4Setting = .dhcp, ipv6: NMIPv6Setting = .auto) throws(NMError) -> NMConnectionProfile {
        var bridge = options
        if let stp { bridge.stp = stp }
        let profile = NMConnectionProfile(
            connection: NMConnectionSetting(id: name, uuid: uuid, type: .bridge, interfaceName: interface,
                                            autoconnect: autoconnect, autoconnectPorts: autoconnectPorts),
            ethernet: macAddress.map { NMEthernetSetting(assignedMACAddress: .address($0)) },
            bridge: bridge, ipv4: ipv4, ipv6: ipv6)
        try profile.validate()
        return profile
    }

    /// A profile attaching an Ethernet interface to a bridge, like
    /// `nmcli connection add type bridge-slave ifname eno1 master br0`. It has no IP settings:
    /// the bridge carries them.
    ///
    /// - Parameters:
    ///   - controller: the bridge's interface name or its profile's UUID (`connection.master`).
    ///   - port: the `bridge-port` options (STP priority, path cost, VLANs).
    /// - Throws: ``NMError`` when the profile breaks a rule of ``validate()``.
    public static func bridgePort(name: String, interface: NMInterfaceName, controller: String, uuid: UUID = UUID(),
                                  autoconnect: Bool? = nil,
                                  port: NMBridgePortSetting = NMBridgePortSetting()) throws(NMError) -> NMConnectionProfile {
        let profile = NMConnectionProfile(
            connection: NMConnectionSetting(id: name, uuid: uuid, type: .ethernet, interfaceName: interface,
                                            autoconnect: autoconnect, controller: controller, portType: .bridge),
            ethernet: NMEthernetSetting(), bridgePort: port)
        try profile.validate()
        return profile
    }

    /// A profile attaching an Ethernet interface to a bond, like
    /// `nmcli connection add type ethernet port-type bond controller bond0 ifname eno1`
    /// (`type bond-slave ... master bond0` in older nmcli). It has no IP settings: the bond
    /// carries them. NetworkManager adds an empty `bond-port` setting when it stores it (1.34
    /// and later); per-port bond options (`bond-port.queue-id`, `prio`) are kept in
    /// ``unknownSettings`` if set there.
    ///
    /// - Parameters:
    ///   - controller: the bond's interface name or its profile's UUID (`connection.master`).
    /// - Throws: ``NMError`` when the profile breaks a rule of ``validate()``.
    public static func bondPort(name: String, interface: NMInterfaceName, controller: String, uuid: UUID = UUID(),
                                autoconnect: Bool? = nil) throws(NMError) -> NMConnectionProfile {
        try port(name: name, interface: interface, controller: controller, type: .bond, uuid: uuid, autoconnect: autoconnect)
    }

    /// A profile putting an Ethernet interface into a VRF (a Linux VRF device, `vrf.table`),
    /// like `nmcli connection add type ethernet port-type vrf controller vrf0 ifname eno1 ...`.
    /// Unlike the other ports, a VRF port keeps its own IP settings: the VRF only chooses the
    /// routing table they go into (NetworkManager's `_supports_addr_family`).
    ///
    /// - Parameters:
    ///   - controller: the VRF's interface name or its profile's UUID (`connection.master`).
    ///   - ipv4: default DHCP. - ipv6: default `auto` (as nmcli).
    /// - Throws: ``NMError`` when the profile breaks a rule of ``validate()``.
    public static func vrfPort(name: String, interface: NMInterfaceName, controller: String, uuid: UUID = UUID(),
                               autoconnect: Bool? = nil, ipv4: NMIPv4Setting = .dhcp,
                               ipv6: NMIPv6Setting = .auto) throws(NMError) -> NMConnectionProfile {
        let profile = NMConnectionProfile(
            connection: NMConnectionSetting(id: name, uuid: uuid, type: .ethernet, interfaceName: interface,
                                            autoconnect: autoconnect, controller: controller, portType: .vrf),
            ethernet: NMEthernetSetting(), ipv4: ipv4, ipv6: ipv6)
        try profile.validate()
        return profile
    }

    /// A profile attaching an Ethernet interface to a controller of `type` that has no IP
    /// settings of its own: ``bridgePort(name:interface:controller:uuid:autoconnect:port:)``
    /// (with an empty `bridge-port` setting) and
    /// ``bondPort(name:interface:controller:uuid:autoconnect:)`` are this for
    /// ``NMPortType/bridge`` and ``NMPortType/bond``.
    ///
    /// For a team port (``NMPortType/team``; teams need `teamd`, and NetworkManager
    /// recommends bonds instead) this builds the `connection` part and NetworkManager adds the
    /// `team-port` setting when it stores it. A VRF port built here has no IP settings; to
    /// give it its own, use ``vrfPort(name:interface:controller:uuid:autoconnect:ipv4:ipv6:)``.
    /// - Throws: ``NMError/Code/invalidProfile`` for an Open vSwitch port type (an Ethernet
    ///   interface joins an OVS bridge through `ovs-port` and `ovs-interface` profiles, which
    ///   this library does not build), or when the profile breaks a rule of ``validate()``.
    public static func port(name: String, interface: NMInterfaceName, controller: String, type: NMPortType,
                            uuid: UUID = UUID(), autoconnect: Bool? = nil) throws(NMError) -> NMConnectionProfile {
        if type == .ovsPort || type == .ovsBridge {
            throw NMError(.invalidProfile, "'\(name)': an Ethernet interface cannot be a port of type \(type) by itself",
                          hint: "Open vSwitch needs an ovs-bridge, an ovs-port and an ovs-interface profile; build them with nmcli or nmstate")
        }
        let profile = NMConnectionProfile(
            connection: NMConnectionSetting(id: name, uuid: uuid, type: .ethernet, interfaceName: interface,
                                            autoconnect: autoconnect, controller: controller, portType: type),
            ethernet: NMEthernetSetting(), bridgePort: type == .bridge ? NMBridgePortSetting() : nil)
        try profile.validate()
        return profile
    }

    /// An 802.1Q VLAN profile, like `nmcli connection add type vlan dev eno1 id 100`.
    ///
    /// - Parameters:
    ///   - parent: `vlan.parent`: the parent's interface name or profile UUID.
    ///   - id: `vlan.id`, 0...4094.
    ///   - interface: default `PARENT.ID` when the parent is an interface name (such as `eno1.100`).
    /// - Throws: ``NMError`` with ``NMError/Code/invalidVLANID`` for an id over 4094, or another
    ///   rule of ``validate()``.
    public static func vlan(name: String, parent: String, id: UInt16, interface: NMInterfaceName? = nil,
                            uuid: UUID = UUID(), autoconnect: Bool? = nil, flags: NMVLANFlags? = nil,
                            ipv4: NMIPv4Setting = .dhcp, ipv6: NMIPv6Setting = .auto) throws(NMError) -> NMConnectionProfile {
        var ifname = interface
        if ifname == nil, UUID(uuidString: parent) == nil {
            ifname = try NMInterfaceName("\(parent).\(id)")
        }
        let profile = NMConnectionProfile(
            connection: NMConnectionSetting(id: name, uuid: uuid, type: .vlan, interfaceName: ifname,
                                            autoconnect: autoconnect),
            ipv4: ipv4, ipv6: ipv6, vlan: NMVLANSetting(parent: parent, id: id, flags: flags))
        try profile.validate()
        return profile
    }

    /// A bond profile, like `nmcli connection add type bond ifname bond0 bond.options mode=active-backup`.
    ///
    /// - Parameters:
    ///   - mode: the `mode` entry of `bond.options`.
    ///   - options: other `bond.options` entries (`miimon`, `primary`, ...).
    /// - Throws: ``NMError`` when the profile breaks a rule of ``validate()``.
    public static func bond(name: String, interface: NMInterfaceName, mode: NMBondMode, options: [String: String] = [:],
                            uuid: UUID = UUID(), autoconnect: Bool? = nil, autoconnectPorts: Bool? = true,
                            ipv4: NMIPv4Setting = .dhcp, ipv6: NMIPv6Setting = .auto) throws(NMError) -> NMConnectionProfile {
        let profile = NMConnectionProfile(
            connection: NMConnectionSetting(id: name, uuid: uuid, type: .bond, interfaceName: interface,
                                            autoconnect: autoconnect, autoconnectPorts: autoconnectPorts),
            ipv4: ipv4, ipv6: ipv6, bond: NMBondSetting(mode: mode, options: options))
        try profile.validate()
        return profile
    }

    /// A dummy interface profile (NetworkManager 1.8), like `nmcli connection add type dummy ifname dummy0`.
    /// - Throws: ``NMError`` when the profile breaks a rule of ``validate()``.
    public static func dummy(name: String, interface: NMInterfaceName, uuid: UUID = UUID(), autoconnect: Bool? = nil,
                             ipv4: NMIPv4Setting = .dhcp, ipv6: NMIPv6Setting = .auto) throws(NMError) -> NMConnectionProfile {
        let profile = NMConnectionProfile(
            connection: NMConnectionSetting(id: name, uuid: uuid, type: .dummy, interfaceName: interface,
                                            autoconnect: autoconnect),
            ipv4: ipv4, ipv6: ipv6, dummy: NMDummySetting())
        try profile.validate()
        return profile
    }

    /// This profile turned into a port of `controller`, keeping its UUID and everything else:
    /// what nmstate and Cockpit do to the NIC's existing profile when bridging it (`Update2`
    /// with `master`, `slave-type`, an empty `bridge-port`, and no `ipv4`/`ipv6`).
    ///
    /// - Parameters:
    ///   - controller: the bridge's (or bond's) interface name or profile UUID.
    ///   - type: the controller's kind; `.bridge` adds an empty `bridge-port` setting.
    public func attached(to controller: String, as type: NMPortType = .bridge) throws(NMError) -> NMConnectionProfile {
        var profile = self
        profile.connection.controller = controller
        profile.connection.portType = type
        profile.ipv4 = nil
        profile.ipv6 = nil
        if type == .bridge, profile.bridgePort == nil { profile.bridgePort = NMBridgePortSetting() }
        try profile.validate()
        return profile
    }
}
