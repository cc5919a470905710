import DBus
import Foundation
import NMTestSupport
import NetworkManager
import Testing

/// The module's error boundary against a real NetworkManager (docs/decisions/0007): one error
/// type everywhere, and plan-time refusals of profiles that cannot fit the host's devices.
@Suite(.serialized)
struct ErrorBoundaryIntegrationTests {
    /// Every public read, plan, apply, write and event API, with NetworkManager stopped
    /// (SIGKILL) and its bus still up: each throws `NMError` with `notRunning`, because every
    /// one meets the same fault, a bus on which nobody owns `org.freedesktop.NetworkManager`:
    /// a call gets `ServiceUnknown`/`NameHasNoOwner`, a sequence that followed it ends with
    /// the DBus module's `peer-vanished`, and the boundary maps both to `notRunning`
    /// (`disconnected` is kept for the client's own bus connection being gone: checked last).
    @Test func networkManagerStoppedIsNotRunningEverywhere() async throws {
        try await withNMContainer(nics: ["eno1"], eno1Static: true) { container in
            let before = try await container.client()
            // Sequences made while NetworkManager runs: they must end with NMError too.
            let deviceChanges = try await before.deviceStateChanges()
            let activeChanges = try await before.activeConnectionStateChanges()
            let profileEvents = try await before.profileEvents()
            let propertyChanges = try await before.propertyChanges()
            let eno1Profile = try #require(try await before.profiles(named: "eno1").first)
            let dummy = try NMConnectionProfile.dummy(name: "eb-dummy", interface: NMInterfaceName("ebdummy0"))
            let transaction = NMTransaction([.add(dummy), .activate(uuid: dummy.uuid)])

            try await container.killNetworkManager()
            // A fresh client as well: nothing cached (version, owner) hides the fault.
            let nm = try await container.client()

            var codes: [String: NMError.Code] = [:]
            // The API's `throws(NMError)` makes anything else a compile error; checked at run
            // time too, so that a signature going back to untyped `throws` cannot hide a leak.
            func record<T>(_ name: String, _ body: () async throws -> T) async {
                do {
                    let value = try await body()
                    Issue.record("\(name) returned \(value) with NetworkManager stopped")
                } catch let error as NMError {
                    codes[name] = error.code
                    if error.code != .notRunning { print("\(name): \(error) [\(String(describing: error.dbusError))]") }
                    #expect(error.hint != nil, "\(name): \(error)")
                } catch {
                    Issue.record("\(name) threw \(type(of: error)), not NMError: \(error)")
                }
            }
            await record("version") { try await nm.version() }
            await record("snapshot") { try await nm.snapshot() }
            await record("snapshotWithProfiles") { try await nm.snapshotWithProfiles() }
            await record("devices") { try await nm.devices() }
            await record("profileSummaries") { try await nm.profileSummaries() }
            await record("profiles") { try await nm.profiles() }
            await record("profiles(named:)") { try await nm.profiles(named: "eno1") }
            await record("profile(uuid:)") { try await nm.profile(uuid: eno1Profile.profile.uuid) }
            await record("profile(at:)") { try await nm.profile(at: eno1Profile.path) }
            await record("device(named:)") { try await nm.device(named: "eno1") }
            await record("activeConnections") { try await nm.activeConnections() }
            await record("checkpoints") { try await nm.checkpoints() }
            await record("permissions") { try await nm.permissions() }
            await record("codec") { try await nm.codec() }
            await record("pendingTransactions") { try await nm.pendingTransactions() }
            await record("addProfile") { try await nm.addProfile(dummy) }
            await record("createCheckpoint") { try await nm.createCheckpoint(rollbackTimeout: .seconds(5)) }
            await record("plan") { try await nm.plan(transaction) }
            await record("deviceStateChanges") { try await nm.deviceStateChanges() }
            await record("activeConnectionStateChanges") { try await nm.activeConnectionStateChanges() }
            await record("profileEvents") { try await nm.profileEvents() }
            await record("propertyChanges") { try await nm.propertyChanges() }
            await record("apply") { try await nm.apply(transaction) }
            // apply's error carries the transaction's report: refused while planning, nothing changed.
            do {
                _ = try await nm.apply(transaction)
            } catch let error as NMError {
                #expect(error.transaction?.step == .validate, "\(error)")
                if case .notNeeded? = error.transaction?.rollback {} else { Issue.record("rollback: \(String(describing: error.transaction?.rollback))") }
            }
            // The sequences made before: each ends with NMError (notRunning), not DBusError.
            func ending(_ name: String, _ drain: () async throws -> Void) async {
                do {
                    try await drain()
                    Issue.record("\(name) ended without an error")
                } catch let error as NMError {
                    codes[name + " (ended)"] = error.code
                    #expect(error.dbusError?.code == .peerVanished, "\(name): \(error)")
                } catch {
                    Issue.record("\(name) ended with \(type(of: error)), not NMError: \(error)")
                }
            }
            await ending("deviceStateChanges") { for try await _ in deviceChanges {} }
            await ending("activeConnectionStateChanges") { for try await _ in activeChanges {} }
            await ending("profileEvents") { for try await _ in profileEvents {} }
            await ending("propertyChanges") { for try await _ in propertyChanges {} }

            print("NetworkManager stopped: \(codes.count) APIs → \(Set(codes.values).map(\.rawValue).sorted())")
            #expect(codes.count == 27)
            for (name, code) in codes.sorted(by: { $0.key < $1.key }) {
                #expect(code == .notRunning, "\(name): \(code)")
            }

            // The client's own bus connection gone: disconnected, a different fault.
            nm.connection.close()
            let closed = await #expect(throws: NMError.self) { try await nm.version() }
            #expect(closed?.code == .disconnected, "\(String(describing: closed))")
        }
    }

    /// Profiles that cannot fit the host's devices are refused by `plan` and by `apply` before
    /// any checkpoint, with their own codes and hints, and the host is left exactly as it was:
    /// NetworkManager itself stores such profiles and fails them only at activation
    /// (`UnknownDevice` "no such device" for an ethernet profile on `lo`).
    @Test func profilesThatDoNotFitTheirDevicesAreRefusedAtPlan() async throws {
        try await withNMContainer(nics: ["eno1", "eno2"], eno1Static: true) { container in
            let nm = try await container.client()
            let before = try await HostSnapshot.take(container, nm)
            let lo = try NMInterfaceName("lo"), eno2 = try NMInterfaceName("eno2")
            let ethernetOnLoopback = try NMConnectionProfile.ethernet(name: "eb-eth-on-lo", interface: lo, autoconnect: false)
            let bridgePortOfNIC = try NMConnectionProfile.bridgePort(name: "eb-port-of-nic", interface: eno2, controller: "eno1")
            let bondPortOfNIC = try NMConnectionProfile.ethernet(name: "eb-bond-port", interface: eno2, autoconnect: false)
                .attached(to: "eno1", as: .bond)
            let vlanWithoutParent = try NMConnectionProfile.vlan(name: "eb-vlan", parent: "nosuch0", id: 7,
                                                                interface: NMInterfaceName("nosuch0.7"))
            let cases: [(String, NMTransaction, NMError.Code, String)] = [
                ("ethernet on lo", NMTransaction([.add(ethernetOnLoopback), .activate(uuid: ethernetOnLoopback.uuid)]),
                 .deviceTypeMismatch, "device of type ethernet or veth"),
                ("bridge port of a NIC", NMTransaction([.add(bridgePortOfNIC), .activate(uuid: bridgePortOfNIC.uuid)]),
                 .deviceTypeMismatch, "controller of type bridge"),
                ("bond port of a NIC", NMTransaction([.add(bondPortOfNIC), .activate(uuid: bondPortOfNIC.uuid)]),
                 .deviceTypeMismatch, "controller of type bond"),
                ("VLAN without parent", NMTransaction([.add(vlanWithoutParent)]), .missingParent, "vlan.parent"),
            ]
            for (name, transaction, code, hint) in cases {
                let planned = await #expect(throws: NMError.self, "\(name)") { try await nm.plan(transaction) }
                #expect(planned?.code == code, "\(name): \(String(describing: planned))")
                #expect(planned?.hint?.contains(hint) == true, "\(name): \(String(describing: planned?.hint))")
                let applied = try await requireTransactionFailure { try await nm.apply(transaction) }
                #expect(applied.cause.code == code, "\(name): \(applied)")
                #expect(applied.step == .validate, "\(name): \(applied.step)")
                if case .notNeeded = applied.rollback {} else { Issue.record("\(name): rollback \(applied.rollback)") }
                #expect(!applied.steps.contains { $0.step == .checkpoint }, "\(name): no checkpoint")
            }
            // The message names lo's real type (1.42 and 1.52 both export lo as a loopback device).
            let loType = try await nm.device(named: "lo").type
            let planned = await #expect(throws: NMError.self) { try await nm.plan(cases[0].1) }
            #expect(planned?.message.contains("lo is a device of type \(loType)") == true, "\(String(describing: planned))")
            print("ethernet on lo: \(String(describing: planned))")

            let after = try await HostSnapshot.take(container, nm)
            #expect(after == before, "\(after.differences(from: before))")
            #expect(after.checkpoints == 0)
            #expect(try await nm.profiles().allSatisfy { !$0.profile.name.hasPrefix("eb-") })
        }
    }
}
