import DBus
import Foundation
import NetState
@testable import NetworkManager
import Testing

@testable import bridgeify

/// bridgeify's conversion as a list of changes, planned from a reading built in memory (no
/// bus): the exact `NMChange` values a conversion sends, so that how the transaction is built
/// can change (issue 12: through netstate's planner) while what reaches NetworkManager stays
/// the same. The expected changes were written down from what ConversionDesign planned by hand
/// before that change (main 16426a8); the integration and crash-point tests check the calls.
@Suite("Conversion changes")
struct ConversionChangesTests {
    static let mac: MACAddress = "52:54:00:12:34:56"
    static let eno1 = NMInterfaceName(unchecked: "eno1")
    static let br0 = NMInterfaceName(unchecked: "br0")
    static let oldUUID = UUID(uuidString: "01010101-0000-0000-0000-000000000001")!
    static let backupUUID = UUID(uuidString: "02020202-0000-0000-0000-000000000002")!
    static let offUUID = UUID(uuidString: "03030303-0000-0000-0000-000000000003")!
    static let genericUUID = UUID(uuidString: "04040404-0000-0000-0000-000000000004")!
    static let bridgeUUID = UUID(uuidString: "b0b0b0b0-0000-0000-0000-000000000001")!
    static let portUUID = UUID(uuidString: "a0a0a0a0-0000-0000-0000-000000000001")!
    /// What the profiles a conversion creates (random UUIDs) are renamed to before comparing.
    static let newBridgeUUID = UUID(uuidString: "b1b1b1b1-0000-0000-0000-00000000000b")!
    static let newPortUUID = UUID(uuidString: "a1a1a1a1-0000-0000-0000-00000000000a")!

    static let eno1Path = ObjectPath(rawValue: "/org/freedesktop/NetworkManager/Devices/2")!
    static let br0Path = ObjectPath(rawValue: "/org/freedesktop/NetworkManager/Devices/3")!

    static func settingsPath(_ index: Int) -> ObjectPath { ObjectPath(rawValue: "/org/freedesktop/NetworkManager/Settings/\(index)")! }

    /// A host with eno1 (and br0 when `bridgeActive`): `profiles` stored in this order,
    /// `eno1Active` active on eno1 (attached to br0 when `bridgeActive` is given).
    static func reading(_ profiles: [NMConnectionProfile], eno1Active: UUID?, bridgeActive: UUID? = nil,
                        ipv4Now: NMIPv4Configuration) -> InterfaceReading {
        let stored = profiles.enumerated().map { index, profile in
            NMStoredProfile(path: settingsPath(index + 1), profile: profile, flags: [], filename: nil, versionID: nil)
        }
        func path(of uuid: UUID) -> ObjectPath { stored.first { $0.profile.uuid == uuid }!.path }
        var active: [NMActiveConnection] = []
        var eno1: [String: DBusValue] = ["Interface": .string("eno1"), "HwAddress": .string(mac.description),
                                         "DeviceType": .uint32(1), "Managed": .boolean(true), "State": .uint32(100)]
        var devices: [NMDevice] = []
        if let bridgeActive {
            let ac = ObjectPath(rawValue: "/org/freedesktop/NetworkManager/ActiveConnection/2")!
            active.append(NMActiveConnection(path: ac, properties: [
                "Uuid": .string(bridgeActive.uuidString.lowercased()), "Type": .string("bridge"),
                "Connection": .objectPath(path(of: bridgeActive)), "Devices": .array(.objectPath, [.objectPath(br0Path)]),
                "State": .uint32(2),
            ]))
            devices.append(NMDevice(path: br0Path, properties: [
                "Interface": .string("br0"), "HwAddress": .string(mac.description), "DeviceType": .uint32(13),
                "Managed": .boolean(true), "State": .uint32(100), "ActiveConnection": .objectPath(ac),
            ]))
        }
        if let eno1Active {
            let ac = ObjectPath(rawValue: "/org/freedesktop/NetworkManager/ActiveConnection/1")!
            var properties: [String: DBusValue] = [
                "Uuid": .string(eno1Active.uuidString.lowercased()), "Type": .string("802-3-ethernet"),
                "Connection": .objectPath(path(of: eno1Active)), "Devices": .array(.objectPath, [.objectPath(eno1Path)]),
                "State": .uint32(2),
            ]
            if bridgeActive != nil { properties["Controller"] = .objectPath(br0Path) }
            active.append(NMActiveConnection(path: ac, properties: properties))
            eno1["ActiveConnection"] = .objectPath(ac)
        }
        let device = NMDevice(path: eno1Path, properties: eno1)
        devices.insert(device, at: 0)
        let snapshot = NMHostState(version: NMVersion(1, 42, 4), devices: devices, activeConnections: active,
                                   ipv4: [eno1Path: ipv4Now], profiles: stored)
        let activeProfile = eno1Active.map { uuid in stored.first { $0.profile.uuid == uuid }! }
        return InterfaceReading(snapshot: snapshot, device: device, activeProfile: activeProfile,
                                activeConnection: active.first { $0.devices.contains(eno1Path) },
                                applied: activeProfile?.profile, ipv4Now: ipv4Now, mac: mac)
    }

    /// The changes bridgeify plans for `reading`, the new profiles' random UUIDs replaced by
    /// `newBridgeUUID` and `newPortUUID` (after checking they are new).
    static func changes(_ reading: InterfaceReading, stp: Bool = false) throws -> [NMChange] {
        let design: ConversionDesign
        if reading.controller != nil {
            design = try ConvertCommand.restate(reading, interface: Self.eno1, bridge: Self.br0, request: IPRequest())
        } else {
            design = try ConversionDesign.fresh(reading, interface: Self.eno1, bridge: Self.br0, request: IPRequest(), stp: stp)
        }
        let changes = design.transaction(probes: [], rollbackTimeout: .seconds(30), label: "test").changes
        let known = Set(reading.profiles.map(\.profile.uuid))
        var renamed: [UUID: UUID] = [:]
        for case .add(let profile) in changes where !known.contains(profile.uuid) {
            #expect(renamed[profile.uuid] == nil)
            renamed[profile.uuid] = profile.name == "br0" ? newBridgeUUID : newPortUUID
        }
        func rename(_ uuid: UUID) -> UUID { renamed[uuid] ?? uuid }
        return changes.map { change in
            switch change {
            case .add(var profile):
                profile.connection.uuid = rename(profile.uuid)
                return .add(profile)
            case .activate(let uuid, let ports): return .activate(uuid: rename(uuid), ports: ports)
            case .supersede(let uuid): return .supersede(uuid: rename(uuid))
            default: return change
            }
        }
    }

    /// The bridge bridgeify creates: STP off, the NIC's MAC, the given IP settings.
    static func newBridge(ipv4: NMIPv4Setting, ipv6: NMIPv6Setting, mtu: UInt32? = nil) throws -> NMConnectionProfile {
        var bridge = try NMConnectionProfile.bridge(name: "br0", interface: Self.br0, uuid: newBridgeUUID, stp: false, macAddress: mac,
                                                    ipv4: ipv4, ipv6: ipv6)
        if let mtu { bridge.ethernet?.mtu = mtu }
        return bridge
    }

    /// The port bridgeify creates: the NIC's link settings, a priority above the profiles it supersedes.
    static func newPort(ethernet: NMEthernetSetting?, priority: Int32?) throws -> NMConnectionProfile {
        var port = try NMConnectionProfile.bridgePort(name: "br0-port-eno1", interface: Self.eno1, controller: "br0", uuid: newPortUUID)
        if let ethernet { port.ethernet = ethernet }
        port.connection.autoconnectPriority = priority
        return port
    }

    static let staticIPv4 = NMIPv4Setting.static(addresses: ["192.168.1.200/24"], gateway: "192.168.1.1", dns: ["114.114.114.114"])
    static let staticNow = NMIPv4Configuration(addresses: ["192.168.1.200/24"], gateway: "192.168.1.1", dnsServers: ["114.114.114.114"])

    @Test("static IPv4: the bridge takes the address (no DAD: it is eno1's), the port outranks the old profile")
    func staticIPv4() throws {
        let old = try NMConnectionProfile.ethernet(name: "Wired connection 1", interface: Self.eno1, uuid: Self.oldUUID, ipv4: Self.staticIPv4)
        var ipv4 = Self.staticIPv4
        ipv4.dadTimeout = .zero
        let expected: [NMChange] = [
            .add(try Self.newBridge(ipv4: ipv4, ipv6: .auto)),
            .add(try Self.newPort(ethernet: old.ethernet, priority: 1)),
            .activate(uuid: Self.newBridgeUUID, ports: [Self.eno1]),
            .supersede(uuid: Self.oldUUID),
        ]
        #expect(try Self.changes(Self.reading([old], eno1Active: Self.oldUUID, ipv4Now: Self.staticNow)) == expected)
    }

    @Test("DHCP, a generic profile (no interface name) active on eno1: the bridge asks DHCP too, the generic profile is superseded")
    func dhcp() throws {
        let old = try NMConnectionProfile.ethernet(name: "Wired connection 1", interface: nil, uuid: Self.oldUUID)
        let now = NMIPv4Configuration(addresses: ["192.168.1.57/24"], gateway: "192.168.1.1", dnsServers: ["192.168.1.1"])
        let expected: [NMChange] = [
            .add(try Self.newBridge(ipv4: .dhcp, ipv6: .auto)),
            .add(try Self.newPort(ethernet: old.ethernet, priority: 1)),
            .activate(uuid: Self.newBridgeUUID, ports: [Self.eno1]),
            .supersede(uuid: Self.oldUUID),
        ]
        #expect(try Self.changes(Self.reading([old], eno1Active: Self.oldUUID, ipv4Now: now)) == expected)
    }

    @Test("static IPv4 + IPv6 with a link-local gateway: both move to the bridge as they are")
    func staticDualStack() throws {
        let ipv6 = NMIPv6Setting.static(addresses: ["2001:db8::200/64"], gateway: "fe80::1", dns: ["2001:db8::53"])
        let old = try NMConnectionProfile.ethernet(name: "eno1", interface: Self.eno1, uuid: Self.oldUUID, ipv4: Self.staticIPv4, ipv6: ipv6)
        var ipv4 = Self.staticIPv4
        ipv4.dadTimeout = .zero
        let expected: [NMChange] = [
            .add(try Self.newBridge(ipv4: ipv4, ipv6: ipv6)),
            .add(try Self.newPort(ethernet: old.ethernet, priority: 1)),
            .activate(uuid: Self.newBridgeUUID, ports: [Self.eno1]),
            .supersede(uuid: Self.oldUUID),
        ]
        #expect(try Self.changes(Self.reading([old], eno1Active: Self.oldUUID, ipv4Now: Self.staticNow)) == expected)
    }

    @Test("keys outside netstate's schema (route-metric, may-fail, dns-options, a route's metric, ipv6 ignore, MTU) reach the bridge unchanged")
    func unmodelledKeys() throws {
        var ipv4 = NMIPv4Setting.static(addresses: ["192.168.1.200/24"], gateway: "192.168.1.1", dns: ["114.114.114.114"],
                                        dnsSearch: ["example.test"])
        ipv4.routes = [NMIPRoute(destination: "10.9.0.0/16", nextHop: "192.168.1.254", metric: 20)]
        ipv4.routeMetric = 50
        ipv4.mayFail = false
        ipv4.extraKeys["dns-options"] = .array(.string, [.string("rotate"), .string("timeout:1")])
        let ipv6 = NMIPv6Setting(method: .ignore)
        let old = try NMConnectionProfile.ethernet(name: "eno1", interface: Self.eno1, uuid: Self.oldUUID, mtu: 9000, ipv4: ipv4, ipv6: ipv6)
        var bridgeIPv4 = ipv4
        bridgeIPv4.dadTimeout = .zero
        let expected: [NMChange] = [
            .add(try Self.newBridge(ipv4: bridgeIPv4, ipv6: ipv6, mtu: 9000)),
            .add(try Self.newPort(ethernet: NMEthernetSetting(mtu: 9000), priority: 1)),
            .activate(uuid: Self.newBridgeUUID, ports: [Self.eno1]),
            .supersede(uuid: Self.oldUUID),
        ]
        #expect(try Self.changes(Self.reading([old], eno1Active: Self.oldUUID, ipv4Now: Self.staticNow)) == expected)
    }

    @Test("two profiles autoconnecting on eno1 (by name, by MAC): both superseded, the port outranks the higher; autoconnect off and generic ones left alone")
    func twoAutoconnecting() throws {
        var old = try NMConnectionProfile.ethernet(name: "Wired connection 1", interface: Self.eno1, uuid: Self.oldUUID, ipv4: Self.staticIPv4)
        old.connection.autoconnectPriority = 5
        var backup = try NMConnectionProfile.ethernet(name: "eno1-backup", interface: nil, uuid: Self.backupUUID, macAddress: Self.mac)
        backup.connection.autoconnectPriority = 10
        let off = try NMConnectionProfile.ethernet(name: "eno1-off", interface: Self.eno1, uuid: Self.offUUID, autoconnect: false)
        let generic = try NMConnectionProfile.ethernet(name: "Generic", interface: nil, uuid: Self.genericUUID)
        var ipv4 = Self.staticIPv4
        ipv4.dadTimeout = .zero
        let expected: [NMChange] = [
            .add(try Self.newBridge(ipv4: ipv4, ipv6: .auto)),
            .add(try Self.newPort(ethernet: old.ethernet, priority: 11)),
            .activate(uuid: Self.newBridgeUUID, ports: [Self.eno1]),
            .supersede(uuid: Self.oldUUID),
            .supersede(uuid: Self.backupUUID),
        ]
        let reading = Self.reading([old, backup, off, generic], eno1Active: Self.oldUUID, ipv4Now: Self.staticNow)
        #expect(try Self.changes(reading) == expected)
    }

    @Test("STP asked for: the bridge has bridge.stp on")
    func stpOn() throws {
        let old = try NMConnectionProfile.ethernet(name: "eno1", interface: Self.eno1, uuid: Self.oldUUID, ipv4: Self.staticIPv4)
        var ipv4 = Self.staticIPv4
        ipv4.dadTimeout = .zero
        var bridge = try Self.newBridge(ipv4: ipv4, ipv6: .auto)
        bridge.bridge?.stp = true
        let expected: [NMChange] = [
            .add(bridge),
            .add(try Self.newPort(ethernet: old.ethernet, priority: 1)),
            .activate(uuid: Self.newBridgeUUID, ports: [Self.eno1]),
            .supersede(uuid: Self.oldUUID),
        ]
        #expect(try Self.changes(Self.reading([old], eno1Active: Self.oldUUID, ipv4Now: Self.staticNow), stp: true) == expected)
    }

    /// What a conversion leaves: br0 and its port active, the old profile `oldAutoconnect`.
    static func converted(oldAutoconnect: Bool?) throws -> (InterfaceReading, bridge: NMConnectionProfile, port: NMConnectionProfile) {
        var ipv4 = Self.staticIPv4
        ipv4.dadTimeout = .zero
        let bridge = try NMConnectionProfile.bridge(name: "br0", interface: Self.br0, uuid: bridgeUUID, stp: false, macAddress: mac, ipv4: ipv4)
        var port = try NMConnectionProfile.bridgePort(name: "br0-port-eno1", interface: Self.eno1, controller: "br0", uuid: portUUID)
        port.connection.autoconnectPriority = 1
        let old = try NMConnectionProfile.ethernet(name: "Wired connection 1", interface: Self.eno1, uuid: oldUUID, autoconnect: oldAutoconnect,
                                                   ipv4: Self.staticIPv4)
        let reading = Self.reading([bridge, port, old], eno1Active: portUUID, bridgeActive: bridgeUUID,
                                   ipv4Now: NMIPv4Configuration(addresses: [], gateway: nil, dnsServers: []))
        return (reading, bridge, port)
    }

    @Test("a rerun: the existing bridge and port restated by UUID, nothing superseded")
    func rerun() throws {
        let (reading, bridge, port) = try Self.converted(oldAutoconnect: false)
        let expected: [NMChange] = [.add(bridge), .add(port), .activate(uuid: Self.bridgeUUID, ports: [Self.eno1])]
        #expect(try Self.changes(reading) == expected)
    }

    @Test("a rerun with the old profile still autoconnecting: it is superseded, the port keeps its priority")
    func rerunLeftover() throws {
        let (reading, bridge, port) = try Self.converted(oldAutoconnect: nil)
        let expected: [NMChange] = [.add(bridge), .add(port), .activate(uuid: Self.bridgeUUID, ports: [Self.eno1]), .supersede(uuid: Self.oldUUID)]
        #expect(try Self.changes(reading) == expected)
    }

    @Test("a rerun whose port profile names no interface (bound by MAC, active on eno1): that profile is restated, no new port")
    func rerunPortBoundByMAC() throws {
        let bridge = try NMConnectionProfile.bridge(name: "br0", interface: Self.br0, uuid: Self.bridgeUUID, stp: false, macAddress: Self.mac,
                                                    ipv4: Self.staticIPv4)
        var port = try NMConnectionProfile.bridgePort(name: "br0-port-eno1", interface: Self.eno1, controller: "br0", uuid: Self.portUUID)
        port.connection.interfaceName = nil
        port.ethernet = NMEthernetSetting(macAddress: Self.mac)
        let reading = Self.reading([bridge, port], eno1Active: Self.portUUID, bridgeActive: Self.bridgeUUID,
                                   ipv4Now: NMIPv4Configuration(addresses: [], gateway: nil, dnsServers: []))
        let expected: [NMChange] = [.add(bridge), .add(port), .activate(uuid: Self.bridgeUUID, ports: [Self.eno1])]
        #expect(try Self.changes(reading) == expected)
    }

    @Test("the conversion as a desired state: br0 up, STP off, port eno1, MAC, addresses, gateway, DNS; its YAML parses back to it")
    func desiredState() throws {
        let old = try NMConnectionProfile.ethernet(name: "eno1", interface: Self.eno1, uuid: Self.oldUUID, mtu: 9000, ipv4: Self.staticIPv4)
        let reading = Self.reading([old], eno1Active: Self.oldUUID, ipv4Now: Self.staticNow)
        let design = try ConversionDesign.fresh(reading, interface: Self.eno1, bridge: Self.br0, request: IPRequest(), stp: false)
        var br0 = InterfaceState(name: "br0", type: .linuxBridge, state: .up, mtu: 9000)
        br0.macAddress = Self.mac.description
        br0.ipv4 = IPState(enabled: true, dhcp: false, addresses: [AddressState(ip: "192.168.1.200", prefixLength: 24)])
        br0.ipv6 = IPState(enabled: true, dhcp: true, autoconf: true)
        br0.bridge = BridgeState(stp: STPState(enabled: false), ports: ["eno1"])
        let expected = DesiredState(interfaces: [br0],
                                    routes: [RouteState(destination: "0.0.0.0/0", nextHopInterface: "br0", nextHopAddress: "192.168.1.1")],
                                    dns: DNSState(servers: ["114.114.114.114"]))
        #expect(design.state == expected)
        #expect(try DesiredState.parse(design.state.yamlText()) == expected)
    }
}
