import DBus
import Foundation
import NMTestSupport
import NetworkManager
import Testing

/// `.ensure` against a real NetworkManager (issue 11, "Idempotent by name"): a tool that
/// builds its profiles afresh each run (a new random UUID each time) adds them once, a rerun
/// is `unchanged` without a checkpoint, a changed setting modifies the existing profile in
/// place (its UUID and path kept, reapplied on its device), and two profiles it could stand
/// for are refused at plan time with nothing changed. The resolution rules themselves are
/// unit-tested in Tests/NetworkManagerTests/EnsureResolutionTests.swift.
@Suite(.serialized)
struct EnsureTests {
    /// A bridge without ports (this machine's kernel has no dummy module; it has bridges).
    static func bridge(_ address: String, name: String = "ensure-bridge") throws -> NMConnectionProfile {
        // A fresh UUID each call, as a tool run again would build it.
        try NMConnectionProfile.bridge(name: name, interface: NMInterfaceName("ensbr0"), stp: false,
                                       ipv4: .static(addresses: [IPv4AddressWithPrefix(address)]), ipv6: .disabled)
    }

    static func uuids(named name: String, _ nm: NMClient) async throws -> [UUID] {
        try await nm.profiles(named: name).map(\.profile.uuid)
    }

    /// Added when missing; a rerun with a profile built again (another UUID) is `unchanged`,
    /// no checkpoint; a changed address modifies the same profile (UUID and path kept) and is
    /// reapplied on the device it is active on; a rerun of that is `unchanged` again.
    @Test func ensureAddsThenRerunIsUnchangedThenAChangeModifiesInPlace() async throws {
        try await withNMContainer(nics: ["eno1"], eno1Static: true) { container in
            let nm = try await container.client()
            let first = try Self.bridge("192.0.2.10/24")
            let added = try await nm.apply(NMTransaction([.ensure(first), .activate(uuid: first.uuid)], label: "ensure 1"))
            #expect(added.outcome == .committed)
            #expect(added.plan.steps.map(\.kind) == [.add, .activate], "\(added.plan)")
            let stored = try #require(try await nm.profiles(named: "ensure-bridge").first)
            #expect(stored.profile.uuid == first.uuid)
            #expect(try container.kernelIPv4("ensbr0") == ["192.0.2.10/24"])
            let afterAdd = try await HostSnapshot.take(container, nm)

            // Rerun, built again: another UUID, the same profile.
            let again = try Self.bridge("192.0.2.10/24")
            #expect(again.uuid != first.uuid)
            let rerun = NMTransaction([.ensure(again), .activate(uuid: again.uuid)], label: "ensure 2")
            let plan = try await nm.plan(rerun)
            #expect(plan.isUnchanged, "\(plan)")
            #expect(plan.steps.allSatisfy { $0.uuid == first.uuid }, "the plan names the existing profile: \(plan.steps.map(\.uuid))")
            let unchanged = try await nm.apply(rerun)
            #expect(unchanged.outcome == .unchanged, "\(unchanged.plan)")
            #expect(!unchanged.steps.contains { $0.step == .checkpoint })
            #expect(try await Self.uuids(named: "ensure-bridge", nm) == [first.uuid])
            #expect(try await HostSnapshot.take(container, nm) == afterAdd)

            // A changed setting: a modify of the existing profile, reapplied where it is active.
            let changed = try Self.bridge("192.0.2.20/24")
            let modifyPlan = try await nm.plan(NMTransaction([.ensure(changed)]))
            #expect(modifyPlan.steps.map(\.kind) == [.modify, .reapply], "\(modifyPlan)")
            #expect(modifyPlan.steps.allSatisfy { $0.uuid == first.uuid })
            let modified = try await nm.apply(NMTransaction([.ensure(changed)], label: "ensure 3"))
            #expect(modified.outcome == .committed)
            #expect(modified.steps.map(\.detail).contains { $0.hasPrefix("reapply ensure-bridge") }, "\(modified.steps.map(\.detail))")
            let after = try #require(try await nm.profiles(named: "ensure-bridge").first)
            #expect(after.profile.uuid == first.uuid)
            #expect(after.path == stored.path)
            #expect(!after.isInMemory)
            #expect(after.profile.ipv4?.addresses.map(\.description) == ["192.0.2.20/24"])
            #expect(try container.kernelIPv4("ensbr0") == ["192.0.2.20/24"])
            let device = try await nm.device(named: "ensbr0")
            let applied = try await nm.appliedProfile(of: device.path).profile
            #expect(applied.ipv4?.addresses.map(\.description) == ["192.0.2.20/24"])
            print("applied connection.autoconnect after the reapply: \(String(describing: applied.connection.autoconnect)), stored: \(String(describing: after.profile.connection.autoconnect))")
            #expect(try await HostSnapshot.take(container, nm).checkpoints == 0)

            // And that, run again, is unchanged.
            let last = try await nm.apply(NMTransaction([.ensure(try Self.bridge("192.0.2.20/24"))]))
            #expect(last.outcome == .unchanged, "\(last.plan)")
            #expect(!last.steps.contains { $0.step == .checkpoint })

            // Down, then ensured with an activation by the fresh profile's UUID: the existing
            // profile is the one activated.
            _ = try container.execChecked(["nmcli", "connection", "down", first.uuid.uuidString.lowercased()])
            let fresh = try Self.bridge("192.0.2.20/24")
            let up = try await nm.apply(NMTransaction([.ensure(fresh), .activate(uuid: fresh.uuid)], label: "ensure 4"))
            #expect(up.outcome == .committed)
            #expect(up.plan.steps.map(\.kind) == [.modify, .activate] && up.plan.steps[0].alreadyDone && !up.plan.steps[1].alreadyDone,
                    "\(up.plan)")
            let active = try await nm.activeConnections().filter { $0.state == .activated }.map(\.uuid)
            #expect(active.contains(first.uuid), "\(active)")
            #expect(!active.contains(fresh.uuid))
            #expect(try container.kernelIPv4("ensbr0") == ["192.0.2.20/24"])
            #expect(try await Self.uuids(named: "ensure-bridge", nm) == [first.uuid])
        }
    }

    /// By interface: the seed's "eno1" profile is the ethernet profile for eno1 whatever a
    /// tool names its own; ensuring one with the seed's settings under another name renames it
    /// in place.
    @Test func ensureByInterfaceFindsTheProfileOfThatInterface() async throws {
        try await withNMContainer(nics: ["eno1"], eno1Static: true) { container in
            let nm = try await container.client()
            let seed = try #require(try await nm.profiles(named: "eno1").first)
            var desired = seed.profile
            desired.connection.uuid = UUID()
            desired.name = "lab uplink"
            let plan = try await nm.plan(NMTransaction([.ensure(desired, matching: .interface)]))
            #expect(plan.steps.first?.kind == .modify && plan.steps.first?.uuid == seed.profile.uuid, "\(plan)")
            #expect(plan.steps.first?.changes.map { "\($0.setting).\($0.key)" } == ["connection.id"], "\(plan)")
            // By name it would be a second profile for eno1, which the planner refuses.
            do {
                _ = try await nm.plan(NMTransaction([.ensure(desired)]))
                Issue.record("a second autoconnecting profile for eno1 was planned")
            } catch let error as NMError {
                #expect(error.code == .invalidProfile, "\(error)")
            }
        }
    }

    /// Two profiles of the same name: `ensure` refuses at plan time (`ambiguousProfile`, both
    /// named, a hint), and `apply` refuses before any checkpoint; nothing changes.
    @Test func twoCandidatesAreRefusedAtPlanTimeAndNothingChanges() async throws {
        try await withNMContainer(nics: ["eno1"], eno1Static: true) { container in
            let nm = try await container.client()
            for interface in ["ensdup1", "ensdup2"] {
                _ = try container.execChecked(["nmcli", "connection", "add", "type", "dummy", "ifname", interface,
                                               "con-name", "ensure-dup", "autoconnect", "no", "ipv4.method", "disabled",
                                               "ipv6.method", "disabled"])
            }
            let existing = try await Self.uuids(named: "ensure-dup", nm)
            #expect(existing.count == 2)
            let before = try await HostSnapshot.take(container, nm)
            let desired = try NMConnectionProfile.dummy(name: "ensure-dup", interface: NMInterfaceName("ensdup1"),
                                                        autoconnect: false, ipv4: .disabled, ipv6: .disabled)
            let transaction = NMTransaction([.ensure(desired), .activate(uuid: desired.uuid)])
            for attempt in ["plan", "apply"] {
                do {
                    if attempt == "plan" { _ = try await nm.plan(transaction) } else { _ = try await nm.apply(transaction) }
                    Issue.record("\(attempt) accepted an ambiguous ensure")
                } catch let error as NMError {
                    #expect(error.code == .ambiguousProfile, "\(attempt): \(error)")
                    for uuid in existing { #expect(error.message.contains(uuid.uuidString.lowercased()), "\(error.message)") }
                    #expect(error.hint?.isEmpty == false)
                    if attempt == "apply" {
                        if case .notNeeded? = error.transaction?.rollback {} else { Issue.record("rollback: \(error)") }
                        #expect(error.transaction?.steps.contains { $0.step == .checkpoint } == false)
                    }
                }
            }
            #expect(try await HostSnapshot.take(container, nm) == before)
            #expect(Set(try await Self.uuids(named: "ensure-dup", nm)) == Set(existing))
        }
    }

    /// A bond and a bond port, ensured: stored and read back (controller, port type, no IP
    /// settings), and a rerun built afresh is `unchanged` (the port's controller, given as the
    /// new bond's UUID, resolves to the existing bond's). Storage and plan only: this
    /// machine's kernel has no bonding module, so the bond cannot be activated here; both
    /// profiles have autoconnect off so that NetworkManager does not try.
    @Test func bondPortIsStoredAndReadBackAndARerunIsUnchanged() async throws {
        try await withNMContainer(nics: ["eno1", "eno2"], eno1Static: true) { container in
            let nm = try await container.client()
            func build() throws -> (bond: NMConnectionProfile, port: NMConnectionProfile) {
                let bond = try NMConnectionProfile.bond(name: "ensure-bond", interface: NMInterfaceName("ensbond0"),
                                                        mode: .activeBackup, autoconnect: false, ipv4: .disabled, ipv6: .disabled)
                let port = try NMConnectionProfile.bondPort(name: "ensure-bond-port-eno2", interface: NMInterfaceName("eno2"),
                                                            controller: bond.uuid.uuidString.lowercased(), autoconnect: false)
                return (bond, port)
            }
            let first = try build()
            let result = try await nm.apply(NMTransaction([.ensure(first.bond), .ensure(first.port)], label: "bond port"))
            #expect(result.outcome == .committed)
            #expect(result.plan.steps.map(\.kind) == [.add, .add])
            let port = try #require(try await nm.profiles(named: "ensure-bond-port-eno2").first)
            #expect(!port.isInMemory)
            #expect(port.profile.uuid == first.port.uuid)
            #expect(port.profile.connection.controller == first.bond.uuid.uuidString.lowercased())
            #expect(port.profile.connection.portType == .bond)
            #expect(port.profile.ipv4 == nil && port.profile.ipv6 == nil, "\(port.profile)")
            #expect(port.profile.interfaceName?.rawValue == "eno2")
            print("bond port as NetworkManager \(try await nm.version()) stores it: settings the model does not know: \(port.profile.unknownSettings.keys.sorted())")

            let second = try build()
            let rerun = try await nm.apply(NMTransaction([.ensure(second.bond), .ensure(second.port)], label: "bond port again"))
            #expect(rerun.outcome == .unchanged, "\(rerun.plan)")
            #expect(!rerun.steps.contains { $0.step == .checkpoint })
            #expect(try await Self.uuids(named: "ensure-bond", nm) == [first.bond.uuid])
            #expect(try await Self.uuids(named: "ensure-bond-port-eno2", nm) == [first.port.uuid])
        }
    }
}
