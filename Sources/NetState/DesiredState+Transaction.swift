public import NetworkManager
#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif

extension DesiredState {
    /// The transaction that brings `host` to this state, touching only the interfaces the state
    /// names (and those its routes and DNS name). Pure: reads `host` (which must carry the
    /// profiles: `NMClient.snapshotWithProfiles()`), calls nothing.
    ///
    /// Each interface's profile is the one it has now (the active one, else the only one,
    /// else the first by name) with the keys the state gives laid over it, or a new profile
    /// named after the interface; it is sent as `.ensure`, so a rerun plans nothing. Ports
    /// are the NIC's own profile attached to the controller (as nmstate does), `absent`
    /// deletes every profile of the interface, `up` activates (controllers with their ports),
    /// `down` deactivates an active profile.
    ///
    /// ``TransactionOptions`` chooses other ways where more than one fits: new port profiles
    /// instead of the ports' own, base profiles for new interfaces, `.add` instead of `.ensure`
    /// (bridgeify's conversion is one such state: docs/netstate.md, "bridgeify's conversion as
    /// a state").
    /// - Throws: ``NetStateError`` when the state cannot be expressed on this host; nothing is touched.
    public func transaction(on host: NMHostState, options: TransactionOptions = TransactionOptions()) throws(NetStateError) -> NMTransaction {
        try validate()
        var builder = TransactionBuilder(host: host, state: self, options: options)
        return try builder.build()
    }
}

/// How ``DesiredState/transaction(on:options:)`` builds a transaction where more than one way
/// fits. The default is nmstate's way, as `netstate apply` uses it; bridgeify's conversion is
/// `TransactionOptions(ports: .newProfile, writes: .add, unlistedPorts: .keep, baseProfiles: [...])`.
public struct TransactionOptions: Sendable, Hashable {
    /// Which profile makes an interface a port of a controller of the state.
    public enum PortProfiles: Sendable, Hashable {
        /// The interface's own profile (the active one, else the only one, else the first by
        /// name), attached to the controller: `connection.master` (`controller`),
        /// `connection.slave-type` (`port-type`), its IP settings removed. nmstate's way.
        case attachOwn
        /// A new profile named `CONTROLLER-port-PORT` (`nmcli connection add type bridge-slave`),
        /// keeping the interface's link settings (`802-3-ethernet`: MTU, MAC binding, ...)
        /// from its base profile (``TransactionOptions/baseProfiles``) or else its active
        /// profile. Every other profile that NetworkManager could autoconnect on the interface
        /// (bound to it by `connection.interface-name`, by `802-3-ethernet.mac-address`, or a
        /// generic Ethernet profile active on it now) is superseded at commit (`.supersede`:
        /// kept, `connection.autoconnect` off), and so are the controller's other profiles
        /// that could autoconnect; the new port's `connection.autoconnect-priority` is one
        /// above the highest of those it supersedes (at most 999), so that it wins at boot even
        /// if a power cut stops the commit between writing it and superseding them. An
        /// interface that already has a profile attached to the controller keeps that one.
        /// bridgeify's way: the profiles it replaces stay, untouched, for a person to restore.
        case newProfile
    }

    /// How each profile of the transaction is sent.
    public enum ProfileWrites: Sendable, Hashable {
        /// `NMChange.ensure`: matched by name (an existing profile) or by interface (a new
        /// one), so that a rerun finds and keeps the profiles of the first run.
        case ensure
        /// `NMChange.add`, named by UUID: a new profile is added with its own UUID, an existing
        /// one is restated by its UUID (the plan finds it already done when it holds).
        case add
    }

    /// What happens to ports of a controller of the state that its `port` list leaves out.
    public enum UnlistedPorts: Sendable, Hashable {
        /// Detached (nmstate's rule: a `port` list, when given, is the whole list).
        case detach
        /// Left as they are: the list names the ports to have, not the only ones.
        case keep
    }

    /// Which profile makes an interface a port: ``PortProfiles/attachOwn`` by default.
    public var ports: PortProfiles
    /// How profiles are sent: ``ProfileWrites/ensure`` by default.
    public var writes: ProfileWrites
    /// Ports a `port` list leaves out: ``UnlistedPorts/detach`` by default.
    public var unlistedPorts: UnlistedPorts
    /// By interface name: for an interface that has no profile on the host, the profile that
    /// the state's keys are laid over instead of a fresh one of its type (its name, UUID and
    /// every setting outside the schema subset are kept: route metrics, `may-fail`, DHCP
    /// options, `dns-options`, ...); its `connection.type` must be the state's `type`. For a
    /// port given a ``PortProfiles/newProfile``, the profile whose `802-3-ethernet` setting the
    /// port keeps (the settings the NIC runs with, say). Ignored for an interface that has a
    /// profile on the host: that profile is the base.
    public var baseProfiles: [String: NMConnectionProfile]

    /// Options; the defaults are nmstate's way, as `netstate apply` plans.
    public init(ports: PortProfiles = .attachOwn, writes: ProfileWrites = .ensure, unlistedPorts: UnlistedPorts = .detach,
                baseProfiles: [String: NMConnectionProfile] = [:]) {
        self.ports = ports
        self.writes = writes
        self.unlistedPorts = unlistedPorts
        self.baseProfiles = baseProfiles
    }

    /// The name of a new port profile: `br0-port-eno1` (as bridgeify names it).
    public static func portProfileName(controller: String, port: String) -> String { "\(controller)-port-\(port)" }
}

private struct TransactionBuilder {
    let host: NMHostState
    let state: DesiredState
    let options: TransactionOptions
    /// Touched interfaces in order: their merged profile and whether it exists on the host.
    var touched: [(name: String, profile: NMConnectionProfile, exists: Bool)] = []
    /// Port profiles of ``TransactionOptions/PortProfiles/newProfile``, in order, and whether each exists.
    var newPorts: [(profile: NMConnectionProfile, exists: Bool)] = []
    /// Profiles superseded for ``TransactionOptions/PortProfiles/newProfile``, in order.
    var replaced: [UUID] = []
    var changes: [NMChange] = []

    init(host: NMHostState, state: DesiredState, options: TransactionOptions) {
        self.host = host
        self.state = state
        self.options = options
    }

    /// The profiles of an interface on the host, the active one first.
    func profiles(of name: String) -> [NMConnectionProfile] {
        let all = host.profiles.map(\.profile).filter { $0.connection.interfaceName?.rawValue == name }
        let active = Set(host.activeConnections.map(\.uuid))
        return all.sorted { a, b in
            let aa = active.contains(a.connection.uuid), ba = active.contains(b.connection.uuid)
            return aa != ba ? aa : a.connection.id < b.connection.id
        }
    }

    func isActive(_ uuid: UUID) -> Bool { host.activeConnections.contains { $0.uuid == uuid } }

    func index(of name: String) -> Int? { touched.firstIndex { $0.name == name } }

    mutating func profile(for interface: InterfaceState, path: String) throws(NetStateError) -> Int {
        if let existing = index(of: interface.name) { return existing }
        let name = try NMInterfaceName(checked: interface.name, path: "\(path).name")
        if let current = profiles(of: interface.name).first {
            if let type = interface.type, connectionType(type) != current.connection.type {
                throw NetStateError(path: "\(path).type",
                                    "`\(interface.name)` has profile '\(current.connection.id)' of type \(current.connection.type.rawValue), not \(type.rawValue)",
                                    hint: "NetworkManager cannot change a profile's type: set the interface `absent` first, then add it")
            }
            touched.append((interface.name, current, true))
        } else {
            guard let type = interface.type else {
                throw NetStateError(path: path, "`\(interface.name)` has no profile on this host and no `type`",
                                    hint: "add `type:` (ethernet, linux-bridge, bond, vlan, vxlan, dummy)")
            }
            if let base = options.baseProfiles[interface.name] {
                guard base.connection.type == connectionType(type) else {
                    throw NetStateError(path: "\(path).type",
                                        "the base profile of `\(interface.name)` is of type \(base.connection.type.rawValue), not \(type.rawValue)",
                                        hint: "give a base profile of the interface's type (TransactionOptions.baseProfiles)")
                }
                touched.append((interface.name, base, false))
                return touched.count - 1
            }
            let fresh: NMConnectionProfile
            do {
                switch type {
                case .ethernet: fresh = try .ethernet(name: interface.name, interface: name)
                case .linuxBridge: fresh = try .bridge(name: interface.name, interface: name)
                case .bond: fresh = try .bond(name: interface.name, interface: name, mode: NMBondMode(rawValue: interface.bond?.mode ?? "balance-rr"))
                case .dummy: fresh = try .dummy(name: interface.name, interface: name)
                case .vlan:
                    guard let vlan = interface.vlan else {
                        throw NetStateError(path: path, "a new VLAN needs its `vlan` key", hint: "add `vlan: {base-iface: IFACE, id: N}`")
                    }
                    fresh = try .vlan(name: interface.name, parent: vlan.baseInterface, id: UInt16(vlan.id), interface: name)
                case .vxlan:
                    guard let vxlan = interface.vxlan else {
                        throw NetStateError(path: path, "a new VXLAN needs its `vxlan` key",
                                            hint: "add `vxlan: {id: VNI, remote: ADDRESS, ...}`")
                    }
                    fresh = try .vxlan(name: interface.name, interface: name, id: UInt32(vxlan.id), remote: vxlan.remote,
                                       local: vxlan.local, destinationPort: vxlanPort(vxlan.destinationPort),
                                       parent: vxlan.baseInterface)
                }
            } catch let error as NMError {
                throw NetStateError(path: path, error.message, hint: error.hint ?? "see docs/netstate.md")
            } catch let error as NetStateError {
                throw error
            } catch {
                throw NetStateError(path: path, "\(error)", hint: "see docs/netstate.md")
            }
            touched.append((interface.name, fresh, false))
        }
        return touched.count - 1
    }

    mutating func build() throws(NetStateError) -> NMTransaction {
        var portsOf: [String: (controller: String, type: NMPortType)] = [:]
        for interface in state.interfaces {
            for port in interface.bridge?.ports ?? [] { portsOf[port] = (interface.name, .bridge) }
            for port in interface.bond?.ports ?? [] { portsOf[port] = (interface.name, .bond) }
        }
        // Absent interfaces: every profile deleted.
        for interface in state.interfaces where interface.state == .absent {
            for profile in profiles(of: interface.name) { changes.append(.delete(uuid: profile.connection.uuid)) }
        }
        // Controllers first, then the rest, each merged.
        let ordered = state.interfaces.enumerated().filter { $0.element.state != .absent }
            .sorted { ($0.element.bridge != nil || $0.element.bond != nil ? 0 : 1, $0.offset) < ($1.element.bridge != nil || $1.element.bond != nil ? 0 : 1, $1.offset) }
        for (offset, interface) in ordered {
            let path = "interfaces[\(offset)]"
            let slot = try profile(for: interface, path: path)
            var profile = touched[slot].profile
            try overlay(interface, on: &profile, path: path)
            touched[slot].profile = profile
        }
        // Ports named by a controller, listed as interfaces or not.
        for interface in state.interfaces where interface.state != .absent {
            let ports = interface.bridge?.ports ?? interface.bond?.ports ?? []
            guard !ports.isEmpty, let controllerSlot = index(of: interface.name) else { continue }
            let controllerUUID = touched[controllerSlot].profile.connection.uuid
            // The controller by interface name, as bridgeify and nmcli write it: NetworkManager
            // 1.42 left ports naming a staged controller by UUID unstarted by the controller's
            // autoconnect-ports (docs/networkmanager-quirks.md).
            let type: NMPortType = interface.bridge != nil ? .bridge : .bond
            if options.ports == .newProfile {
                try newPortProfiles(ports, of: interface.name, controllerUUID: controllerUUID, type: type)
                continue
            }
            for port in ports {
                let slot = try profile(for: InterfaceState(name: port, type: .ethernet), path: "interfaces[\(state.interfaces.firstIndex { $0.name == interface.name } ?? 0)]")
                var profile = touched[slot].profile
                let controller = profile.connection.controller
                let attachedAlready = (controller == controllerUUID.uuidString || controller == interface.name)
                    && profile.connection.portType == type
                if !attachedAlready {
                    do {
                        profile = try profile.attached(to: interface.name, as: type)
                    } catch {
                        throw NetStateError(path: "interfaces", "`\(port)` cannot become a port of `\(interface.name)`: \(error.message)",
                                            hint: error.hint ?? "see docs/netstate.md")
                    }
                }
                touched[slot].profile = profile
            }
        }
        let detached = options.unlistedPorts == .detach ? detachPorts(portsOf: portsOf) : (others: [], activate: [], supersede: [])
        try applyRoutes()
        try applyDNS()
        // Ensures, then activations and deactivations.
        for entry in touched {
            changes.append(options.writes == .add ? .add(entry.profile) : .ensure(entry.profile, matching: entry.exists ? .name : .interface))
        }
        for entry in newPorts {
            changes.append(options.writes == .add ? .add(entry.profile) : .ensure(entry.profile, matching: .name))
        }
        for profile in detached.others { changes.append(.ensure(profile, matching: .name)) }
        // An absent interface that is active goes down within the transaction (its profiles
        // are deleted only at commit): what is verified and probed is the host without it.
        for interface in state.interfaces where interface.state == .absent {
            for profile in profiles(of: interface.name) where isActive(profile.connection.uuid) {
                changes.append(.deactivate(uuid: profile.connection.uuid))
            }
        }
        for interface in state.interfaces where portsOf[interface.name] == nil {
            guard let slot = index(of: interface.name) else { continue }
            let uuid = touched[slot].profile.connection.uuid
            switch interface.state {
            case .up:
                let ports = interface.bridge?.ports ?? interface.bond?.ports ?? []
                changes.append(.activate(uuid: uuid, ports: ports.map { NMInterfaceName(unchecked: $0) }))
                // Each port's own profile too: a port profile that was active (the NIC's own,
                // now attached) is then reactivated after its controller, not before it as the
                // reactivate step of a plain modify would be ("Master connection not found").
                for port in ports {
                    if let slot = index(of: port) { changes.append(.activate(uuid: touched[slot].profile.connection.uuid)) }
                }
            case .down:
                if isActive(uuid) { changes.append(.deactivate(uuid: uuid)) }
            case .absent:
                break
            }
        }
        // Detached ports that were up and that the state does not name come back up on
        // their own (nmstate keeps them up). On a detached interface, the profiles other than
        // its own (the active one, else the one detached) stop autoconnecting, so that exactly
        // one profile autoconnects on it (nmstate deletes them; netstate keeps them for a person
        // to restore, as bridgeify keeps the profile it replaces).
        for uuid in detached.activate { changes.append(.activate(uuid: uuid)) }
        for uuid in detached.supersede { changes.append(.supersede(uuid: uuid)) }
        for uuid in replaced where !detached.supersede.contains(uuid) { changes.append(.supersede(uuid: uuid)) }
        let names = state.interfaces.map(\.name).joined(separator: ", ")
        return NMTransaction(changes, label: "netstate: \(names.isEmpty ? "routes/dns" : names)")
    }

    /// ``TransactionOptions/PortProfiles/newProfile``: each port's profile attached to the
    /// controller already, else a new one; the profiles it replaces superseded.
    mutating func newPortProfiles(_ ports: [String], of controller: String, controllerUUID: UUID, type: NMPortType) throws(NetStateError) {
        var references: Set<String> = [controller.lowercased(), controllerUUID.uuidString.lowercased()]
        for profile in profiles(of: controller) { references.insert(profile.connection.uuid.uuidString.lowercased()) }
        var keep: Set<UUID> = [controllerUUID]
        for port in ports {
            if let listed = state.interfaces.firstIndex(where: { $0.name == port }) {
                throw NetStateError(path: "interfaces[\(listed)]", "`\(port)` is a port given a new profile: its own profiles are superseded, not changed",
                                    hint: "leave `\(port)` out of `interfaces` (its controller's `port` list is enough), or attach its own profile (TransactionOptions.ports = .attachOwn)")
            }
            let name = try NMInterfaceName(checked: port, path: "interfaces")
            // The profile active on it first: bound by MAC rather than name, it is its port too.
            let attached = ([activeProfile(on: port)].compactMap { $0 } + profiles(of: port)).first { profile in
                profile.connection.portType == type && profile.connection.controller.map { references.contains($0.lowercased()) } == true
            }
            var profile: NMConnectionProfile
            if let attached {
                profile = attached
            } else {
                do {
                    let portName = TransactionOptions.portProfileName(controller: controller, port: port)
                    profile = type == .bridge ? try .bridgePort(name: portName, interface: name, controller: controller)
                        : try .bondPort(name: portName, interface: name, controller: controller)
                    // The port carries no IP settings; it keeps the interface's link settings.
                    if let ethernet = (options.baseProfiles[port] ?? activeProfile(on: port))?.ethernet { profile.ethernet = ethernet }
                    try profile.validate()
                } catch {
                    throw NetStateError(path: "interfaces", "`\(port)` cannot become a port of `\(controller)`: \(error.message)",
                                        hint: error.hint ?? "see docs/netstate.md")
                }
            }
            keep.insert(profile.connection.uuid)
            let others = autoconnecting(on: port, except: keep.union(replaced))
            if attached == nil, let highest = others.map({ $0.connection.autoconnectPriority ?? 0 }).max(),
               highest >= (profile.connection.autoconnectPriority ?? 0) {
                // At the maximum, 999, the two tie and NetworkManager picks the one used last: the port.
                profile.connection.autoconnectPriority = min(highest + 1, 999)
            }
            replaced += others.map(\.connection.uuid)
            newPorts.append((profile, attached != nil))
        }
        // The controller's other profiles that could autoconnect (a rerun after another tool's change).
        replaced += profiles(of: controller).filter {
            !keep.contains($0.connection.uuid) && !replaced.contains($0.connection.uuid) && $0.connection.autoconnect != false
        }.map(\.connection.uuid)
    }

    /// The profile active on the device named `name` now, if any.
    func activeProfile(on name: String) -> NMConnectionProfile? {
        guard let path = host.device(named: name)?.activeConnection, let active = host.activeConnection(at: path) else { return nil }
        if let profile = active.profile, let stored = host.profiles.first(where: { $0.path == profile }) { return stored.profile }
        return host.profiles.first { $0.profile.connection.uuid == active.uuid }?.profile
    }

    /// The profiles, in the host's order, that NetworkManager could autoconnect on `name`: bound
    /// to it by interface name, by MAC address, or a generic Ethernet profile active on it now.
    func autoconnecting(on name: String, except: Set<UUID>) -> [NMConnectionProfile] {
        let device = host.device(named: name)
        let mac = device?.hardwareAddress.flatMap { try? MACAddress($0) }
        let active = activeProfile(on: name)?.connection.uuid
        return host.profiles.map(\.profile).filter { profile in
            guard !except.contains(profile.connection.uuid), profile.connection.autoconnect != false else { return false }
            if profile.connection.interfaceName?.rawValue == name { return true }
            guard profile.connection.interfaceName == nil, profile.connection.type == .ethernet else { return false }
            if let bound = profile.ethernet?.macAddress { return bound == mac }
            return profile.connection.uuid == active
        }
    }

    /// nmstate's port semantics: a controller's `port` list, when given, is the whole list,
    /// and a profile naming the controller (by interface name or by the UUID of one of its
    /// profiles) on an interface not listed is *detached*; a controller set `absent` detaches
    /// all of its ports. A detached profile is kept (nmstate keeps it too): `connection.master`,
    /// `slave-type` and the port setting removed, and, unless the state gives the interface
    /// `ipv4`/`ipv6` of its own, IPv4 and IPv6 disabled (nmstate's rule for an interface
    /// without IP configuration). A port taken by another controller of the state is not detached.
    mutating func detachPorts(portsOf: [String: (controller: String, type: NMPortType)])
        -> (others: [NMConnectionProfile], activate: [UUID], supersede: [UUID]) {
        var others: [NMConnectionProfile] = []
        var activate: [UUID] = []
        var supersede: [UUID] = []
        var detachedInterfaces: [String: UUID] = [:]
        for controller in state.interfaces {
            let listed: Set<String>
            if controller.state == .absent {
                listed = []
            } else if let ports = controller.bridge?.ports ?? controller.bond?.ports {
                listed = Set(ports)
            } else {
                continue
            }
            var references: Set<String> = [controller.name.lowercased()]
            for profile in profiles(of: controller.name) { references.insert(profile.connection.uuid.uuidString.lowercased()) }
            if let slot = index(of: controller.name) { references.insert(touched[slot].profile.connection.uuid.uuidString.lowercased()) }
            for stored in host.profiles.map(\.profile) {
                guard let reference = stored.connection.controller, references.contains(reference.lowercased()),
                      let port = stored.connection.interfaceName?.rawValue, !listed.contains(port), portsOf[port] == nil
                else { continue }
                let named = state.interfaces.first { $0.name == port }
                let primary = profiles(of: port).first?.connection.uuid == stored.connection.uuid
                if primary, named?.state == .absent { continue }  // deleted anyway
                var profile = primary ? (index(of: port).map { touched[$0].profile } ?? stored) : stored
                profile.connection.controller = nil
                profile.connection.portType = nil
                profile.bridgePort = nil
                profile.unknownSettings["bond-port"] = nil
                if profile.ipv4 == nil { profile.ipv4 = NMIPv4Setting(method: .disabled) }
                if profile.ipv6 == nil { profile.ipv6 = NMIPv6Setting(method: .disabled) }
                if primary {
                    if let slot = index(of: port) {
                        touched[slot].profile = profile
                    } else {
                        touched.append((port, profile, true))
                        if isActive(stored.connection.uuid) { activate.append(stored.connection.uuid) }
                    }
                } else {
                    others.append(profile)
                }
                // The profile that autoconnects on it from now on: the active one, else the one detached.
                if let active = profiles(of: port).first(where: { isActive($0.connection.uuid) }) {
                    detachedInterfaces[port] = active.connection.uuid
                } else if detachedInterfaces[port] == nil {
                    detachedInterfaces[port] = stored.connection.uuid
                }
            }
        }
        for (port, kept) in detachedInterfaces.sorted(by: { $0.key < $1.key }) {
            for profile in profiles(of: port) where profile.connection.uuid != kept && profile.connection.autoconnect != false {
                supersede.append(profile.connection.uuid)
            }
        }
        return (others, activate, supersede)
    }

    func overlay(_ interface: InterfaceState, on profile: inout NMConnectionProfile, path: String) throws(NetStateError) {
        if let mtu = interface.mtu {
            var ethernet = profile.ethernet ?? NMEthernetSetting()
            ethernet.mtu = mtu
            profile.ethernet = ethernet
        }
        var macText = interface.macAddress
        if let source = interface.copyMACFrom {
            // nmstate's `copy-mac-from`: the MAC the interface has now.
            guard let mac = host.devices.first(where: { $0.interface.rawValue == source })?.hardwareAddress else {
                throw NetStateError(path: "\(path).copy-mac-from", "`\(source)` has no device with a MAC address on this host",
                                    hint: "name an existing interface (the bridge's port), or give `mac-address`")
            }
            macText = mac
        }
        if let text = macText, let mac = try? MACAddress(text) {
            var ethernet = profile.ethernet ?? NMEthernetSetting()
            if profile.connection.type == .ethernet { ethernet.macAddress = mac } else { ethernet.assignedMACAddress = .address(mac) }
            profile.ethernet = ethernet
        }
        if let ip = interface.ipv4 {
            let known = Set((profile.ipv4?.addresses ?? []).map(\.address))
            var setting = profile.ipv4 ?? .dhcp
            let addresses = ip.addresses.compactMap { try? IPv4AddressWithPrefix(IPv4Address($0.ip), prefix: $0.prefixLength) }
            if !ip.enabled {
                // A setting disabled already is kept with its other keys.
                if setting.method != .disabled { setting = NMIPv4Setting(method: .disabled) }
            } else if ip.dhcp == true {
                setting.method = .auto
                setting.addresses = addresses
            } else {
                guard !addresses.isEmpty else {
                    throw NetStateError(path: "\(path).ipv4", "IPv4 enabled without dhcp and without addresses",
                                        hint: "add `dhcp: true`, an `address` list, or set `enabled: false`")
                }
                setting.method = .manual
                setting.addresses = addresses
            }
            if let gateway = setting.gateway, !setting.addresses.contains(where: { $0.contains(gateway) }) { setting.gateway = nil }
            // An address conflict must fail the transaction, not take another host's address:
            // a static address the state adds (not in the profile yet) that no interface of
            // this host holds now is probed first (NetworkManager's ARP duplicate address
            // detection; on by default only from 1.46), unless the profile already says how
            // long to probe. An address the host holds (moved from a NIC to its bridge) is not:
            // the probe could find nothing (decision 0008) and would cut the host off meanwhile;
            // nor one the profile has (a rerun, `show | apply`, which must change nothing).
            let held = Set(host.ipv4.values.flatMap { $0.addresses.map(\.address) })
            if setting.method != .disabled, setting.dadTimeout == nil,
               setting.addresses.contains(where: { !held.contains($0.address) && !known.contains($0.address) }) {
                setting.dadTimeout = conflictProbe
            }
            profile.ipv4 = setting
        }
        if let ip = interface.ipv6 {
            var setting = profile.ipv6 ?? .auto
            let addresses = ip.addresses.compactMap { try? IPv6AddressWithPrefix(IPv6Address($0.ip), prefix: $0.prefixLength) }
            if !ip.enabled {
                if setting.method != .disabled { setting = NMIPv6Setting(method: .disabled) }
            } else if ip.autoconf == true {
                setting.method = .auto
            } else if ip.dhcp == true {
                setting.method = .dhcp
            } else {
                setting.method = addresses.isEmpty ? .linkLocal : .manual
            }
            if ip.enabled { setting.addresses = addresses }
            // A link-local gateway lies in no subnet of the addresses and is valid.
            if let gateway = setting.gateway, !gateway.isLinkLocal, !setting.addresses.contains(where: { $0.contains(gateway) }) {
                setting.gateway = nil
            }
            profile.ipv6 = setting
        }
        if let stp = interface.bridge?.stp {
            // A key at NetworkManager's default is left unset: GetSettings leaves defaults out
            // (bridge.stp true, forward-delay 15 s, ...), so a set default would read back as
            // a change on every run (docs/networkmanager-quirks.md).
            var bridge = profile.bridge ?? NMBridgeSetting()
            // An explicit `true` (a base profile's) means the default and is kept.
            if !stp.enabled { bridge.stp = false } else if bridge.stp == false { bridge.stp = nil }
            if let v = stp.forwardDelay { bridge.forwardDelay = v == 15 ? nil : .seconds(v) }
            if let v = stp.helloTime { bridge.helloTime = v == 2 ? nil : .seconds(v) }
            if let v = stp.maxAge { bridge.maxAge = v == 20 ? nil : .seconds(v) }
            if let v = stp.priority { bridge.priority = v == 32768 ? nil : UInt16(v) }
            profile.bridge = bridge
        }
        if let bond = interface.bond {
            var options = bond.options
            options["mode"] = bond.mode
            var setting = profile.bond ?? NMBondSetting(mode: NMBondMode(rawValue: bond.mode))
            setting.options = options
            profile.bond = setting
        }
        if let vlan = interface.vlan, var setting = profile.vlan {
            setting.parent = vlan.baseInterface
            setting.id = UInt16(vlan.id)
            profile.vlan = setting
        }
        if let vxlan = interface.vxlan, var setting = profile.vxlan {
            // Only the keys given: nmstate's partial-state rule within a setting.
            setting.id = UInt32(vxlan.id)
            if let remote = vxlan.remote { setting.remote = remote }
            if let local = vxlan.local { setting.local = local }
            if vxlan.destinationPort != nil { setting.destinationPort = vxlanPort(vxlan.destinationPort) }
            if let base = vxlan.baseInterface { setting.parent = base }
            profile.vxlan = setting
        }
    }

    /// The slot of an interface that routes or DNS name, taking its host profile if the
    /// state does not name it.
    mutating func slot(named name: String, path: String) throws(NetStateError) -> Int {
        if let slot = index(of: name) { return slot }
        guard profiles(of: name).first != nil else {
            throw NetStateError(path: path, "`\(name)` has no profile on this host and is not in `interfaces`",
                                hint: "add the interface to `interfaces` (with its type), or name another")
        }
        return try profile(for: InterfaceState(name: name), path: path)
    }

    mutating func applyRoutes() throws(NetStateError) {
        for (index, route) in state.routes.enumerated() {
            let path = "routes.config[\(index)]"
            let slot = try slot(named: route.nextHopInterface, path: "\(path).next-hop-interface")
            var profile = touched[slot].profile
            if profile.connection.isPort {
                throw NetStateError(path: "\(path).next-hop-interface", "`\(route.nextHopInterface)` is a port and carries no routes",
                                    hint: "give the route to its controller")
            }
            if let destination = try? IPv4AddressWithPrefix(route.destination) {
                var ip = profile.ipv4 ?? .dhcp
                let hop = route.nextHopAddress.flatMap { try? IPv4Address($0) }
                if destination.prefix == 0 {
                    // nmstate's default route is the profile's gateway.
                    if route.absent { if hop == nil || ip.gateway == hop { ip.gateway = nil } } else { ip.gateway = hop }
                } else if route.absent {
                    ip.routes.removeAll { $0.destination == destination && (hop == nil || $0.nextHop == hop) && (route.metric == nil || $0.metric == route.metric) }
                } else if !ip.routes.contains(where: { $0.destination == destination && $0.nextHop == hop && $0.metric == route.metric }) {
                    ip.routes.append(NMIPRoute(destination: destination, nextHop: hop, metric: route.metric))
                }
                profile.ipv4 = ip
            } else if let destination = try? IPv6AddressWithPrefix(route.destination) {
                var ip = profile.ipv6 ?? .auto
                let hop = route.nextHopAddress.flatMap { try? IPv6Address($0) }
                if destination.prefix == 0 {
                    if route.absent { if hop == nil || ip.gateway == hop { ip.gateway = nil } } else { ip.gateway = hop }
                } else if route.absent {
                    ip.routes.removeAll { $0.destination == destination && (hop == nil || $0.nextHop == hop) && (route.metric == nil || $0.metric == route.metric) }
                } else if !ip.routes.contains(where: { $0.destination == destination && $0.nextHop == hop && $0.metric == route.metric }) {
                    ip.routes.append(NMIPRoute(destination: destination, nextHop: hop, metric: route.metric))
                }
                profile.ipv6 = ip
            }
            touched[slot].profile = profile
        }
    }

    /// DNS goes on one profile, as NetworkManager keeps it per profile: the first interface of
    /// the state with IPv4 enabled and not a port, else the host's active profile that carries
    /// DNS now. The servers and search domains given replace that profile's.
    mutating func applyDNS() throws(NetStateError) {
        guard let dns = state.dns else { return }
        let candidates = touched.indices.filter { slot in
            !touched[slot].profile.connection.isPort && state.interfaces.contains { $0.name == touched[slot].name && $0.ipv4?.enabled == true }
        }
        var target = candidates.first { !(touched[$0].profile.ipv4?.dns.isEmpty ?? true) } ?? candidates.first
        if target == nil {
            let carrier = host.profiles.map(\.profile).first { profile in
                isActive(profile.connection.uuid) && !(profile.ipv4?.dns.isEmpty ?? true)
            }
            if let name = carrier?.connection.interfaceName?.rawValue {
                target = try slot(named: name, path: "dns-resolver.config")
            }
        }
        guard let target else {
            throw NetStateError(path: "dns-resolver.config", "no interface to carry the DNS servers",
                                hint: "NetworkManager keeps DNS per profile: list the interface that should carry it, with `ipv4: {enabled: true, ...}`")
        }
        var profile = touched[target].profile
        var ipv4 = profile.ipv4 ?? .dhcp
        ipv4.dns = dns.servers.compactMap { try? IPv4Address($0) }
        ipv4.dnsSearch = dns.search
        profile.ipv4 = ipv4
        let v6 = dns.servers.compactMap { try? IPv6Address($0) }
        if var ipv6 = profile.ipv6, ipv6.method != .disabled, ipv6.method != .ignore {
            ipv6.dns = v6
            profile.ipv6 = ipv6
        } else if !v6.isEmpty {
            throw NetStateError(path: "dns-resolver.config.server", "IPv6 DNS servers on `\(touched[target].name)`, which has IPv6 disabled",
                                hint: "enable IPv6 on it or give IPv4 servers only")
        }
        touched[target].profile = profile
    }
}

func connectionType(_ kind: InterfaceKind) -> NMConnectionType {
    switch kind {
    case .ethernet: .ethernet
    case .linuxBridge: .bridge
    case .bond: .bond
    case .vlan: .vlan
    case .dummy: .dummy
    case .vxlan: .vxlan
    }
}

/// How long NetworkManager probes a new static IPv4 address for a conflict: its own default
/// from 1.46 (`ipv4.dad-timeout`), written explicitly so that 1.42 probes too.
let conflictProbe: Duration = .milliseconds(200)

/// `destination-port` as the profile keeps it: NetworkManager's default (8472) is left unset,
/// as `GetSettings` leaves it out, so that a rerun compares equal (docs/networkmanager-quirks.md).
func vxlanPort(_ port: Int?) -> UInt16? {
    guard let port, port != Int(NMVXLANSetting.defaultDestinationPort) else { return nil }
    return UInt16(port)
}

extension NMInterfaceName {
    init(checked name: String, path: String) throws(NetStateError) {
        do { try self.init(name) } catch {
            throw NetStateError(path: path, error.message, hint: error.hint ?? "Linux interface names are 1 to 15 bytes")
        }
    }
}
