import DBus
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension NMSettingsCodec {
    /// Writes a profile as `a{sa{sv}}` for one NetworkManager version.
    struct Encoder {
        let version: NMVersion
        /// Off only for descriptions, which show every key whatever the version.
        let checkVersions: Bool
        var output: [String: [String: DBusValue]] = [:]

        init(version: NMVersion, checkVersions: Bool) {
            self.version = version
            self.checkVersions = checkVersions
        }

        /// The daemon must know `setting.key` unless `isEmpty` (then the key is left out).
        /// Returns whether to write the key.
        private func allowed(_ setting: String, _ key: String, isEmpty: Bool) throws(NMError) -> Bool {
            guard checkVersions, let since = NMSettingsCodec.since(setting: setting, key: key), version < since else {
                return true
            }
            if isEmpty { return false }
            throw NMError.lacks("\(setting).\(key)", version: version, since: since)
        }

        private mutating func put(_ setting: String, _ key: String, _ value: DBusValue?, isEmpty: Bool = false) throws(NMError) {
            guard let value else { return }
            guard try allowed(setting, key, isEmpty: isEmpty) else { return }
            output[setting, default: [:]][key] = value
        }

        /// Extra keys go after the typed ones and never replace them.
        private mutating func putExtras(_ setting: String, _ extras: [String: DBusValue]) throws(NMError) {
            for (key, value) in extras where output[setting]?[key] == nil {
                try put(setting, key, value, isEmpty: Self.isEmptyContainer(value))
            }
        }

        /// Starts `setting` in the output; returns `false` (and writes nothing) when the daemon
        /// lacks the setting and it is empty.
        @discardableResult
        private mutating func begin(_ setting: String, isEmpty: Bool = false) throws(NMError) -> Bool {
            if checkVersions, let since = NMSettingsCodec.since(setting: setting), version < since {
                if isEmpty { return false }
                throw NMError.lacks("the '\(setting)' setting", version: version, since: since)
            }
            if output[setting] == nil { output[setting] = [:] }
            return true
        }

        mutating func encode(_ profile: NMConnectionProfile) throws(NMError) -> [String: [String: DBusValue]] {
            try encodeConnection(profile.connection)
            if let ethernet = profile.ethernet { try encodeEthernet(ethernet) }
            if let bridge = profile.bridge { try encodeBridge(bridge) }
            if let port = profile.bridgePort { try encodeBridgePort(port) }
            if let ipv4 = profile.ipv4 { try encodeIPv4(ipv4) }
            if let ipv6 = profile.ipv6 { try encodeIPv6(ipv6) }
            if let vlan = profile.vlan { try encodeVLAN(vlan) }
            if let bond = profile.bond { try encodeBond(bond) }
            if let vxlan = profile.vxlan {
                try begin("vxlan")
                for entry in vxlan.wireKeys { try put("vxlan", entry.key, entry.value) }
                try putExtras("vxlan", vxlan.extraKeys)
            }
            if let dummy = profile.dummy {
                try begin("dummy")
                try putExtras("dummy", dummy.extraKeys)
            }
            for (name, keys) in profile.unknownSettings {
                // An empty setting (NM 1.42 sends "proxy": {} with every profile) is not needed
                // by an older daemon that lacks it.
                guard try begin(name, isEmpty: keys.isEmpty) else { continue }
                try putExtras(name, keys)
            }
            return output
        }

        // MARK: connection

        mutating func encodeConnection(_ c: NMConnectionSetting) throws(NMError) {
            let s = "connection"
            try begin(s)
            if checkVersions, c.type == .dummy, version < NMVersion(1, 8) {
                throw NMError.lacks("dummy profiles", version: version, since: NMVersion(1, 8))
            }
            try put(s, "id", .string(c.id))
            try put(s, "uuid", .string(c.uuid.uuidString.lowercased()))
            try put(s, "type", .string(c.type.rawValue))
            try put(s, "interface-name", c.interfaceName.map { .string($0.rawValue) })
            try put(s, "autoconnect", c.autoconnect.map(DBusValue.boolean))
            try put(s, "autoconnect-priority", c.autoconnectPriority.map(DBusValue.int32))
            // Legacy names on purpose: every version reads them, the daemon prefers them, and
            // GetSettings only returns them (see NMConnectionSetting.controller).
            try put(s, "master", c.controller.map(DBusValue.string))
            try put(s, "slave-type", c.portType.map { .string($0.rawValue) })
            try put(s, "autoconnect-slaves", c.autoconnectPorts.map { .int32($0 ? 1 : 0) })
            try putExtras(s, c.extraKeys)
        }

        // MARK: 802-3-ethernet

        mutating func encodeEthernet(_ e: NMEthernetSetting) throws(NMError) {
            let s = "802-3-ethernet"
            try begin(s)
            try put(s, "mac-address", e.macAddress.map { Self.bytes($0.bytes) })
            try put(s, "assigned-mac-address", e.assignedMACAddress.map { .string($0.rawValue) })
            try put(s, "mtu", e.mtu.map(DBusValue.uint32))
            try putExtras(s, e.extraKeys)
        }

        // MARK: bridge, bridge-port

        mutating func encodeBridge(_ b: NMBridgeSetting) throws(NMError) {
            let s = "bridge"
            try begin(s)
            try put(s, "stp", b.stp.map(DBusValue.boolean))
            try put(s, "forward-delay", try seconds(b.forwardDelay, key: "bridge.forward-delay"))
            try put(s, "hello-time", try seconds(b.helloTime, key: "bridge.hello-time"))
            try put(s, "max-age", try seconds(b.maxAge, key: "bridge.max-age"))
            try put(s, "ageing-time", try seconds(b.ageingTime, key: "bridge.ageing-time"))
            try put(s, "priority", b.priority.map { .uint32(UInt32($0)) })
            try put(s, "multicast-snooping", b.multicastSnooping.map(DBusValue.boolean))
            try put(s, "vlan-filtering", b.vlanFiltering.map(DBusValue.boolean), isEmpty: b.vlanFiltering == false)
            try put(s, "vlan-default-pvid", b.vlanDefaultPVID.map { .uint32(UInt32($0)) })
            try put(s, "group-forward-mask", b.groupForwardMask.map { .uint32(UInt32($0)) }, isEmpty: b.groupForwardMask == 0)
            try put(s, "vlans", Self.vlans(b.vlans), isEmpty: b.vlans.isEmpty)
            try putExtras(s, b.extraKeys)
        }

        mutating func encodeBridgePort(_ p: NMBridgePortSetting) throws(NMError) {
            let s = "bridge-port"
            try begin(s)
            try put(s, "priority", p.priority.map { .uint32(UInt32($0)) })
            try put(s, "path-cost", p.pathCost.map(DBusValue.uint32))
            try put(s, "hairpin-mode", p.hairpinMode.map(DBusValue.boolean))
            try put(s, "vlans", Self.vlans(p.vlans), isEmpty: p.vlans.isEmpty)
            try putExtras(s, p.extraKeys)
        }

        /// `aa{sv}` in NetworkManager's key order: vid-start, vid-end, pvid, untagged.
        static func vlans(_ vlans: [NMBridgeVLAN]) -> DBusValue {
            .array(.dictionary(key: .string, value: .variant), vlans.map { vlan in
                entries([("vid-start", .uint16(vlan.ids.lowerBound)), ("vid-end", .uint16(vlan.ids.upperBound)),
                         ("pvid", .boolean(vlan.pvid)), ("untagged", .boolean(vlan.untagged))], attributes: [:])
            })
        }

        // MARK: vlan, bond

        mutating func encodeVLAN(_ v: NMVLANSetting) throws(NMError) {
            let s = "vlan"
            try begin(s)
            try put(s, "parent", v.parent.map(DBusValue.string))
            try put(s, "id", .uint32(UInt32(v.id)))
            try put(s, "flags", v.flags.map { .uint32($0.rawValue) })
            try putExtras(s, v.extraKeys)
        }

        mutating func encodeBond(_ b: NMBondSetting) throws(NMError) {
            let s = "bond"
            try begin(s)
            try put(s, "options", .dictionary(key: .string, value: .string, b.options.keys.sorted().map {
                DBusValue.DictionaryEntry(.string($0), .string(b.options[$0]!))
            }))
            try putExtras(s, b.extraKeys)
        }

        // MARK: ipv4, ipv6

        mutating func encodeIPv4(_ ip: NMIPv4Setting) throws(NMError) {
            let s = "ipv4"
            try begin(s)
            try put(s, "method", .string(ip.method.rawValue))
            try put(s, "address-data", Self.addressData(ip.addresses, attributes: ip.addressAttributes))
            try put(s, "gateway", ip.gateway.map { .string($0.description) })
            try put(s, "route-data", Self.routeData(ip.routes))
            if !ip.dns.isEmpty {
                if !checkVersions || supportsDNSData {
                    try put(s, "dns-data", .array(.string, ip.dns.map { .string($0.description) }))
                } else {
                    // in_addr_t values: the octets in memory order (docs/networkmanager-quirks.md).
                    try put(s, "dns", .array(.uint32, ip.dns.map { .uint32($0.inAddr) }))
                }
            }
            try put(s, "dns-search", .array(.string, ip.dnsSearch.map(DBusValue.string)))
            try put(s, "may-fail", ip.mayFail.map(DBusValue.boolean))
            try put(s, "never-default", ip.neverDefault.map(DBusValue.boolean))
            try put(s, "route-metric", ip.routeMetric.map(DBusValue.int64))
            try put(s, "dhcp-timeout", try timeout(ip.dhcpTimeout, key: "ipv4.dhcp-timeout"))
            try put(s, "dad-timeout", try milliseconds(ip.dadTimeout, key: "ipv4.dad-timeout", range: 0...30000))
            try put(s, "ignore-auto-dns", ip.ignoreAutoDNS.map(DBusValue.boolean))
            try put(s, "dhcp-client-id", ip.dhcpClientID.map { .string($0.rawValue) })
            try put(s, "dhcp-hostname", ip.dhcpHostname.map(DBusValue.string))
            try putExtras(s, ip.extraKeys)
        }

        mutating func encodeIPv6(_ ip: NMIPv6Setting) throws(NMError) {
            let s = "ipv6"
            try begin(s)
            if checkVersions, let since = NMSettingsCodec.valueSince["ipv6.method=\(ip.method.rawValue)"], version < since {
                throw NMError.lacks("ipv6.method '\(ip.method.rawValue)'", version: version, since: since)
            }
            try put(s, "method", .string(ip.method.rawValue))
            try put(s, "address-data", Self.addressData(ip.addresses, attributes: ip.addressAttributes))
            try put(s, "gateway", ip.gateway.map { .string($0.description) })
            try put(s, "route-data", Self.routeData(ip.routes))
            if !ip.dns.isEmpty {
                if !checkVersions || supportsDNSData {
                    try put(s, "dns-data", .array(.string, ip.dns.map { .string($0.description) }))
                } else {
                    try put(s, "dns", .array(.array(.byte), ip.dns.map { Self.bytes($0.bytes) }))
                }
            }
            try put(s, "dns-search", .array(.string, ip.dnsSearch.map(DBusValue.string)))
            try put(s, "may-fail", ip.mayFail.map(DBusValue.boolean))
            try put(s, "never-default", ip.neverDefault.map(DBusValue.boolean))
            try put(s, "route-metric", ip.routeMetric.map(DBusValue.int64))
            try put(s, "dhcp-timeout", try timeout(ip.dhcpTimeout, key: "ipv6.dhcp-timeout"))
            try put(s, "ignore-auto-dns", ip.ignoreAutoDNS.map(DBusValue.boolean))
            try put(s, "dhcp-duid", ip.dhcpDUID.map(DBusValue.string))
            try put(s, "dhcp-hostname", ip.dhcpHostname.map(DBusValue.string))
            try putExtras(s, ip.extraKeys)
        }

        private var supportsDNSData: Bool { version >= NMSettingsCodec.since(setting: "ipv4", key: "dns-data")! }

        /// `aa{sv}`: address, prefix, then the other attributes sorted by name (NetworkManager's order).
        static func addressData<A>(_ addresses: [IPAddressWithPrefix<A>],
                                   attributes: [IPAddressWithPrefix<A>: [String: DBusValue]]) -> DBusValue {
            .array(.dictionary(key: .string, value: .variant), addresses.map { entry in
                entries([("address", .string(entry.address.description)), ("prefix", .uint32(UInt32(entry.prefix)))],
                        attributes: attributes[entry] ?? [:])
            })
        }

        /// `aa{sv}`: dest, prefix, next-hop, metric, then the attributes sorted by name.
        static func routeData<A>(_ routes: [NMIPRoute<A>]) -> DBusValue {
            .array(.dictionary(key: .string, value: .variant), routes.map { route in
                var typed: [(String, DBusValue)] = [("dest", .string(route.destination.address.description)),
                                                    ("prefix", .uint32(UInt32(route.destination.prefix)))]
                if let hop = route.nextHop { typed.append(("next-hop", .string(hop.description))) }
                if let metric = route.metric { typed.append(("metric", .uint32(metric))) }
                return entries(typed, attributes: route.attributes)
            })
        }

        static func entries(_ typed: [(String, DBusValue)], attributes: [String: DBusValue]) -> DBusValue {
            let names = Set(typed.map(\.0))
            let all = typed + attributes.keys.sorted().filter { !names.contains($0) }.map { ($0, attributes[$0]!) }
            return .dictionary(key: .string, value: .variant, all.map { name, value in
                if case .variant = value { return DBusValue.DictionaryEntry(.string(name), value) }
                return DBusValue.DictionaryEntry(.string(name), .variant(value))
            })
        }

        static func isEmptyContainer(_ value: DBusValue) -> Bool {
            switch value {
            case .array(_, let items): return items.isEmpty
            case .dictionary(_, _, let entries): return entries.isEmpty
            default: return false
            }
        }

        static func bytes(_ bytes: [UInt8]) -> DBusValue { .array(.byte, bytes.map(DBusValue.byte)) }

        private func seconds(_ duration: Duration?, key: String) throws(NMError) -> DBusValue? {
            guard let duration else { return nil }
            return .uint32(UInt32(try NMConnectionProfile.wholeSeconds(duration, key: key, range: 0...Int64(UInt32.max))))
        }

        private func milliseconds(_ duration: Duration?, key: String, range: ClosedRange<Int64>) throws(NMError) -> DBusValue? {
            guard let duration else { return nil }
            return .int32(Int32(try NMConnectionProfile.wholeMilliseconds(duration, key: key, range: range)))
        }

        private func timeout(_ duration: Duration?, key: String) throws(NMError) -> DBusValue? {
            guard let duration else { return nil }
            return .int32(Int32(try NMConnectionProfile.wholeSeconds(duration, key: key, range: 0...Int64(Int32.max))))
        }
    }
}
