import Foundation
import NMTestSupport
import NetworkManager
import Testing

extension NetStateScenarios {
    @Suite struct Pending {
        /// `apply --confirm`, then `status`, `rollback` (back to exactly before), and again
        /// `apply --confirm` then `confirm` (committed; a rerun is `unchanged`).
        @Test func confirmAndRollbackFromAnotherProcess() async throws {
            try await withNMContainer(eno1Static: true) { container in
                let nm = try await container.client()
                let before = try await NMHostSnapshot.take(container, nm)
                let state = """
                    routes:
                      config:
                      - {destination: 198.51.100.0/24, next-hop-address: 192.168.1.1, next-hop-interface: eno1}
                    """
                let pending = try await container.apply(state, ["--confirm", "60", "--no-probe"])
                #expect(pending.status == 4 && pending.result == "pending" && pending.hostState == "pending", "\(pending)")
                let status = try await container.netstate(["status"])
                #expect(status.status == 4 && (status.report?["pending"] as? [Any])?.count == 1, "\(status)")
                let rollback = try await container.netstate(["rollback"])
                #expect(rollback.status == 0 && rollback.result == "rolled-back" && rollback.hostState == "before", "\(rollback)")
                let after = try await NMHostSnapshot.take(container, nm)
                #expect(after == before, "\(after.differences(from: before))")
                #expect(try await container.netstate(["status"]).result == "none")

                #expect(try await container.apply(state, ["--confirm", "60", "--no-probe"]).result == "pending")
                let confirm = try await container.netstate(["confirm"])
                #expect(confirm.status == 0 && confirm.result == "committed" && confirm.hostState == "committed", "\(confirm)")
                #expect(try container.execChecked(["ip", "-4", "route", "show", "198.51.100.0/24"]).contains("via 192.168.1.1"))
                #expect(try await container.apply(state, ["--no-probe"]).result == "unchanged")
                #expect(try await container.netstate(["confirm"]).result == "rejected", "nothing pending any more")
            }
        }
    }
}
