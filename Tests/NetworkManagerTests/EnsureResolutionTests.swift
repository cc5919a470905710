import DBus
import Foundation
@testable import NetworkManager
import Testing

/// `.ensure`'s resolution (`NMClient.resolveEnsures`, `ensureCandidates`, `ensured`): which
/// existing profile a desired one stands for, and what the transaction becomes. Pure
/// functions, no bus; EnsureTests in the integration target runs the same through `plan` and
/// `apply` against a real NetworkManager.
/// An interface name known to be valid (test data).
func ifname(_ text: String) -> NMInterfaceName {
    // swiftlint:disable:next force_try
    try! NMInterfaceName(text)
}

@Suite("Ensure resolution")
struct EnsureResolutionTests {
    static let eno1 = ifname("eno1")
    static let eno2 = ifname("eno2")

    static func stored(_ profile: NMConnectionProfile, _ number: Int) -> NMStoredProfile {
        NMStoredProfile(path: ObjectPath(rawValue: "/org/freedesktop/NetworkManager/Settings/\(number)")!, profile: profile,
                        flags: [], filename: nil, versionID: nil)
    }

    static func resolve(_ changes: [NMChange], _ existing: [NMConnectionProfile]) throws(NMError) -> [NMChange] {
        try NMClient.resolveEnsures(changes, existing: existing.enumerated().map { stored($1, $0 + 1) })
    }

    /// The error resolving `changes` against `existing` throws, nil when it resolves.
    static func refusal(_ changes: [NMChange], _ existing: [NMConnectionProfile]) -> NMError? {
        do {
            _ = try resolve(changes, existing)
            return nil
        } catch {
            return error
        }
    }

    @Test("no candidate: an add with the given UUID")
    func missingIsAdded() throws {
        let desired = try NMConnectionProfile.ethernet(name: "lab", interface: Self.eno1, ipv4: .dhcp)
        let other = try NMConnectionProfile.ethernet(name: "other", interface: Self.eno2, ipv4: .dhcp)
        #expect(try Self.resolve([.ensure(desired)], [other]) == [.add(desired)])
        // By interface: the same interface with another type is no candidate.
        let bridge = try NMConnectionProfile.bridge(name: "eno1-bridge", interface: Self.eno1)
        #expect(try Self.resolve([.ensure(desired, matching: .interface)], [bridge]) == [.add(desired)])
    }

    @Test("one candidate by name: a modify that keeps its UUID, references follow")
    func oneByNameIsModified() throws {
        let existingBridge = try NMConnectionProfile.bridge(name: "br0", interface: ifname("br0"), stp: true)
        let desired = try NMConnectionProfile.bridge(name: "br0", interface: ifname("br0"), stp: false)
        let port = try NMConnectionProfile.bridgePort(name: "br0-port", interface: Self.eno1,
                                                      controller: desired.uuid.uuidString.lowercased())
        let vlan = try NMConnectionProfile.vlan(name: "br0.7", parent: desired.uuid.uuidString.lowercased(), id: 7,
                                                interface: ifname("br0.7"))
        let resolved: [NMChange] = try Self.resolve([.ensure(desired), .add(port), .ensure(vlan), .activate(uuid: desired.uuid, ports: [Self.eno1]),
                                         .supersede(uuid: desired.uuid)], [existingBridge])
        var expected = desired
        expected.connection.uuid = existingBridge.uuid
        let target = existingBridge.uuid.uuidString.lowercased()
        var expectedPort = port
        expectedPort.connection.controller = target
        var expectedVLAN = vlan
        expectedVLAN.vlan?.parent = target
        let wanted: [NMChange] = [.modify(expected), .add(expectedPort), .add(expectedVLAN),
                                  .activate(uuid: existingBridge.uuid, ports: [Self.eno1]), .supersede(uuid: existingBridge.uuid)]
        #expect(resolved == wanted)
    }

    @Test("the same UUID is the same profile, whatever its name now")
    func sameUUIDIsModified() throws {
        let desired = try NMConnectionProfile.ethernet(name: "renamed", interface: Self.eno1, ipv4: .dhcp)
        var existing = desired
        existing.name = "old name"
        #expect(try Self.resolve([.ensure(desired)], [existing]) == [.modify(desired)])
    }

    @Test("by interface: the profile of that type on that interface, whatever its name")
    func oneByInterface() throws {
        let existing = try NMConnectionProfile.ethernet(name: "Wired connection 1", interface: Self.eno1, ipv4: .dhcp)
        let desired = try NMConnectionProfile.ethernet(name: "eno1", interface: Self.eno1,
                                                       ipv4: .static(addresses: ["192.0.2.10/24"]))
        var expected = desired
        expected.connection.uuid = existing.uuid
        #expect(try Self.resolve([.ensure(desired, matching: .interface)], [existing]) == [.modify(expected)])
        #expect(try Self.resolve([.ensure(desired, matching: .nameOrInterface)], [existing]) == [.modify(expected)])
        // By name only, it is not the same profile.
        #expect(try Self.resolve([.ensure(desired)], [existing]) == [.add(desired)])
        // Without an interface name there is nothing to match by interface.
        let unbound = try NMConnectionProfile.ethernet(name: "any", interface: nil, ipv4: .dhcp)
        let error = Self.refusal([.ensure(unbound, matching: .interface)], [existing])
        #expect(error?.code == .invalidArguments)
        #expect(error?.hint?.contains("interface name") == true)
    }

    @Test("two candidates: ambiguousProfile naming both, with a hint")
    func twoCandidatesAreRefused() throws {
        let first = try NMConnectionProfile.ethernet(name: "lab", interface: Self.eno1, ipv4: .dhcp)
        let second = try NMConnectionProfile.ethernet(name: "lab", interface: Self.eno2, ipv4: .dhcp)
        let desired = try NMConnectionProfile.ethernet(name: "lab", interface: Self.eno1, ipv4: .dhcp)
        let error = Self.refusal([.ensure(desired)], [first, second])
        #expect(error?.code == .ambiguousProfile)
        #expect(error?.message.contains(first.uuid.uuidString.lowercased()) == true, "\(String(describing: error))")
        #expect(error?.message.contains(second.uuid.uuidString.lowercased()) == true)
        #expect(error?.hint != nil)
        // One by name and another by interface are two as well.
        let byInterface = try NMConnectionProfile.ethernet(name: "Wired connection 1", interface: Self.eno1, ipv4: .dhcp)
        let mixed = Self.refusal([.ensure(desired, matching: .nameOrInterface)], [first, byInterface])
        #expect(mixed?.code == .ambiguousProfile)
        // The desired UUID on one profile and the name on another.
        let sameUUID = try NMConnectionProfile.ethernet(name: "not lab", interface: Self.eno2, uuid: desired.uuid, ipv4: .dhcp)
        #expect(Self.refusal([.ensure(desired)], [sameUUID, first])?.code == .ambiguousProfile)
        // A profile the transaction deletes is no candidate.
        #expect(try Self.resolve([.delete(uuid: second.uuid), .ensure(desired)], [first, second])
            == [.delete(uuid: second.uuid), .modify({ var p = desired; p.connection.uuid = first.uuid; return p }())])
    }

    @Test("a candidate of another type: profileTypeMismatch")
    func otherTypeIsRefused() throws {
        let existing = try NMConnectionProfile.ethernet(name: "br0", interface: ifname("br0"), ipv4: .dhcp)
        let desired = try NMConnectionProfile.bridge(name: "br0", interface: ifname("br0"))
        let error = Self.refusal([.ensure(desired)], [existing])
        #expect(error?.code == .profileTypeMismatch)
        #expect(error?.message.contains("802-3-ethernet") == true, "\(String(describing: error))")
    }

    @Test("two changes of one profile are refused")
    func twoChangesOfOneProfile() throws {
        let existing = try NMConnectionProfile.ethernet(name: "lab", interface: Self.eno1, ipv4: .dhcp)
        let desired = try NMConnectionProfile.ethernet(name: "lab", interface: Self.eno1, ipv4: .disabled)
        #expect(Self.refusal([.ensure(desired), .ensure(desired)], [existing])?.code == .invalidArguments)
        #expect(Self.refusal([.ensure(desired), .modify(existing)], [existing])?.code == .invalidArguments)
    }

    @Test("a transaction's record, witness and backups are never candidates")
    func bookkeepingIsIgnored() throws {
        let desired = try NMConnectionProfile.ethernet(name: "lab", interface: Self.eno1, ipv4: .dhcp)
        var backup = desired
        backup.connection.uuid = UUID()
        backup.userData = [NMStagedProfileTag.Key.staged: "backup", NMStagedProfileTag.Key.transaction: UUID().uuidString]
        #expect(try Self.resolve([.ensure(desired)], [backup]) == [.add(desired)])
        var staged = backup
        staged.userData[NMStagedProfileTag.Key.staged] = "add"  // a pending transaction's profile is a real one
        #expect(try Self.resolve([.ensure(desired)], [staged]).first.map { if case .modify = $0 { true } else { false } } == true)
    }

    @Test("what the model does not know is kept from the existing profile; modelled settings are the desired ones")
    func unmodelledIsKept() throws {
        var existing = try NMConnectionProfile.ethernet(name: "lab", interface: Self.eno1, mtu: 9000,
                                                        ipv4: .static(addresses: ["192.0.2.10/24"], dns: ["192.0.2.53"]))
        existing.unknownSettings["proxy"] = ["method": .uint32(0)]
        existing.connection.extraKeys["timestamp"] = .uint64(1_700_000_000)
        existing.ipv4?.extraKeys["dhcp-timeout"] = .int32(42)
        existing.userData = ["org.example.owner": "lab-tool"]
        let desired = try NMConnectionProfile.ethernet(name: "lab", interface: Self.eno1, ipv4: .static(addresses: ["192.0.2.11/24"]))
        let merged = NMClient.ensured(desired, onto: existing)
        #expect(merged.uuid == existing.uuid)
        #expect(merged.unknownSettings["proxy"] == ["method": .uint32(0)])
        #expect(merged.userData == ["org.example.owner": "lab-tool"])
        #expect(merged.connection.extraKeys["timestamp"] == .uint64(1_700_000_000))
        #expect(merged.ipv4?.extraKeys["dhcp-timeout"] == .int32(42))
        #expect(merged.ipv4?.addresses.map(\.description) == ["192.0.2.11/24"])
        #expect(merged.ipv4?.dns == [])  // modelled: the desired profile's, even when empty
        #expect(merged.ethernet?.mtu == nil)  // back to NetworkManager's default
    }

    @Test("a transaction without ensure is returned as it is")
    func noEnsure() throws {
        let profile = try NMConnectionProfile.ethernet(name: "lab", interface: Self.eno1, ipv4: .dhcp)
        #expect(try Self.resolve([.add(profile), .activate(uuid: profile.uuid)], [profile]) == [.add(profile), .activate(uuid: profile.uuid)])
    }
}

/// The port builders: the `connection` setting NetworkManager needs, and no IP settings
/// (except on a VRF port).
@Suite("Port builders")
struct PortBuilderTests {
    @Test("a bond port names its controller, port type bond, and has no IP settings")
    func bondPort() throws {
        let port = try NMConnectionProfile.bondPort(name: "bond0-port-eno1", interface: ifname("eno1"), controller: "bond0")
        #expect(port.connection.controller == "bond0")
        #expect(port.connection.portType == .bond)
        #expect(port.type == .ethernet)
        #expect(port.ipv4 == nil && port.ipv6 == nil && port.bridgePort == nil)
        #expect(port.isPort)
        // The generic builder makes the same thing.
        var generic = try NMConnectionProfile.port(name: "bond0-port-eno1", interface: ifname("eno1"), controller: "bond0", type: .bond)
        generic.connection.uuid = port.uuid
        #expect(generic == port)
        // A bridge port from the generic builder carries the bridge-port setting, as bridgePort's.
        let bridgePort = try NMConnectionProfile.port(name: "p", interface: ifname("eno1"), controller: "br0", type: .bridge)
        #expect(bridgePort.bridgePort == NMBridgePortSetting())
    }

    @Test("a bond port given IP settings is refused, with a hint about bond ports")
    func bondPortWithIP() throws {
        var port = try NMConnectionProfile.bondPort(name: "p", interface: ifname("eno1"), controller: "bond0")
        port.ipv4 = .static(addresses: ["192.0.2.10/24"])
        do {
            try port.validate()
            Issue.record("a bond port with an address passed validation")
        } catch {
            #expect(error.code == .portWithIPSettings)
            #expect(error.hint?.contains("a bond port cannot carry IP settings") == true, "\(String(describing: error.hint))")
        }
    }

    @Test("a VRF port keeps its IP settings")
    func vrfPort() throws {
        let port = try NMConnectionProfile.vrfPort(name: "vrf-port", interface: ifname("eno1"), controller: "vrf0",
                                                   ipv4: .static(addresses: ["192.0.2.10/24"]))
        #expect(port.connection.portType == .vrf)
        #expect(port.ipv4?.addresses.map(\.description) == ["192.0.2.10/24"])
    }

    @Test("Open vSwitch port types are refused by the generic builder")
    func ovsRefused() throws {
        for type in [NMPortType.ovsPort, .ovsBridge] {
            do {
                _ = try NMConnectionProfile.port(name: "p", interface: ifname("eno1"), controller: "ovs0", type: type)
                Issue.record("built a \(type) port")
            } catch {
                #expect(error.code == .invalidProfile)
            }
        }
    }
}
