public import DBus

/// The `ipv6` setting.
///
/// Build one for the intent: ``auto``, ``dhcp``, ``static(addresses:gateway:dns:dnsSearch:routes:)``,
/// ``disabled``, ``ignore``. A port (a profile with a controller) carries no `ipv6` setting.
public struct NMIPv6Setting: Hashable, Sendable, Codable {
    /// `ipv6.method`.
    public var method: NMIPv6Method
    /// `ipv6.address-data`: the static addresses, in order.
    public var addresses: [IPv6AddressWithPrefix]
    /// Attributes of individual addresses in `address-data` besides `address` and `prefix`.
    public var addressAttributes: [IPv6AddressWithPrefix: [String: DBusValue]]
    /// `ipv6.gateway`. It must lie in the subnet of one of ``addresses`` or be link-local (`fe80::/10`).
    public var gateway: IPv6Address?
    /// `ipv6.route-data`: static routes.
    public var routes: [NMIPRoute<IPv6Address>]
    /// DNS servers: `ipv6.dns-data` (`as`, NetworkManager 1.42) or the legacy `ipv6.dns`
    /// (`aay` of 16-byte addresses) for older daemons.
    public var dns: [IPv6Address]
    /// `ipv6.dns-search`: search domains.
    public var dnsSearch: [String]
    /// `ipv6.may-fail`. Default `true`.
    public var mayFail: Bool?
    /// `ipv6.never-default`. Default `false`.
    public var neverDefault: Bool?
    /// `ipv6.route-metric` (`x`); `nil` (-1) uses the device type's default.
    public var routeMetric: Int64?
    /// `ipv6.dhcp-timeout` (`i`, seconds; 1.2).
    public var dhcpTimeout: Duration?
    /// `ipv6.ignore-auto-dns`. Default `false`.
    public var ignoreAutoDNS: Bool?
    /// `ipv6.dhcp-duid` (1.12): the DHCPv6 DUID (`lease`, `llt`, `ll`, `stable-llt`, ... or hex).
    /// IPv6 has no `dhcp-client-id`; the DUID plays its role.
    public var dhcpDUID: String?
    /// `ipv6.dhcp-hostname`: the host name to send in DHCPv6 requests.
    public var dhcpHostname: String?
    /// Keys this library does not model (`addr-gen-mode`, `ip6-privacy`, `token`, ...), sent
    /// back exactly as read.
    public var extraKeys: [String: DBusValue]

    public init(method: NMIPv6Method, addresses: [IPv6AddressWithPrefix] = [],
                addressAttributes: [IPv6AddressWithPrefix: [String: DBusValue]] = [:], gateway: IPv6Address? = nil,
                routes: [NMIPRoute<IPv6Address>] = [], dns: [IPv6Address] = [], dnsSearch: [String] = [],
                mayFail: Bool? = nil, neverDefault: Bool? = nil, routeMetric: Int64? = nil, dhcpTimeout: Duration? = nil,
                ignoreAutoDNS: Bool? = nil, dhcpDUID: String? = nil, dhcpHostname: String? = nil,
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
        self.ignoreAutoDNS = ignoreAutoDNS
        self.dhcpDUID = dhcpDUID
        self.dhcpHostname = dhcpHostname
        self.extraKeys = extraKeys
    }

    /// SLAAC, with DHCPv6 as the router advertises (`ipv6.method auto`): nmcli's default.
    public static var auto: NMIPv6Setting { NMIPv6Setting(method: .auto) }

    /// DHCPv6 only (`ipv6.method dhcp`).
    public static var dhcp: NMIPv6Setting { NMIPv6Setting(method: .dhcp) }

    /// DHCPv6 only, with DHCP options (`ipv6.dhcp-duid`, `ipv6.dhcp-hostname`, `ipv6.dhcp-timeout`).
    public static func dhcp(duid: String? = nil, hostname: String? = nil, timeout: Duration? = nil) -> NMIPv6Setting {
        NMIPv6Setting(method: .dhcp, dhcpTimeout: timeout, dhcpDUID: duid, dhcpHostname: hostname)
    }

    /// Static addresses (`ipv6.method manual`).
    public static func `static`(addresses: [IPv6AddressWithPrefix], gateway: IPv6Address? = nil,
                                dns: [IPv6Address] = [], dnsSearch: [String] = [],
                                routes: [NMIPRoute<IPv6Address>] = []) -> NMIPv6Setting {
        NMIPv6Setting(method: .manual, addresses: addresses, gateway: gateway, routes: routes, dns: dns,
                      dnsSearch: dnsSearch)
    }

    /// IPv6 switched off on the interface (`ipv6.method disabled`, NetworkManager 1.20).
    public static var disabled: NMIPv6Setting { NMIPv6Setting(method: .disabled) }

    /// NetworkManager leaves IPv6 alone (`ipv6.method ignore`).
    public static var ignore: NMIPv6Setting { NMIPv6Setting(method: .ignore) }

    /// Only a link-local address (`ipv6.method link-local`).
    public static var linkLocal: NMIPv6Setting { NMIPv6Setting(method: .linkLocal) }
}
