import DBus
import Foundation
import NMTestSupport
import NetworkManager
import Testing

extension BridgeifyTests {
    /// Issue 10's defects 6 and 7, each reproduced as it was reported: a pending conversion
    /// whose checkpoint NetworkManager lost (a restart, a foreign `CheckpointDestroy`), and a
    /// signal in the first milliseconds of a run.
    @Suite struct Interruptions {
        /// Defect 6: NetworkManager restarts while a `--confirm` conversion waits. The checkpoint
        /// died with it, the staged conversion stays in effect: `status` used to say "nothing is
        /// pending" (exit 0) with nothing left to revert it. Now it is reported stale with what
        /// it left, and `rollback` undoes it to exactly before.
        @Test func aPendingConversionWhoseCheckpointDiedWithNetworkManagerIsStaleAndRollsBack() async throws {
            try await withNMContainer(eno1Static: true) { container in
                let nm = try await container.client()
                let before = try await NMHostSnapshot.take(container, nm)
                let applied = try await container.bridgeify(["eno1", "--confirm", "120"])
                #expect(applied.status == 4, "\(applied)")
                try await container.restartNetworkManager()
                let status = try await container.bridgeify(["status"])
                #expect(status.status == 4 && status.report?.result == "stale", "\(status)")
                let entry = try #require(status.report?.pending?.first, "\(status)")
                #expect(entry.state == "stale" && entry.staleReason?.contains("without a rollback") == true, "\(entry)")
                // Still converted: nothing reverted it.
                #expect(try container.kernelLink("eno1").controller == "br0")

                let rolledBack = try await container.bridgeify(["rollback"])
                #expect(rolledBack.status == 0 && rolledBack.report?.result == "rolled-back", "\(rolledBack)")
                #expect(rolledBack.report?.state == "before", "\(rolledBack)")
                let client = try await container.client()
                try await waitUntil("eno1 is back as before") { try await NMHostSnapshot.take(container, client) == before }
                let after = try await NMHostSnapshot.take(container, client)
                #expect(after == before, "\(after.differences(from: before))")
                let none = try await container.bridgeify(["status"])
                #expect(none.status == 0 && none.report?.result == "none", "\(none)")
            }
        }

        /// Defect 6, the other way: someone destroys every checkpoint (`CheckpointDestroy` of
        /// `/`) while a conversion waits. `confirm` commits it as it stands.
        @Test func aPendingConversionWhoseCheckpointWasDestroyedIsConfirmedAsItStands() async throws {
            try await withNMContainer(eno1Static: true) { container in
                let nm = try await container.client()
                let applied = try await container.bridgeify(["eno1", "--confirm", "120"])
                #expect(applied.status == 4, "\(applied)")
                try await nm.destroyAllCheckpoints()
                let status = try await container.bridgeify(["status"])
                #expect(status.status == 4 && status.report?.result == "stale", "\(status)")
                let confirmed = try await container.bridgeify(["confirm"])
                #expect(confirmed.status == 0 && confirmed.report?.result == "committed", "\(confirmed)")
                #expect(confirmed.report?.state == "committed", "\(confirmed)")
                try await Conversions.expectConverted(container, nm, address: "192.168.1.200/24",
                                                      mac: try container.kernelLink("eno1").mac)
                let none = try await container.bridgeify(["status"])
                #expect(none.status == 0 && none.report?.result == "none", "\(none)")
            }
        }

        /// Defect 6, the next conversion: it used to undo the stale conversion and then report
        /// "Nothing was changed". It cleans up, says so, and converts.
        @Test func theNextConversionCleansUpAStaleOneAndSaysSo() async throws {
            try await withNMContainer(eno1Static: true) { container in
                let applied = try await container.bridgeify(["eno1", "--confirm", "120"])
                #expect(applied.status == 4, "\(applied)")
                try await container.restartNetworkManager()
                let again = try await container.bridgeify(["eno1"])
                let report = try #require(again.report, "\(again)")
                #expect(again.status == 0 && report.result == "committed" && report.state == "committed", "\(again)")
                #expect(report.warnings.contains { $0.contains("cleaned up after an interrupted conversion") }, "\(report.warnings)")
                let nm = try await container.client()
                try await Conversions.expectConverted(container, nm, address: "192.168.1.200/24",
                                                      mac: try container.kernelLink("eno1").mac)
            }
        }

        /// Defect 7: a signal in the first ~30 ms killed bridgeify without any report. Now the
        /// handlers exist from the first code of the program's own that runs (a C constructor
        /// in CEarlySignals, then `main`'s first instruction), and every run ends with a JSON
        /// document naming the state: signalled before the change, it is rejected with nothing
        /// changed. (Before that constructor only the dynamic loader runs: see docs/bridgeify.md.)
        @Test(arguments: [0.0, 0.002, 0.005, 0.010, 0.020, 0.030])
        func aSignalInTheFirstMillisecondsStillGivesAJSONDocument(_ delay: Double) async throws {
            try await withNMContainer(eno1Static: true) { container in
                let nm = try await container.client()
                let before = try await NMHostSnapshot.take(container, nm)
                // Signalled once bridgeify's own code runs: SIGTERM (15) shows as caught in
                // /proc/PID/status (SigCgt bit 14) from the constructor on.
                let script = """
                    "$0" eno1 --json --no-probe & pid=$!
                    while :; do
                        mask=$(sed -n 's/^SigCgt:[[:space:]]*//p' /proc/$pid/status 2>/dev/null)
                        [ -n "$mask" ] && [ $(( 0x$mask & 0x4000 )) -ne 0 ] && break
                    done
                    sleep \(delay)
                    kill -TERM $pid
                    wait $pid
                    """
                let run = try await container.execAsync(["sh", "-c", script, bridgeifyPath])
                let report = try #require(try? JSONDecoder().decode(BridgeifyReport.self, from: Data(run.stdout.utf8)),
                                          "no JSON document after SIGTERM at \(delay) s: status \(run.status), stdout \(run.stdout), stderr \(run.stderr)")
                #expect(report.error?.code == "interrupted", "\(report)")
                // Early enough that nothing changed; if the change had started, it was undone.
                #expect(report.state == "before", "\(report)")
                #expect(["rejected", "rolled-back"].contains(report.result), "\(report)")
                #expect(run.status == (report.result == "rejected" ? 2 : 1), "\(run.status)")
                try await waitUntil("the host is as before") { try await NMHostSnapshot.take(container, nm) == before }
            }
        }
    }
}
