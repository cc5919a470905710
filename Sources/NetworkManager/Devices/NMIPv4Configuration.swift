public import DBus

/// The IPv4 configuration a device has now, as NetworkManager reads it from the kernel
/// (`org.freedesktop.NetworkManager.IP4Config`).
public struct NMIPv4Configuration: Sendable, Hashable, Codable {
    /// `AddressData`.
    public var addresses: [IPv4AddressWithPrefix]
    /// `Gateway`.
    public var gateway: IPv4Address?
    /// `NameserverData` (1.14) or `Nameservers`.
    public var dnsServers: [IPv4Address]
    /// `RouteData`: the routes NetworkManager configured on the device and reads back from the
    /// kernel (the prefix route and the default route included).
    public var routes: [NMIPRoute<IPv4Address>] = []
}

extension NMClient {
    /// The IPv4 configuration of `device` now: empty when it has none.
    ///
    /// The corresponding D-Bus properties are `org.freedesktop.NetworkManager.Device.Ip4Config`
    /// and the `org.freedesktop.NetworkManager.IP4Config` object's.
    public func ipv4Configuration(of device: ObjectPath) async throws(NMError) -> NMIPv4Configuration {
        return try await NMError.boundary {
        let path: ObjectPath = try await nmProperty(device, Self.deviceInterface, "Ip4Config")
        guard path != .root else { return NMIPv4Configuration(addresses: [], gateway: nil, dnsServers: []) }
        return NMIPv4Configuration(properties: try await nmProperties(path, Self.ip4ConfigInterface))
    }
    }

    static let ip4ConfigInterface: InterfaceName = "org.freedesktop.NetworkManager.IP4Config"
}

extension NMIPv4Configuration {
    /// From the properties of an `org.freedesktop.NetworkManager.IP4Config` object.
    init(properties p: [String: DBusValue]) {
        var addresses: [IPv4AddressWithPrefix] = []
        for entry in (try? p["AddressData"]?.decode([[String: DBusVariant]].self)) ?? [] {
            if let text = try? entry["address"]?.decode(String.self), let prefix = try? entry["prefix"]?.decode(UInt32.self),
                let address = try? IPv4AddressWithPrefix("\(text)/\(prefix)")
            {
                addresses.append(address)
            }
        }
        let gatewayText = (try? p["Gateway"]?.decode(String.self)) ?? ""
        var dns: [IPv4Address] = []
        for entry in (try? p["NameserverData"]?.decode([[String: DBusVariant]].self)) ?? [] {
            if let text = try? entry["address"]?.decode(String.self), let address = try? IPv4Address(text) { dns.append(address) }
        }
        var routes: [NMIPRoute<IPv4Address>] = []
        for entry in (try? p["RouteData"]?.decode([[String: DBusVariant]].self)) ?? [] {
            guard let dest = try? entry["dest"]?.decode(String.self), let prefix = try? entry["prefix"]?.decode(UInt32.self),
                let destination = try? IPv4AddressWithPrefix("\(dest)/\(prefix)")
            else { continue }
            let nextHop = (try? entry["next-hop"]?.decode(String.self)).flatMap { try? IPv4Address($0) }
            routes.append(NMIPRoute(destination: destination, nextHop: nextHop, metric: try? entry["metric"]?.decode(UInt32.self)))
        }
        self.init(addresses: addresses, gateway: gatewayText.isEmpty ? nil : try? IPv4Address(gatewayText), dnsServers: dns, routes: routes)
    }
}
