import Foundation
import NMTestSupport
import NetworkManager
import Testing

extension NetStateScenarios {
    /// SIGINT/SIGTERM/SIGHUP as bridgeify handles them: during an apply the transaction rolls
    /// back at once and the report says where the host ended.
    @Suite struct Signals {
        /// SIGTERM once br0 exists (the checkpoint is taken, the activation under way; the
        /// gateway does not answer, so the probe would wait): `rolled-back`, exit 1, code
        /// `interrupted`, the host exactly as before.
        @Test func sigtermDuringApplyRollsBack() async throws {
            try await withNMContainer(eno1Static: true) { container in
                let nm = try await container.client()
                let before = try await NMHostSnapshot.take(container, nm)
                let state = """
                    interfaces:
                    - name: br0
                      type: linux-bridge
                      ipv4:
                        enabled: true
                        address: [{ip: 192.168.1.200, prefix-length: 24}]
                      bridge:
                        options: {stp: {enabled: false}}
                        port: [{name: eno1}]
                    routes:
                      config:
                      - {destination: 0.0.0.0/0, next-hop-address: 192.168.1.254, next-hop-interface: br0}
                    """
                let file = FileManager.default.temporaryDirectory.appendingPathComponent("netstate-\(UUID().uuidString).yml").path
                try state.write(toFile: file, atomically: true, encoding: .utf8)
                defer { try? FileManager.default.removeItem(atPath: file) }
                let script = """
                    "$0" apply "$1" --json & pid=$!
                    i=0
                    until ip link show br0 >/dev/null 2>&1; do
                        i=$((i + 1)); [ $i -gt 3000 ] && break; sleep 0.01
                    done
                    sleep 0.2
                    kill -TERM $pid
                    wait $pid
                    """
                let start = ContinuousClock.now
                let output = try await withCheckedThrowingContinuation { continuation in
                    Thread.detachNewThread {
                        continuation.resume(with: Result { try container.exec(["sh", "-c", script, netstatePath, file], timeout: 180) })
                    }
                }
                let report = try #require(try? JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any],
                                          "no JSON document: status \(output.status), stdout \(output.stdout), stderr \(output.stderr)")
                let error = report["error"] as? [String: Any]
                print("netstate SIGTERM during apply: exit \(output.status) in \(ContinuousClock.now - start), stopped in \(error?["step"] ?? "?")")
                #expect(report["result"] as? String == "rolled-back" && report["state"] as? String == "before", "\(report)")
                #expect(error?["code"] as? String == "interrupted" && (error?["message"] as? String)?.contains("SIGTERM") == true, "\(report)")
                #expect(error?["step"] as? String != nil, "the step it was stopped in: \(report)")
                #expect(output.status == 1)
                let after = try await NMHostSnapshot.take(container, nm)
                #expect(after == before, "\(after.differences(from: before))")
            }
        }
    }
}
