import DBus
import Foundation
import NMTestSupport
import NetworkManager
import Testing

@Suite(.serialized)
struct TransactionTests {
    @Test func aBridgeConversionCommitsPersistsAndIsUnchangedTheSecondTime() async throws {
        try await withNMContainer(nics: ["eno1"], eno1Static: true) { container in
            let nm = try await container.client()
            let conversion = try await BridgeConversion.make(nm, probes: [container.gatewayProbe()])
            let plan = try await nm.plan(conversion.transaction)
            #expect(!plan.isUnchanged)
            #expect(plan.steps.map(\.kind) == [.add, .add, .activate, .supersede])
            #expect(plan.description.contains("+ ipv4.address-data"))
            let json = try JSONEncoder().encode(plan)
            #expect(try JSONDecoder().decode(NMTransactionPlan.self, from: json) == plan)

            let started = ContinuousClock.now
            let result = try await nm.apply(conversion.transaction)
            let elapsed = ContinuousClock.now - started
            #expect(result.outcome == .committed)
            #expect(Set(result.steps.map(\.step)).isSuperset(of: [.checkpoint, .stage, .activate, .verify, .probe, .commit]))
            print("conversion committed in \(elapsed): \(result.steps.map { "\($0.step.rawValue) \($0.milliseconds) ms" })")

            let after = try await HostSnapshot.take(container, nm)
            #expect(after.kernelControllers["eno1"] == "br0")
            #expect(after.kernelAddresses["br0"] == ["192.168.1.200/24"])
            #expect(after.kernelAddresses["eno1"] == [])
            #expect(after.activeOnDevice["br0"] == "br0")
            #expect(after.activeOnDevice["eno1"] == "br0-port-eno1")
            #expect(after.storage["br0"] == "disk" && after.storage["br0-port-eno1"] == "disk")
            #expect(after.checkpoints == 0)
            // No bookkeeping left behind, and the old profile is kept but cannot autoconnect.
            #expect(after.profiles["br0"]?["user"] == nil)
            #expect(after.profiles["eno1"]?["connection"]?["autoconnect"] == .boolean(false))
            #expect(try await nm.pendingTransactions().isEmpty)
            // Exactly one profile may autoconnect on each interface.
            let profiles = try await nm.profiles()
            for interface in ["eno1", "br0"] {
                let autoconnecting = profiles.filter { $0.profile.interfaceName?.rawValue == interface && $0.profile.connection.autoconnect != false }
                #expect(autoconnecting.count == 1, "\(interface): \(autoconnecting.map(\.profile.name))")
            }
            // The bridge took the NIC's MAC.
            #expect(try await nm.device(named: "br0").hardwareAddress == (try await nm.device(named: "eno1").hardwareAddress))

            // The same desired state again: nothing to do, no checkpoint.
            let again = try await nm.apply(conversion.transaction)
            #expect(again.outcome == .unchanged)
            #expect(!again.steps.contains { $0.step == .checkpoint })
            #expect(try await HostSnapshot.take(container, nm) == after)
        }
    }

    @Test func waitsShareOneSubscriptionThatEndsWithTheClient() async throws {
        try await withNMContainer(nics: ["eno1"], eno1Static: true) { container in
            let observer = try await DBusConnection.connect(address: container.busAddress)
            /// The rules the bus holds for `name` (dbus-daemon's Debug.Stats interface).
            func rules(of name: BusName) async throws -> [String] {
                let all = try await observer.call(
                    destination: .bus, path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus.Debug.Stats",
                    member: "GetAllMatchRules", returning: [String: [String]].self)
                return all[name.rawValue] ?? []
            }
            var nm: NMClient? = try await container.client()
            let unique = try #require(nm?.connection.uniqueName)
            let eno1 = try #require(try await nm?.profiles().first { $0.profile.name == "eno1" })
            let device = try #require(try await nm?.device(named: "eno1"))
            // Three waits on signals: two activations and a deactivation.
            for _ in 0..<2 { try await nm?.activate(eno1.path, on: device.path, waitFor: .activated, timeout: .seconds(30)) }
            let active = try #require(try await nm?.device(named: "eno1").activeConnection)
            try await nm?.deactivate(active)
            let held = try await rules(of: unique)
            let nmRules = held.filter { $0.contains("path_namespace='/org/freedesktop'") }
            #expect(nmRules.count == 1, "\(held)")
            #expect(held.count == 2, "one rule for NetworkManager's signals and one for its owner: \(held)")
            // The client made its connection: releasing the client closes it, and the bus drops
            // the rules with it (no RemoveMatch needed from a command about to exit).
            nm = nil
            let deadline = ContinuousClock.now + .seconds(5)
            while try await !rules(of: unique).isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            #expect(try await rules(of: unique).isEmpty)
            #expect(try await !observer.nameHasOwner(unique))
        }
    }

    @Test func aFailingProbeRollsBackToExactlyBefore() async throws {
        try await withNMContainer(nics: ["eno1"], eno1Static: true) { container in
            let nm = try await container.client()
            let before = try await HostSnapshot.take(container, nm)
            let conversion = try await BridgeConversion.make(
                nm, probes: [.custom("always fails", budget: .seconds(1)) { throw NMError(.failed, "unreachable on purpose") }])
            let error = try await requireTransactionFailure { try await nm.apply(conversion.transaction) }
            #expect(error.step == .probe)
            #expect(error.cause.message.contains("unreachable on purpose"))
            guard case .restored(let restoreTime) = error.rollback else {
                Issue.record("rollback: \(error.rollback)")
                return
            }
            print("probe failure restored in \(restoreTime)")
            let after = try await HostSnapshot.take(container, nm)
            #expect(after == before, "\(after.differences(from: before))")
        }
    }

    /// `NMTransaction.afterActivation`: a hook runs once the bridge is activated with its port
    /// and before verification; an optional hook that throws, or outlives its budget, is
    /// recorded and the transaction still commits.
    @Test func afterActivationHooksRunBetweenActivateAndVerifyAndOptionalOnesMayFail() async throws {
        try await withNMContainer(nics: ["eno1"], eno1Static: true) { container in
            let nm = try await container.client()
            var conversion = try await BridgeConversion.make(nm)
            conversion.transaction.afterActivation = [
                NMTransactionHook("sees br0") {
                    let bridge = try await nm.device(named: "br0")
                    let port = try await nm.device(named: "eno1")
                    guard bridge.state == .activated, port.state == .activated, try container.kernelController("eno1") == "br0" else {
                        throw NMError(.failed, "br0 is \(bridge.state), eno1 is \(port.state)")
                    }
                    return "br0 activated with eno1"
                },
                NMTransactionHook("throws") { throw NMError(.failed, "on purpose") },
                NMTransactionHook("slow", budget: .milliseconds(200)) {
                    try await Task.sleep(for: .seconds(10))
                    return "never"
                },
            ]
            #expect(conversion.transaction.effectiveRollbackTimeout == .seconds(30) + .seconds(2) + .milliseconds(200))
            let result = try await nm.apply(conversion.transaction)
            #expect(result.outcome == .committed)
            let hooks = result.steps.filter { $0.step == .afterActivation }.map(\.detail)
            #expect(hooks.count == 3, "\(hooks)")
            #expect(hooks.first == "sees br0: br0 activated with eno1")
            #expect(hooks.dropFirst().first == "throws: failed (not required: the transaction goes on): on purpose")
            #expect(hooks.last?.hasPrefix("slow: failed (not required: the transaction goes on): did not finish within") == true, "\(hooks)")
            // In order: every activation, then the hooks, then verification.
            let order = result.steps.map(\.step)
            let lastActivate = try #require(order.lastIndex(of: .activate))
            let firstHook = try #require(order.firstIndex(of: .afterActivation))
            let verify = try #require(order.firstIndex(of: .verify))
            #expect(lastActivate < firstHook && order.lastIndex(of: .afterActivation)! < verify, "\(order)")
            #expect(try container.kernelController("eno1") == "br0")
        }
    }

    /// A superseded profile that someone else changes after planning keeps that change: the
    /// commit's autoconnect write is refused by NetworkManager's version-id check (1.44 and
    /// later) or made on a re-read (1.42), never on the copy planning read.
    @Test func aSupersededProfileChangedAfterPlanningKeepsTheChange() async throws {
        try await withNMContainer(nics: ["eno1"], eno1Static: true) { container in
            let nm = try await container.client()
            var conversion = try await BridgeConversion.make(nm)
            conversion.transaction.afterActivation = [
                NMTransactionHook("changes eno1's profile", required: true) {
                    guard let stored = try await nm.profiles(named: "eno1").first else { throw NMError(.failed, "no profile eno1") }
                    var profile = stored.profile
                    profile.connection.autoconnectPriority = 7
                    try await nm.updateProfile(stored.path, to: profile)
                    return "priority 7"
                },
            ]
            let result = try await nm.apply(conversion.transaction)
            #expect(result.outcome == .committed)
            #expect(result.steps.contains { $0.step == .afterActivation && $0.detail == "changes eno1's profile: priority 7" })
            let after = try #require(try await nm.profiles(named: "eno1").first)
            #expect(after.profile.connection.autoconnect == false)
            #expect(after.profile.connection.autoconnectPriority == 7)
        }
    }

    /// The same, with the host read after the client subscribed (as bridgeify reads it): on
    /// 1.42 the commit then writes planning's copy of the old profile without re-reading it
    /// unless the kept subscription saw an `Updated` signal for it. Another process (nmcli in
    /// the container) changes the profile after activation, so only that signal can tell.
    @Test func aSupersededProfileChangedByAnotherProcessAfterASubscribedReadKeepsTheChange() async throws {
        try await withNMContainer(nics: ["eno1"], eno1Static: true) { container in
            let nm = try await container.client()
            try await nm.followChanges()
            let host = try await nm.snapshotWithProfiles()
            var conversion = try await BridgeConversion.make(nm)
            conversion.transaction.afterActivation = [
                NMTransactionHook("nmcli changes eno1's profile", required: true) {
                    _ = try container.exec(["nmcli", "connection", "modify", "eno1", "connection.autoconnect-priority", "7"])
                    return "priority 7"
                },
            ]
            let result = try await nm.apply(conversion.transaction, basedOn: host)
            #expect(result.outcome == .committed)
            let after = try #require(try await nm.profiles(named: "eno1").first)
            #expect(after.profile.connection.autoconnect == false)
            #expect(after.profile.connection.autoconnectPriority == 7)
        }
    }

    /// A required hook that fails rolls the transaction back like a failed probe.
    @Test func aFailingRequiredHookRollsBackToExactlyBefore() async throws {
        try await withNMContainer(nics: ["eno1"], eno1Static: true) { container in
            let nm = try await container.client()
            let before = try await HostSnapshot.take(container, nm)
            var conversion = try await BridgeConversion.make(nm)
            conversion.transaction.afterActivation = [
                NMTransactionHook("required", required: true) { throw NMError(.failed, "cannot carry on purpose") }
            ]
            let error = try await requireTransactionFailure { try await nm.apply(conversion.transaction) }
            #expect(error.step == .afterActivation)
            #expect(error.cause.message == "required: cannot carry on purpose")
            guard case .restored = error.rollback else {
                Issue.record("rollback: \(error.rollback)")
                return
            }
            let after = try await HostSnapshot.take(container, nm)
            #expect(after == before, "\(after.differences(from: before))")
        }
    }
}
