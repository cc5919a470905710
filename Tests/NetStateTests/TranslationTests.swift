import DBus
import Foundation
@testable import NetworkManager
import NetState
import Testing

/// The state -> transaction translation, table-driven against a host built in memory (no
/// bus): which profiles are ensured, with what, and what is activated or deleted.
/// NetStateIntegrationTests runs the same kind of states through plan and apply.
@Suite("Translation")
struct TranslationTests {
    static let eno1UUID = UUID(uuidString: "11111111-1111-1111-1111-111111111111")!
    static let eno2UUID = UUID(uuidString: "22222222-2222-2222-2222-222222222222")!
    static let oldBridgeUUID = UUID(uuidString: "33333333-3333-3333-3333-333333333333")!

    /// eno1 (DHCP, active), eno2 (DHCP, inactive), br-old (a bridge, inactive).
    static func host() throws -> NMHostState {
        let eno1 = try NMConnectionProfile.ethernet(name: "eno1", interface: NMInterfaceName("eno1"), uuid: eno1UUID)
        let eno2 = try NMConnectionProfile.ethernet(name: "Wired 2", interface: NMInterfaceName("eno2"), uuid: eno2UUID)
        let old = try NMConnectionProfile.bridge(name: "br-old", interface: NMInterfaceName("br-old"), uuid: oldBridgeUUID)
        let stored = [eno1, eno2, old].enumerated().map { index, profile in
            NMStoredProfile(path: ObjectPath(rawValue: "/org/freedesktop/NetworkManager/Settings/\(index + 1)")!, profile: profile,
                            flags: [], filename: nil, versionID: nil)
        }
        let active = NMActiveConnection(path: ObjectPath(rawValue: "/org/freedesktop/NetworkManager/ActiveConnection/1")!,
                                        properties: ["Uuid": .string(eno1UUID.uuidString.lowercased()), "Type": .string("802-3-ethernet")])
        return NMHostState(version: NMVersion(1, 42, 4), activeConnections: [active], profiles: stored)
    }

    /// The ensured profiles by interface, and the other changes in a short text form.
    static func summary(_ transaction: NMTransaction) -> (profiles: [String: NMConnectionProfile], others: [String]) {
        var profiles: [String: NMConnectionProfile] = [:]
        var others: [String] = []
        for change in transaction.changes {
            switch change {
            case .ensure(let profile, _): profiles[profile.connection.interfaceName?.rawValue ?? "?"] = profile
            case .activate(let uuid, let ports): others.append("activate \(uuid == eno1UUID ? "eno1" : "?") \(ports.map(\.rawValue))")
            case .deactivate: others.append("deactivate")
            case .delete(let uuid): others.append("delete \(uuid == oldBridgeUUID ? "br-old" : uuid.uuidString)")
            default: others.append("\(change)")
            }
        }
        return (profiles, others)
    }

    @Test("a bridge over two NICs with static IPv4 and IPv6: the NICs' own profiles become its ports")
    func bridgeWithTwoPorts() throws {
        let state = try DesiredState.parse(ParsingTests.bridgeYAML)
        let transaction = try state.transaction(on: Self.host())
        let (profiles, others) = Self.summary(transaction)
        #expect(Set(profiles.keys) == ["br0", "eno1", "eno2"])
        let br0 = try #require(profiles["br0"])
        #expect(br0.connection.type == .bridge)
        #expect(br0.ipv4?.method == .manual && br0.ipv4?.addresses.map(\.description) == ["192.0.2.10/24"])
        #expect(br0.ipv6?.method == .manual && br0.ipv6?.addresses.map(\.description) == ["2001:db8::10/64"])
        #expect(br0.bridge?.stp == false && br0.bridge?.forwardDelay == nil, "15 s is the default: left unset")
        #expect(br0.ethernet?.mtu == 1500 && br0.ethernet?.assignedMACAddress == .address("52:54:00:12:34:56"))
        #expect(br0.ipv4?.routes.map(\.description).first?.hasPrefix("198.51.100.0/24") == true)
        #expect(br0.ipv4?.dns.map(\.description) == ["192.0.2.53"] && br0.ipv6?.dns.map(\.description) == ["2001:db8::53"])
        #expect(br0.ipv4?.dnsSearch == ["example.test"])
        for (name, uuid) in [("eno1", Self.eno1UUID), ("eno2", Self.eno2UUID)] {
            let port = try #require(profiles[name])
            #expect(port.connection.uuid == uuid, "the NIC's own profile is kept")
            #expect(port.connection.controller == "br0" && port.connection.portType == .bridge)
            #expect(port.ipv4 == nil && port.ipv6 == nil)
        }
        // Ensures first, the bridge's before its ports, then one activation with both ports.
        let kinds = transaction.changes.map { change -> String in
            switch change {
            case .ensure(let p, _): "ensure \(p.connection.interfaceName?.rawValue ?? "")"
            case .activate(let uuid, let ports): "activate \(uuid == Self.eno1UUID ? "eno1" : uuid == Self.eno2UUID ? "eno2" : "br0") \(ports.map(\.rawValue).joined(separator: ","))"
            default: "other"
            }
        }
        #expect(kinds == ["ensure br0", "ensure eno1", "ensure eno2", "activate br0 eno1,eno2", "activate eno1 ", "activate eno2 "])
        #expect(others.count == 3)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var yaml: String
        /// interface -> expectation on its ensured profile
        var check: @Sendable ([String: NMConnectionProfile], [String]) -> Bool
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "absent deletes every profile of the interface, and ensures nothing", yaml: "interfaces:\n- name: br-old\n  state: absent\n") {
            $0.isEmpty && $1 == ["delete br-old"]
        },
        Case(name: "a route added to an interface not named in interfaces modifies its profile only", yaml: """
            routes:
              config:
              - {destination: 10.9.0.0/16, next-hop-address: 10.0.0.1, next-hop-interface: eno1}
            """) { profiles, others in
            profiles.keys.sorted() == ["eno1"] && profiles["eno1"]?.ipv4?.routes.count == 1 && others.isEmpty
        },
        Case(name: "a default route is the profile's gateway", yaml: """
            interfaces:
            - name: eno2
              ipv4: {enabled: true, address: [{ip: 10.0.0.5, prefix-length: 24}]}
            routes:
              config:
              - {destination: 0.0.0.0/0, next-hop-address: 10.0.0.1, next-hop-interface: eno2}
            """) { profiles, others in
            profiles["eno2"]?.ipv4?.gateway == "10.0.0.1" && profiles["eno2"]?.ipv4?.method == .manual && others == ["activate ? []"]
        },
        Case(name: "DNS goes to the named interface with IPv4, replacing its servers", yaml: """
            interfaces:
            - name: eno1
              ipv4: {enabled: true, dhcp: true}
            dns-resolver:
              config: {server: [192.0.2.53], search: [a.test, b.test]}
            """) { profiles, _ in
            profiles["eno1"]?.ipv4?.dns == ["192.0.2.53"] && profiles["eno1"]?.ipv4?.dnsSearch == ["a.test", "b.test"]
                && profiles["eno1"]?.connection.uuid == eno1UUID
        },
        Case(name: "down deactivates an active profile", yaml: "interfaces:\n- name: eno1\n  state: down\n") { _, others in
            others == ["deactivate"]
        },
        Case(name: "down on an inactive profile does nothing beyond the ensure", yaml: "interfaces:\n- name: eno2\n  state: down\n") { profiles, others in
            profiles.keys.sorted() == ["eno2"] && others.isEmpty
        },
        Case(name: "STP on and timers at NetworkManager's defaults stay unset (GetSettings leaves defaults out)",
             yaml: "interfaces:\n- name: br-old\n  type: linux-bridge\n  bridge: {options: {stp: {enabled: true, forward-delay: 15, hello-time: 3}}}\n") { p, _ in
            p["br-old"]?.bridge?.stp == nil && p["br-old"]?.bridge?.forwardDelay == nil && p["br-old"]?.bridge?.helloTime == .seconds(3)
        },
        Case(name: "IPv4 disabled and IPv6 autoconf", yaml: "interfaces:\n- name: eno2\n  ipv4: {enabled: false}\n  ipv6: {enabled: true, autoconf: true}\n") { p, _ in
            p["eno2"]?.ipv4?.method == .disabled && p["eno2"]?.ipv6?.method == .auto
        },
        Case(name: "a VLAN is planned as a vlan profile on its base", yaml: "interfaces:\n- name: eno1.100\n  type: vlan\n  vlan: {base-iface: eno1, id: 100}\n  ipv4: {enabled: false}\n") { p, _ in
            p["eno1.100"]?.vlan?.id == 100 && p["eno1.100"]?.vlan?.parent == "eno1"
        },
        Case(name: "a bond with a port: the port's profile attached as a bond port", yaml: "interfaces:\n- name: bond0\n  type: bond\n  link-aggregation: {mode: active-backup, options: {miimon: '100'}, port: [eno2]}\n") { p, _ in
            p["bond0"]?.bond?.options == ["mode": "active-backup", "miimon": "100"] && p["eno2"]?.connection.portType == .bond
                && p["eno2"]?.connection.uuid == eno2UUID && p["eno2"]?.connection.controller == "bond0"
        },
    ]

    @Test("translation table", arguments: cases)
    func table(_ case_: Case) throws {
        let transaction = try DesiredState.parse(case_.yaml).transaction(on: Self.host())
        let (profiles, others) = Self.summary(transaction)
        #expect(case_.check(profiles, others), "\(profiles.mapValues { $0.connection.id }) \(others)")
    }

    @Test("a VXLAN port on a new bridge: a vxlan profile with the keys given, attached, activated with the bridge")
    func vxlanPortOnABridge() throws {
        let state = try DesiredState.parse("""
            interfaces:
            - name: br1
              type: linux-bridge
              ipv4: {enabled: true, address: [{ip: 192.0.2.1, prefix-length: 24}]}
              bridge: {options: {stp: {enabled: false}}, port: [{name: vx0}]}
            - name: vx0
              type: vxlan
              vxlan: {base-iface: eno1, id: 4242, remote: 198.51.100.7, local: 203.0.113.5, destination-port: 4789}
            - name: vx1
              type: vxlan
              vxlan: {id: 7, remote: 2001:db8::7, destination-port: 8472}
            """)
        let transaction = try state.transaction(on: Self.host())
        let (profiles, _) = Self.summary(transaction)
        let vx0 = try #require(profiles["vx0"])
        #expect(vx0.connection.type == .vxlan && vx0.connection.type.rawValue == "vxlan")
        #expect(vx0.vxlan == NMVXLANSetting(id: 4242, remote: "198.51.100.7", local: "203.0.113.5", destinationPort: 4789, parent: "eno1"))
        #expect(vx0.connection.controller == "br1" && vx0.connection.portType == .bridge && vx0.ipv4 == nil && vx0.ipv6 == nil)
        let vx1 = try #require(profiles["vx1"])
        #expect(vx1.vxlan?.destinationPort == nil, "8472 is NetworkManager's default: left unset, as GetSettings leaves it out")
        #expect(vx1.ipv4?.method == .disabled && vx1.ipv6?.method == .disabled, "a new VXLAN without ipv4/ipv6 keys carries no IP")
        let activations = transaction.changes.compactMap { change -> [String]? in
            if case .activate(_, let ports) = change { return ports.map(\.rawValue) } else { return nil }
        }
        #expect(activations.contains(["vx0"]), "br1 is activated with vx0 as its port: \(activations)")
        // The wire form: the `vxlan` setting with NetworkManager's key names and types.
        let wire = try NMSettingsCodec(version: NMVersion(1, 42, 4)).encode(vx0)
        #expect(wire["connection"]?["type"] == .string("vxlan"))
        #expect(wire["vxlan"]?["id"] == .uint32(4242) && wire["vxlan"]?["destination-port"] == .uint32(4789))
        #expect(wire["vxlan"]?["remote"] == .string("198.51.100.7") && wire["vxlan"]?["parent"] == .string("eno1"))
        #expect(try NMSettingsCodec(version: NMVersion(1, 42, 4)).decode(wire) == vx0)
    }

    @Test("a static IPv4 address the state adds is probed for a conflict; one the host holds or the profile has is not")
    func conflictProbeForNewAddresses() throws {
        var host = try Self.host()
        // eno1 holds 192.0.2.7 now (its device's IP4Config).
        host.ipv4[ObjectPath(rawValue: "/org/freedesktop/NetworkManager/Devices/2")!] =
            NMIPv4Configuration(addresses: ["192.0.2.7/24"], gateway: nil, dnsServers: [])
        func ipv4(_ yaml: String, on host: NMHostState) throws -> [String: NMIPv4Setting] {
            Self.summary(try DesiredState.parse(yaml).transaction(on: host)).profiles.compactMapValues(\.ipv4)
        }
        let added = try ipv4("""
            interfaces:
            - name: br9
              type: linux-bridge
              ipv4: {enabled: true, address: [{ip: 192.0.2.7, prefix-length: 24}, {ip: 198.51.100.9, prefix-length: 24}]}
            - name: br8
              type: linux-bridge
              ipv4: {enabled: true, address: [{ip: 192.0.2.7, prefix-length: 24}]}
            - name: br7
              type: linux-bridge
              ipv4: {enabled: true, dhcp: true}
            """, on: host)
        #expect(added["br9"]?.dadTimeout == .milliseconds(200), "198.51.100.9 is new to the host: probed")
        #expect(added["br8"]?.dadTimeout == nil, "192.0.2.7 is the host's own (moved): not probed")
        #expect(added["br7"]?.dadTimeout == nil, "no static address")

        // The profile has the address already (a rerun, show | apply): nothing added.
        var eno2 = try #require(host.profiles.first { $0.profile.connection.uuid == Self.eno2UUID })
        eno2.profile.ipv4 = .static(addresses: ["203.0.113.4/24"])
        host.profiles = host.profiles.map { $0.profile.connection.uuid == Self.eno2UUID ? eno2 : $0 }
        let kept = try ipv4("interfaces:\n- name: eno2\n  ipv4: {enabled: true, address: [{ip: 203.0.113.4, prefix-length: 24}]}\n", on: host)
        #expect(kept["eno2"]?.dadTimeout == nil)
        // An explicit value on the profile is the administrator's: kept.
        eno2.profile.ipv4?.dadTimeout = .zero
        host.profiles = host.profiles.map { $0.profile.connection.uuid == Self.eno2UUID ? eno2 : $0 }
        let explicit = try ipv4("interfaces:\n- name: eno2\n  ipv4: {enabled: true, address: [{ip: 203.0.113.5, prefix-length: 24}]}\n", on: host)
        #expect(explicit["eno2"]?.dadTimeout == .zero)
    }

    @Test("copy-mac-from: a DHCP bridge takes its NIC's MAC (the one its device has now), so it keeps the NIC's lease")
    func copyMACFrom() throws {
        var host = try Self.host()
        host.devices = [NMDevice(path: ObjectPath(rawValue: "/org/freedesktop/NetworkManager/Devices/2")!,
                                 properties: ["Interface": .string("eno1"), "HwAddress": .string("52:54:00:AB:CD:01")])]
        let yaml = """
            interfaces:
            - name: br0
              type: linux-bridge
              copy-mac-from: eno1
              ipv4: {enabled: true, dhcp: true}
              bridge: {options: {stp: {enabled: false}}, port: [{name: eno1}]}
            """
        let state = try DesiredState.parse(yaml)
        #expect(state.interfaces[0].copyMACFrom == "eno1")
        let br0 = try #require(Self.summary(try state.transaction(on: host)).profiles["br0"])
        #expect(br0.ethernet?.assignedMACAddress == .address("52:54:00:ab:cd:01"))
        #expect(br0.ipv4?.method == .auto)
        // The same in JSON, and refused: both keys, and an interface without a device.
        #expect(try DesiredState.parse(try state.jsonText()) == state)
        #expect(throws: NetStateError.self) {
            try DesiredState.parse(yaml.replacingOccurrences(of: "copy-mac-from: eno1", with: "copy-mac-from: eno1\n  mac-address: 52:54:00:00:00:01"))
        }
        do {
            _ = try DesiredState.parse(yaml.replacingOccurrences(of: "copy-mac-from: eno1", with: "copy-mac-from: eno7")).transaction(on: host)
            Issue.record("translated")
        } catch {
            #expect(error.path == "interfaces[0].copy-mac-from" && error.message.contains("no device"), "\(error)")
        }
    }

    @Test("states the host cannot take are refused with a path and a hint", arguments: [
        ("interfaces:\n- name: eno9\n", "interfaces[0]", "no profile on this host"),
        ("interfaces:\n- name: eno1\n  type: linux-bridge\n", "interfaces[0].type", "of type 802-3-ethernet, not linux-bridge"),
        ("interfaces:\n- name: vx0\n  type: vxlan\n", "interfaces[0]", "a new VXLAN needs its `vxlan` key"),
        ("routes:\n  config:\n  - {destination: 10.0.0.0/8, next-hop-interface: eno9}\n", "routes.config[0].next-hop-interface", "no profile"),
        ("interfaces:\n- name: br9\n  type: linux-bridge\n  ipv4: {enabled: true}\n", "interfaces[0].ipv4", "without dhcp and without addresses"),
        ("dns-resolver:\n  config: {server: [192.0.2.53]}\n", "dns-resolver.config", "no interface to carry"),
    ])
    func refusedOnHost(_ yaml: String, _ path: String, _ message: String) throws {
        let state = try DesiredState.parse(yaml)
        let host = try Self.host()
        do {
            _ = try state.transaction(on: host)
            Issue.record("translated")
        } catch {
            #expect(error.path == path)
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test("show renders the host so that its state translates back to the same profiles")
    func showRoundTrip() throws {
        var host = try Self.host()
        // Make eno1 a static interface with a route and DNS, so show has something to render.
        var eno1 = host.profiles[0].profile
        eno1.ipv4 = .static(addresses: ["10.0.0.5/24"], gateway: "10.0.0.1", dns: ["10.0.0.53"])
        eno1.ipv4?.routes = [NMIPRoute(destination: "10.9.0.0/16", nextHop: "10.0.0.2", metric: 50)]
        host.profiles[0].profile = eno1
        host.devices = ["eno1", "eno2", "br-old", "lo"].enumerated().map { index, name in
            NMDevice(path: ObjectPath(rawValue: "/org/freedesktop/NetworkManager/Devices/\(index + 1)")!, properties: ["Interface": .string(name)])
        }
        let shown = DesiredState.show(host)
        #expect(shown.interfaces.map(\.name) == ["br-old", "eno1", "eno2"])
        let reread = try DesiredState.parse(try shown.yamlText())
        #expect(reread == shown)
        let transaction = try reread.transaction(on: host)
        for change in transaction.changes {
            guard case .ensure(let profile, _) = change else { continue }
            let before = try #require(host.profiles.first { $0.profile.connection.uuid == profile.connection.uuid }).profile
            #expect(profile == before, "\(profile.connection.id) changed")
        }
    }
}
