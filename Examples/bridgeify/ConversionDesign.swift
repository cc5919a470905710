// Building the change: a desired state, planned by netstate's planner into one NMTransaction.
//
// The conversion is a desired state (the bridge up, with the NIC as its port, its MAC, MTU,
// STP and IP configuration) planned with TransactionOptions(ports: .newProfile, writes: .add,
// unlistedPorts: .keep) and the bridge profile designed here as its base (which carries the
// NIC's settings outside netstate's schema). That gives three intentions, as NMChange values:
//
//   .add(bridge)                       a bridge profile carrying the NIC's IP configuration and MAC
//   .add(port)                         a port profile attaching the NIC to the bridge, no IP at all
//   .activate(bridge, ports: [NIC])    bring the bridge up and wait until the NIC is its port
//   .supersede(old)                    at commit, the NIC's old profile stops autoconnecting
//
// The library validates them (a port cannot carry IP settings; a gateway must lie in a subnet;
// never two profiles that could autoconnect on one interface), plans them as a diff, and
// applies them under a checkpoint. New profiles are staged in memory and written to disk only
// at commit, so a NetworkManager restart half way brings back only what was there before.
import Foundation
import NetState
import NetworkManager

/// The IP configuration asked for on the command line, to be laid over what the interface has.
struct IPRequest: Sendable {
    var ipv4Addresses: [IPv4AddressWithPrefix] = []
    var gateway4: IPv4Address?
    var dhcp = false
    var ipv6Addresses: [IPv6AddressWithPrefix] = []
    var gateway6: IPv6Address?
    var ipv6Auto = false
    var dns4: [IPv4Address] = []
    var dns6: [IPv6Address] = []
    var dnsSearch: [String] = []

    var touchesIPv4: Bool { !ipv4Addresses.isEmpty || gateway4 != nil || dhcp || !dns4.isEmpty || !dnsSearch.isEmpty }
    var touchesIPv6: Bool { !ipv6Addresses.isEmpty || gateway6 != nil || ipv6Auto || !dns6.isEmpty }
    var isEmpty: Bool { !touchesIPv4 && !touchesIPv6 }

    /// The IPv4 setting the bridge gets: `current` (what runs on the NIC now) with the options
    /// laid over it. `now` is what NetworkManager sees on the NIC, used when a DHCP
    /// configuration is frozen into a static one (`--ipv4` on a DHCP host keeps the lease's
    /// gateway and DNS servers unless told otherwise).
    func ipv4(over current: NMIPv4Setting?, now: NMIPv4Configuration) throws(Rejection) -> (setting: NMIPv4Setting?, notes: [String]) {
        let notes: [String] = []
        var setting = current
        if dhcp {
            // DHCP instead: the static addresses and gateway go (the DHCP server provides
            // them); everything else of the old setting stays (DNS, routes, may-fail, DHCP
            // options, keys the library does not model).
            var automatic = current ?? .dhcp
            automatic.method = .auto
            automatic.addresses = []
            automatic.addressAttributes = [:]
            automatic.gateway = nil
            setting = automatic
        }
        if !ipv4Addresses.isEmpty {
            var manual: NMIPv4Setting
            if let current, current.method == .manual {
                manual = current
            } else {
                // From DHCP (or nothing) to static: keep what DHCP gave, so the host keeps
                // resolving names and reaching its gateway.
                manual = .static(addresses: [], gateway: now.gateway, dns: now.dnsServers, dnsSearch: current?.dnsSearch ?? [])
            }
            manual.method = .manual
            manual.addresses = ipv4Addresses
            manual.addressAttributes = [:]
            if let gateway = manual.gateway, gateway4 == nil, !ipv4Addresses.contains(where: { $0.contains(gateway) }) {
                // Dropping it would leave the host without a default route, and without the
                // gateway probe that would have noticed: say so instead.
                let subnets = ipv4Addresses.map { "\($0.network)/\($0.prefix)" }.joined(separator: ", ")
                throw Rejection(code: "gateway-outside-subnet",
                                message: "the interface's IPv4 gateway \(gateway) lies outside the new --ipv4 subnet (\(subnets))",
                                hint: "give the gateway of the new subnet with --gateway (an address in \(subnets))")
            }
            setting = manual
        }
        if let gateway4 {
            guard setting != nil, setting?.method != .disabled else {
                throw Rejection(code: "missing-address", message: "--gateway \(gateway4) needs an IPv4 address, and there is none",
                                hint: "add --ipv4 ADDRESS/PREFIX (or --dhcp)")
            }
            setting?.gateway = gateway4
        }
        if !dns4.isEmpty {
            guard setting != nil, setting?.method != .disabled else {
                throw Rejection(code: "missing-address", message: "--dns \(dns4[0]) needs IPv4 on the bridge, and there is none",
                                hint: "add --ipv4 ADDRESS/PREFIX (or --dhcp)")
            }
            setting?.dns = dns4
        }
        if !dnsSearch.isEmpty, setting != nil, setting?.method != .disabled { setting?.dnsSearch = dnsSearch }
        return (setting, notes)
    }

    /// The IPv6 setting the bridge gets: `current` with the options laid over it.
    func ipv6(over current: NMIPv6Setting?) throws(Rejection) -> NMIPv6Setting? {
        var setting = current
        if ipv6Auto {
            setting = .auto
            if let current, current.method == .auto { setting = current }
        }
        if !ipv6Addresses.isEmpty {
            var manual = current?.method == .manual ? current! : NMIPv6Setting.static(addresses: [], dns: current?.dns ?? [])
            manual.method = .manual
            manual.addresses = ipv6Addresses
            manual.addressAttributes = [:]
            if let gateway = manual.gateway, gateway6 == nil, !gateway.isLinkLocal,
                !ipv6Addresses.contains(where: { $0.contains(gateway) })
            {
                let subnets = ipv6Addresses.map { "\($0.network)/\($0.prefix)" }.joined(separator: ", ")
                throw Rejection(code: "gateway-outside-subnet",
                                message: "the interface's IPv6 gateway \(gateway) lies outside the new --ipv6 subnet (\(subnets))",
                                hint: "give the gateway of the new subnet with --gateway6 (an address in \(subnets), or a link-local one)")
            }
            setting = manual
        }
        if let gateway6 {
            guard let method = setting?.method, method != .disabled, method != .ignore else {
                throw Rejection(code: "missing-address", message: "--gateway6 \(gateway6) needs IPv6 on the bridge, and there is none",
                                hint: "add --ipv6 ADDRESS/PREFIX (or --ipv6-auto)")
            }
            setting?.gateway = gateway6
        }
        if !dns6.isEmpty {
            guard let method = setting?.method, method != .disabled, method != .ignore else {
                throw Rejection(code: "missing-address", message: "--dns \(dns6[0]) needs IPv6 on the bridge, and there is none",
                                hint: "add --ipv6 ADDRESS/PREFIX (or --ipv6-auto)")
            }
            setting?.dns = dns6
        }
        return setting
    }
}

/// The profiles and the transaction of one conversion.
struct ConversionDesign: Sendable {
    /// The NIC.
    var interface: NMInterfaceName
    /// The new bridge profile (or, on a rerun, the existing one).
    var bridge: NMConnectionProfile
    /// The new port profile (or the existing one).
    var port: NMConnectionProfile
    /// Profiles that could autoconnect on the NIC (or the bridge) and are made unable to at
    /// commit: the old profile stays for a person to see and restore.
    var superseded: [NMStoredProfile]
    /// Things worth telling the operator.
    var notes: [String]
    /// The conversion as a desired state (netstate's model): what `netstate apply` would be given.
    var state: DesiredState
    /// The changes netstate's planner made of ``state``.
    var changes: [NMChange]

    /// The name of the port profile: `br0-port-eno1`.
    static func portName(bridge: NMInterfaceName, interface: NMInterfaceName) -> String {
        TransactionOptions.portProfileName(controller: bridge.rawValue, port: interface.rawValue)
    }

    /// The options bridgeify plans with: a new port profile superseding the NIC's others, every
    /// profile sent by UUID, other ports of the bridge left alone, and `bridge` (with `applied`,
    /// what the NIC runs with, for the port's link settings) as the base the state is laid over.
    static func options(bridge: NMConnectionProfile, interface: NMInterfaceName, applied: NMConnectionProfile?) -> TransactionOptions {
        var bases: [String: NMConnectionProfile] = [:]
        if let name = bridge.interfaceName { bases[name.rawValue] = bridge }
        if let applied { bases[interface.rawValue] = applied }
        return TransactionOptions(ports: .newProfile, writes: .add, unlistedPorts: .keep, baseProfiles: bases)
    }

    /// `profile` (the bridge's) as netstate's model: br0 up, a linux-bridge with the NIC as its
    /// port, its MTU, MAC, STP and IP settings in the schema's terms (an IP method the schema
    /// does not have, such as `ignore`, is left to the base profile), its gateways and routes,
    /// and DNS when IPv4 carries it.
    static func desiredState(bridge profile: NMConnectionProfile, interface: NMInterfaceName) -> DesiredState {
        let name = profile.interfaceName?.rawValue ?? profile.name
        var bridge = InterfaceState(name: name, type: .linuxBridge, state: .up, mtu: profile.ethernet?.mtu)
        if case .address(let mac)? = profile.ethernet?.assignedMACAddress { bridge.macAddress = mac.description }
        bridge.bridge = BridgeState(stp: STPState(enabled: profile.bridge?.stp ?? true), ports: [interface.rawValue])
        var routes: [RouteState] = []
        var servers: [String] = [], search: [String] = []
        if let ip = profile.ipv4, [.manual, .auto, .disabled].contains(ip.method) {
            let addresses = ip.addresses.map { AddressState(ip: $0.address.description, prefixLength: $0.prefix) }
            bridge.ipv4 = ip.method == .disabled ? IPState(enabled: false) : IPState(enabled: true, dhcp: ip.method == .auto, addresses: addresses)
            if let gateway = ip.gateway { routes.append(RouteState(destination: "0.0.0.0/0", nextHopInterface: name, nextHopAddress: gateway.description)) }
            routes += ip.routes.map {
                RouteState(destination: $0.destination.description, nextHopInterface: name, nextHopAddress: $0.nextHop?.description, metric: $0.metric)
            }
            servers += ip.dns.map(\.description)
            search += ip.dnsSearch
        }
        if let ip = profile.ipv6 {
            let addresses = ip.addresses.map { AddressState(ip: $0.address.description, prefixLength: $0.prefix) }
            switch ip.method {
            case .disabled: bridge.ipv6 = IPState(enabled: false)
            case .auto: bridge.ipv6 = IPState(enabled: true, dhcp: true, autoconf: true, addresses: addresses)
            case .dhcp: bridge.ipv6 = IPState(enabled: true, dhcp: true, autoconf: false, addresses: addresses)
            case .manual where !addresses.isEmpty, .linkLocal where addresses.isEmpty:
                bridge.ipv6 = IPState(enabled: true, dhcp: false, autoconf: false, addresses: addresses)
            default: break
            }
            if bridge.ipv6?.enabled == true {
                if let gateway = ip.gateway { routes.append(RouteState(destination: "::/0", nextHopInterface: name, nextHopAddress: gateway.description)) }
                routes += ip.routes.map {
                    RouteState(destination: $0.destination.description, nextHopInterface: name, nextHopAddress: $0.nextHop?.description, metric: $0.metric)
                }
                servers += ip.dns.map(\.description)
            }
        }
        // netstate keeps DNS on an interface with IPv4: without it, the base profile carries it.
        let dns = bridge.ipv4?.enabled == true && !(servers.isEmpty && search.isEmpty) ? DNSState(servers: servers, search: search) : nil
        return DesiredState(interfaces: [bridge], routes: routes, dns: dns)
    }

    /// The conversion onto `bridge` (the profile the bridge is to have: a new one, or on a rerun
    /// the existing one), planned through netstate's planner against the reading's snapshot.
    static func planned(_ reading: InterfaceReading, interface: NMInterfaceName, bridge: NMConnectionProfile,
                        notes: [String]) throws(Rejection) -> ConversionDesign {
        let state = desiredState(bridge: bridge, interface: interface)
        let transaction: NMTransaction
        do {
            transaction = try state.transaction(on: reading.snapshot, options: options(bridge: bridge, interface: interface, applied: reading.applied))
        } catch {
            throw Rejection(code: "invalid-configuration", message: "\(error.path): \(error.message)", hint: error.hint)
        }
        var planned: (bridge: NMConnectionProfile?, port: NMConnectionProfile?) = (nil, nil)
        var superseded: [NMStoredProfile] = []
        for change in transaction.changes {
            switch change {
            case .add(let profile) where profile.type == .bridge: planned.bridge = profile
            case .add(let profile): planned.port = profile  // the state's only other profile (bound by name or MAC)
            case .supersede(let uuid): superseded += reading.profiles.filter { $0.profile.uuid == uuid }
            default: break
            }
        }
        guard let bridgeProfile = planned.bridge, let port = planned.port else {
            throw Rejection(code: "internal-error", message: "the planner made no bridge and port profile of the conversion's state",
                            hint: "report this as a bug with `bridgeify \(interface) --dry-run --json`")
        }
        return ConversionDesign(interface: interface, bridge: bridgeProfile, port: port, superseded: superseded, notes: notes,
                                state: state, changes: transaction.changes)
    }

    /// A fresh conversion of the interface read in `reading` onto a new bridge `bridgeName`.
    static func fresh(_ reading: InterfaceReading, interface: NMInterfaceName, bridge bridgeName: NMInterfaceName,
                      request: IPRequest, stp: Bool) throws(Rejection) -> ConversionDesign {
        var notes: [String] = []
        // What the bridge takes over: the settings the NIC runs with now.
        let old = reading.applied
        var (ipv4, ipv4Notes) = try request.ipv4(over: old?.ipv4, now: reading.ipv4Now)
        notes += ipv4Notes
        // Addresses this host holds on the NIC right now move to the bridge: probing the LAN
        // for them first (duplicate address detection, on by default from NetworkManager 1.46)
        // cannot find anyone but this host, and keeps the host unreachable for those ~200 ms.
        // Only NetworkManager's default is replaced: an explicit ipv4.dad-timeout is kept.
        if var setting = ipv4, setting.method == .manual, setting.dadTimeout == nil, !setting.addresses.isEmpty,
            setting.addresses.allSatisfy(reading.ipv4Now.addresses.contains)
        {
            setting.dadTimeout = .zero
            ipv4 = setting
            notes.append("\(bridgeName) skips duplicate address detection (ipv4.dad-timeout 0): "
                + "its addresses are \(interface)'s now; set ipv4.dad-timeout on \(bridgeName)'s profile to probe on later activations")
        }
        var ipv6 = try request.ipv6(over: old?.ipv6)
        if old == nil && ipv6 == nil && ipv4 != nil {
            // An interface with no profile: IPv6 as nmcli would configure it.
            ipv6 = .auto
        }
        let mtu = old?.ethernet?.mtu.flatMap { $0 == 0 ? nil : $0 }

        var bridge: NMConnectionProfile
        do {
            // NMConnectionProfile.bridge validates as it builds: a gateway outside every
            // subnet, a duplicate address, `manual` without addresses are refused here, before
            // anything reaches NetworkManager.
            bridge = try NMConnectionProfile.bridge(
                name: bridgeName.rawValue, interface: bridgeName,
                // STP off unless asked: its forwarding delay would stall all traffic through
                // the bridge for about 30 s right after the NIC is attached.
                stp: stp,
                // The NIC's MAC, so a DHCP server hands out the same lease and switch port
                // security sees the same address.
                macAddress: reading.mac,
                ipv4: ipv4 ?? .disabled, ipv6: ipv6 ?? .disabled)
            if let mtu {
                bridge.ethernet?.mtu = mtu
                try bridge.validate()
            }
        } catch {
            throw Rejection(error)
        }

        // The port (a new profile, `br0-port-eno1`, keeping the NIC's link settings: MTU, a MAC
        // binding or cloned MAC, wake-on-LAN, ...; no IP settings), the profiles it supersedes
        // and its priority come from netstate's planner (TransactionOptions.PortProfiles.newProfile):
        // the port outranks every profile it supersedes, since the commit writes the port, then
        // the bridge, then turns the old profiles' autoconnect off, and a power cut between the
        // last two leaves both on disk autoconnecting on the NIC. The higher priority makes
        // NetworkManager pick the port at boot (docs/transactions.md, "A power cut during the commit").
        var design = try planned(reading, interface: interface, bridge: bridge, notes: [])
        let generic = reading.genericProfiles(except: Set(design.superseded.map(\.profile.uuid)))
        if !generic.isEmpty {
            notes.append("profiles that may autoconnect on any Ethernet NIC are left alone: "
                + generic.map { "'\($0.profile.name)'" }.joined(separator: ", "))
        }
        if old == nil {
            notes.append("\(interface) had no active profile: the bridge's IP configuration comes from the options")
        }
        design.notes = notes
        return design
    }

    /// The transaction: the planner's changes (profiles named by UUID); the library orders activations
    /// (controllers before ports) and runs the probes after verification.
    func transaction(probes: [NMProbe], rollbackTimeout: Duration, label: String) -> NMTransaction {
        NMTransaction(changes, probes: probes, rollbackTimeout: rollbackTimeout,
                             activationTimeout: .seconds(45), verify: true, label: label)
    }
}
