
/// A host's desired network state in nmstate's schema (the subset in docs/netstate.md):
/// `interfaces`, `routes` and `dns-resolver`. Parse one with ``DesiredState/parse(_:)``
/// (YAML or JSON); turn it into a transaction with ``DesiredState/transaction(on:)``.
///
/// The state is *partial*: only the interfaces it names (and those its routes and DNS name)
/// are touched, and within an interface only the keys it gives; everything else is kept.
public struct DesiredState: Sendable, Hashable, Codable {
    /// `interfaces`.
    public var interfaces: [InterfaceState]
    /// `routes.config`.
    public var routes: [RouteState]
    /// `dns-resolver.config`; `nil` leaves DNS alone.
    public var dns: DNSState?

    public init(interfaces: [InterfaceState] = [], routes: [RouteState] = [], dns: DNSState? = nil) {
        self.interfaces = interfaces
        self.routes = routes
        self.dns = dns
    }

    enum CodingKeys: String, CodingKey {
        case interfaces, routes, dns = "dns-resolver"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(interfaces, forKey: .interfaces)
        if !routes.isEmpty { try container.encode(RoutesWrapper(config: routes), forKey: .routes) }
        if let dns { try container.encode(DNSWrapper(config: dns), forKey: .dns) }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        interfaces = try container.decodeIfPresent([InterfaceState].self, forKey: .interfaces) ?? []
        routes = try container.decodeIfPresent(RoutesWrapper.self, forKey: .routes)?.config ?? []
        dns = try container.decodeIfPresent(DNSWrapper.self, forKey: .dns)?.config
    }

    private struct RoutesWrapper: Codable { var config: [RouteState] }
    private struct DNSWrapper: Codable { var config: DNSState }
}

/// nmstate's `type` of an interface.
public enum InterfaceKind: String, Sendable, Hashable, Codable, CaseIterable {
    case ethernet
    case linuxBridge = "linux-bridge"
    case bond
    case vlan
    case vxlan
    case dummy
}

/// nmstate's `state` of an interface.
public enum InterfaceStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case up, down, absent
}

/// One entry of `interfaces`.
public struct InterfaceState: Sendable, Hashable, Codable {
    /// `name`: the kernel interface name (at most 15 bytes).
    public var name: String
    /// `type`; may be left out for an interface that exists (its type is read) or that is `absent`.
    public var type: InterfaceKind?
    /// `state`; default `up`.
    public var state: InterfaceStatus
    /// `mtu`.
    public var mtu: UInt32?
    /// `mac-address`: for an ethernet interface the profile's binding
    /// (`802-3-ethernet.mac-address`), for a bridge or bond the MAC it takes
    /// (`802-3-ethernet.assigned-mac-address`).
    public var macAddress: String?
    /// `copy-mac-from`: the MAC address the named interface has now (its device's `HwAddress`),
    /// taken as ``macAddress``: a bridge keeps its NIC's DHCP lease by keeping its MAC.
    public var copyMACFrom: String?
    /// `ipv4`; `nil` keeps what the interface has.
    public var ipv4: IPState?
    /// `ipv6`; `nil` keeps what the interface has.
    public var ipv6: IPState?
    /// `bridge` (type `linux-bridge`).
    public var bridge: BridgeState?
    /// `link-aggregation` (type `bond`).
    public var bond: BondState?
    /// `vlan` (type `vlan`).
    public var vlan: VLANState?
    /// `vxlan` (type `vxlan`).
    public var vxlan: VXLANState?

    public init(name: String, type: InterfaceKind? = nil, state: InterfaceStatus = .up, mtu: UInt32? = nil,
                macAddress: String? = nil, ipv4: IPState? = nil, ipv6: IPState? = nil, bridge: BridgeState? = nil,
                bond: BondState? = nil, vlan: VLANState? = nil, vxlan: VXLANState? = nil, copyMACFrom: String? = nil) {
        self.name = name
        self.type = type
        self.state = state
        self.mtu = mtu
        self.macAddress = macAddress
        self.copyMACFrom = copyMACFrom
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.bridge = bridge
        self.bond = bond
        self.vlan = vlan
        self.vxlan = vxlan
    }

    enum CodingKeys: String, CodingKey {
        case name, type, state, mtu, macAddress = "mac-address", copyMACFrom = "copy-mac-from", ipv4, ipv6, bridge
        case bond = "link-aggregation", vlan, vxlan
    }
}

/// `ipv4` / `ipv6` of an interface.
public struct IPState: Sendable, Hashable, Codable {
    /// `enabled`.
    public var enabled: Bool
    /// `dhcp`.
    public var dhcp: Bool?
    /// `autoconf` (IPv6 only: router advertisements, `ipv6.method auto`).
    public var autoconf: Bool?
    /// `address`: static addresses.
    public var addresses: [AddressState]

    public init(enabled: Bool, dhcp: Bool? = nil, autoconf: Bool? = nil, addresses: [AddressState] = []) {
        self.enabled = enabled
        self.dhcp = dhcp
        self.autoconf = autoconf
        self.addresses = addresses
    }

    enum CodingKeys: String, CodingKey { case enabled, dhcp, autoconf, addresses = "address" }
}

/// One entry of `ipv4.address` / `ipv6.address`.
public struct AddressState: Sendable, Hashable, Codable {
    /// `ip`.
    public var ip: String
    /// `prefix-length`.
    public var prefixLength: Int

    public init(ip: String, prefixLength: Int) {
        self.ip = ip
        self.prefixLength = prefixLength
    }

    enum CodingKeys: String, CodingKey { case ip, prefixLength = "prefix-length" }
}

/// `bridge` of a `linux-bridge` interface.
public struct BridgeState: Sendable, Hashable, Codable {
    /// `options.stp`; `nil` keeps what the bridge has (NetworkManager's default is on).
    public var stp: STPState?
    /// `port`: the bridge's ports by name; `nil` leaves the ports alone.
    public var ports: [String]?

    public init(stp: STPState? = nil, ports: [String]? = nil) {
        self.stp = stp
        self.ports = ports
    }

    enum CodingKeys: String, CodingKey { case options, ports = "port" }
    private struct Options: Codable { var stp: STPState? }
    private struct Port: Codable { var name: String }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        if let stp { try container.encode(Options(stp: stp), forKey: .options) }
        if let ports { try container.encode(ports.map { Port(name: $0) }, forKey: .ports) }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        stp = try container.decodeIfPresent(Options.self, forKey: .options)?.stp
        ports = try container.decodeIfPresent([Port].self, forKey: .ports)?.map(\.name)
    }
}

/// `bridge.options.stp`. Timers in seconds, as nmstate writes them.
public struct STPState: Sendable, Hashable, Codable {
    /// `enabled`.
    public var enabled: Bool
    /// `forward-delay` (`bridge.forward-delay`, 2...30).
    public var forwardDelay: Int?
    /// `hello-time` (`bridge.hello-time`, 1...10).
    public var helloTime: Int?
    /// `max-age` (`bridge.max-age`, 6...40).
    public var maxAge: Int?
    /// `priority` (`bridge.priority`).
    public var priority: Int?

    public init(enabled: Bool, forwardDelay: Int? = nil, helloTime: Int? = nil, maxAge: Int? = nil, priority: Int? = nil) {
        self.enabled = enabled
        self.forwardDelay = forwardDelay
        self.helloTime = helloTime
        self.maxAge = maxAge
        self.priority = priority
    }

    enum CodingKeys: String, CodingKey {
        case enabled, forwardDelay = "forward-delay", helloTime = "hello-time", maxAge = "max-age", priority
    }
}

/// `link-aggregation` of a `bond` interface.
public struct BondState: Sendable, Hashable, Codable {
    /// `mode` (`balance-rr`, `active-backup`, ...).
    public var mode: String
    /// `options` (`miimon`, ...), as text.
    public var options: [String: String]
    /// `port`; `nil` leaves the ports alone.
    public var ports: [String]?

    public init(mode: String, options: [String: String] = [:], ports: [String]? = nil) {
        self.mode = mode
        self.options = options
        self.ports = ports
    }

    enum CodingKeys: String, CodingKey { case mode, options, ports = "port" }
}

/// `vlan` of a `vlan` interface.
public struct VLANState: Sendable, Hashable, Codable {
    /// `base-iface`.
    public var baseInterface: String
    /// `id`, 1...4094.
    public var id: Int

    public init(baseInterface: String, id: Int) {
        self.baseInterface = baseInterface
        self.id = id
    }

    enum CodingKeys: String, CodingKey { case baseInterface = "base-iface", id }
}

/// `vxlan` of a `vxlan` interface.
public struct VXLANState: Sendable, Hashable, Codable {
    /// `base-iface`.
    public var baseInterface: String?
    /// `id` (VNI), 0...16777215.
    public var id: Int
    /// `remote`.
    public var remote: String?
    /// `local`.
    public var local: String?
    /// `destination-port`.
    public var destinationPort: Int?

    public init(baseInterface: String? = nil, id: Int, remote: String? = nil, local: String? = nil, destinationPort: Int? = nil) {
        self.baseInterface = baseInterface
        self.id = id
        self.remote = remote
        self.local = local
        self.destinationPort = destinationPort
    }

    enum CodingKeys: String, CodingKey {
        case baseInterface = "base-iface", id, remote, local, destinationPort = "destination-port"
    }
}

/// One entry of `routes.config`.
public struct RouteState: Sendable, Hashable, Codable {
    /// `destination` (`ADDRESS/PREFIX`).
    public var destination: String
    /// `next-hop-interface`: the interface whose profile carries the route.
    public var nextHopInterface: String
    /// `next-hop-address`.
    public var nextHopAddress: String?
    /// `metric`.
    public var metric: UInt32?
    /// `state`: `absent` removes matching routes; absent from the file, the route is wanted.
    public var absent: Bool

    public init(destination: String, nextHopInterface: String, nextHopAddress: String? = nil, metric: UInt32? = nil,
                absent: Bool = false) {
        self.destination = destination
        self.nextHopInterface = nextHopInterface
        self.nextHopAddress = nextHopAddress
        self.metric = metric
        self.absent = absent
    }

    enum CodingKeys: String, CodingKey {
        case destination, nextHopInterface = "next-hop-interface", nextHopAddress = "next-hop-address", metric, state
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(destination, forKey: .destination)
        try container.encode(nextHopInterface, forKey: .nextHopInterface)
        try container.encodeIfPresent(nextHopAddress, forKey: .nextHopAddress)
        try container.encodeIfPresent(metric, forKey: .metric)
        if absent { try container.encode("absent", forKey: .state) }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        destination = try container.decode(String.self, forKey: .destination)
        nextHopInterface = try container.decode(String.self, forKey: .nextHopInterface)
        nextHopAddress = try container.decodeIfPresent(String.self, forKey: .nextHopAddress)
        metric = try container.decodeIfPresent(UInt32.self, forKey: .metric)
        absent = try container.decodeIfPresent(String.self, forKey: .state) == "absent"
    }
}

/// `dns-resolver.config`. Given, it replaces the host's static DNS servers and search domains.
public struct DNSState: Sendable, Hashable, Codable {
    /// `server`.
    public var servers: [String]
    /// `search`.
    public var search: [String]

    public init(servers: [String] = [], search: [String] = []) {
        self.servers = servers
        self.search = search
    }

    enum CodingKeys: String, CodingKey { case servers = "server", search }
}
