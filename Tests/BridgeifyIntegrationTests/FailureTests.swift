import DBus
import Foundation
import NMTestSupport
import NetworkManager
import Testing

extension BridgeifyTests {
    @Suite struct Failures {
        /// A mistyped gateway: the bridge comes up, the gateway probe gets no answer, and the
        /// host is restored to exactly what it was (profiles, storage, kernel state).
        @Test func aGatewayThatDoesNotAnswerRollsBackToExactlyBefore() async throws {
            try await withNMContainer(eno1Static: true) { container in
                let nm = try await container.client()
                let before = try await NMHostSnapshot.take(container, nm)
                let run = try await container.bridgeify(["eno1", "--gateway", "192.168.1.254"])
                let report = try #require(run.report, "\(run)")
                #expect(run.status == 1 && report.result == "rolled-back", "\(run)")
                #expect(report.error?.code == "probe-failed" && report.error?.step == "probe", "\(String(describing: report.error))")
                #expect(report.error?.message.contains("192.168.1.254") == true)
                #expect(report.error?.hint?.isEmpty == false)
                let rollback = try #require(report.rollback)
                #expect(rollback.restored)
                print("a failed conversion (gateway probe) was restored in \(rollback.milliseconds ?? -1) ms; "
                    + "the run took \(report.elapsedMilliseconds ?? -1) ms")
                let after = try await NMHostSnapshot.take(container, nm)
                #expect(after == before, "\(after.differences(from: before))")

                // On a terminal-less stdout: the error and its hint on stderr, the outcome on stdout.
                let human = try await container.bridgeify(["eno1", "--gateway", "192.168.1.254", "--rollback-timeout", "10"], json: false)
                #expect(human.status == 1)
                #expect(human.stderr.contains("bridgeify: error: probe failed") && human.stderr.contains("hint:"), "\(human)")
                #expect(human.stdout.contains("rolled back"), "\(human)")
                try await expectSnapshot(container, nm, equals: before)
            }
        }

        /// A bridge that cannot come up (DHCP with nobody answering, may-fail off): the
        /// activation fails, nothing is probed, and the host is restored.
        @Test func aFailedActivationRollsBack() async throws {
            try await withNMContainer(eno1Static: true) { container in
                let nm = try await container.client()
                // --dhcp with no DHCP server on the LAN: NetworkManager gives up after the DHCP
                // timeout, which the bridge takes from eno1's profile with the rest of it.
                try container.execChecked(["nmcli", "connection", "modify", "eno1", "ipv4.may-fail", "no", "ipv4.dhcp-timeout", "3",
                                           "ipv6.method", "disabled"])
                try container.execChecked(["nmcli", "--wait", "30", "connection", "up", "eno1"])
                let ready = try await NMHostSnapshot.take(container, nm)
                let run = try await container.bridgeify(["eno1", "--dhcp", "--no-probe"])
                let report = try #require(run.report, "\(run)")
                #expect(run.status == 1 && report.result == "rolled-back", "\(run)")
                #expect(report.error?.step == "activate" || report.error?.step == "verify", "\(String(describing: report.error))")
                #expect(report.rollback?.restored == true)
                let after = try await NMHostSnapshot.take(container, nm)
                #expect(after == ready, "\(after.differences(from: ready))")
            }
        }

        /// In an SSH session whose path crosses the interface, the SSH peer must still answer:
        /// a peer that answers lets the change commit, one that does not rolls it back.
        @Test func theSSHPeerIsProbedWhenTheSessionCrossesTheInterface() async throws {
            try await withNMContainer(eno1Static: true) { container in
                let nm = try await container.client()
                // A session from the LAN's gateway (it answers ping).
                let crossing = ["SSH_CONNECTION": "192.168.1.1 50022 192.168.1.200 22"]
                let plan = try await container.bridgeify(["eno1", "--dry-run"], environment: crossing)
                #expect(plan.report?.probes?.contains("SSH peer 192.168.1.1 answers ICMP echo") == true, "\(plan)")
                // A session that arrived over loopback does not cross eno1: no peer probe.
                let local = try await container.bridgeify(["eno1", "--dry-run"],
                                                          environment: ["SSH_CONNECTION": "127.0.0.1 50022 127.0.0.1 22"])
                #expect(local.report?.probes == ["gateway 192.168.1.1 answers ICMP echo"], "\(local)")
                #expect(local.report?.warnings.contains { $0.contains("does not cross eno1") } == true)
                // --no-probe removes the default probes, the peer's included.
                let none = try await container.bridgeify(["eno1", "--dry-run", "--no-probe"], environment: crossing)
                #expect(none.report?.probes == [], "\(none)")

                // A peer on the LAN that does not exist (nobody holds 192.168.1.77): rolled back.
                let before = try await NMHostSnapshot.take(container, nm)
                let lost = try await container.bridgeify(["eno1"], environment: ["SSH_CONNECTION": "192.168.1.77 50022 192.168.1.200 22"])
                let report = try #require(lost.report, "\(lost)")
                #expect(lost.status == 1 && report.result == "rolled-back", "\(lost)")
                #expect(report.probes?.contains("SSH peer 192.168.1.77 answers ICMP echo") == true)
                #expect(report.error?.message.contains("SSH peer 192.168.1.77") == true, "\(String(describing: report.error))")
                try await expectSnapshot(container, nm, equals: before)

                // A second address on the LAN answers: the conversion commits.
                let added = try container.execLAN(["ip", "addr", "add", "192.168.1.77/24", "dev", "lan0"])
                #expect(added.status == 0, "could not add 192.168.1.77 on the LAN: \(added.stderr)")
                let kept = try await container.bridgeify(["eno1"], environment: ["SSH_CONNECTION": "192.168.1.77 50022 192.168.1.200 22"])
                #expect(kept.status == 0 && kept.report?.result == "committed", "\(kept)")
                #expect(kept.report?.steps.contains { $0.step == "probe" && $0.detail.contains("SSH peer 192.168.1.77") } == true)
            }
        }

        /// NetworkManager dies while a probe runs: the probe fails, the rollback cannot reach
        /// NetworkManager, and the outcome is `failed` (exit 3: attention needed). Once
        /// NetworkManager is back, the next run removes what the dead transaction staged and
        /// converts.
        @Test func whenTheRollbackFailsTooTheResultIsFailedAndTheNextRunRecovers() async throws {
            try await withNMContainer(eno1Static: true) { container in
                // Only the refused TCP probe: it fails after its 5 s budget.
                let run = Task { try await container.bridgeify(["eno1", "--no-probe", "--probe", "tcp:192.168.1.1:9"]) }
                let nm = try await container.client()
                // Past verification: br0 activated with its address in NetworkManager's view (what
                // verify compares). eno1 attached is not enough: on 1.52 the address comes about
                // 250 ms after the port (IPv4 duplicate address detection, then D-Bus), and a crash
                // then lands in verify. Then well inside the probe's 5 s budget.
                try await waitUntil("the bridge is up and verified, the probe runs") {
                    let snapshot = try await nm.snapshot()
                    guard snapshot.checkpoints.count == 1, let br0 = snapshot.device(named: "br0"), br0.state == .activated
                    else { return false }
                    return snapshot.ipv4Configuration(of: br0.path).addresses.contains("192.168.1.200/24")
                }
                try await Task.sleep(for: .milliseconds(500))
                try await container.crashNetworkManager()
                let failed = try await run.value
                let report = try #require(failed.report, "\(failed)")
                #expect(failed.status == 3 && report.result == "failed", "\(failed)")
                // The port attached is what the test waits for; on NetworkManager 1.52 verify still
                // waits then for the bridge's address (duplicate address detection), so the crash
                // can land in verify as well as in the probe.
                #expect(["verify", "probe"].contains(report.error?.step ?? ""), "\(String(describing: report.error))")
                #expect(report.rollback?.restored == false && report.rollback?.error?.isEmpty == false, "\(String(describing: report.rollback))")
                #expect(report.summary?.contains("rollback failed") == true, "\(String(describing: report.summary))")
                #expect(report.state == "needs-attention", "\(String(describing: report.state))")

                try await container.restartNetworkManager()
                let again = try await container.bridgeify(["eno1"])
                #expect(again.status == 0 && again.report?.result == "committed", "\(again)")
                #expect(again.report?.warnings.contains { $0.contains("cleaned up after an interrupted conversion") } == true, "\(again)")
                let client = try await container.client()
                try await Conversions.expectConverted(container, client, address: "192.168.1.200/24",
                                                      mac: try container.kernelLink("eno1").mac)
            }
        }

        /// An extra --probe that fails rolls back too; one that passes does not stop the change.
        @Test func extraProbesAreRequired() async throws {
            try await withNMContainer(eno1Static: true) { container in
                let nm = try await container.client()
                let before = try await NMHostSnapshot.take(container, nm)
                // Nothing listens on the gateway's port 9: refused until the budget runs out.
                let refused = try await container.bridgeify(["eno1", "--probe", "tcp:192.168.1.1:9"])
                #expect(refused.status == 1 && refused.report?.result == "rolled-back", "\(refused)")
                #expect(refused.report?.probes?.contains("TCP connect to 192.168.1.1:9") == true)
                try await expectSnapshot(container, nm, equals: before)
                let pinged = try await container.bridgeify(["eno1", "--probe", "ping:192.168.1.1"])
                #expect(pinged.status == 0 && pinged.report?.result == "committed", "\(pinged)")
                #expect(pinged.report?.probes?.count == 2)
            }
        }
    }
}
