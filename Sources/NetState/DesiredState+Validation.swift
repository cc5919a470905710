internal import NetworkManager

extension DesiredState {
    /// Checks the rules that need no host: interface names (at most 15 bytes), each named once,
    /// VLAN ids 1...4094, VXLAN ids, a port under one controller only, a port without IP
    /// configuration of its own, type-specific keys only on their type, addresses, MACs,
    /// route destinations and DNS servers well formed.
    /// - Throws: ``NetStateError`` naming the offending key.
    public func validate() throws(NetStateError) {
        var seen: [String: Int] = [:]
        var controllerOfPort: [String: (controller: String, path: String)] = [:]
        for (index, interface) in interfaces.enumerated() {
            let path = "interfaces[\(index)]"
            if let problem = NMInterfaceName.problem(interface.name) {
                throw NetStateError(path: "\(path).name", "`\(interface.name)` is not a valid interface name: \(problem)",
                                    hint: "Linux interface names are 1 to 15 bytes, without `/`, `:` or spaces")
            }
            if let first = seen[interface.name] {
                throw NetStateError(path: "\(path).name", "`\(interface.name)` is already given at interfaces[\(first)]",
                                    hint: "give each interface once")
            }
            seen[interface.name] = index
            let typeKeys: [(present: Bool, key: String, kind: InterfaceKind)] = [
                (interface.bridge != nil, "bridge", .linuxBridge), (interface.bond != nil, "link-aggregation", .bond),
                (interface.vlan != nil, "vlan", .vlan), (interface.vxlan != nil, "vxlan", .vxlan),
            ]
            for entry in typeKeys where entry.present && interface.type != entry.kind {
                throw NetStateError(path: "\(path).\(entry.key)", "`\(entry.key)` belongs to interfaces of type \(entry.kind.rawValue)",
                                    hint: "set `type: \(entry.kind.rawValue)` or remove `\(entry.key)`")
            }
            if let source = interface.copyMACFrom {
                if interface.macAddress != nil {
                    throw NetStateError(path: "\(path).copy-mac-from", "both `mac-address` and `copy-mac-from`",
                                        hint: "give one: `copy-mac-from` takes the named interface's MAC as `mac-address`")
                }
                if let problem = NMInterfaceName.problem(source) {
                    throw NetStateError(path: "\(path).copy-mac-from", "`\(source)`: \(problem)", hint: "name an existing interface, such as the bridge's port")
                }
            }
            if let mac = interface.macAddress, (try? MACAddress(mac)) == nil {
                throw NetStateError(path: "\(path).mac-address", "`\(mac)` is not a MAC address", hint: "write six hex bytes, like 52:54:00:12:34:56")
            }
            if let vlan = interface.vlan {
                guard (1...4094).contains(vlan.id) else {
                    throw NetStateError(path: "\(path).vlan.id", "VLAN id \(vlan.id) is out of range", hint: "802.1Q ids are 1...4094")
                }
                if let problem = NMInterfaceName.problem(vlan.baseInterface) {
                    throw NetStateError(path: "\(path).vlan.base-iface", "`\(vlan.baseInterface)`: \(problem)", hint: "name an existing interface")
                }
            }
            if let vxlan = interface.vxlan {
                guard (0...16_777_215).contains(vxlan.id) else {
                    throw NetStateError(path: "\(path).vxlan.id", "VXLAN id \(vxlan.id) is out of range", hint: "VNIs are 0...16777215")
                }
                if let port = vxlan.destinationPort, !(1...65535).contains(port) {
                    throw NetStateError(path: "\(path).vxlan.destination-port", "port \(port) is out of range", hint: "use 1...65535 (4789 is IANA's)")
                }
                var families: [Int] = []
                for (key, text) in [("remote", vxlan.remote), ("local", vxlan.local)] {
                    guard let text else { continue }
                    if (try? IPv4Address(text)) != nil { families.append(4) } else if (try? IPv6Address(text)) != nil { families.append(6) } else {
                        throw NetStateError(path: "\(path).vxlan.\(key)", "`\(text)` is not an IP address",
                                            hint: "write an IPv4 or IPv6 address without a prefix length")
                    }
                }
                if families.count == 2, families[0] != families[1] {
                    throw NetStateError(path: "\(path).vxlan.local", "`local` and `remote` are of different address families",
                                        hint: "use IPv4 for both or IPv6 for both")
                }
                if let base = vxlan.baseInterface, let problem = NMInterfaceName.problem(base) {
                    throw NetStateError(path: "\(path).vxlan.base-iface", "`\(base)`: \(problem)", hint: "name an existing interface")
                }
            }
            if let bond = interface.bond, !bondModes.contains(bond.mode) {
                throw NetStateError(path: "\(path).link-aggregation.mode", "bond mode `\(bond.mode)` is not known",
                                    hint: "one of: \(bondModes.joined(separator: ", "))")
            }
            if let stp = interface.bridge?.stp {
                let ranges: [(Int?, ClosedRange<Int>, String)] = [
                    (stp.forwardDelay, 2...30, "forward-delay"), (stp.helloTime, 1...10, "hello-time"),
                    (stp.maxAge, 6...40, "max-age"), (stp.priority, 0...65535, "priority"),
                ]
                for (value, range, key) in ranges {
                    if let value, !range.contains(value) {
                        throw NetStateError(path: "\(path).bridge.options.stp.\(key)", "\(value) is out of range",
                                            hint: "the kernel takes \(range.lowerBound)...\(range.upperBound)")
                    }
                }
            }
            let ports = (interface.bridge?.ports.map { ($0, "bridge.port") }) ?? (interface.bond?.ports.map { ($0, "link-aggregation.port") })
            if let (names, key) = ports {
                for (portIndex, port) in names.enumerated() {
                    let portPath = key == "bridge.port" ? "\(path).bridge.port[\(portIndex)].name" : "\(path).\(key)[\(portIndex)]"
                    if let problem = NMInterfaceName.problem(port) {
                        throw NetStateError(path: portPath, "`\(port)` is not a valid interface name: \(problem)",
                                            hint: "Linux interface names are 1 to 15 bytes")
                    }
                    if let other = controllerOfPort[port] {
                        throw NetStateError(path: portPath, "`\(port)` is already a port of `\(other.controller)` (\(other.path))",
                                            hint: "an interface can be the port of one bridge or bond only")
                    }
                    if port == interface.name {
                        throw NetStateError(path: portPath, "`\(port)` cannot be a port of itself", hint: "name another interface")
                    }
                    controllerOfPort[port] = (interface.name, portPath)
                }
            }
            for (family, ip) in [("ipv4", interface.ipv4), ("ipv6", interface.ipv6)] {
                guard let ip, !ip.enabled else { continue }
                if ip.dhcp == true || ip.autoconf == true || !ip.addresses.isEmpty {
                    throw NetStateError(path: "\(path).\(family)", "`enabled: false` with addresses, dhcp or autoconf",
                                        hint: "remove the other keys or set `enabled: true`")
                }
            }
        }
        // A port with IP configuration of its own: the controller carries it.
        for (index, interface) in interfaces.enumerated() {
            guard let controller = controllerOfPort[interface.name] else { continue }
            for (family, ip) in [("ipv4", interface.ipv4), ("ipv6", interface.ipv6)] where ip?.enabled == true {
                throw NetStateError(path: "interfaces[\(index)].\(family)",
                                    "`\(interface.name)` is a port of `\(controller.controller)` and cannot have IP configuration",
                                    hint: "move the addresses to `\(controller.controller)`, or set `\(family): {enabled: false}` on the port")
            }
            if interface.state == .absent {
                throw NetStateError(path: "interfaces[\(index)].state", "`\(interface.name)` is `absent` but listed as a port at \(controller.path)",
                                    hint: "remove it from the port list, or do not make it absent")
            }
        }
        for (index, route) in routes.enumerated() {
            let path = "routes.config[\(index)]"
            if !route.destination.contains("/")
                || ((try? IPv4AddressWithPrefix(route.destination)) == nil && (try? IPv6AddressWithPrefix(route.destination)) == nil) {
                throw NetStateError(path: "\(path).destination", "`\(route.destination)` is not ADDRESS/PREFIX", hint: "write it like 198.51.100.0/24")
            }
            if let hop = route.nextHopAddress, (try? IPv4Address(hop)) == nil, (try? IPv6Address(hop)) == nil {
                throw NetStateError(path: "\(path).next-hop-address", "`\(hop)` is not an IP address", hint: "write the gateway's address")
            }
        }
        if let dns = dns {
            for (index, server) in dns.servers.enumerated() where (try? IPv4Address(server)) == nil && (try? IPv6Address(server)) == nil {
                throw NetStateError(path: "dns-resolver.config.server[\(index)]", "`\(server)` is not an IP address", hint: "DNS servers are given by address")
            }
        }
    }
}

/// The kernel's bond modes by name (`bond.options mode=`).
let bondModes = ["balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb"]
