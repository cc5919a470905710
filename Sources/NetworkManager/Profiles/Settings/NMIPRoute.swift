public import DBus

/// One static route: an entry of `ipv4.route-data` / `ipv6.route-data` (`aa{sv}`: `dest` s,
/// `prefix` u, `next-hop` s, `metric` u, plus attributes such as `table`, `onlink`, `src`).
public struct NMIPRoute<Address: IPAddressProtocol>: Hashable, Sendable, CustomStringConvertible {
    /// The destination network, such as `10.10.0.0/16`.
    public var destination: IPAddressWithPrefix<Address>
    /// `next-hop`: the gateway; `nil` for an on-link route.
    public var nextHop: Address?
    /// `metric`; `nil` uses the setting's `route-metric` (-1 in libnm).
    public var metric: UInt32?
    /// The route's other attributes (`table`, `onlink`, `src`, `mtu`, ...), sent back exactly as
    /// read, after the typed keys, sorted by name as NetworkManager writes them.
    public var attributes: [String: DBusValue]

    public init(destination: IPAddressWithPrefix<Address>, nextHop: Address? = nil, metric: UInt32? = nil,
                attributes: [String: DBusValue] = [:]) {
        self.destination = destination
        self.nextHop = nextHop
        self.metric = metric
        self.attributes = attributes
    }

    public var description: String {
        var text = destination.description
        if let nextHop { text += " via \(nextHop)" }
        if let metric { text += " metric \(metric)" }
        return text
    }
}

extension NMIPRoute: Codable where Address: Codable {}
