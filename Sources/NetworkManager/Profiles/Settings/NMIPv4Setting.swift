public import DBus

/// The `ipv4` setting.
///
/// Build one for the intent: ``dhcp``, ``static(addresses:gateway:dns:dnsSearch:routes:)``,
/// ``disabled``. A port (a profile with a controller) carries no `ipv4` setting at all.
public struct NMIPv4Setting: Hashable, Sendable, Codable {
    /// `ipv4.method`.
    public var method: NMIPv4Method
    /// `ipv4.address-data`: the static addresses, in order (the first is the primary).
    public var addresses: [IPv4AddressWithPrefix]
    /// Attributes of individual addresses in `address-data` besides `address` and `prefix`
    /// (such as `label`), kept so they survive a read-modify-write.
    public var addressAttributes: [IPv4AddressWithPrefix: [String: DBusValue]]
    /// `ipv4.gateway`. It must lie in the subnet of one of ``addresses``.
    public var gateway: IPv4Address?
    /// `ipv4.route-data`: static routes.
    public var routes: [NMIPRoute<IPv4Address>]
    /// DNS servers: `ipv4.dns-data` (`as`, NetworkManager 1.42) or the legacy `ipv4.dns`
    /// (`au` of in-memory-order `in_addr_t`) for older daemons.
    public var dns: [IPv4Address]
    /// `ipv4.dns-search`: search domains.
    public var dnsSearch: [String]
    /// `ipv4.may-fail`: whether the profile may activate without IPv4. Default `true`.
    public var mayFail: Bool?
    /// `ipv4.never-default`: never use this connection for the default route. Default `false`.
    public var neverDefault: Bool?
    /// `ipv4.route-metric` (`x`); `nil` (-1) uses the device type's default.
    public var routeMetric: Int64?
    /// `ipv4.dhcp-timeout` (`i`, seconds; 1.2). `nil` uses the global default (45 s);
    /// `Int32.max` seconds waits forever.
    public var dhcpTimeout: Duration?
    /// `ipv4.dad-timeout` (`i`, milliseconds, 0...30000; 1.2): how long duplicate address
    /// detection probes before the addresses are configured. `nil` (-1) uses the global
    /// default, which is on (200 ms) from NetworkManager 1.46 and off before; `.zero` turns it off.
    public var dadTimeout: Duration?
    /// `ipv4.ignore-auto-dns`: ignore DNS servers from DHCP. Default `false`.
    public var ignoreAutoDNS: Bool?
    /// `ipv4.dhcp-client-id`: the DHCP client identifier to send.
    public var dhcpClientID: NMDHCPClientID?
    /// `ipv4.dhcp-hostname`: the host name to send in DHCP requests.
    public var dhcpHostname: String?
    /// Keys this library does not model (`dhcp-iaid`, `dns-options`, `routing-rules`,
    /// `link-local`, ...), sent back exactly as read.
    public var extraKeys: [String: DBusValue]

    public init(method: NMIPv4Method, addresses: [IPv4AddressWithPrefix] = [],
                addressAttributes: [IPv4AddressWithPrefix: [String: DBusValue]] = [:], gateway: IPv4Address? = nil,
                routes: [NMIPRoute<IPv4Address>] = [], dns: [IPv4Address] = [], dnsSearch: [String] = [],
                mayFail: Bool? = nil, neverDefault: Bool? = nil, routeMetric: Int64? = nil, dhcpTimeout: Duration? = nil,
                dadTimeout: Duration? = nil, ignoreAutoDNS: Bool? = nil, dhcpClientID: NMDHCPClientID? = nil, dhcpHostname: String? = nil,
                extraKeys: [String: DBusValue] = [:]) {
        self.method = method
        self.addresses = addresses
        self.addressAttributes = addressAttributes
        self.gateway = gateway
        self.routes = routes
        self.dns = dns
        self.dnsSearch = dnsSearch
        self.mayFail = mayFail
        self.neverDefault = neverDefault
        self.routeMetric = routeMetric
        self.dhcpTimeout = dhcpTimeout
        self.dadTimeout = dadTimeout
        self.ignoreAutoDNS = ignoreAutoDNS
        self.dhcpClientID = dhcpClientID
        self.dhcpHostname = dhcpHostname
        self.extraKeys = extraKeys
    }

    /// IPv4 by DHCP (`ipv4.method auto`).
    public static var dhcp: NMIPv4Setting { NMIPv4Setting(method: .auto) }

    /// IPv4 by DHCP with DHCP options.
    /// - Parameters:
    ///   - clientID: `ipv4.dhcp-client-id`.
    ///   - hostname: `ipv4.dhcp-hostname`.
    ///   - timeout: `ipv4.dhcp-timeout` (whole seconds).
    ///   - ignoreAutoDNS: `ipv4.ignore-auto-dns`.
    ///   - dns: extra static DNS servers.
    public static func dhcp(clientID: NMDHCPClientID? = nil, hostname: String? = nil, timeout: Duration? = nil,
                            ignoreAutoDNS: Bool? = nil, dns: [IPv4Address] = []) -> NMIPv4Setting {
        NMIPv4Setting(method: .auto, dns: dns, dhcpTimeout: timeout, ignoreAutoDNS: ignoreAutoDNS,
                      dhcpClientID: clientID, dhcpHostname: hostname)
    }

    /// Static addresses (`ipv4.method manual`), like
    /// `nmcli ... ipv4.method manual ipv4.addresses 192.168.1.200/24 ipv4.gateway 192.168.1.1 ipv4.dns 114.114.114.114`.
    public static func `static`(addresses: [IPv4AddressWithPrefix], gateway: IPv4Address? = nil,
                                dns: [IPv4Address] = [], dnsSearch: [String] = [],
                                routes: [NMIPRoute<IPv4Address>] = []) -> NMIPv4Setting {
        NMIPv4Setting(method: .manual, addresses: addresses, gateway: gateway, routes: routes, dns: dns,
                      dnsSearch: dnsSearch)
    }

    /// No IPv4 (`ipv4.method disabled`).
    public static var disabled: NMIPv4Setting { NMIPv4Setting(method: .disabled) }

    /// IPv4 link-local only (`ipv4.method link-local`).
    public static var linkLocal: NMIPv4Setting { NMIPv4Setting(method: .linkLocal) }
}
