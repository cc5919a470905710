import DBus
import Foundation
import NMTestSupport
import NetworkManager
import Testing

/// `.modify` of a profile that is active takes effect on its device inside the transaction
/// (`Device.Reapply`, or a reactivation where NetworkManager cannot apply the change in place),
/// verification compares what the device applied, and a rerun is `unchanged` only when both
/// the stored profile and the applied connection match (issue 11, item 1).
@Suite(.serialized)
struct ReapplyTests {
    static let route = NMIPRoute<IPv4Address>(destination: "198.51.100.0/24", nextHop: "192.168.1.1")
    static let dns: IPv4Address = "192.0.2.53"

    /// The seed's eno1 profile with one more DNS server and a static route, as a downstream
    /// tool would write it: read, append, `.modify`.
    static func eno1WithRouteAndDNS(_ nm: NMClient, route: NMIPRoute<IPv4Address> = route) async throws -> NMConnectionProfile {
        var profile = try #require(try await nm.profiles(named: "eno1").first).profile
        profile.ipv4?.dns.append(dns)
        profile.ipv4?.routes.append(route)
        return profile
    }

    /// The downstream scenario: modify DNS and a route of an active profile; after commit `ip
    /// route` and the applied connection show them, in place (the same active connection); a
    /// rerun, with or without `.activate`, is `unchanged` without a checkpoint.
    @Test func modifyOfAnActiveProfileIsReappliedAndARerunIsUnchanged() async throws {
        try await withNMContainer(nics: ["eno1"], eno1Static: true) { container in
            let nm = try await container.client()
            let device = try await nm.device(named: "eno1")
            let activeBefore = try #require(device.activeConnection)
            let profile = try await Self.eno1WithRouteAndDNS(nm)
            let transaction = NMTransaction([.modify(profile)], label: "eno1 route and DNS")

            let plan = try await nm.plan(transaction)
            #expect(plan.steps.map(\.kind) == [.modify, .reapply], "\(plan)")
            #expect(plan.steps.last?.devices == ["eno1"])
            #expect(plan.description.contains("reapply eno1 on eno1 in place"), "\(plan)")
            let json = String(decoding: try JSONEncoder().encode(plan), as: UTF8.self)
            #expect(json.contains(#""kind":"reapply""#), "\(json)")

            let result = try await nm.apply(transaction)
            #expect(result.outcome == .committed)
            let details = result.steps.map(\.detail)
            #expect(details.contains("reapply eno1 on eno1"), "\(details)")
            #expect(!details.contains { $0.hasPrefix("reactivate") }, "\(details)")
            print("modify + reapply committed: \(result.steps.map { "\($0.step.rawValue) \($0.detail) \($0.milliseconds) ms" })")

            // The kernel and the applied connection run it; the device was not reactivated.
            let routes = try container.kernelRoutes("eno1")
            #expect(routes.contains("198.51.100.0/24 via 192.168.1.1 metric 100"), "\(routes)")
            let applied = try await nm.appliedProfile(of: device.path).profile
            #expect(applied.ipv4?.dns == [IPv4Address("114.114.114.114"), Self.dns])
            #expect(applied.ipv4?.routes.map(\.destination) == [Self.route.destination])
            #expect(try await nm.device(named: "eno1").activeConnection == activeBefore)
            let stored = try #require(try await nm.profiles(named: "eno1").first)
            #expect(!stored.isInMemory)
            #expect(stored.profile.ipv4?.routes.map(\.destination) == [Self.route.destination])
            #expect(stored.profile.userData.isEmpty, "\(stored.profile.userData)")
            let after = try await HostSnapshot.take(container, nm)
            #expect(after.checkpoints == 0)

            // Rerun: nothing to do, no checkpoint; nor with an activation.
            for again in [transaction, NMTransaction([.modify(profile), .activate(uuid: profile.uuid)])] {
                let rerun = try await nm.apply(again)
                #expect(rerun.outcome == .unchanged, "\(rerun.plan)")
                #expect(!rerun.steps.contains { $0.step == .checkpoint })
            }
            #expect(try await HostSnapshot.take(container, nm) == after)
        }
    }

    /// The profile on disk already matches (changed by nmcli without reapplying) while the
    /// device runs the old settings: a change still to make, the reapply alone.
    @Test func aProfileThatMatchesOnDiskButNotOnTheDeviceIsReapplied() async throws {
        try await withNMContainer(nics: ["eno1"], eno1Static: true) { container in
            let nm = try await container.client()
            _ = try container.execChecked(["nmcli", "connection", "modify", "eno1", "+ipv4.routes", "198.51.100.0/24 192.168.1.1",
                                           "+ipv4.dns", "192.0.2.53"])
            #expect(try !container.kernelRoutes("eno1").contains { $0.hasPrefix("198.51.100.0/24") })
            let profile = try #require(try await nm.profiles(named: "eno1").first).profile
            let transaction = NMTransaction([.activate(uuid: profile.uuid), .modify(profile)])
            // `.activate` of a modified profile is a full reactivation: without it, a reapply.
            let plan = try await nm.plan(NMTransaction([.modify(profile)]))
            #expect(plan.steps.map(\.kind) == [.modify, .reapply])
            #expect(plan.steps.map(\.alreadyDone) == [true, false], "\(plan)")
            #expect(plan.steps.last?.changes.contains { $0.key == "route-data" } == true, "\(plan)")
            #expect(plan.description.contains("~ ipv4.route-data") || plan.description.contains("+ ipv4.route-data"), "\(plan)")
            #expect(try await nm.plan(transaction).steps.map(\.kind) == [.modify, .activate])
            #expect(try await nm.plan(transaction).steps.map(\.alreadyDone) == [true, false])

            let result = try await nm.apply(NMTransaction([.modify(profile)]))
            #expect(result.outcome == .committed)
            #expect(try container.kernelRoutes("eno1").contains("198.51.100.0/24 via 192.168.1.1 metric 100"))
            let device = try await nm.device(named: "eno1")
            #expect(try await nm.appliedProfile(of: device.path).profile.ipv4?.dns.contains(Self.dns) == true)
            #expect(try await nm.apply(NMTransaction([.modify(profile)])).outcome == .unchanged)
            #expect(try await nm.apply(transaction).outcome == .unchanged)
        }
    }

    /// `modifiesTakeEffect = false` stores the change only: the device keeps its applied
    /// connection and routes, and a rerun with the default reapplies it.
    @Test func storeOnlyLeavesTheDeviceAloneAndTheDefaultThenReapplies() async throws {
        try await withNMContainer(nics: ["eno1"], eno1Static: true) { container in
            let nm = try await container.client()
            let device = try await nm.device(named: "eno1")
            let routesBefore = try container.kernelRoutes("eno1")
            let profile = try await Self.eno1WithRouteAndDNS(nm)
            var storeOnly = NMTransaction([.modify(profile)])
            storeOnly.modifiesTakeEffect = false
            #expect(try await nm.plan(storeOnly).steps.map(\.kind) == [.modify])
            let stored = try await nm.apply(storeOnly)
            #expect(stored.outcome == .committed)
            #expect(try container.kernelRoutes("eno1") == routesBefore)
            #expect(try await nm.appliedProfile(of: device.path).profile.ipv4?.routes.isEmpty == true)
            #expect(try await nm.profiles(named: "eno1").first?.profile.ipv4?.routes.map(\.destination) == [Self.route.destination])
            #expect(try await nm.apply(storeOnly).outcome == .unchanged)

            let takeEffect = NMTransaction([.modify(profile)])
            #expect(try await nm.plan(takeEffect).steps.map(\.alreadyDone) == [true, false])
            #expect(try await nm.apply(takeEffect).outcome == .committed)
            #expect(try container.kernelRoutes("eno1").contains("198.51.100.0/24 via 192.168.1.1 metric 100"))
            #expect(try await nm.apply(takeEffect).outcome == .unchanged)
        }
    }

    /// A change `Reapply` refuses (`IncompatibleConnection`: found by trying, the ethernet
    /// MAC to assign) is planned and done as a reactivation.
    @Test func aChangeReapplyCannotMakeIsDoneByReactivation() async throws {
        try await withNMContainer(nics: ["eno1"], eno1Static: true) { container in
            let nm = try await container.client()
            let device = try await nm.device(named: "eno1")
            let activeBefore = try #require(device.activeConnection)
            let mac: MACAddress = "02:00:5e:10:20:31"
            var profile = try #require(try await nm.profiles(named: "eno1").first).profile
            profile.ethernet = profile.ethernet ?? NMEthernetSetting()
            profile.ethernet?.assignedMACAddress = .address(mac)

            // NetworkManager itself: Reapply refuses it, and nothing changes.
            let applied = try await nm.appliedProfile(of: device.path)
            let refusal = try await #require(throws: NMError.self) { try await nm.reapply(profile, on: device.path, versionID: applied.versionID) }
            #expect(refusal.code == .incompatibleConnection, "\(refusal)")
            #expect(try await nm.device(named: "eno1").activeConnection == activeBefore)

            let transaction = NMTransaction([.modify(profile)])
            let plan = try await nm.plan(transaction)
            #expect(plan.steps.map(\.kind) == [.modify, .reactivate], "\(plan)")
            #expect(plan.description.contains("reactivate eno1 on eno1 (Reapply cannot change 802-3-ethernet."), "\(plan)")
            let result = try await nm.apply(transaction)
            #expect(result.outcome == .committed)
            #expect(result.steps.map(\.detail).contains("reactivate eno1 on eno1"), "\(result.steps.map(\.detail))")
            let now = try await nm.device(named: "eno1")
            #expect(now.activeConnection != activeBefore)
            #expect(now.hardwareAddress?.lowercased() == mac.description.lowercased())
            #expect(try await nm.apply(transaction).outcome == .unchanged)
        }
    }

    /// A reapply that NetworkManager accepts but the kernel does not carry out (a route whose
    /// preferred source is no address of the host: NetworkManager logs the kernel's EINVAL and
    /// keeps the device connected) fails verification and rolls back to exactly before. (A
    /// next hop off every subnet is no such case: NetworkManager adds a host route to it.)
    @Test func aReappliedRouteTheKernelLacksFailsVerificationAndRollsBackToExactlyBefore() async throws {
        try await withNMContainer(nics: ["eno1"], eno1Static: true) { container in
            let nm = try await container.client()
            let before = try await HostSnapshot.take(container, nm)
            let unreachable = NMIPRoute<IPv4Address>(destination: "198.51.100.0/24", nextHop: "192.168.1.1",
                                                     attributes: ["src": .string("192.0.2.99")])
            let profile = try await Self.eno1WithRouteAndDNS(nm, route: unreachable)
            let transaction = NMTransaction([.modify(profile)], label: "route with a foreign source")
            #expect(try await nm.plan(transaction).steps.map(\.kind) == [.modify, .reapply])
            let error = try await requireTransactionFailure { try await nm.apply(transaction) }
            #expect(error.step == .verify, "\(error)")
            #expect(error.cause.message.contains("lacks the route 198.51.100.0/24 via 192.168.1.1"), "\(error.cause)")
            guard case .restored = error.rollback else {
                Issue.record("rollback: \(error.rollback)")
                return
            }
            #expect(error.endState == .before)
            let after = try await HostSnapshot.take(container, nm)
            #expect(after == before, "\(after.differences(from: before))")
            let device = try await nm.device(named: "eno1")
            let applied = try await nm.appliedProfile(of: device.path).profile
            #expect(applied.ipv4?.routes.isEmpty == true && applied.ipv4?.dns == [IPv4Address("114.114.114.114")])
        }
    }
}
