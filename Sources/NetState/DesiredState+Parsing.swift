internal import Yams
internal import NetworkManager

extension DesiredState {
    /// Parses a desired state from YAML or JSON text (JSON is read as YAML's flow form), strictly:
    /// a key outside the supported subset or a value of the wrong type is an error naming its
    /// path, never ignored; then the state is checked with ``validate()``.
    /// - Throws: ``NetStateError``.
    public static func parse(_ text: String) throws(NetStateError) -> DesiredState {
        let root: Any?
        do {
            root = try Yams.load(yaml: text, yaml12Resolver)
        } catch {
            throw NetStateError(path: "", "not valid YAML or JSON: \(error)",
                                hint: "check the indentation and quoting near the place named")
        }
        guard let root else {
            throw NetStateError(path: "", "the document is empty", hint: "give at least `interfaces: []`")
        }
        var reader = Reader()
        let state = try reader.document(root)
        try state.validate()
        return state
    }
}

/// YAML 1.2's core schema, as nmstate's reader (serde_yaml) has it, rather than Yams' YAML 1.1
/// default: unquoted `52:54:00:12:34:56` is a string (1.1 reads a base-60 integer), `yes`/`on`
/// are strings (so `enabled: yes` is refused, as nmstate refuses it), no timestamps.
private let yaml12Resolver: Resolver = {
    // The patterns are constants: a failure here is a programming error.
    // swiftlint:disable force_try
    try! Resolver.basic
        .appending(.null, "^(?:~|null|Null|NULL|)$")
        .appending(.bool, "^(?:true|True|TRUE|false|False|FALSE)$")
        .appending(.int, "^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
        .appending(.float, "^(?:[-+]?(?:\\.[0-9]+|[0-9]+(?:\\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN))$")
    // swiftlint:enable force_try
}()

/// A strict reader of the generic tree Yams gives, tracking the path of each value.
private struct Reader {
    func map(_ value: Any, _ path: String, allowed: [String]) throws(NetStateError) -> [String: Any] {
        guard let dict = value as? [AnyHashable: Any] else {
            throw NetStateError(path: path, "expected a mapping, found \(describe(value))",
                                hint: "write the keys \(allowed.joined(separator: ", ")) under it")
        }
        var result: [String: Any] = [:]
        for (key, child) in dict {
            let name = "\(key)"
            guard allowed.contains(name) else {
                let near = allowed.min { distance($0, name) < distance($1, name) }
                let suggestion = near.map { distance($0, name) <= 2 ? "did you mean `\($0)`? " : "" } ?? ""
                throw NetStateError(path: join(path, name), "unknown key `\(name)`",
                                    hint: "\(suggestion)supported here: \(allowed.joined(separator: ", ")) (docs/netstate.md)")
            }
            result[name] = child
        }
        return result
    }

    func list(_ value: Any, _ path: String) throws(NetStateError) -> [Any] {
        guard let array = value as? [Any] else {
            throw NetStateError(path: path, "expected a list, found \(describe(value))", hint: "write it as a YAML list (`- ...`)")
        }
        return array
    }

    func string(_ value: Any, _ path: String) throws(NetStateError) -> String {
        guard let text = value as? String else {
            throw NetStateError(path: path, "expected a string, found \(describe(value))", hint: "quote the value")
        }
        return text
    }

    func int(_ value: Any, _ path: String) throws(NetStateError) -> Int {
        guard !(value is Bool), let number = value as? Int else {
            throw NetStateError(path: path, "expected an integer, found \(describe(value))", hint: "write a whole number without quotes")
        }
        return number
    }

    func bool(_ value: Any, _ path: String) throws(NetStateError) -> Bool {
        guard let flag = value as? Bool else {
            throw NetStateError(path: path, "expected true or false, found \(describe(value))", hint: "write true or false without quotes")
        }
        return flag
    }

    func strings(_ value: Any, _ path: String) throws(NetStateError) -> [String] {
        var result: [String] = []
        for (index, item) in try list(value, path).enumerated() { result.append(try string(item, "\(path)[\(index)]")) }
        return result
    }

    func enumValue<E: RawRepresentable & CaseIterable>(_ value: Any, _ path: String, _: E.Type) throws(NetStateError) -> E
    where E.RawValue == String {
        let text = try string(value, path)
        guard let result = E(rawValue: text) else {
            throw NetStateError(path: path, "`\(text)` is not supported",
                                hint: "one of: \(E.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return result
    }

    mutating func document(_ root: Any) throws(NetStateError) -> DesiredState {
        let top = try map(root, "", allowed: ["interfaces", "routes", "dns-resolver"])
        var state = DesiredState()
        if let interfaces = top["interfaces"] {
            for (index, item) in try list(interfaces, "interfaces").enumerated() {
                state.interfaces.append(try interface(item, "interfaces[\(index)]"))
            }
        }
        if let routes = top["routes"] {
            let routesMap = try map(routes, "routes", allowed: ["config"])
            if let config = routesMap["config"] {
                for (index, item) in try list(config, "routes.config").enumerated() {
                    state.routes.append(try route(item, "routes.config[\(index)]"))
                }
            }
        }
        if let dns = top["dns-resolver"] {
            let dnsMap = try map(dns, "dns-resolver", allowed: ["config"])
            if let config = dnsMap["config"] {
                let fields = try map(config, "dns-resolver.config", allowed: ["server", "search"])
                state.dns = DNSState(
                    servers: try fields["server"].map { v throws(NetStateError) in try strings(v, "dns-resolver.config.server") } ?? [],
                    search: try fields["search"].map { v throws(NetStateError) in try strings(v, "dns-resolver.config.search") } ?? [])
            }
        }
        return state
    }

    func interface(_ value: Any, _ path: String) throws(NetStateError) -> InterfaceState {
        let fields = try map(value, path, allowed: ["name", "type", "state", "mtu", "mac-address", "copy-mac-from", "ipv4", "ipv6", "bridge",
                                                    "link-aggregation", "vlan", "vxlan", "description"])
        guard let nameValue = fields["name"] else {
            throw NetStateError(path: path, "an interface needs a `name`", hint: "add `name: IFACE`")
        }
        var result = InterfaceState(name: try string(nameValue, join(path, "name")))
        if let v = fields["type"] { result.type = try enumValue(v, join(path, "type"), InterfaceKind.self) }
        if let v = fields["state"] { result.state = try enumValue(v, join(path, "state"), InterfaceStatus.self) }
        if let v = fields["mtu"] {
            let mtu = try int(v, join(path, "mtu"))
            guard (68...65535).contains(mtu) else {
                throw NetStateError(path: join(path, "mtu"), "MTU \(mtu) is out of range", hint: "use 68...65535")
            }
            result.mtu = UInt32(mtu)
        }
        if let v = fields["mac-address"] { result.macAddress = try string(v, join(path, "mac-address")) }
        if let v = fields["copy-mac-from"] { result.copyMACFrom = try string(v, join(path, "copy-mac-from")) }
        if let v = fields["ipv4"] { result.ipv4 = try ip(v, join(path, "ipv4"), v6: false) }
        if let v = fields["ipv6"] { result.ipv6 = try ip(v, join(path, "ipv6"), v6: true) }
        if let v = fields["bridge"] { result.bridge = try bridge(v, join(path, "bridge")) }
        if let v = fields["link-aggregation"] { result.bond = try bond(v, join(path, "link-aggregation")) }
        if let v = fields["vlan"] {
            let p = join(path, "vlan")
            let f = try map(v, p, allowed: ["base-iface", "id"])
            guard let base = f["base-iface"], let id = f["id"] else {
                throw NetStateError(path: p, "a VLAN needs `base-iface` and `id`", hint: "add both")
            }
            result.vlan = VLANState(baseInterface: try string(base, join(p, "base-iface")), id: try int(id, join(p, "id")))
        }
        if let v = fields["vxlan"] {
            let p = join(path, "vxlan")
            let f = try map(v, p, allowed: ["base-iface", "id", "remote", "local", "destination-port"])
            guard let id = f["id"] else { throw NetStateError(path: p, "a VXLAN needs an `id`", hint: "add `id: VNI`") }
            var vx = VXLANState(id: try int(id, join(p, "id")))
            if let b = f["base-iface"] { vx.baseInterface = try string(b, join(p, "base-iface")) }
            if let r = f["remote"] { vx.remote = try string(r, join(p, "remote")) }
            if let l = f["local"] { vx.local = try string(l, join(p, "local")) }
            if let d = f["destination-port"] { vx.destinationPort = try int(d, join(p, "destination-port")) }
            result.vxlan = vx
        }
        return result
    }

    func ip(_ value: Any, _ path: String, v6: Bool) throws(NetStateError) -> IPState {
        let allowed = v6 ? ["enabled", "dhcp", "autoconf", "address"] : ["enabled", "dhcp", "address"]
        let f = try map(value, path, allowed: allowed)
        var result = IPState(enabled: try f["enabled"].map { v throws(NetStateError) in try bool(v, join(path, "enabled")) } ?? true)
        if let v = f["dhcp"] { result.dhcp = try bool(v, join(path, "dhcp")) }
        if let v = f["autoconf"] { result.autoconf = try bool(v, join(path, "autoconf")) }
        if let v = f["address"] {
            for (index, item) in try list(v, join(path, "address")).enumerated() {
                let p = "\(join(path, "address"))[\(index)]"
                let a = try map(item, p, allowed: ["ip", "prefix-length"])
                guard let ipValue = a["ip"], let prefix = a["prefix-length"] else {
                    throw NetStateError(path: p, "an address needs `ip` and `prefix-length`", hint: "add both")
                }
                let text = try string(ipValue, join(p, "ip"))
                let length = try int(prefix, join(p, "prefix-length"))
                do {
                    if v6 { _ = try IPv6AddressWithPrefix(try IPv6Address(text), prefix: length) }
                    else { _ = try IPv4AddressWithPrefix(try IPv4Address(text), prefix: length) }
                } catch {
                    throw NetStateError(path: p, "`\(text)/\(length)` is not a valid IP\(v6 ? "v6" : "v4") address with prefix",
                                        hint: error.hint ?? "write the address in \(v6 ? "ipv6" : "ipv4") only")
                }
                result.addresses.append(AddressState(ip: text, prefixLength: length))
            }
        }
        return result
    }

    func bridge(_ value: Any, _ path: String) throws(NetStateError) -> BridgeState {
        let f = try map(value, path, allowed: ["options", "port", "ports"])
        var result = BridgeState()
        if let v = f["options"] {
            let op = join(path, "options")
            let options = try map(v, op, allowed: ["stp"])
            if let s = options["stp"] {
                let sp = join(op, "stp")
                let stp = try map(s, sp, allowed: ["enabled", "forward-delay", "hello-time", "max-age", "priority"])
                var state = STPState(enabled: try stp["enabled"].map { v throws(NetStateError) in try bool(v, join(sp, "enabled")) } ?? true)
                if let x = stp["forward-delay"] { state.forwardDelay = try int(x, join(sp, "forward-delay")) }
                if let x = stp["hello-time"] { state.helloTime = try int(x, join(sp, "hello-time")) }
                if let x = stp["max-age"] { state.maxAge = try int(x, join(sp, "max-age")) }
                if let x = stp["priority"] { state.priority = try int(x, join(sp, "priority")) }
                result.stp = state
            }
        }
        if let (key, v) = try portsKey(f, path) {
            var ports: [String] = []
            for (index, item) in try list(v, join(path, key)).enumerated() {
                let p = "\(join(path, key))[\(index)]"
                let port = try map(item, p, allowed: ["name"])
                guard let name = port["name"] else { throw NetStateError(path: p, "a port needs a `name`", hint: "add `name: IFACE`") }
                ports.append(try string(name, join(p, "name")))
            }
            result.ports = ports
        }
        return result
    }

    func bond(_ value: Any, _ path: String) throws(NetStateError) -> BondState {
        let f = try map(value, path, allowed: ["mode", "options", "port", "ports"])
        guard let mode = f["mode"] else { throw NetStateError(path: path, "a bond needs a `mode`", hint: "add `mode: active-backup` (or another)") }
        var result = BondState(mode: try string(mode, join(path, "mode")))
        if let v = f["options"] {
            guard let options = v as? [AnyHashable: Any] else {
                throw NetStateError(path: join(path, "options"), "expected a mapping, found \(describe(v))", hint: "write `miimon: 100` and such under it")
            }
            for (key, option) in options { result.options["\(key)"] = "\(option)" }
        }
        if let (key, v) = try portsKey(f, path) { result.ports = try strings(v, join(path, key)) }
        return result
    }

    /// The ports of a bridge or bond: nmstate's `port`, or its alias `ports` (nmstate's
    /// `#[serde(alias = "ports")]` on `LinuxBridgeConfig.port` and `BondConfig.port`), with the
    /// key that was used (for paths); both at once is refused, as serde refuses a duplicate field.
    func portsKey(_ fields: [String: Any], _ path: String) throws(NetStateError) -> (String, Any)? {
        switch (fields["port"], fields["ports"]) {
        case (let port?, nil): return ("port", port)
        case (nil, let ports?): return ("ports", ports)
        case (_?, _?):
            throw NetStateError(path: join(path, "ports"), "both `port` and its alias `ports` are given",
                                hint: "list the ports once, under `port` (nmstate's name) or `ports`")
        case (nil, nil): return nil
        }
    }

    func route(_ value: Any, _ path: String) throws(NetStateError) -> RouteState {
        let f = try map(value, path, allowed: ["destination", "next-hop-interface", "next-hop-address", "metric", "state"])
        guard let destination = f["destination"] else {
            throw NetStateError(path: path, "a route needs a `destination`", hint: "add `destination: ADDRESS/PREFIX`")
        }
        guard let interface = f["next-hop-interface"] else {
            throw NetStateError(path: path, "a route needs a `next-hop-interface` here", hint: "name the interface whose profile carries the route")
        }
        var result = RouteState(destination: try string(destination, join(path, "destination")),
                                nextHopInterface: try string(interface, join(path, "next-hop-interface")))
        if let v = f["next-hop-address"] { result.nextHopAddress = try string(v, join(path, "next-hop-address")) }
        if let v = f["metric"] {
            let metric = try int(v, join(path, "metric"))
            guard metric >= 0, metric <= Int(UInt32.max) else {
                throw NetStateError(path: join(path, "metric"), "metric \(metric) is out of range", hint: "use 0...4294967295")
            }
            result.metric = UInt32(metric)
        }
        if let v = f["state"] {
            guard try string(v, join(path, "state")) == "absent" else {
                throw NetStateError(path: join(path, "state"), "a route's state can only be `absent`", hint: "leave `state` out for a route you want")
            }
            result.absent = true
        }
        return result
    }
}

private func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

private func describe(_ value: Any) -> String {
    switch value {
    case is Bool: return "a boolean"
    case is Int: return "an integer"
    case is Double: return "a number"
    case is String: return "a string"
    case is [Any]: return "a list"
    case is [AnyHashable: Any]: return "a mapping"
    default: return "null"
    }
}

/// Edit distance, for "did you mean" hints.
private func distance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var row = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var previous = row[0]
        row[0] = i
        for j in 1...max(b.count, 1) where !b.isEmpty {
            let current = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
            previous = current
        }
    }
    return row[b.count]
}
