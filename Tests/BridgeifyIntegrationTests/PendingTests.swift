import DBus
import Foundation
import NMTestSupport
import NetworkManager
import Testing

extension BridgeifyTests {
    /// `--confirm SECONDS` leaves the change pending; other processes (other runs of
    /// bridgeify) see it with `status`, make it permanent with `confirm`, undo it with
    /// `rollback`; nobody doing anything reverts it when the time is up.
    @Suite struct Pending {
        @Test func aPendingConversionIsConfirmedFromAnotherProcess() async throws {
            try await withNMContainer(eno1Static: true) { container in
                let nm = try await container.client()
                let idle = try await container.bridgeify(["status"])
                #expect(idle.status == 0 && idle.report?.result == "none", "\(idle)")

                let applied = try await container.bridgeify(["eno1", "--confirm", "120"])
                let report = try #require(applied.report, "\(applied)")
                #expect(applied.status == 4 && report.result == "pending", "\(applied)")
                let pending = try #require(report.pending?.first)
                #expect(pending.label == "bridgeify eno1 -> br0" && pending.revertsAt != nil)
                // Applied already, but nothing is permanent yet.
                #expect(try container.kernelLink("eno1").controller == "br0")
                #expect(try await nm.profiles(named: "br0").first?.isInMemory == true)
                #expect(try await nm.profiles(named: "eno1").first?.profile.connection.autoconnect != false)

                let status = try await container.bridgeify(["status"])
                #expect(status.status == 4 && status.report?.result == "pending", "\(status)")
                #expect(status.report?.pending?.first?.id == pending.id)
                let human = try await container.bridgeify(["status"], json: false)
                #expect(human.status == 4 && human.stdout.contains("bridgeify confirm"), "\(human)")

                // Another conversion meanwhile is refused, and says why.
                let second = try await container.bridgeify(["eno1"])
                #expect(second.status == 2 && second.report?.error?.code == "conversion-pending", "\(second)")

                let confirmed = try await container.bridgeify(["confirm"])
                #expect(confirmed.status == 0 && confirmed.report?.result == "committed", "\(confirmed)")
                try await Conversions.expectConverted(container, nm, address: "192.168.1.200/24",
                                                      mac: try container.kernelLink("eno1").mac)
                let after = try await container.bridgeify(["status"])
                #expect(after.status == 0 && after.report?.result == "none", "\(after)")
                let again = try await container.bridgeify(["confirm"])
                #expect(again.status == 2 && again.report?.error?.code == "nothing-pending", "\(again)")
                let rerun = try await container.bridgeify(["eno1"])
                #expect(rerun.status == 0 && rerun.report?.result == "unchanged", "\(rerun)")
            }
        }

        @Test func aPendingConversionIsRolledBackFromAnotherProcess() async throws {
            try await withNMContainer(eno1Static: true) { container in
                let nm = try await container.client()
                let before = try await NMHostSnapshot.take(container, nm)
                let applied = try await container.bridgeify(["eno1", "--confirm", "120"])
                #expect(applied.status == 4, "\(applied)")
                let rolledBack = try await container.bridgeify(["rollback"])
                let report = try #require(rolledBack.report, "\(rolledBack)")
                #expect(rolledBack.status == 0 && report.result == "rolled-back", "\(rolledBack)")
                #expect(report.rollback?.restored == true)
                print("bridgeify rollback restored a pending conversion in \(report.rollback?.milliseconds ?? -1) ms")
                let after = try await NMHostSnapshot.take(container, nm)
                #expect(after == before, "\(after.differences(from: before))")
                let nothing = try await container.bridgeify(["rollback"])
                #expect(nothing.status == 2 && nothing.report?.error?.code == "nothing-pending", "\(nothing)")
            }
        }

        @Test func anUnconfirmedConversionRevertsByItself() async throws {
            try await withNMContainer(eno1Static: true) { container in
                let nm = try await container.client()
                let before = try await NMHostSnapshot.take(container, nm)
                let applied = try await container.bridgeify(["eno1", "--confirm", "10"])
                #expect(applied.status == 4, "\(applied)")
                #expect(try container.kernelLink("eno1").controller == "br0")
                // NetworkManager rolls back when the checkpoint's timeout passes.
                try await waitUntil("the checkpoint has reverted the conversion", timeout: .seconds(30)) {
                    try await nm.checkpoints().isEmpty && (try container.kernelLink("eno1").controller) == nil
                        && (try container.kernelAddresses("eno1")) == ["192.168.1.200/24"]
                }
                // NetworkManager's rollback keeps the conversion's record (made before the
                // checkpoint, so that no rollback can delete it): status says what happened, and
                // `bridgeify rollback` (or the next conversion) removes what is left.
                try await waitUntil("the host reports the conversion as rolled back") {
                    let status = try await container.bridgeify(["status"])
                    return status.report?.result == "stale"
                }
                let status = try await container.bridgeify(["status"])
                #expect(status.status == 4 && status.report?.pending?.first?.state == "stale", "\(status)")
                #expect(status.report?.pending?.first?.staleReason?.contains("rolled") == true, "\(status)")
                let cleaned = try await container.bridgeify(["rollback"])
                #expect(cleaned.status == 0 && cleaned.report?.result == "rolled-back" && cleaned.report?.state == "before", "\(cleaned)")
                let after = try await NMHostSnapshot.take(container, nm)
                #expect(after == before, "\(after.differences(from: before))")
                let none = try await container.bridgeify(["status"])
                #expect(none.report?.result == "none", "\(none)")
            }
        }
    }
}
