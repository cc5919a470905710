import DBus

extension NMConnectionProfile {
    /// Checks the rules a profile must meet before it is sent; the builders call it, and so do
    /// `NMClient.plan` and `NMClient.apply` for every profile a transaction adds or modifies,
    /// at `validate`, before anything is touched.
    ///
    /// - A port (it has a controller) carries no enabled `ipv4`/`ipv6` setting (except a VRF
    ///   port): NetworkManager would drop them, and nmstate refuses them.
    /// - A controller needs a port type (or a `bridge-port` setting), and a port type a controller.
    /// - `manual` needs at least one address; `disabled`/`link-local`/`ignore` allow none.
    /// - No address appears twice in one setting, and each can be a host's
    ///   (``validateHostAddress(_:key:)``: not multicast, loopback, unspecified, broadcast or
    ///   reserved, not its subnet's network or broadcast address, not /0).
    /// - A gateway can be a neighbour's address, is none of the profile's own addresses, lies
    ///   in the subnet of one of them (an IPv6 gateway may also be link-local), and is not
    ///   combined with `never-default`.
    /// - DNS servers can be servers (``validateDNSServer(_:key:)``), search domains are domain
    ///   names (``validateSearchDomain(_:key:)``).
    /// - Free text (the profile's name, its controller, a VLAN parent, DHCP host names and
    ///   DUIDs, address labels, bond options) has no control character
    ///   (``validateText(_:key:)``).
    /// - VLAN ids are 0...4094 (`vlan.id`) and 1...4094 (bridge VLANs); a PVID is a single id.
    /// - Times NetworkManager keeps in seconds are whole seconds.
    ///
    /// Prefix lengths and interface names are checked earlier, when an ``IPAddressWithPrefix``
    /// or ``NMInterfaceName`` is built.
    ///
    /// NetworkManager itself accepts most of these (docs/networkmanager-quirks.md): a profile
    /// with a multicast address or a gateway equal to its own address is stored and activates,
    /// and the host reaches nothing.
    ///
    /// ``NMSettingsCodec/encode(_:)`` checks only the rules without which the wire form would
    /// be wrong (``validateStructure()``), not whether the values make sense: it also writes
    /// back profiles read from NetworkManager (a superseded profile, a restore during a
    /// rollback), which must never be refused for what some other tool put in them.
    /// - Throws: ``NMError`` naming the setting key and the offending value, with a hint.
    public func validate() throws(NMError) {
        try validate(semantic: true)
    }

    /// The structural rules of ``validate()`` only: a port without IP settings, a controller
    /// with a port type, addresses that fit the method, no duplicate address, a gateway in a
    /// subnet and without never-default, VLAN ids, whole seconds. What
    /// ``NMSettingsCodec/encode(_:)`` checks.
    public func validateStructure() throws(NMError) {
        try validate(semantic: false)
    }

    func validate(semantic: Bool) throws(NMError) {
        if connection.id.isEmpty {
            throw NMError(.invalidProfile, "connection.id is empty", hint: "give the profile a name")
        }
        if semantic {
            try Self.validateText(connection.id, key: "connection.id")
            if let controller = connection.controller { try Self.validateText(controller, key: "connection.master") }
            if let parent = vlan?.parent { try Self.validateText(parent, key: "vlan.parent") }
            for (key, value) in bond?.options ?? [:] {
                try Self.validateText(key, key: "bond.options")
                try Self.validateText(value, key: "bond.options[\(key)]")
            }
        }
        try validatePort()
        if let ipv4 { try Self.validate(ipv4, semantic: semantic) }
        if let ipv6 { try Self.validate(ipv6, semantic: semantic) }
        if let vlan { try Self.validate(vlan, macAddress: ethernet?.macAddress) }
        if connection.type == .vlan && vlan == nil {
            throw NMError(.invalidProfile, "a VLAN profile has no vlan setting",
                          hint: "build VLAN profiles with NMConnectionProfile.vlan(name:parent:id:)")
        }
        if let vxlan { try Self.validate(vxlan, semantic: semantic) }
        if connection.type == .vxlan && vxlan == nil {
            throw NMError(.invalidProfile, "a VXLAN profile has no vxlan setting",
                          hint: "build VXLAN profiles with NMConnectionProfile.vxlan(name:interface:id:...)")
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
                          hint: "a \(connection.portType.map { "\($0)" } ?? "bridge") port cannot carry IP settings: move the addresses to "
                              + "the controller and set ipv4 and ipv6 to nil on the port")
        }
    }

    static func validate(_ setting: NMIPv4Setting, semantic: Bool) throws(NMError) {
        try validateAddresses(setting.addresses, family: "ipv4", method: setting.method.rawValue,
                              manual: setting.method == .manual,
                              noAddressesAllowed: setting.method == .disabled || setting.method == .linkLocal,
                              semantic: semantic)
        if let gateway = setting.gateway {
            try validateGateway(gateway, addresses: setting.addresses, family: "ipv4",
                                neverDefault: setting.neverDefault == true, exempt: false, semantic: semantic)
        }
        if semantic {
            try validateLabels(setting.addressAttributes, family: "ipv4")
            for server in setting.dns { try validateDNSServer(server, key: "ipv4.dns") }
            for domain in setting.dnsSearch { try validateSearchDomain(domain, key: "ipv4.dns-search") }
            if let hostname = setting.dhcpHostname { try validateText(hostname, key: "ipv4.dhcp-hostname") }
        }
        if let timeout = setting.dhcpTimeout {
            _ = try wholeSeconds(timeout, key: "ipv4.dhcp-timeout", range: 0...Int64(Int32.max))
        }
        if let timeout = setting.dadTimeout {
            _ = try wholeMilliseconds(timeout, key: "ipv4.dad-timeout", range: 0...30000)
        }
    }

    static func validate(_ setting: NMIPv6Setting, semantic: Bool) throws(NMError) {
        try validateAddresses(setting.addresses, family: "ipv6", method: setting.method.rawValue,
                              manual: setting.method == .manual,
                              noAddressesAllowed: [.disabled, .ignore, .linkLocal].contains(setting.method),
                              semantic: semantic)
        if let gateway = setting.gateway {
            try validateGateway(gateway, addresses: setting.addresses, family: "ipv6",
                                neverDefault: setting.neverDefault == true, exempt: gateway.isLinkLocal, semantic: semantic)
        }
        if semantic {
            try validateLabels(setting.addressAttributes, family: "ipv6")
            for server in setting.dns { try validateDNSServer(server, key: "ipv6.dns") }
            for domain in setting.dnsSearch { try validateSearchDomain(domain, key: "ipv6.dns-search") }
            if let hostname = setting.dhcpHostname { try validateText(hostname, key: "ipv6.dhcp-hostname") }
            if let duid = setting.dhcpDUID { try validateText(duid, key: "ipv6.dhcp-duid") }
        }
        if let timeout = setting.dhcpTimeout {
            _ = try wholeSeconds(timeout, key: "ipv6.dhcp-timeout", range: 0...Int64(Int32.max))
        }
    }

    private static func validateLabels<A>(_ attributes: [IPAddressWithPrefix<A>: [String: DBusValue]],
                                          family: String) throws(NMError) {
        for (entry, keys) in attributes {
            for (name, value) in keys {
                if case .string(let text) = value.unwrapped {
                    try validateText(text, key: "\(family).address-data[\(entry)].\(name)")
                }
            }
        }
    }

    private static func validateAddresses<A>(_ addresses: [IPAddressWithPrefix<A>], family: String, method: String,
                                             manual: Bool, noAddressesAllowed: Bool, semantic: Bool) throws(NMError) {
        if manual && addresses.isEmpty {
            throw NMError(.missingAddress, "\(family).method is 'manual' but \(family).addresses is empty",
                          hint: "give at least one address such as 192.168.1.200/24, or use DHCP (.dhcp)")
        }
        if noAddressesAllowed && !addresses.isEmpty {
            throw NMError(.invalidProfile, "\(family).method '\(method)' does not allow addresses (\(addresses[0]))",
                          hint: "use method 'manual' (or 'auto' plus static addresses), or remove the addresses")
        }
        var seen: Set<A> = []
        for entry in addresses {
            if semantic { try validateHostAddress(entry, key: "\(family).addresses") }
            if !seen.insert(entry.address).inserted {
                throw NMError(.duplicateAddress, "\(family).addresses lists \(entry.address) twice",
                              hint: "each address may appear once per profile; remove the duplicate")
            }
        }
    }

    private static func validateGateway<A>(_ gateway: A, addresses: [IPAddressWithPrefix<A>], family: String,
                                           neverDefault: Bool, exempt: Bool, semantic: Bool) throws(NMError) {
        if neverDefault {
            throw NMError(.invalidProfile, "\(family).gateway \(gateway) is set together with \(family).never-default",
                          hint: "a gateway makes a default route, which never-default forbids; drop one of them")
        }
        if semantic { try validateGatewayAddress(gateway, key: "\(family).gateway") }
        if semantic, addresses.contains(where: { $0.address == gateway }) {
            throw NMError(.gatewayIsOwnAddress, "\(family).gateway \(gateway) is one of the profile's own addresses",
                          hint: "the gateway is the router's address on this link (often .1 or .254 of the subnet), "
                              + "not this host's")
        }
        let subnets = addresses.map { "\($0.network)/\($0.prefix)" }.joined(separator: ", ")
        if semantic, let edge = addresses.first(where: { $0.contains(gateway) && $0.prefix <= 30 && A.bitWidth == 32
                                                   && (gateway == $0.network || gateway == $0.broadcast) }) {
            let which = gateway == edge.network ? "network" : "broadcast"
            throw NMError(.invalidGateway, "\(family).gateway \(gateway) is the \(which) address of \(edge.network)/\(edge.prefix)",
                          hint: "no router can have that address; give the router's address in the subnet")
        }
        if exempt || addresses.contains(where: { $0.contains(gateway) }) { return }
        throw NMError(.gatewayOutsideSubnet,
                      addresses.isEmpty
                        ? "\(family).gateway \(gateway) is set but the profile has no \(family) address"
                        : "\(family).gateway \(gateway) lies outside every address's subnet (\(subnets))",
                      hint: "the gateway must be reachable on the link: check the address's prefix length "
                          + "or the gateway, or add a route to it")
    }

    // MARK: - Single values

    /// Checks that `entry` can be a host's own address on a link.
    ///
    /// Refused: a `/0` prefix (every address would be on-link); a special-purpose address
    /// (``IPSpecialPurpose``: multicast, loopback, unspecified, `0.0.0.0/8`, broadcast,
    /// `240.0.0.0/4`); for IPv4 with a prefix up to /30, the network and broadcast addresses of
    /// the subnet (``IPAddressWithPrefix/isNetworkOrBroadcastAddress``). /31 and /32 are fine.
    /// - Parameter key: how the value is named in the message (`ipv4.addresses`, `--ipv4`).
    /// - Throws: ``NMError`` with ``NMError/Code/invalidPrefix``,
    ///   ``NMError/Code/invalidHostAddress`` or ``NMError/Code/networkOrBroadcastAddress``.
    public static func validateHostAddress<A>(_ entry: IPAddressWithPrefix<A>, key: String) throws(NMError) {
        if entry.prefix == 0 {
            throw NMError(.invalidPrefix, "\(key) \(entry) has the prefix /0, which makes every \(A.familyName) address on-link",
                          hint: "give the subnet's real prefix length, such as /24 for 255.255.255.0"
                              + (A.bitWidth == 128 ? " (/64 for most IPv6 links)" : ""))
        }
        if let purpose = entry.address.specialPurpose {
            throw NMError(.invalidHostAddress, "\(key) \(entry): \(entry.address) is \(purpose), not a host's address",
                          hint: "give this host's own unicast address on the link, such as "
                              + (A.bitWidth == 32 ? "192.168.1.200/24" : "2001:db8:1::200/64"))
        }
        if entry.isNetworkOrBroadcastAddress {
            let which = entry.address == entry.network ? "network" : "broadcast"
            throw NMError(.networkOrBroadcastAddress,
                          "\(key) \(entry) is the \(which) address of \(entry.network)/\(entry.prefix), not a host's address",
                          hint: "hosts of \(entry.network)/\(entry.prefix) are \(lastByte(of: entry.network, plus: 1)) to "
                              + "\(lastByte(of: entry.broadcast, plus: -1)); check the address and the prefix length")
        }
    }

    /// `address` with `delta` added to its last byte: the first and last host of a subnet of
    /// /30 or shorter, whose network and broadcast addresses end in ...00 and ...11.
    private static func lastByte<A: IPAddressProtocol>(of address: A, plus delta: Int) -> A {
        var bytes = address.bytes
        bytes[bytes.count - 1] = UInt8(clamping: Int(bytes[bytes.count - 1]) + delta)
        return (try? A(bytes: bytes)) ?? address
    }

    /// Checks that `gateway` can be a router's address: not a special-purpose address
    /// (``IPSpecialPurpose``). Whether it lies in a subnet of the profile, and is not the
    /// profile's own address, ``validate()`` checks with the addresses.
    /// - Throws: ``NMError`` with ``NMError/Code/invalidGateway``.
    public static func validateGatewayAddress<A: IPAddressProtocol>(_ gateway: A, key: String) throws(NMError) {
        if let purpose = gateway.specialPurpose {
            throw NMError(.invalidGateway, "\(key) \(gateway) is \(purpose); no router can have that address",
                          hint: "give the router's unicast address on this link, such as "
                              + (A.bitWidth == 32 ? "192.168.1.1" : "2001:db8:1::1 or fe80::1"))
        }
    }

    /// Checks that `server` can be a DNS server's address: not unspecified, `0.0.0.0/8`,
    /// multicast, broadcast or reserved. Loopback is fine (a local resolver, 127.0.0.53).
    /// - Throws: ``NMError`` with ``NMError/Code/invalidDNSServer``.
    public static func validateDNSServer<A: IPAddressProtocol>(_ server: A, key: String) throws(NMError) {
        if let purpose = server.specialPurpose, purpose != .loopback {
            throw NMError(.invalidDNSServer, "\(key) \(server) is \(purpose); no DNS server can have that address",
                          hint: "give the resolver's unicast address, such as "
                              + (A.bitWidth == 32 ? "192.0.2.53" : "2001:db8::53"))
        }
    }

    /// Checks that `domain` is a DNS search domain: labels of 1-63 letters, digits, `-` (not
    /// first or last) or `_`, joined by dots, 253 bytes at most, with an optional final dot;
    /// or NetworkManager's routing-only form `~domain`, or `~.` (route every query here).
    /// Internationalised names are written in their `xn--` form.
    ///
    /// NetworkManager 1.42 stores any string (newlines included) and drops only entries with
    /// spaces, tabs or newlines when it writes resolv.conf (docs/networkmanager-quirks.md).
    /// - Throws: ``NMError`` with ``NMError/Code/invalidSearchDomain``.
    public static func validateSearchDomain(_ domain: String, key: String) throws(NMError) {
        if let problem = searchDomainProblem(domain) {
            throw NMError(.invalidSearchDomain, "\(key) \(NMText.quoted(domain)) is not a domain name: \(problem)",
                          hint: "write a search domain as a domain name such as lab.example (xn-- form for "
                              + "international names), or ~lab.example for a routing-only domain")
        }
    }

    static func searchDomainProblem(_ domain: String) -> String? {
        if let control = NMText.firstControl(in: domain) { return "it contains the control character \(NMText.visible(control))" }
        var name = Substring(domain)
        if name.hasPrefix("~") {
            name = name.dropFirst()
            if name == "." { return nil }
        }
        if name.hasSuffix(".") { name = name.dropLast() }
        if name.isEmpty { return "it is empty" }
        if name.utf8.count > 253 { return "it is \(name.utf8.count) bytes long, more than 253" }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            if label.isEmpty { return "it has an empty label (two dots in a row, or a leading dot)" }
            if label.utf8.count > 63 { return "the label \(NMText.quoted(String(label))) is longer than 63 bytes" }
            let allowed = label.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
            }
            if !allowed {
                return "the label \(NMText.quoted(String(label))) has a character other than letters, digits, '-' and '_'"
            }
            if label.hasPrefix("-") || label.hasSuffix("-") {
                return "the label \(NMText.quoted(String(label))) begins or ends with '-'"
            }
        }
        return nil
    }

    /// Checks that free text of a profile (its name, a host name, a label) contains no control
    /// character (``NMText/isControl(_:)``): NetworkManager stores them, and every tool that
    /// prints the profile then sends them to a terminal.
    /// - Throws: ``NMError`` with ``NMError/Code/controlCharacter``.
    public static func validateText(_ text: String, key: String) throws(NMError) {
        if let control = NMText.firstControl(in: text) {
            throw NMError(.controlCharacter,
                          "\(key) \(NMText.quoted(text)) contains the control character \(NMText.visible(control))",
                          hint: "remove control characters (newlines, tabs, escape sequences) from \(key)")
        }
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

    /// `duration` as whole milliseconds within `range`, or an `invalidProfile` error naming `key`.
    static func wholeMilliseconds(_ duration: Duration, key: String, range: ClosedRange<Int64>) throws(NMError) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let perMillisecond: Int64 = 1_000_000_000_000_000
        guard attoseconds % perMillisecond == 0, seconds <= Int64(Int32.max) else {
            throw NMError(.invalidProfile, "\(key) is \(duration), not a whole number of milliseconds",
                          hint: "NetworkManager keeps \(key) in whole milliseconds")
        }
        let milliseconds = seconds * 1000 + attoseconds / perMillisecond
        guard range.contains(milliseconds) else {
            throw NMError(.invalidProfile, "\(key) is \(milliseconds) ms, outside \(range.lowerBound)...\(range.upperBound) ms",
                          hint: "choose a value NetworkManager accepts for \(key)")
        }
        return milliseconds
    }
}
