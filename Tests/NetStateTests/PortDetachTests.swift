import DBus
import Foundation
@testable import NetworkManager
import NetState
import Testing

/// nmstate's port semantics, on a bridged host built in memory (no bus): a `port` list given
/// is the whole list (ports left out are detached), an empty list detaches all, `port` left
/// out leaves the ports alone, `absent` on a bridge detaches its ports, and a bridge's
/// configuration given back to its NIC (docs/netstate.md, "Giving a bridge back to its NIC").
@Suite("Ports detached")
struct PortDetachTests {
    static let bridgeUUID = UUID(uuidString: "b0b0b0b0-0000-0000-0000-000000000001")!
    static let port1UUID = UUID(uuidString: "a1a1a1a1-0000-0000-0000-000000000001")!
    static let old1UUID = UUID(uuidString: "01010101-0000-0000-0000-000000000001")!
    static let port2UUID = UUID(uuidString: "a2a2a2a2-0000-0000-0000-000000000002")!
    static let plain2UUID = UUID(uuidString: "02020202-0000-0000-0000-000000000002")!

    /// What bridgeify leaves: br0 (static, active) with eno1's port profile (naming br0 by
    /// name, active) and eno1's previous profile (autoconnect off); eno2's port profile names
    /// br0 by UUID (inactive), and eno2 has a plain profile too (`plain2Autoconnect`).
    static func host(plain2Autoconnect: Bool? = false, eno2Active: Bool = false) throws -> NMHostState {
        let br0 = try NMConnectionProfile.bridge(name: "br0", interface: NMInterfaceName("br0"), uuid: bridgeUUID,
                                                 ipv4: .static(addresses: ["192.168.1.200/24"], gateway: "192.168.1.1", dns: ["192.168.1.1"]))
        let port1 = try NMConnectionProfile.ethernet(name: "br0-port-eno1", interface: NMInterfaceName("eno1"), uuid: port1UUID)
            .attached(to: "br0")
        let old1 = try NMConnectionProfile.ethernet(name: "eno1", interface: NMInterfaceName("eno1"), uuid: old1UUID, autoconnect: false,
                                                    ipv4: .static(addresses: ["192.168.1.200/24"], gateway: "192.168.1.1"))
        let port2 = try NMConnectionProfile.ethernet(name: "br0-port-eno2", interface: NMInterfaceName("eno2"), uuid: port2UUID)
            .attached(to: bridgeUUID.uuidString.lowercased())
        let plain2 = try NMConnectionProfile.ethernet(name: "Wired 2", interface: NMInterfaceName("eno2"), uuid: plain2UUID,
                                                      autoconnect: plain2Autoconnect)
        let stored = [br0, port1, old1, port2, plain2].enumerated().map { index, profile in
            NMStoredProfile(path: ObjectPath(rawValue: "/org/freedesktop/NetworkManager/Settings/\(index + 1)")!, profile: profile,
                            flags: [], filename: nil, versionID: nil)
        }
        let active = ([(bridgeUUID, "bridge"), (port1UUID, "802-3-ethernet")] + (eno2Active ? [(port2UUID, "802-3-ethernet")] : [])).enumerated().map { index, entry in
            NMActiveConnection(path: ObjectPath(rawValue: "/org/freedesktop/NetworkManager/ActiveConnection/\(index + 1)")!,
                               properties: ["Uuid": .string(entry.0.uuidString.lowercased()), "Type": .string(entry.1)])
        }
        var host = NMHostState(version: NMVersion(1, 42, 4), activeConnections: active, profiles: stored)
        // br0's device holds the address.
        host.ipv4[ObjectPath(rawValue: "/org/freedesktop/NetworkManager/Devices/9")!] =
            NMIPv4Configuration(addresses: ["192.168.1.200/24"], gateway: "192.168.1.1", dnsServers: [])
        return host
    }

    static func name(_ uuid: UUID) -> String {
        [bridgeUUID: "br0", port1UUID: "eno1-port", old1UUID: "eno1-old", port2UUID: "eno2-port", plain2UUID: "eno2-plain"][uuid] ?? "new"
    }

    /// Ensured profiles by their names above, and the other changes as short text.
    static func translate(_ yaml: String, on host: NMHostState? = nil) throws -> (profiles: [String: NMConnectionProfile], others: [String]) {
        let transaction = try DesiredState.parse(yaml).transaction(on: host ?? Self.host())
        var profiles: [String: NMConnectionProfile] = [:]
        var others: [String] = []
        for change in transaction.changes {
            switch change {
            case .ensure(let profile, _): profiles[name(profile.connection.uuid)] = profile
            case .activate(let uuid, let ports): others.append("activate \(name(uuid))" + (ports.isEmpty ? "" : " \(ports.map(\.rawValue))"))
            case .deactivate(let uuid): others.append("deactivate \(name(uuid))")
            case .delete(let uuid): others.append("delete \(name(uuid))")
            case .supersede(let uuid): others.append("supersede \(name(uuid))")
            default: others.append("\(change)")
            }
        }
        return (profiles, others)
    }

    static func isDetached(_ profile: NMConnectionProfile?) -> Bool {
        guard let profile else { return false }
        return profile.connection.controller == nil && profile.connection.portType == nil && profile.bridgePort == nil
    }

    @Test("a port left out of the list is detached: its profile kept, naming no controller, IP disabled; the listed one stays")
    func portLeftOut() throws {
        let (profiles, others) = try Self.translate("interfaces:\n- name: br0\n  type: linux-bridge\n  bridge: {port: [{name: eno1}]}\n")
        #expect(Set(profiles.keys) == ["br0", "eno1-port", "eno2-port"])
        let eno2 = try #require(profiles["eno2-port"])
        #expect(Self.isDetached(eno2), "eno2's profile named br0 by UUID: detached too")
        #expect(eno2.ipv4?.method == .disabled && eno2.ipv6?.method == .disabled, "nmstate: no IP configuration given, IP disabled")
        #expect(profiles["eno1-port"]?.connection.controller == "br0", "listed: still a port")
        #expect(others == ["activate br0 [\"eno1\"]", "activate eno1-port"], "eno2's port was not active: not activated")
    }

    @Test("an empty list detaches every port; an active one comes back up on its own")
    func emptyListDetachesAll() throws {
        let (profiles, others) = try Self.translate("interfaces:\n- name: br0\n  type: linux-bridge\n  bridge: {port: []}\n")
        #expect(Self.isDetached(profiles["eno1-port"]) && Self.isDetached(profiles["eno2-port"]))
        #expect(profiles["eno1-port"]?.connection.uuid == Self.port1UUID, "the port's own profile, kept")
        #expect(others.contains("activate eno1-port") && !others.contains("activate eno2-port"), "\(others)")
        #expect(!others.contains { $0.hasPrefix("supersede") }, "the other profiles of eno1 and eno2 do not autoconnect: \(others)")
    }

    @Test("`port` left out leaves the ports alone")
    func portKeyLeftOut() throws {
        let (profiles, others) = try Self.translate("interfaces:\n- name: br0\n  type: linux-bridge\n  bridge: {options: {stp: {enabled: false}}}\n")
        #expect(Set(profiles.keys) == ["br0"])
        #expect(others == ["activate br0"])
    }

    @Test("a port moved to another bridge of the state is attached there, not detached")
    func portMovedToAnotherBridge() throws {
        let (profiles, _) = try Self.translate("""
            interfaces:
            - name: br0
              type: linux-bridge
              bridge: {port: [{name: eno1}]}
            - name: br1
              type: linux-bridge
              ipv4: {enabled: false}
              bridge: {port: [{name: eno2}]}
            """)
        let eno2 = profiles.values.first { $0.connection.interfaceName?.rawValue == "eno2" }
        #expect(eno2?.connection.controller == "br1" && eno2?.connection.portType == .bridge)
    }

    @Test("absent on a bridge: its profile deleted, taken down within the transaction, its ports detached")
    func absentBridgeDetachesItsPorts() throws {
        let (profiles, others) = try Self.translate("interfaces:\n- name: br0\n  state: absent\n")
        #expect(Self.isDetached(profiles["eno1-port"]) && Self.isDetached(profiles["eno2-port"]))
        #expect(profiles["br0"] == nil)
        #expect(others.contains("delete br0") && others.contains("deactivate br0") && others.contains("activate eno1-port"), "\(others)")
    }

    static let giveBack = """
        interfaces:
        - name: br0
          type: linux-bridge
          state: absent
        - name: eno1
          type: ethernet
          state: up
          ipv4:
            enabled: true
            dhcp: false
            address: [{ip: 192.168.1.200, prefix-length: 24}]
        routes:
          config:
          - {destination: 0.0.0.0/0, next-hop-address: 192.168.1.1, next-hop-interface: eno1}
        dns-resolver:
          config: {server: [192.168.1.1]}
        """

    @Test("a bridge given back to its NIC: the NIC's port profile becomes its plain profile with the bridge's IP, route and DNS")
    func giveBackToTheNIC() throws {
        let (profiles, others) = try Self.translate(Self.giveBack)
        let eno1 = try #require(profiles["eno1-port"])
        #expect(Self.isDetached(eno1))
        #expect(eno1.ipv4?.method == .manual && eno1.ipv4?.addresses.map(\.description) == ["192.168.1.200/24"])
        #expect(eno1.ipv4?.gateway == "192.168.1.1" && eno1.ipv4?.dns == ["192.168.1.1"])
        #expect(eno1.ipv4?.dadTimeout == nil, "the host holds the address now (on br0): not probed")
        #expect(eno1.ipv6?.method == .disabled, "no ipv6 given: disabled, as nmstate")
        #expect(profiles["eno1-old"] == nil, "eno1's previous profile does not autoconnect: left alone")
        #expect(others.contains("delete br0") && others.contains("deactivate br0") && others.contains("activate eno1-port"), "\(others)")
        #expect(!others.contains { $0.hasPrefix("supersede") }, "\(others)")
    }

    @Test("another profile of a detached NIC that autoconnects is superseded: exactly one autoconnects")
    func otherAutoconnectingProfileSuperseded() throws {
        // eno2's port profile active: it is eno2's own, detached and kept up; its plain profile stops autoconnecting.
        let (profiles, others) = try Self.translate("interfaces:\n- name: br0\n  state: absent\n",
                                                    on: Self.host(plain2Autoconnect: nil, eno2Active: true))
        #expect(Self.isDetached(profiles["eno2-port"]))
        #expect(others.contains("supersede eno2-plain") && others.contains("activate eno2-port"), "\(others)")
        #expect(!others.contains("supersede eno1-old") && !others.contains("supersede eno2-port"))
        // Neither active: the detached port profile is the one that autoconnects from now on.
        let (_, inactive) = try Self.translate("interfaces:\n- name: br0\n  state: absent\n", on: Self.host(plain2Autoconnect: nil))
        #expect(inactive.contains("supersede eno2-plain") && !inactive.contains("supersede eno2-port"), "\(inactive)")
    }

    @Test("a rerun after the detach plans no detach again")
    func rerunPlansNothingMore() throws {
        var host = try Self.host()
        host.profiles = host.profiles.map { stored in
            var stored = stored
            if stored.profile.connection.uuid == Self.port2UUID {
                stored.profile.connection.controller = nil
                stored.profile.connection.portType = nil
                stored.profile.bridgePort = nil
                stored.profile.ipv4 = NMIPv4Setting(method: .disabled)
                stored.profile.ipv6 = NMIPv6Setting(method: .disabled)
            }
            return stored
        }
        let (profiles, _) = try Self.translate("interfaces:\n- name: br0\n  type: linux-bridge\n  bridge: {port: [{name: eno1}]}\n", on: host)
        #expect(profiles["eno2-port"] == nil)
    }
}
