extension NMConnectionProfile {
    /// Checks the rules a profile must meet before it is sent; the builders and
    /// ``NMSettingsCodec/encode(_:)`` call it.
    ///
    /// - A port (it has a controller) carries no enabled `ipv4`/`ipv6` setting (except a VRF
    ///   port): NetworkManager would drop them, and nmstate refuses them.
    /// - A controller needs a port type (or a `bridge-port` setting), and a port type a controller.
    /// - `manual` needs at least one address; `disabled`/`link-local`/`ignore` allow none.
    /// - No address appears twice in one setting.
    /// - A gateway lies in the subnet of one of the setting's addresses (an IPv6 gateway may
    ///   also be link-local), and is not combined with `never-default`.
    /// - VLAN ids are 0...4094 (`vlan.id`) and 1...4094 (bridge VLANs); a PVID is a single id.
    /// - Times NetworkManager keeps in seconds are whole seconds.
    ///
    /// Prefix lengths and interface names are checked earlier, when an ``IPAddressWithPrefix``
    /// or ``NMInterfaceName`` is built.
    /// - Throws: ``NMError`` naming the setting key, with a hint.
    public func validate() throws(NMError) {
        if connection.id.isEmpty {
            throw NMError(.invalidProfile, "connection.id is empty", hint: "give the profile a name")
        }
        try validatePort()
        if let ipv4 { try Self.validate(ipv4) }
        if let ipv6 { try Self.validate(ipv6) }
        if let vlan { try Self.validate(vlan, macAddress: ethernet?.macAddress) }
        if connection.type == .vlan && vlan == nil {
            throw NMError(.invalidProfile, "a VLAN profile has no vlan setting",
                          hint: "build VLAN profiles with NMConnectionProfile.vlan(name:parent:id:)")
        }
        if let bridge { try Self.validate(bridge) }
        if let bridgePort {
            try Self.validate(vlans: bridgePort.vlans, key: "bridge-port.vlans")
        }
    }

    private func validatePort() throws(NMError) {
        guard let controller = connection.controller else {
            if let portType = connection.portType {
                throw NMError(.invalidProfile, "connection.slave-type is '\(portType)' but there is no controller",
                              hint: "set connection.controller (connection.master) to the controller's interface name or UUID, or clear the port type")
            }
            return
        }
        if controller.isEmpty {
            throw NMError(.invalidProfile, "connection.master (controller) is empty",
                          hint: "name the controller by its interface name (br0) or its profile's UUID")
        }
        if connection.portType == nil && bridgePort == nil {
            throw NMError(.invalidProfile, "connection.master is '\(controller)' but the port type is not set",
                          hint: "set connection.portType (.bridge) or add a bridge-port setting; "
                              + "NetworkManager says \"Cannot set 'master' without 'slave-type'\"")
        }
        if connection.portType == .vrf { return }
        let carriesIPv4 = ipv4.map { !($0.method == .disabled && $0.addresses.isEmpty && $0.gateway == nil) } ?? false
        let carriesIPv6 = ipv6.map {
            !(($0.method == .disabled || $0.method == .ignore) && $0.addresses.isEmpty && $0.gateway == nil)
        } ?? false
        if carriesIPv4 || carriesIPv6 {
            let family = carriesIPv4 ? "ipv4" : "ipv6"
            throw NMError(.portWithIPSettings,
                          "'\(connection.id)' is a port of '\(controller)' but carries \(family) settings",
                          hint: "a bridge port cannot carry IP settings: move the addresses to the bridge "
                              + "and set ipv4 and ipv6 to nil on the port")
        }
    }

    static func validate(_ setting: NMIPv4Setting) throws(NMError) {
        try validateAddresses(setting.addresses, family: "ipv4", method: setting.method.rawValue,
                              manual: setting.method == .manual,
                              noAddressesAllowed: setting.method == .disabled || setting.method == .linkLocal)
        if let gateway = setting.gateway {
            try validateGateway(gateway, addresses: setting.addresses, family: "ipv4",
                                neverDefault: setting.neverDefault == true, exempt: false)
        }
        if let timeout = setting.dhcpTimeout {
            _ = try wholeSeconds(timeout, key: "ipv4.dhcp-timeout", range: 0...Int64(Int32.max))
        }
    }

    static func validate(_ setting: NMIPv6Setting) throws(NMError) {
        try validateAddresses(setting.addresses, family: "ipv6", method: setting.method.rawValue,
                              manual: setting.method == .manual,
                              noAddressesAllowed: [.disabled, .ignore, .linkLocal].contains(setting.method))
        if let gateway = setting.gateway {
            try validateGateway(gateway, addresses: setting.addresses, family: "ipv6",
                                neverDefault: setting.neverDefault == true, exempt: gateway.isLinkLocal)
        }
        if let timeout = setting.dhcpTimeout {
            _ = try wholeSeconds(timeout, key: "ipv6.dhcp-timeout", range: 0...Int64(Int32.max))
        }
    }

    private static func validateAddresses<A>(_ addresses: [IPAddressWithPrefix<A>], family: String, method: String,
                                             manual: Bool, noAddressesAllowed: Bool) throws(NMError) {
        if manual && addresses.isEmpty {
            throw NMError(.missingAddress, "\(family).method is 'manual' but \(family).addresses is empty",
                          hint: "give at least one address such as 192.168.1.200/24, or use DHCP (.dhcp)")
        }
        if noAddressesAllowed && !addresses.isEmpty {
            throw NMError(.invalidProfile, "\(family).method '\(method)' does not allow addresses (\(addresses[0]))",
                          hint: "use method 'manual' (or 'auto' plus static addresses), or remove the addresses")
        }
        var seen: Set<A> = []
        for entry in addresses where !seen.insert(entry.address).inserted {
            throw NMError(.duplicateAddress, "\(family).addresses lists \(entry.address) twice",
                          hint: "each address may appear once per profile; remove the duplicate")
        }
    }

    private static func validateGateway<A>(_ gateway: A, addresses: [IPAddressWithPrefix<A>], family: String,
                                           neverDefault: Bool, exempt: Bool) throws(NMError) {
        if neverDefault {
            throw NMError(.invalidProfile, "\(family).gateway \(gateway) is set together with \(family).never-default",
                          hint: "a gateway makes a default route, which never-default forbids; drop one of them")
        }
        if exempt || addresses.contains(where: { $0.contains(gateway) }) { return }
        let subnets = addresses.map { "\($0.network)/\($0.prefix)" }.joined(separator: ", ")
        throw NMError(.gatewayOutsideSubnet,
                      addresses.isEmpty
                        ? "\(family).gateway \(gateway) is set but the profile has no \(family) address"
                        : "\(family).gateway \(gateway) lies outside every address's subnet (\(subnets))",
                      hint: "the gateway must be reachable on the link: check the address's prefix length "
                          + "or the gateway, or add a route to it")
    }

    static func validate(_ vlan: NMVLANSetting, macAddress: MACAddress?) throws(NMError) {
        guard vlan.id <= 4094 else {
            throw NMError(.invalidVLANID, "vlan.id \(vlan.id) is outside 0...4094",
                          hint: "802.1Q VLAN ids are 12 bits and 4095 is reserved")
        }
        if (vlan.parent ?? "").isEmpty && macAddress == nil {
            throw NMError(.invalidProfile, "vlan.parent is empty",
                          hint: "name the parent interface (eno1) or its profile's UUID")
        }
    }

    static func validate(_ bridge: NMBridgeSetting) throws(NMError) {
        for (duration, key) in [(bridge.forwardDelay, "bridge.forward-delay"), (bridge.helloTime, "bridge.hello-time"),
                                (bridge.maxAge, "bridge.max-age"), (bridge.ageingTime, "bridge.ageing-time")] {
            if let duration { _ = try wholeSeconds(duration, key: key, range: 0...Int64(UInt32.max)) }
        }
        if let pvid = bridge.vlanDefaultPVID, pvid > 4094 {
            throw NMError(.invalidVLANID, "bridge.vlan-default-pvid \(pvid) is outside 0...4094",
                          hint: "use a VLAN id 1...4094, or 0 for none")
        }
        try validate(vlans: bridge.vlans, key: "bridge.vlans")
    }

    static func validate(vlans: [NMBridgeVLAN], key: String) throws(NMError) {
        for vlan in vlans {
            guard vlan.ids.lowerBound >= 1, vlan.ids.upperBound <= 4094 else {
                throw NMError(.invalidVLANID, "\(key) range \(vlan) is outside 1...4094",
                              hint: "bridge VLAN ids are 1...4094")
            }
            if vlan.pvid && vlan.ids.count > 1 {
                throw NMError(.invalidProfile, "\(key) range \(vlan) is marked pvid",
                              hint: "only a single VLAN id can be the PVID")
            }
        }
    }

    /// The whole number of seconds in `duration`, checked against `range`.
    static func wholeSeconds(_ duration: Duration, key: String, range: ClosedRange<Int64>) throws(NMError) -> Int64 {
        let (seconds, attoseconds) = duration.components
        guard attoseconds == 0 else {
            throw NMError(.invalidProfile, "\(key) is \(duration), not a whole number of seconds",
                          hint: "NetworkManager keeps \(key) in whole seconds")
        }
        guard range.contains(seconds) else {
            throw NMError(.invalidProfile, "\(key) is \(seconds) s, outside \(range.lowerBound)...\(range.upperBound) s",
                          hint: "choose a value NetworkManager accepts for \(key)")
        }
        return seconds
    }
}
