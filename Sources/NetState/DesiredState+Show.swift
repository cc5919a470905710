public import NetworkManager

extension DesiredState {
    /// The host rendered in the model, from its profiles (`NMClient.snapshotWithProfiles()`):
    /// one interface per device that has a profile (the active one, else the first by name),
    /// with only the keys the profile sets, so that applying the result plans nothing.
    /// Ports appear under their controller's `port` list; routes with their interface; DNS
    /// from the profiles that carry it.
    /// - Parameter names: the interfaces to show; empty shows all but loopback.
    public static func show(_ host: NMHostState, interfaces names: [String] = []) -> DesiredState {
        var state = DesiredState()
        var servers: [String] = [], search: [String] = []
        let profiles = host.profiles.map(\.profile)
        let active = Set(host.activeConnections.map(\.uuid))
        func profile(of name: String) -> NMConnectionProfile? {
            profiles.filter { $0.connection.interfaceName?.rawValue == name }
                .sorted { (active.contains($0.connection.uuid) ? 0 : 1, $0.connection.id) < (active.contains($1.connection.uuid) ? 0 : 1, $1.connection.id) }
                .first
        }
        let deviceNames = host.devices.map(\.interface.rawValue).sorted()
        var chosen: [String: NMConnectionProfile] = [:]
        for name in deviceNames where name != "lo" {
            if let profile = profile(of: name) { chosen[name] = profile }
        }
        for name in deviceNames where chosen[name] != nil && (names.isEmpty || names.contains(name)) {
            let profile = chosen[name]!
            var interface = InterfaceState(name: name, state: active.contains(profile.connection.uuid) ? .up : .down)
            switch profile.connection.type {
            case .ethernet: interface.type = .ethernet
            case .bridge: interface.type = .linuxBridge
            case .bond: interface.type = .bond
            case .vlan: interface.type = .vlan
            case .dummy: interface.type = .dummy
            case .vxlan: interface.type = .vxlan
            default: continue
            }
            interface.mtu = profile.ethernet?.mtu
            if profile.connection.type == .ethernet {
                interface.macAddress = profile.ethernet?.macAddress?.description
            } else if case .address(let mac)? = profile.ethernet?.assignedMACAddress {
                interface.macAddress = mac.description
            }
            if !profile.connection.isPort {
                if let ip = profile.ipv4 {
                    interface.ipv4 = ip.method == .disabled ? IPState(enabled: false)
                        : IPState(enabled: true, dhcp: ip.method == .auto,
                                  addresses: ip.addresses.map { AddressState(ip: $0.address.description, prefixLength: $0.prefix) })
                    if let gateway = ip.gateway {
                        state.routes.append(RouteState(destination: "0.0.0.0/0", nextHopInterface: name, nextHopAddress: gateway.description))
                    }
                    for route in ip.routes {
                        state.routes.append(RouteState(destination: route.destination.description, nextHopInterface: name,
                                                       nextHopAddress: route.nextHop?.description, metric: route.metric))
                    }
                    servers += ip.dns.map(\.description)
                    search += ip.dnsSearch
                }
                if let ip = profile.ipv6 {
                    switch ip.method {
                    case .disabled, .ignore: interface.ipv6 = IPState(enabled: false)
                    default:
                        interface.ipv6 = IPState(enabled: true, dhcp: ip.method == .dhcp || ip.method == .auto, autoconf: ip.method == .auto,
                                                 addresses: ip.addresses.map { AddressState(ip: $0.address.description, prefixLength: $0.prefix) })
                    }
                    if let gateway = ip.gateway {
                        state.routes.append(RouteState(destination: "::/0", nextHopInterface: name, nextHopAddress: gateway.description))
                    }
                    for route in ip.routes {
                        state.routes.append(RouteState(destination: route.destination.description, nextHopInterface: name,
                                                       nextHopAddress: route.nextHop?.description, metric: route.metric))
                    }
                    servers += ip.dns.map(\.description)
                }
            }
            if profile.connection.type == .bridge || profile.connection.type == .bond {
                let ports = chosen.filter { _, port in
                    port.connection.controller == profile.connection.uuid.uuidString || port.connection.controller == name
                }.keys.sorted()
                if profile.connection.type == .bridge {
                    var stp: STPState?
                    if let bridge = profile.bridge {
                        // An unset bridge.stp is NetworkManager's default: on.
                        stp = STPState(enabled: bridge.stp ?? true, forwardDelay: bridge.forwardDelay.map { Int($0.components.seconds) },
                                       helloTime: bridge.helloTime.map { Int($0.components.seconds) },
                                       maxAge: bridge.maxAge.map { Int($0.components.seconds) }, priority: bridge.priority.map(Int.init))
                    }
                    interface.bridge = BridgeState(stp: stp, ports: ports)
                } else if let mode = profile.bond?.mode {
                    interface.bond = BondState(mode: mode.rawValue, options: (profile.bond?.options ?? [:]).filter { $0.key != "mode" }, ports: ports)
                }
            }
            if let vlan = profile.vlan, let parent = vlan.parent {
                let base = profiles.first { $0.connection.uuid.uuidString == parent }?.connection.interfaceName?.rawValue ?? parent
                interface.vlan = VLANState(baseInterface: base, id: Int(vlan.id))
            }
            if let vxlan = profile.vxlan {
                let base = vxlan.parent.map { parent in
                    profiles.first { $0.connection.uuid.uuidString.lowercased() == parent.lowercased() }?.connection.interfaceName?.rawValue ?? parent
                }
                interface.vxlan = VXLANState(baseInterface: base, id: Int(vxlan.id), remote: vxlan.remote, local: vxlan.local,
                                             destinationPort: vxlan.destinationPort.map(Int.init))
            }
            state.interfaces.append(interface)
        }
        if !servers.isEmpty || !search.isEmpty { state.dns = DNSState(servers: servers, search: search) }
        return state
    }
}
