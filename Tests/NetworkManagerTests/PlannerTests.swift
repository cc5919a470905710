import DBus
import Foundation
@testable import NetworkManager
import Testing

/// The planner (`NMPlanner`) as a table: host states built by hand, no bus, no container. Each
/// row gives a host (devices, stored profiles, active connections, applied connections) and a
/// transaction, and asserts the plan's steps (kind, profile, already done) in order, or the
/// error code and that the error has a hint. TransactionTests, ReapplyTests and EnsureTests in
/// the integration target run the same planner through `plan` and `apply` against NetworkManager.
@Suite("Planner")
struct PlannerTests {
    // MARK: - Building host states

    static let codec = NMSettingsCodec(version: NMVersion(1, 42))

    static func path(_ kind: String, _ name: String) -> ObjectPath {
        // A profile's name may hold characters an object path may not.
        let element = String(name.map { $0.isLetter || $0.isNumber ? $0 : "_" })
        return ObjectPath(rawValue: "/org/freedesktop/NetworkManager/\(kind)/\(element)")!
    }

    static func device(_ name: String, _ type: NMDeviceType, real: Bool = true) -> NMDevice {
        NMDevice(path: path("Devices", name),
                 properties: ["Interface": .string(name), "DeviceType": .uint32(type.rawValue), "Real": .boolean(real)])
    }

    static func stored(_ profile: NMConnectionProfile) -> NMStoredProfile {
        NMStoredProfile(path: path("Settings", profile.name), profile: profile, flags: [], filename: nil, versionID: nil)
    }

    /// `profile` activated on the device named `interface`.
    static func active(_ profile: NMConnectionProfile, on interface: String) -> NMActiveConnection {
        NMActiveConnection(path: path("ActiveConnection", profile.name), properties: [
            "Id": .string(profile.name), "Uuid": .string(profile.uuid.uuidString.lowercased()),
            "Type": .string(profile.type.rawValue), "Devices": .array(.objectPath, [.objectPath(path("Devices", interface))]),
            "State": .uint32(NMActiveConnectionState.activated.rawValue),
        ])
    }

    static let devices = [
        device("lo", .loopback), device("eno1", .ethernet), device("eno2", .ethernet), device("br9", .bridge),
    ]

    static func profile(_ make: () throws -> NMConnectionProfile) -> NMConnectionProfile {
        // swiftlint:disable:next force_try
        try! make()
    }

    static func uuid(_ n: Int) -> UUID { UUID(uuidString: String(format: "00000000-0000-4000-8000-%012d", n))! }

    // Profiles of the table, each with a fixed UUID.
    static let eno1 = profile { try .ethernet(name: "eno1", interface: ifname("eno1"), uuid: uuid(1), ipv4: .dhcp) }
    static let eno1MTU = { var p = eno1; p.ethernet = p.ethernet ?? NMEthernetSetting(); p.ethernet?.mtu = 1400; return p }()
    static let eno1Other = profile { try .ethernet(name: "eno1-other", interface: ifname("eno1"), uuid: uuid(2), ipv4: .dhcp) }
    static let br9 = profile { try .bridge(name: "br9", interface: ifname("br9"), uuid: uuid(3), stp: true) }
    static let br9NoSTP = { var p = br9; p.bridge?.stp = false; return p }()
    static let br0 = profile { try .bridge(name: "br0", interface: ifname("br0"), uuid: uuid(4), stp: false) }
    static let port = profile { try .bridgePort(name: "br0-port-eno1", interface: ifname("eno1"), controller: "br0", uuid: uuid(5)) }
    static let vlanOnMissing = profile { try .vlan(name: "nope.7", parent: "nope", id: 7, uuid: uuid(6)) }
    static let portOfMissing = profile { try .bridgePort(name: "port-of-nothing", interface: ifname("eno2"), controller: "br-none", uuid: uuid(7)) }
    static let bridgeOnNIC = profile { try .bridge(name: "eno2-bridge", interface: ifname("eno2"), uuid: uuid(8)) }
    static let ensureEno1 = { () -> NMConnectionProfile in
        var p = profile { try .ethernet(name: "eno1", interface: ifname("eno1"), uuid: uuid(9), ipv4: .dhcp) }
        p.ethernet = p.ethernet ?? NMEthernetSetting()
        p.ethernet?.mtu = 1400
        return p
    }()

    // MARK: - The table

    struct Host: Sendable {
        var profiles: [NMConnectionProfile] = []
        /// (profile, interface) pairs that are active.
        var active: [(NMConnectionProfile, String)] = []
        /// What each device applies (by interface); an active profile not listed applies its stored settings.
        var applied: [String: NMConnectionProfile] = [:]
    }

    enum Expected: Sendable {
        /// The steps' kind, profile name and whether already done, in order.
        case steps([(NMTransactionPlan.Step.Kind, String, Bool)])
        case refused(NMError.Code)
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var host: Host
        var changes: [NMChange]
        var takeEffect = true
        var expected: Expected
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        // Steps already done.
        Row(name: "an add of a profile that exists as given is already done", host: Host(profiles: [br0]),
            changes: [.add(br0)], expected: .steps([(.add, "br0", true)])),
        Row(name: "an add of a new profile is to do", host: Host(),
            changes: [.add(br0)], expected: .steps([(.add, "br0", false)])),
        Row(name: "an add of another profile with an existing UUID is refused", host: Host(profiles: [br9]),
            changes: [.add(br9NoSTP)], expected: .refused(.uuidExists)),
        Row(name: "activating an active profile is already done", host: Host(profiles: [eno1], active: [(eno1, "eno1")]),
            changes: [.activate(uuid: eno1.uuid, ports: [])], expected: .steps([(.activate, "eno1", true)])),
        Row(name: "deactivating an inactive profile is already done", host: Host(profiles: [eno1]),
            changes: [.deactivate(uuid: eno1.uuid)], expected: .steps([(.deactivate, "eno1", true)])),
        // Autoconnect conflicts.
        Row(name: "two profiles that could autoconnect on one interface are refused", host: Host(profiles: [eno1]),
            changes: [.add(eno1Other)], expected: .refused(.invalidProfile)),
        Row(name: "superseding the old profile resolves the conflict", host: Host(profiles: [eno1]),
            changes: [.add(eno1Other), .supersede(uuid: eno1.uuid)],
            expected: .steps([(.add, "eno1-other", false), (.supersede, "eno1", false)])),
        // Controllers before ports, whatever the order given.
        Row(name: "the controller is activated before its port", host: Host(profiles: [eno1], active: [(eno1, "eno1")]),
            changes: [.add(br0), .add(port), .activate(uuid: port.uuid, ports: []), .activate(uuid: br0.uuid, ports: [ifname("eno1")]),
                      .supersede(uuid: eno1.uuid)],
            expected: .steps([(.add, "br0", false), (.add, "br0-port-eno1", false), (.activate, "br0", false),
                              (.activate, "br0-port-eno1", false), (.supersede, "eno1", false)])),
        // Modify of an active profile.
        Row(name: "a reapplicable change of an active profile is reapplied", host: Host(profiles: [eno1], active: [(eno1, "eno1")]),
            changes: [.modify(eno1MTU)], expected: .steps([(.modify, "eno1", false), (.reapply, "eno1", false)])),
        Row(name: "a change Reapply refuses is a reactivation", host: Host(profiles: [br9], active: [(br9, "br9")]),
            changes: [.modify(br9NoSTP)], expected: .steps([(.modify, "br9", false), (.reactivate, "br9", false)])),
        Row(name: "store only: no reapply", host: Host(profiles: [eno1], active: [(eno1, "eno1")]),
            changes: [.modify(eno1MTU)], takeEffect: false, expected: .steps([(.modify, "eno1", false)])),
        Row(name: "stored already but not applied: the reapply is still to do",
            host: Host(profiles: [eno1MTU], active: [(eno1MTU, "eno1")], applied: ["eno1": eno1]),
            changes: [.modify(eno1MTU)], expected: .steps([(.modify, "eno1", true), (.reapply, "eno1", false)])),
        Row(name: "stored and applied: everything already done", host: Host(profiles: [eno1MTU], active: [(eno1MTU, "eno1")]),
            changes: [.modify(eno1MTU)], expected: .steps([(.modify, "eno1", true), (.reapply, "eno1", true)])),
        Row(name: "modify and activate: the activation carries the change, no reapply",
            host: Host(profiles: [eno1], active: [(eno1, "eno1")]),
            changes: [.modify(eno1MTU), .activate(uuid: eno1.uuid, ports: [])],
            expected: .steps([(.modify, "eno1", false), (.activate, "eno1", false)])),
        Row(name: "a modify of an inactive profile has nothing to reapply", host: Host(profiles: [eno1]),
            changes: [.modify(eno1MTU)], expected: .steps([(.modify, "eno1", false)])),
        Row(name: "a modify of a profile that does not exist is refused", host: Host(),
            changes: [.modify(eno1MTU)], expected: .refused(.unknownConnection)),
        // Deletes.
        Row(name: "deleting an existing profile is to do", host: Host(profiles: [eno1, br9]),
            changes: [.delete(uuid: br9.uuid)], expected: .steps([(.delete, "br9", false)])),
        Row(name: "deleting a profile that is gone is already done (named by its UUID)", host: Host(profiles: [eno1]),
            changes: [.delete(uuid: br9.uuid)], expected: .steps([(.delete, br9.uuid.uuidString.lowercased(), true)])),
        Row(name: "adding and deleting one profile is refused", host: Host(),
            changes: [.add(br0), .delete(uuid: br0.uuid)], expected: .refused(.invalidArguments)),
        Row(name: "a deleted profile does not conflict for autoconnect", host: Host(profiles: [eno1]),
            changes: [.add(eno1Other), .delete(uuid: eno1.uuid)], expected: .steps([(.add, "eno1-other", false), (.delete, "eno1", false)])),
        // Supersede.
        Row(name: "superseding a profile that already has autoconnect off is already done",
            host: Host(profiles: [profile { try .ethernet(name: "eno1", interface: ifname("eno1"), uuid: uuid(1), autoconnect: false) }]),
            changes: [.supersede(uuid: eno1.uuid)], expected: .steps([(.supersede, "eno1", true)])),
        Row(name: "superseding an unknown UUID is refused", host: Host(),
            changes: [.supersede(uuid: eno1.uuid)], expected: .refused(.unknownConnection)),
        // Ensure resolution.
        Row(name: "ensure of a missing profile is an add", host: Host(profiles: [br9]),
            changes: [.ensure(br0)], expected: .steps([(.add, "br0", false)])),
        Row(name: "ensure of a profile that differs is a modify of the existing one (and its reapply)",
            host: Host(profiles: [eno1], active: [(eno1, "eno1")]),
            changes: [.ensure(ensureEno1)], expected: .steps([(.modify, "eno1", false), (.reapply, "eno1", false)])),
        Row(name: "ensure of a profile that holds is already done", host: Host(profiles: [eno1MTU], active: [(eno1MTU, "eno1")]),
            changes: [.ensure(ensureEno1)], expected: .steps([(.modify, "eno1", true), (.reapply, "eno1", true)])),
        Row(name: "ensure with two candidates is refused", host: Host(profiles: [eno1, eno1Other]),
            changes: [.ensure(ensureEno1, matching: .interface)], expected: .refused(.ambiguousProfile)),
        // Parents and controllers that do not exist; device-type mismatches.
        Row(name: "a VLAN on a parent that does not exist", host: Host(),
            changes: [.add(vlanOnMissing)], expected: .refused(.missingParent)),
        Row(name: "a port whose controller does not exist", host: Host(),
            changes: [.add(portOfMissing)], expected: .refused(.missingController)),
        Row(name: "a bridge profile on a NIC", host: Host(),
            changes: [.add(bridgeOnNIC)], expected: .refused(.deviceTypeMismatch)),
    ]

    static func plan(_ row: Row) throws(NMError) -> NMTransactionPlan {
        var state = NMHostState(version: NMVersion(1, 42), devices: devices, profiles: row.host.profiles.map(stored))
        state.activeConnections = row.host.active.map { active($0.0, on: $0.1) }
        var transaction = NMTransaction(row.changes)
        transaction.modifiesTakeEffect = row.takeEffect
        // What the devices apply: as stored unless the row says otherwise; only the devices the
        // planner asks for, as NMClient reads them.
        var applied: [ObjectPath: NMConnectionProfile] = [:]
        for needed in try NMPlanner.appliedConnectionsNeeded(for: transaction, host: state) {
            let interface = String(needed.rawValue.split(separator: "/").last!)
            let running = row.host.active.first { $0.1 == interface }!.0
            applied[needed] = row.host.applied[interface] ?? running
        }
        return try NMPlanner(host: state, applied: applied, codec: codec).prepare(transaction).plan
    }

    @Test("plans", arguments: rows)
    func planned(_ row: Row) {
        let result = Result { () throws(NMError) -> NMTransactionPlan in try Self.plan(row) }
        switch (row.expected, result) {
        case (.steps(let expected), .success(let plan)):
            let got = plan.steps.map { "\($0.kind) \($0.profile)\($0.alreadyDone ? " (done)" : "")" }
            let want = expected.map { "\($0.0) \($0.1)\($0.2 ? " (done)" : "")" }
            #expect(got == want)
        case (.refused(let code), .failure(let error)):
            #expect(error.code == code, "\(error)")
            #expect(error.hint?.isEmpty == false, "no hint: \(error)")
        case (.steps, .failure(let error)):
            Issue.record("refused: \(error)")
        case (.refused(let code), .success(let plan)):
            Issue.record("planned, expected \(code): \(plan)")
        }
    }

    @Test("the planner asks only for the devices whose active profile is modified, and only when modifies take effect")
    func appliedNeeded() throws {
        let state = NMHostState(version: NMVersion(1, 42), devices: Self.devices,
                                activeConnections: [Self.active(Self.eno1, on: "eno1"), Self.active(Self.br9, on: "br9")],
                                profiles: [Self.eno1, Self.br9].map(Self.stored))
        #expect(try NMPlanner.appliedConnectionsNeeded(for: NMTransaction([.modify(Self.eno1MTU)]), host: state) == [Self.path("Devices", "eno1")])
        #expect(try NMPlanner.appliedConnectionsNeeded(for: NMTransaction([.add(Self.br0)]), host: state).isEmpty)
        var storeOnly = NMTransaction([.modify(Self.eno1MTU)])
        storeOnly.modifiesTakeEffect = false
        #expect(try NMPlanner.appliedConnectionsNeeded(for: storeOnly, host: state).isEmpty)
        // A device whose applied connection could not be read (deactivated since): no reapply there.
        let plan = try NMPlanner(host: state, applied: [:], codec: Self.codec).prepare(NMTransaction([.modify(Self.eno1MTU)])).plan
        #expect(plan.steps.map(\.kind) == [.modify])
    }
}
