import DBus
import Foundation
import NMTestSupport
import NetworkManager
import Testing

extension BridgeifyTests {
    /// Bad input gets a one-line error with a hint, exit 2, `result: rejected`, and nothing
    /// changes on the host.
    @Suite struct Rejections {
        struct Case: CustomStringConvertible {
            var arguments: [String]
            var code: String
            var asNobody = false
            var description: String { "bridgeify \(arguments.joined(separator: " "))\(asNobody ? " (as nobody)" : "") -> \(code)" }
        }

        static let cases: [Case] = [
            Case(arguments: ["eno9"], code: "no-such-interface"),
            Case(arguments: ["lo"], code: "loopback"),
            Case(arguments: ["brx"], code: "not-ethernet"),
            Case(arguments: ["eno2"], code: "already-a-port"),
            Case(arguments: ["eno3"], code: "unmanaged"),
            Case(arguments: ["eno4"], code: "no-ip-configuration"),
            Case(arguments: ["eno4", "--gateway", "192.168.1.1"], code: "missing-address"),
            Case(arguments: ["eno1", "--bridge", "brx"], code: "bridge-name-taken"),
            Case(arguments: ["eno1", "--bridge", "br7"], code: "bridge-name-taken"),
            Case(arguments: ["eno1", "--bridge", "averyveryverylongname"], code: "invalid-bridge-name"),
            Case(arguments: ["eno1", "--bridge", "br/0"], code: "invalid-bridge-name"),
            Case(arguments: ["eno1", "--bridge", "br 0"], code: "invalid-bridge-name"),
            Case(arguments: ["eno1", "--bridge", "br:0"], code: "invalid-bridge-name"),
            Case(arguments: ["eno1", "--bridge", "eno1"], code: "invalid-bridge-name"),
            Case(arguments: ["eno1", "--ipv4", "192.168.1.300/24"], code: "invalid-address"),
            Case(arguments: ["eno1", "--ipv4", "192.168.1.200"], code: "invalid-prefix"),
            Case(arguments: ["eno1", "--ipv4", "192.168.1.200/33"], code: "invalid-prefix"),
            Case(arguments: ["eno1", "--gateway", "10.0.0.1"], code: "gateway-outside-subnet"),
            Case(arguments: ["eno1", "--dns", "resolver.example"], code: "invalid-address"),
            Case(arguments: ["eno1", "--ipv6", "2001:db8::zz/64"], code: "invalid-address"),
            Case(arguments: ["eno1", "--probe", "tcp:192.168.1.1"], code: "invalid-probe"),
            Case(arguments: ["eno1", "--dhcp", "--ipv4", "192.168.1.200/24"], code: "conflicting-options"),
            Case(arguments: ["eno1", "--rollback-timeout", "0"], code: "invalid-arguments"),
            Case(arguments: ["eno1", "--confirm", "1"], code: "invalid-arguments"),
            Case(arguments: ["eno1", "--frobnicate"], code: "invalid-arguments"),
            Case(arguments: ["eno1"], code: "permission-denied", asNobody: true),
            Case(arguments: ["confirm"], code: "nothing-pending"),
        ]

        @Test func badInputIsRejectedAndNothingChanges() async throws {
            try await withNMContainer(nics: ["eno1", "eno2", "eno3", "eno4"], eno1Static: true) { container in
                let nm = try await container.client()
                // eno2 is a port of another bridge, brx, which is not Ethernet; eno3 is
                // unmanaged; eno4 has no profile; br7 is a profile's interface name (not active).
                for command in [
                    ["nmcli", "connection", "add", "type", "bridge", "ifname", "brx", "con-name", "brx", "bridge.stp", "no",
                     "ipv4.method", "disabled", "ipv6.method", "disabled"],
                    ["nmcli", "connection", "add", "type", "bridge-slave", "ifname", "eno2", "master", "brx", "con-name", "brx-port"],
                    ["nmcli", "--wait", "30", "connection", "up", "brx-port"],
                    ["nmcli", "device", "set", "eno3", "managed", "no"],
                    ["nmcli", "connection", "add", "type", "bridge", "ifname", "br7", "con-name", "br7", "autoconnect", "no",
                     "ipv4.method", "disabled", "ipv6.method", "disabled"],
                ] {
                    try container.execChecked(command)
                }
                try await waitUntil("brx has its port") { try container.kernelLink("eno2").controller == "brx" }
                let before = try await HostState.take(container, nm)

                for rejected in Self.cases {
                    let run = try await container.bridgeify(rejected.arguments, asNobody: rejected.asNobody)
                    try Self.expectRejected(run, rejected)
                    let after = try await HostState.take(container, nm)
                    #expect(after == before, "\(rejected): \(after.differences(from: before))")
                }

                // A foreign checkpoint (another tool's pending change) blocks the conversion.
                let checkpoint = try await nm.createCheckpoint(rollbackTimeout: .seconds(120))
                let held = try await HostState.take(container, nm)
                let blocked = try await container.bridgeify(["eno1"])
                try Self.expectRejected(blocked, Case(arguments: ["eno1"], code: "checkpoint-exists"))
                #expect(blocked.report?.error?.message.contains(checkpoint.path.rawValue) == true)
                #expect(try await HostState.take(container, nm) == held)
                try await nm.destroyCheckpoint(checkpoint.path)

                // For a person: one line of error, one of hint, on stderr; exit 2.
                let human = try await container.bridgeify(["eno1", "--bridge", "brx"], json: false)
                #expect(human.status == 2)
                let lines = human.stderr.split(separator: "\n")
                #expect(lines.count == 2 && lines[0].hasPrefix("bridgeify: error: ") && lines[1].hasPrefix("hint: "), "\(human)")
                #expect(human.stdout.contains("Nothing was changed."), "\(human)")
                #expect(try await HostState.take(container, nm) == before)
            }
        }

        static func expectRejected(_ run: BridgeifyRun, _ expected: Case) throws {
            let report = try #require(run.report, "\(expected): no JSON document\n\(run)")
            #expect(run.status == 2, "\(expected): \(run)")
            #expect(report.result == "rejected", "\(expected): \(run)")
            #expect(report.error?.code == expected.code, "\(expected): got \(report.error?.code ?? "none"): \(report.error?.message ?? "")")
            #expect(report.error?.message.isEmpty == false && report.error?.message.contains("\n") == false, "\(expected)")
            #expect(report.error?.hint?.isEmpty == false, "\(expected): no hint")
            #expect(!report.steps.contains { ["checkpoint", "stage", "activate"].contains($0.step) }, "\(expected): \(report.steps)")
        }
    }
}
