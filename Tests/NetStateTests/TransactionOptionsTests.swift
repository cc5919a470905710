import DBus
import Foundation
@testable import NetworkManager
import NetState
import Testing

/// `TransactionOptions` (no bus): new port profiles, `.add` writes, unlisted ports kept, base
/// profiles; the way bridgeify's conversion goes through this planner (BridgeifyUnitTests
/// checks bridgeify's own changes).
@Suite("Transaction options")
struct TransactionOptionsTests {
    static let newPorts = TransactionOptions(ports: .newProfile)
    static let bridgeYAML = """
        interfaces:
        - name: br0
          type: linux-bridge
          ipv4: {enabled: true, address: [{ip: 192.168.1.200, prefix-length: 24}]}
          bridge: {options: {stp: {enabled: false}}, port: [{name: eno1}]}
        """

    /// TranslationTests' host (eno1 DHCP and active, eno2, br-old) with eno1's device (its MAC,
    /// its active connection) and `extra` profiles stored after the others.
    static func host(_ extra: [NMConnectionProfile] = []) throws -> NMHostState {
        var host = try TranslationTests.host()
        host.profiles += extra.enumerated().map { index, profile in
            NMStoredProfile(path: ObjectPath(rawValue: "/org/freedesktop/NetworkManager/Settings/\(index + 10)")!, profile: profile,
                            flags: [], filename: nil, versionID: nil)
        }
        host.devices = [NMDevice(path: ObjectPath(rawValue: "/org/freedesktop/NetworkManager/Devices/2")!,
                                 properties: ["Interface": .string("eno1"), "HwAddress": .string("52:54:00:AB:CD:01"),
                                              "ActiveConnection": .objectPath(host.activeConnections[0].path)])]
        return host
    }

    @Test("ports .newProfile: a new profile br0-port-eno1 (no IP, eno1's link settings), eno1's own profile superseded, not changed")
    func newPortProfile() throws {
        var eno1 = try TranslationTests.host().profiles[0].profile
        eno1.ethernet = NMEthernetSetting(mtu: 9000)
        var host = try Self.host()
        host.profiles[0].profile = eno1
        let transaction = try DesiredState.parse(Self.bridgeYAML).transaction(on: host, options: Self.newPorts)
        guard transaction.changes.count == 4, case .ensure(let br0, .interface) = transaction.changes[0],
              case .ensure(let port, .name) = transaction.changes[1] else {
            Issue.record("unexpected changes: \(transaction.changes)")
            return
        }
        #expect(br0.connection.type == .bridge && br0.ipv4?.addresses.map(\.description) == ["192.168.1.200/24"])
        #expect(port.connection.id == "br0-port-eno1" && port.connection.interfaceName?.rawValue == "eno1")
        #expect(port.connection.controller == "br0" && port.connection.portType == .bridge)
        #expect(port.ipv4 == nil && port.ipv6 == nil && port.ethernet?.mtu == 9000)
        #expect(port.connection.autoconnectPriority == 1, "one above the superseded profile's (0)")
        #expect(port.connection.uuid != TranslationTests.eno1UUID)
        #expect(transaction.changes[2] == .activate(uuid: br0.connection.uuid, ports: [NMInterfaceName(unchecked: "eno1")]))
        #expect(transaction.changes[3] == .supersede(uuid: TranslationTests.eno1UUID))
        // The default attaches eno1's own profile instead, and supersedes nothing.
        let attach = try DesiredState.parse(Self.bridgeYAML).transaction(on: host)
        #expect(!attach.changes.contains { if case .supersede = $0 { true } else { false } })
        #expect(attach.changes.contains { if case .ensure(let p, _) = $0 { p.connection.uuid == TranslationTests.eno1UUID } else { false } })
    }

    @Test("ports .newProfile: profiles bound to eno1 by MAC are superseded too, the port outranks them; autoconnect-off and generic ones are not")
    func supersededByMAC() throws {
        var byMAC = try NMConnectionProfile.ethernet(name: "by-mac", interface: nil, uuid: UUID(), macAddress: "52:54:00:AB:CD:01")
        byMAC.connection.autoconnectPriority = 40
        let off = try NMConnectionProfile.ethernet(name: "off", interface: NMInterfaceName("eno1"), uuid: UUID(), autoconnect: false)
        let generic = try NMConnectionProfile.ethernet(name: "generic", interface: nil, uuid: UUID())
        let transaction = try DesiredState.parse(Self.bridgeYAML).transaction(on: Self.host([byMAC, off, generic]), options: Self.newPorts)
        let superseded = transaction.changes.compactMap { if case .supersede(let uuid) = $0 { uuid } else { nil } }
        #expect(superseded == [TranslationTests.eno1UUID, byMAC.connection.uuid])
        let port = transaction.changes.compactMap { if case .ensure(let p, _) = $0, p.connection.id == "br0-port-eno1" { p } else { nil } }.first
        #expect(port?.connection.autoconnectPriority == 41)
    }

    @Test("ports .newProfile with .add writes and unlisted ports kept, on a bridged host: the attached port is restated, nothing detached")
    func rerunKeepsPorts() throws {
        let host = try PortDetachTests.host()
        let yaml = "interfaces:\n- name: br0\n  type: linux-bridge\n  bridge: {port: [{name: eno1}]}\n"
        let options = TransactionOptions(ports: .newProfile, writes: .add, unlistedPorts: .keep)
        let transaction = try DesiredState.parse(yaml).transaction(on: host, options: options)
        let stored = Dictionary(uniqueKeysWithValues: host.profiles.map { ($0.profile.connection.uuid, $0.profile) })
        #expect(transaction.changes == [
            .add(stored[PortDetachTests.bridgeUUID]!), .add(stored[PortDetachTests.port1UUID]!),
            .activate(uuid: PortDetachTests.bridgeUUID, ports: [NMInterfaceName(unchecked: "eno1")]),
        ])
        // The default detaches eno2's port (docs/netstate.md): a change .keep does not make.
        let detaching = try DesiredState.parse(yaml).transaction(on: host, options: TransactionOptions(ports: .newProfile, writes: .add))
        #expect(detaching.changes.count > transaction.changes.count)
    }

    @Test("a base profile for a new interface: its name, UUID and keys outside the schema kept, the state's keys laid over it")
    func baseProfile() throws {
        var ipv4 = NMIPv4Setting.static(addresses: ["10.0.0.1/8"], gateway: nil)
        ipv4.routeMetric = 50
        ipv4.mayFail = false
        ipv4.extraKeys["dns-options"] = .array(.string, [.string("rotate")])
        let uuid = UUID()
        let base = try NMConnectionProfile.bridge(name: "my bridge", interface: NMInterfaceName("br0"), uuid: uuid, stp: true, ipv4: ipv4)
        let options = TransactionOptions(baseProfiles: ["br0": base])
        let transaction = try DesiredState.parse(Self.bridgeYAML).transaction(on: Self.host(), options: options)
        let br0 = transaction.changes.compactMap { if case .ensure(let p, _) = $0, p.connection.type == .bridge { p } else { nil } }.first
        #expect(br0?.connection.uuid == uuid && br0?.connection.id == "my bridge")
        #expect(br0?.ipv4?.addresses.map(\.description) == ["192.168.1.200/24"])
        #expect(br0?.ipv4?.routeMetric == 50 && br0?.ipv4?.mayFail == false)
        #expect(br0?.ipv4?.extraKeys["dns-options"] == .array(.string, [.string("rotate")]))
        #expect(br0?.bridge?.stp == false, "the state's STP off laid over the base's on")
    }

    @Test("bad options are refused with the key's path: a base of another type, a new-profile port also listed as an interface")
    func refusals() throws {
        let ethernet = try NMConnectionProfile.ethernet(name: "br0", interface: NMInterfaceName("br0"))
        #expect(throws: NetStateError.self) {
            try DesiredState.parse(Self.bridgeYAML).transaction(on: Self.host(), options: TransactionOptions(baseProfiles: ["br0": ethernet]))
        }
        do {
            _ = try DesiredState.parse(Self.bridgeYAML).transaction(on: Self.host(), options: TransactionOptions(baseProfiles: ["br0": ethernet]))
        } catch let error as NetStateError {
            #expect(error.path == "interfaces[0].type")
        }
        let listed = Self.bridgeYAML + "\n- name: eno1\n  type: ethernet\n"
        do {
            _ = try DesiredState.parse(listed).transaction(on: Self.host(), options: Self.newPorts)
            Issue.record("a port listed as an interface was accepted with new port profiles")
        } catch let error as NetStateError {
            #expect(error.path == "interfaces[1]" && error.hint.contains("attachOwn"))
        }
    }
}
