import DBus
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension NMSettingsCodec {
    /// Reads `a{sa{sv}}` into a profile. Version-independent: every form any version writes is read.
    struct Decoder {
        let settings: [String: [String: DBusValue]]

        func decode() throws(NMError) -> NMConnectionProfile {
            var rest = settings
            guard let connectionKeys = rest.removeValue(forKey: "connection") else {
                throw NMError(.invalidSettings, "the settings have no 'connection' setting",
                              hint: "every NetworkManager profile has connection.id, uuid and type")
            }
            // Deprecated per-type interface names, only used when connection.interface-name is missing.
            var fallbackInterface: String?
            for name in ["bridge", "bond", "vlan"] {
                if case .string(let text)? = settings[name]?["interface-name"]?.unwrapped { fallbackInterface = text }
            }
            var profile = NMConnectionProfile(
                connection: try decodeConnection(connectionKeys, fallbackInterface: fallbackInterface))
            if let keys = rest.removeValue(forKey: "802-3-ethernet") { profile.ethernet = try decodeEthernet(keys) }
            if let keys = rest.removeValue(forKey: "bridge") { profile.bridge = try decodeBridge(keys) }
            if let keys = rest.removeValue(forKey: "bridge-port") { profile.bridgePort = try decodeBridgePort(keys) }
            if let keys = rest.removeValue(forKey: "ipv4") { profile.ipv4 = try decodeIPv4(keys) }
            if let keys = rest.removeValue(forKey: "ipv6") { profile.ipv6 = try decodeIPv6(keys) }
            if let keys = rest.removeValue(forKey: "vlan") { profile.vlan = try decodeVLAN(keys) }
            if let keys = rest.removeValue(forKey: "bond") { profile.bond = try decodeBond(keys) }
            if let keys = rest.removeValue(forKey: "vxlan") { profile.vxlan = try NMVXLANSetting(wire: keys) }
            if let keys = rest.removeValue(forKey: "dummy") {
                profile.dummy = NMDummySetting(extraKeys: SettingReader(setting: "dummy", keys: keys).remaining)
            } else if profile.connection.type == .dummy {
                // NetworkManager adds it when normalizing; the model always has it for dummies.
                profile.dummy = NMDummySetting()
            }
            profile.unknownSettings = rest.mapValues { SettingReader(setting: "", keys: $0).remaining }
            return profile
        }

        // MARK: connection

        func decodeConnection(_ keys: [String: DBusValue], fallbackInterface: String?) throws(NMError) -> NMConnectionSetting {
            var reader = SettingReader(setting: "connection", keys: keys)
            let id = try reader.string("id") ?? ""
            let uuidText = try reader.string("uuid") ?? ""
            guard let uuid = UUID(uuidString: uuidText) else {
                throw reader.invalid("uuid", "\"\(uuidText)\" is not a UUID")
            }
            let type = NMConnectionType(rawValue: try reader.string("type") ?? "")
            var interfaceName: NMInterfaceName?
            if let text = reader.remaining["interface-name"].flatMap({ value -> String? in
                if case .string(let s) = value { return s } else { return nil }
            }) {
                // Names the kernel would not take (Open vSwitch allows longer ones) stay verbatim.
                if let name = NMInterfaceName(rawValue: text) {
                    interfaceName = name
                    _ = reader.take("interface-name")
                }
            } else if reader.has("interface-name") {
                _ = try reader.string("interface-name")  // throws the type mismatch
            } else if let fallbackInterface {
                interfaceName = NMInterfaceName(rawValue: fallbackInterface)
            }
            let autoconnect = try reader.bool("autoconnect")
            let priority = try reader.int32("autoconnect-priority")
            // The daemon prefers the legacy names when both are present; so does the reader.
            let master = try reader.string("master")
            let controller = try reader.string("controller")
            let slaveType = try reader.string("slave-type")
            let portType = try reader.string("port-type")
            let autoconnectSlaves = try reader.int32("autoconnect-slaves")
            let autoconnectPorts = try reader.int32("autoconnect-ports")
            let ports: Bool?
            switch autoconnectSlaves ?? autoconnectPorts {
            case 0?: ports = false
            case 1?: ports = true
            default: ports = nil
            }
            let controllerName = (master ?? controller).flatMap { $0.isEmpty ? nil : $0 }
            let portKind = (slaveType ?? portType).flatMap { $0.isEmpty ? nil : NMPortType(rawValue: $0) }
            return NMConnectionSetting(
                id: id, uuid: uuid, type: type, interfaceName: interfaceName, autoconnect: autoconnect,
                autoconnectPriority: priority, controller: controllerName, portType: portKind,
                autoconnectPorts: ports, extraKeys: reader.remaining)
        }

        // MARK: 802-3-ethernet

        func decodeEthernet(_ keys: [String: DBusValue]) throws(NMError) -> NMEthernetSetting {
            var reader = SettingReader(setting: "802-3-ethernet", keys: keys)
            var setting = NMEthernetSetting()
            if let bytes = try reader.bytes("mac-address"), !bytes.isEmpty {
                setting.macAddress = try mac(bytes, key: "mac-address", reader: reader)
            }
            let cloned = try reader.bytes("cloned-mac-address")
            if let assigned = try reader.string("assigned-mac-address") {
                setting.assignedMACAddress = NMAssignedMACAddress(rawValue: assigned)
            } else if let cloned, !cloned.isEmpty {
                setting.assignedMACAddress = .address(try mac(cloned, key: "cloned-mac-address", reader: reader))
            }
            setting.mtu = try reader.uint32("mtu")
            setting.extraKeys = reader.remaining
            return setting
        }

        private func mac(_ bytes: [UInt8], key: String, reader: SettingReader) throws(NMError) -> MACAddress {
            do { return try MACAddress(bytes: bytes) } catch { throw reader.invalid(key, error.message) }
        }

        // MARK: bridge, bridge-port

        func decodeBridge(_ keys: [String: DBusValue]) throws(NMError) -> NMBridgeSetting {
            var reader = SettingReader(setting: "bridge", keys: keys)
            var setting = NMBridgeSetting()
            setting.stp = try reader.bool("stp")
            setting.forwardDelay = try reader.seconds("forward-delay")
            setting.helloTime = try reader.seconds("hello-time")
            setting.maxAge = try reader.seconds("max-age")
            setting.ageingTime = try reader.seconds("ageing-time")
            setting.priority = try reader.uint16(fromU32: "priority")
            setting.multicastSnooping = try reader.bool("multicast-snooping")
            setting.vlanFiltering = try reader.bool("vlan-filtering")
            setting.vlanDefaultPVID = try reader.uint16(fromU32: "vlan-default-pvid")
            setting.groupForwardMask = try reader.uint16(fromU32: "group-forward-mask")
            setting.vlans = try decodeBridgeVLANs(&reader)
            _ = try reader.string("interface-name")  // deprecated copy of connection.interface-name
            setting.extraKeys = reader.remaining
            return setting
        }

        func decodeBridgePort(_ keys: [String: DBusValue]) throws(NMError) -> NMBridgePortSetting {
            var reader = SettingReader(setting: "bridge-port", keys: keys)
            var setting = NMBridgePortSetting()
            setting.priority = try reader.uint16(fromU32: "priority")
            setting.pathCost = try reader.uint32("path-cost")
            setting.hairpinMode = try reader.bool("hairpin-mode")
            setting.vlans = try decodeBridgeVLANs(&reader)
            setting.extraKeys = reader.remaining
            return setting
        }

        private func decodeBridgeVLANs(_ reader: inout SettingReader) throws(NMError) -> [NMBridgeVLAN] {
            guard let entries = try reader.dictionaries("vlans") else { return [] }
            var vlans: [NMBridgeVLAN] = []
            for entry in entries {
                guard case .uint16(let start)? = entry["vid-start"] else {
                    throw reader.invalid("vlans", "an entry has no vid-start (q): \(entry)")
                }
                var end = start
                if case .uint16(let value)? = entry["vid-end"] { end = value }
                guard end >= start else { throw reader.invalid("vlans", "vid-end \(end) is below vid-start \(start)") }
                var pvid = false, untagged = false
                if case .boolean(let value)? = entry["pvid"] { pvid = value }
                if case .boolean(let value)? = entry["untagged"] { untagged = value }
                vlans.append(NMBridgeVLAN(ids: start...end, pvid: pvid, untagged: untagged))
            }
            return vlans
        }

        // MARK: vlan, bond

        func decodeVLAN(_ keys: [String: DBusValue]) throws(NMError) -> NMVLANSetting {
            var reader = SettingReader(setting: "vlan", keys: keys)
            let parent = try reader.string("parent")
            let id = try reader.uint16(fromU32: "id") ?? 0
            let flags = try reader.uint32("flags").map(NMVLANFlags.init(rawValue:))
            _ = try reader.string("interface-name")  // deprecated copy of connection.interface-name
            return NMVLANSetting(parent: parent, id: id, flags: flags, extraKeys: reader.remaining)
        }

        func decodeBond(_ keys: [String: DBusValue]) throws(NMError) -> NMBondSetting {
            var reader = SettingReader(setting: "bond", keys: keys)
            let options = try reader.stringMap("options") ?? [:]
            _ = try reader.string("interface-name")  // deprecated copy of connection.interface-name
            return NMBondSetting(options: options, extraKeys: reader.remaining)
        }

        // MARK: ipv4

        func decodeIPv4(_ keys: [String: DBusValue]) throws(NMError) -> NMIPv4Setting {
            var reader = SettingReader(setting: "ipv4", keys: keys)
            var setting = NMIPv4Setting(method: NMIPv4Method(rawValue: try reader.string("method") ?? "auto"))
            var legacyGateway: IPv4Address?
            let legacyAddresses = try reader.records("addresses", signature: "aau")
            if let data = try reader.dictionaries("address-data") {
                (setting.addresses, setting.addressAttributes) = try decodeAddressData(data, key: "address-data", reader: reader)
            } else if let legacyAddresses {
                // [address, prefix, gateway], each address an in_addr_t.
                for record in legacyAddresses {
                    guard record.count >= 2, case .uint32(let addr) = record[0], case .uint32(let prefix) = record[1] else {
                        throw reader.invalid("addresses", "an entry is not [address, prefix, gateway]")
                    }
                    setting.addresses.append(try withPrefix(IPv4Address(inAddr: addr), Int(prefix), key: "addresses", reader: reader))
                    if legacyGateway == nil, record.count >= 3, case .uint32(let gw) = record[2], gw != 0 {
                        legacyGateway = IPv4Address(inAddr: gw)
                    }
                }
            }
            if let gateway = try reader.string("gateway"), !gateway.isEmpty {
                setting.gateway = try address(gateway, key: "gateway", reader: reader)
            } else {
                setting.gateway = legacyGateway
            }
            let legacyRoutes = try reader.records("routes", signature: "aau")
            if let data = try reader.dictionaries("route-data") {
                setting.routes = try decodeRouteData(data, reader: reader)
            } else if let legacyRoutes {
                // [dest, prefix, next-hop, metric], addresses as in_addr_t.
                for record in legacyRoutes {
                    guard record.count == 4, case .uint32(let dest) = record[0], case .uint32(let prefix) = record[1],
                          case .uint32(let hop) = record[2], case .uint32(let metric) = record[3] else {
                        throw reader.invalid("routes", "an entry is not [dest, prefix, next-hop, metric]")
                    }
                    setting.routes.append(NMIPRoute(
                        destination: try withPrefix(IPv4Address(inAddr: dest), Int(prefix), key: "routes", reader: reader),
                        nextHop: hop == 0 ? nil : IPv4Address(inAddr: hop), metric: metric == 0 ? nil : metric))
                }
            }
            let legacyDNS = try reader.uint32s("dns")
            if let data = reader.remaining["dns-data"] {
                if let servers = try parseDNSData(data, key: "dns-data", reader: reader, as: IPv4Address.self) {
                    setting.dns = servers
                    _ = reader.take("dns-data")
                }
                // Otherwise (a server with "#name" or "%iface" text) dns-data stays verbatim in extraKeys.
            } else if let legacyDNS {
                setting.dns = legacyDNS.map(IPv4Address.init(inAddr:))
            }
            setting.dnsSearch = try reader.strings("dns-search") ?? []
            setting.mayFail = try reader.bool("may-fail")
            setting.neverDefault = try reader.bool("never-default")
            setting.routeMetric = try reader.int64("route-metric")
            setting.dhcpTimeout = try reader.int32("dhcp-timeout").map { .seconds(Int64($0)) }
            // -1 is "the global default", as absent.
            setting.dadTimeout = try reader.int32("dad-timeout").flatMap { $0 < 0 ? nil : .milliseconds(Int64($0)) }
            setting.ignoreAutoDNS = try reader.bool("ignore-auto-dns")
            setting.dhcpClientID = try reader.string("dhcp-client-id").map(NMDHCPClientID.init(rawValue:))
            setting.dhcpHostname = try reader.string("dhcp-hostname")
            setting.extraKeys = reader.remaining
            return setting
        }

        // MARK: ipv6

        func decodeIPv6(_ keys: [String: DBusValue]) throws(NMError) -> NMIPv6Setting {
            var reader = SettingReader(setting: "ipv6", keys: keys)
            var setting = NMIPv6Setting(method: NMIPv6Method(rawValue: try reader.string("method") ?? "auto"))
            var legacyGateway: IPv6Address?
            let legacyAddresses = try reader.records("addresses", signature: "a(ayuay)")
            if let data = try reader.dictionaries("address-data") {
                (setting.addresses, setting.addressAttributes) = try decodeAddressData(data, key: "address-data", reader: reader)
            } else if let legacyAddresses {
                for record in legacyAddresses {
                    guard record.count == 3, case .uint32(let prefix) = record[1] else {
                        throw reader.invalid("addresses", "an entry is not (address, prefix, gateway)")
                    }
                    let addr = try v6(SettingReader.bytes(record[0], key: "addresses", reader: reader), key: "addresses", reader: reader)
                    setting.addresses.append(try withPrefix(addr, Int(prefix), key: "addresses", reader: reader))
                    let gw = try v6(SettingReader.bytes(record[2], key: "addresses", reader: reader), key: "addresses", reader: reader)
                    if legacyGateway == nil, gw != IPv6Address(high: 0, low: 0) { legacyGateway = gw }
                }
            }
            if let gateway = try reader.string("gateway"), !gateway.isEmpty {
                setting.gateway = try address(gateway, key: "gateway", reader: reader)
            } else {
                setting.gateway = legacyGateway
            }
            let legacyRoutes = try reader.records("routes", signature: "a(ayuayu)")
            if let data = try reader.dictionaries("route-data") {
                setting.routes = try decodeRouteData(data, reader: reader)
            } else if let legacyRoutes {
                for record in legacyRoutes {
                    guard record.count == 4, case .uint32(let prefix) = record[1], case .uint32(let metric) = record[3] else {
                        throw reader.invalid("routes", "an entry is not (dest, prefix, next-hop, metric)")
                    }
                    let dest = try v6(SettingReader.bytes(record[0], key: "routes", reader: reader), key: "routes", reader: reader)
                    let hop = try v6(SettingReader.bytes(record[2], key: "routes", reader: reader), key: "routes", reader: reader)
                    setting.routes.append(NMIPRoute(
                        destination: try withPrefix(dest, Int(prefix), key: "routes", reader: reader),
                        nextHop: hop == IPv6Address(high: 0, low: 0) ? nil : hop, metric: metric == 0 ? nil : metric))
                }
            }
            let legacyDNS = try reader.records("dns", signature: "aay")
            if let data = reader.remaining["dns-data"] {
                if let servers = try parseDNSData(data, key: "dns-data", reader: reader, as: IPv6Address.self) {
                    setting.dns = servers
                    _ = reader.take("dns-data")
                }
            } else if let legacyDNS {
                for record in legacyDNS {
                    let bytes = record.compactMap { value -> UInt8? in if case .byte(let b) = value { return b } else { return nil } }
                    setting.dns.append(try v6(bytes, key: "dns", reader: reader))
                }
            }
            setting.dnsSearch = try reader.strings("dns-search") ?? []
            setting.mayFail = try reader.bool("may-fail")
            setting.neverDefault = try reader.bool("never-default")
            setting.routeMetric = try reader.int64("route-metric")
            setting.dhcpTimeout = try reader.int32("dhcp-timeout").map { .seconds(Int64($0)) }
            setting.ignoreAutoDNS = try reader.bool("ignore-auto-dns")
            setting.dhcpDUID = try reader.string("dhcp-duid")
            setting.dhcpHostname = try reader.string("dhcp-hostname")
            setting.extraKeys = reader.remaining
            return setting
        }

        // MARK: shared IP helpers

        private func address<A: IPAddressProtocol>(_ text: String, key: String, reader: SettingReader) throws(NMError) -> A {
            do { return try A(text) } catch { throw reader.invalid(key, error.message) }
        }

        private func v6(_ bytes: [UInt8], key: String, reader: SettingReader) throws(NMError) -> IPv6Address {
            do { return try IPv6Address(bytes: bytes) } catch { throw reader.invalid(key, error.message) }
        }

        private func withPrefix<A>(_ address: A, _ prefix: Int, key: String,
                                   reader: SettingReader) throws(NMError) -> IPAddressWithPrefix<A> {
            do { return try IPAddressWithPrefix(address, prefix: prefix) } catch { throw reader.invalid(key, error.message) }
        }

        private func decodeAddressData<A>(_ data: [[String: DBusValue]], key: String, reader: SettingReader)
            throws(NMError) -> ([IPAddressWithPrefix<A>], [IPAddressWithPrefix<A>: [String: DBusValue]]) {
            var addresses: [IPAddressWithPrefix<A>] = []
            var attributes: [IPAddressWithPrefix<A>: [String: DBusValue]] = [:]
            for var entry in data {
                guard case .string(let text)? = entry.removeValue(forKey: "address"),
                      case .uint32(let prefix)? = entry.removeValue(forKey: "prefix") else {
                    throw reader.invalid(key, "an entry lacks address (s) or prefix (u)")
                }
                let value = try withPrefix(try address(text, key: key, reader: reader) as A, Int(prefix), key: key, reader: reader)
                addresses.append(value)
                if !entry.isEmpty { attributes[value] = entry }
            }
            return (addresses, attributes)
        }

        private func decodeRouteData<A>(_ data: [[String: DBusValue]], reader: SettingReader) throws(NMError) -> [NMIPRoute<A>] {
            var routes: [NMIPRoute<A>] = []
            for var entry in data {
                guard case .string(let dest)? = entry.removeValue(forKey: "dest"),
                      case .uint32(let prefix)? = entry.removeValue(forKey: "prefix") else {
                    throw reader.invalid("route-data", "an entry lacks dest (s) or prefix (u)")
                }
                var route = NMIPRoute<A>(
                    destination: try withPrefix(try address(dest, key: "route-data", reader: reader) as A, Int(prefix),
                                                key: "route-data", reader: reader))
                if let hop = entry.removeValue(forKey: "next-hop") {
                    guard case .string(let text) = hop else { throw reader.mismatch("route-data.next-hop", "s", hop) }
                    route.nextHop = try address(text, key: "route-data", reader: reader) as A
                }
                if let metric = entry.removeValue(forKey: "metric") {
                    guard case .uint32(let value) = metric else { throw reader.mismatch("route-data.metric", "u", metric) }
                    route.metric = value
                }
                route.attributes = entry
                routes.append(route)
            }
            return routes
        }

        /// The servers of a `dns-data` list, or `nil` when one of them is more than a plain
        /// address (`192.0.2.53#dns.example`, `fe80::1%eth0`): those are kept verbatim.
        private func parseDNSData<A: IPAddressProtocol>(_ value: DBusValue, key: String, reader: SettingReader,
                                                        as: A.Type) throws(NMError) -> [A]? {
            guard case .array(.string, let items) = value else { throw reader.mismatch(key, "as", value) }
            var out: [A] = []
            for item in items {
                guard case .string(let text) = item, let server = try? A(text), server.description == text else { return nil }
                out.append(server)
            }
            return out
        }
    }
}
