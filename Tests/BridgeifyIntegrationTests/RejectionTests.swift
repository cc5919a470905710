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

        /// What an outside review found accepted (issue 10): a host that reaches nothing, a probe
        /// that pings itself, names that are shell syntax, a search domain that writes a line of
        /// resolv.conf, a configuration that leaves nothing to probe.
        static let hostileCases: [Case] = [
            Case(arguments: ["eno1", "--ipv4", "224.0.0.1/24"], code: "invalid-host-address"),
            Case(arguments: ["eno1", "--ipv4", "127.0.0.5/8"], code: "invalid-host-address"),
            Case(arguments: ["eno1", "--ipv4", "0.0.0.0/24"], code: "invalid-host-address"),
            Case(arguments: ["eno1", "--ipv4", "240.0.0.7/24"], code: "invalid-host-address"),
            Case(arguments: ["eno1", "--ipv6", "ff02::1/64"], code: "invalid-host-address"),
            // eno1's gateway (192.168.1.1) is outside the new subnet: no longer silently dropped.
            Case(arguments: ["eno1", "--ipv4", "10.9.9.9/24"], code: "gateway-outside-subnet"),
            Case(arguments: ["eno1", "--gateway", "192.168.1.200"], code: "gateway-is-own-address"),
            Case(arguments: ["eno1", "--ipv4", "192.168.1.200/0"], code: "invalid-prefix"),
            Case(arguments: ["eno1", "--ipv4", "192.168.1.0/24"], code: "network-or-broadcast-address"),
            Case(arguments: ["eno1", "--ipv4", "192.168.1.255/24"], code: "network-or-broadcast-address"),
            Case(arguments: ["eno1", "--gateway", "192.168.1.255"], code: "invalid-gateway"),
            Case(arguments: ["eno1", "--gateway", "224.0.0.1"], code: "invalid-gateway"),
            Case(arguments: ["eno1", "--dns", "0.0.0.0"], code: "invalid-dns-server"),
            Case(arguments: ["eno1", "--dns", "ff02::fb"], code: "invalid-dns-server"),
            Case(arguments: ["eno1", "--dns-search", "a\nnameserver 6.6.6.6"], code: "invalid-search-domain"),
            Case(arguments: ["eno1", "--dns-search", "lab example"], code: "invalid-search-domain"),
            Case(arguments: ["eno1", "--bridge", "br0;reboot"], code: "invalid-bridge-name"),
            Case(arguments: ["eno1", "--bridge", "$(id)"], code: "invalid-bridge-name"),
            Case(arguments: ["eno1", "--bridge=-x"], code: "invalid-bridge-name"),
            Case(arguments: ["eno1", "--bridge", "b'\"r"], code: "invalid-bridge-name"),
            Case(arguments: ["eno1", "--bridge", "br\u{1b}[2J"], code: "invalid-bridge-name"),
            Case(arguments: ["eno1", "--bridge", "all"], code: "invalid-bridge-name"),
            Case(arguments: ["eno\u{1b}1"], code: "invalid-interface-name"),
            Case(arguments: ["eno1", "--probe", "ping:127.0.0.1"], code: "invalid-probe"),
            Case(arguments: ["eno1", "--probe", "tcp:$(id):22"], code: "invalid-probe"),
            // eno4 has no profile: a static address without a gateway, and no SSH session,
            // leave nothing to probe.
            Case(arguments: ["eno4", "--bridge", "br4", "--ipv4", "192.168.1.204/24"], code: "no-probe-possible"),
            Case(arguments: ["eno4", "--bridge", "br4", "--ipv4", "192.168.1.204/24", "--dry-run"], code: "no-probe-possible"),
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
                let before = try await NMHostSnapshot.take(container, nm)

                for rejected in Self.cases + Self.hostileCases {
                    let run = try await container.bridgeify(rejected.arguments, asNobody: rejected.asNobody)
                    try Self.expectRejected(run, rejected)
                    let after = try await NMHostSnapshot.take(container, nm)
                    #expect(after == before, "\(rejected): \(after.differences(from: before))")
                }
                // --no-probe is how to go on without a probe (planned only: nothing changes).
                let noProbe = try await container.bridgeify(["eno4", "--bridge", "br4", "--ipv4", "192.168.1.204/24", "--no-probe", "--dry-run"])
                #expect(noProbe.status == 0 && noProbe.report?.result == "planned" && noProbe.report?.probes == [], "\(noProbe)")
                let refused = try await container.bridgeify(["eno4", "--bridge", "br4", "--ipv4", "192.168.1.204/24"])
                #expect(refused.report?.error?.hint?.contains("--no-probe") == true && refused.report?.error?.hint?.contains("--probe") == true,
                        "\(refused)")

                // A foreign checkpoint (another tool's pending change) blocks the conversion; the
                // hint names only what exists (no option bridgeify lacks, such as ALLOW_OVERLAPPING).
                let checkpoint = try await nm.createCheckpoint(rollbackTimeout: .seconds(120))
                let held = try await NMHostSnapshot.take(container, nm)
                let blocked = try await container.bridgeify(["eno1"])
                try Self.expectRejected(blocked, Case(arguments: ["eno1"], code: "checkpoint-exists"))
                #expect(blocked.report?.error?.message.contains(checkpoint.path.rawValue) == true)
                let hint = blocked.report?.error?.hint ?? ""
                #expect(hint.contains("CheckpointDestroy o \(checkpoint.path.rawValue)") && !hint.contains("ALLOW_OVERLAPPING")
                            && !hint.contains("--"), "\(hint)")
                try await expectSnapshot(container, nm, equals: held)
                try await nm.destroyCheckpoint(checkpoint.path)

                // For a person: one line of error, one of hint, on stderr; exit 2.
                let human = try await container.bridgeify(["eno1", "--bridge", "brx"], json: false)
                #expect(human.status == 2)
                let lines = human.stderr.split(separator: "\n")
                #expect(lines.count == 2 && lines[0].hasPrefix("bridgeify: error: ") && lines[1].hasPrefix("hint: "), "\(human)")
                #expect(human.stdout.contains("Nothing was changed."), "\(human)")
                try await expectSnapshot(container, nm, equals: before)
            }
        }

        /// Text from the host (a profile someone else named with escape sequences) reaches
        /// neither the terminal nor the JSON document raw. (How long such text may get is a
        /// unit test's matter: NetworkManager cannot store a profile name over about 230 bytes,
        /// docs/networkmanager-quirks.md.)
        @Test func hostileProfileNamesAreEscaped() async throws {
            try await withNMContainer(nics: ["eno1"], eno1Static: true) { container in
                let nm = try await container.client()
                let hostile = "\u{1b}]0;pwned\u{7}\u{1b}[2J\r" + String(repeating: "x", count: 200)
                try container.execChecked(["nmcli", "connection", "add", "save", "no", "type", "bridge", "ifname", "brh", "con-name", hostile,
                                           "autoconnect", "no", "ipv4.method", "disabled", "ipv6.method", "disabled"])
                let before = try await NMHostSnapshot.take(container, nm)

                let run = try await container.bridgeify(["eno1", "--bridge", "brh"])
                try Self.expectRejected(run, Case(arguments: ["eno1", "--bridge", "brh"], code: "bridge-name-taken"))
                let message = run.report?.error?.message ?? ""
                #expect(message.contains(#"'\u{1b}]0;pwned\u{7}\u{1b}[2J\u{d}xxx"#), "\(message)")
                #expect(!message.unicodeScalars.contains { NMText.isControl($0) }, "\(message)")

                let human = try await container.bridgeify(["eno1", "--bridge", "brh"], json: false)
                #expect(human.status == 2)
                for output in [human.stdout, human.stderr] {
                    #expect(!output.unicodeScalars.contains { $0 == "\u{1b}" || $0 == "\u{7}" || $0 == "\r" }, "\(output)")
                }
                #expect(human.stderr.contains(#"\u{1b}]0;pwned"#), "\(human.stderr)")
                try await expectSnapshot(container, nm, equals: before)
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
