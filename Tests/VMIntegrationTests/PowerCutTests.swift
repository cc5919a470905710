import Foundation
import NMTestSupport
import Testing

/// A power cut during `bridgeify ens4` and `netstate apply`, at each point where the transaction writes, on a real
/// disk and a real boot (issue 14; the argument for the commit's order is in
/// docs/transactions.md, "A power cut during the commit").
///
/// The crash-point shim (Tests/CrashSweep/crashpoint.c) stops the tool right after call k
/// is on the wire; the guest then flushes its disk (`sync`: the write has reached the disk),
/// QEMU is killed (nothing else reaches it) and booted again. The host must come up exactly
/// as before the conversion or as converted, with the address on one interface and the NIC
/// run by one profile, never half of each.
///
/// A power cut whose keyfiles are the same as an earlier cell's boots the same way (the
/// keyfiles are what NetworkManager reads at boot; `/var/lib/NetworkManager`'s timestamps only
/// break ties between equal priorities, and the port outranks the profile it supersedes), so
/// such a cell is not booted again: its tool is killed, its checkpoint destroyed, and the
/// table says which cell's boot stands for it.
///
/// Nested in ``VMIntegrationTests``: its traits (serialized, `NM_TEST_VM=1`) hold here too, so the
/// tier boots one VM at a time.
extension VMIntegrationTests {
    @Suite struct PowerCutTests {
        /// The guest's state, classified from what it runs after a boot: ens4 holding the
        /// address itself, or as br0's port with br0 holding it.
        enum Outcome: String {
            case plain, bridged
        }

        /// bridgeify: a new port profile and bridge; the NIC's profile superseded.
        @Test func aPowerCutAtEachWriteOfBridgeifyBootsBeforeOrConverted() async throws {
            try await Self.sweep(tool: "\(VMIntegrationTests.bridgeify) ens4 --json", port: "br0-port-ens4")
        }

        /// netstate: the NIC's own profile made the port of a new bridge (nmstate's way), which
        /// the commit writes with the bridge inert first.
        @Test func aPowerCutAtEachWriteOfNetstateBootsBeforeOrConverted() async throws {
            try await Self.sweep(tool: "\(BondVLANTests.netstate) apply /root/state.yml --json", port: "wired", state: Self.bridgeState)
        }

        /// The reverse, netstate's give-back recipe (docs/netstate.md): br0 `absent`, ens4's
        /// profile (the port) made plain again with br0's address. The commit writes br0 inert
        /// before the port's write, and deletes it last.
        @Test func aPowerCutAtEachWriteOfAGiveBackBootsBridgedOrPlain() async throws {
            try await Self.sweep(tool: "\(BondVLANTests.netstate) apply /root/giveback.yml --json", port: "wired",
                                 state: Self.bridgeState, from: .bridged)
        }

        /// br0 given back to ens4, as a netstate file.
        static let giveBackState = """
            interfaces:
            - name: br0
              type: linux-bridge
              state: absent
            - name: ens4
              type: ethernet
              state: up
              ipv4:
                enabled: true
                dhcp: false
                address:
                - ip: 192.168.1.10
                  prefix-length: 24
              ipv6:
                enabled: false
            routes:
              config:
              - destination: 0.0.0.0/0
                next-hop-address: 192.168.1.1
                next-hop-interface: ens4
            """

        /// br0 over ens4 with ens4's address and gateway, as a netstate file.
        static let bridgeState = """
            interfaces:
            - name: br0
              type: linux-bridge
              state: up
              bridge:
                options:
                  stp:
                    enabled: false
                port:
                - name: ens4
              ipv4:
                enabled: true
                dhcp: false
                address:
                - ip: 192.168.1.10
                  prefix-length: 24
              ipv6:
                enabled: false
            routes:
              config:
              - destination: 0.0.0.0/0
                next-hop-address: 192.168.1.1
                next-hop-interface: br0
            """

        /// Cuts the power after each write of `tool`'s transaction (see the type's comment); `port`
        /// is the profile that runs ens4 when bridged. The host starts `from` plain (ens4's own
        /// profile `wired`) or bridged (`state` applied over it first), and every boot must be
        /// that or the other.
        static func sweep(tool: String, port: String, state: String? = nil, from start: Outcome = .plain) async throws {
            let bridgeify = VMIntegrationTests.bridgeify
            let folder = URL(fileURLWithPath: bridgeify).deletingLastPathComponent().path
            let shim = try CrashPointShim.build(nextTo: bridgeify)
            try await withNMVirtualMachine(nics: 1, shares: [folder]) { vm in
                if let state { try vm.runChecked("cat > /root/state.yml <<'EOS'\n\(state)\nEOS") }
                try vm.runChecked("cat > /root/giveback.yml <<'EOS'\n\(Self.giveBackState)\nEOS")
                try vm.runChecked("""
                    nmcli connection add con-name wired ifname ens4 type ethernet ipv4.method manual \
                    ipv4.addresses 192.168.1.10/24 ipv4.gateway 192.168.1.1 ipv6.method disabled >/dev/null && \
                    nmcli --wait 90 connection up wired >/dev/null && sync
                    """)
                if start == .bridged {
                    let bridged = try vm.runChecked("\(BondVLANTests.netstate) apply /root/state.yml --json; echo \"exit $?\"")
                    #expect(bridged.contains("exit 0"), "bridging before the sweep: \(bridged)")
                }
                // What the reset brings back: `wired` up (as br0's port, it brings br0 up with it).
                try vm.runChecked("sync; mkdir -p /root/before && cp -a /etc/NetworkManager/system-connections/. /root/before/")
                try vm.runChecked("cat > /root/reset.sh <<'EOS'\n\(Self.resetScript)\nEOS\nchmod +x /root/reset.sh")

                // One run that only records the calls: the cells are its writes from activation on.
                try vm.runChecked("/root/reset.sh")
                let recorded = try vm.runChecked("""
                    rm -f /root/calls.log; CRASHPOINT_LOG=/root/calls.log LD_PRELOAD=\(shim) \(tool) >/root/out.json 2>&1; \
                    echo "exit $?"; cat /root/calls.log
                    """)
                #expect(recorded.hasPrefix("exit 0"), "\(recorded)")
                let calls = Self.calls(in: recorded)
                guard let activation = calls.firstIndex(where: { $0.member == "ActivateConnection" }) else {
                    Issue.record("no ActivateConnection in the recorded run:\n\(recorded)")
                    return
                }
                // A cell is "the n-th call to this member" (CRASHPOINT_MEMBER): the calls before the
                // commit vary from run to run (a port attached late is activated once more).
                let writes: Set = ["ActivateConnection", "AddConnection2", "Update2", "Delete", "CheckpointAdjustRollbackTimeout", "CheckpointDestroy"]
                let points: [Call] = [calls[activation]] + calls[(activation + 1)...].filter { writes.contains($0.member) }
                var cells: [Cell] = []
                for point in points {
                    let n = calls.filter { $0.k <= point.k && $0.member == point.member }.count
                    cells.append(Cell(member: point.member, n: n))
                }
                print("VM power cut: \(calls.count) calls recorded; cells after \(cells.map(\.name).joined(separator: ", "))")

                var booted: [String: (cell: String, outcome: Outcome)] = [:]
                var table: [String] = []
                for cell in cells {
                    // The calls before the commit vary from run to run (a port attached late is
                    // activated once more): a cell the recorded run reached may not come in the
                    // next one (an ActivateConnection #2). The tool then finishes; try again.
                    var lines: [String] = []
                    for attempt in 1...3 {
                        try vm.runChecked("/root/reset.sh")
                        try Self.expect(start, port: port, in: vm, context: "\(cell.name): the reset")
                        let stopped = try vm.runChecked("""
                            rm -f /root/cell.log; \
                            setsid env CRASHPOINT_LOG=/root/cell.log CRASHPOINT_MEMBER=\(cell.member) CRASHPOINT_AT=\(cell.n) \
                                CRASHPOINT_SIGNAL=STOP LD_PRELOAD=\(shim) \(tool) </dev/null >/root/out.json 2>&1 & \
                            for i in $(seq 240); do grep -q '^# signal' /root/cell.log 2>/dev/null && break; \
                                kill -0 $! 2>/dev/null || break; sleep 0.5; done; \
                            sleep 1; sync; \
                            grep -c '^# signal' /root/cell.log; \
                            grep -hv -e '^uuid=' -e '^timestamp=' /etc/NetworkManager/system-connections/* | sha256sum | cut -c1-12
                            """, timeout: 240)
                        lines = stopped.split(separator: "\n").map(String.init)
                        if lines.first == "1" { break }
                        print("VM power cut: \(cell.name) not reached on attempt \(attempt) (the run took the other path)")
                    }
                    guard lines.first == "1" else {
                        Issue.record("\(cell.name): the tool was not stopped there in 3 runs")
                        continue
                    }
                    let member = cell.name
                    let disk = lines.last ?? "?"
                    if let earlier = booted[disk] {
                        // The same keyfiles as a cell already booted: end this run without a boot.
                        try vm.runChecked("""
                            for p in $(sed -n 's/^# pid \\([0-9]*\\) .*/\\1/p' /root/cell.log); do kill -KILL $p 2>/dev/null; done; \
                            busctl call org.freedesktop.NetworkManager /org/freedesktop/NetworkManager \
                                org.freedesktop.NetworkManager CheckpointDestroy o / >/dev/null 2>&1 || true
                            """)
                        table.append("\(member): keyfiles \(disk) as after \(earlier.cell): \(Self.name(earlier.outcome, from: start))")
                        continue
                    }
                    try await vm.powerCut()
                    try await vm.boot()
                    let outcome = try await Self.settledOutcome(vm, port: port, context: "after \(member)")
                    booted[disk] = (cell.name, outcome)
                    let files = try vm.runChecked("ls /etc/NetworkManager/system-connections | tr '\\n' ' '")
                    table.append("\(member): keyfiles \(disk) (\(files.trimmingCharacters(in: .whitespacesAndNewlines))) booted: \(Self.name(outcome, from: start))")
                }
                print("VM power cut:\n  " + table.joined(separator: "\n  "))
                // The cut before the commit must come back as before, the last as committed.
                #expect(table.first?.hasSuffix("before") == true, "\(table)")
                #expect(table.last?.hasSuffix("committed") == true, "\(table)")
            }
        }

        /// An outcome as the table prints it: `before` or `committed`, relative to `start`.
        static func name(_ outcome: Outcome, from start: Outcome) -> String {
            "\(outcome.rawValue), \(outcome == start ? "before" : "committed")"
        }

        /// Back to "before" without a boot: only `wired`, active on ens4, no br0.
        static let resetScript = """
            #!/bin/sh
            for u in $(nmcli -g UUID,TYPE connection show | grep -v ':loopback$' | cut -d: -f1); do
                nmcli connection delete "$u" >/dev/null 2>&1
            done
            ip link del br0 2>/dev/null
            rm -f /etc/NetworkManager/system-connections/*
            cp -a /root/before/. /etc/NetworkManager/system-connections/
            nmcli connection reload && nmcli --wait 90 connection up wired >/dev/null && sync
            """

        struct Call {
            var k: Int
            var member: String
        }

        /// A power cut right after the n-th call to `member`.
        struct Cell {
            var member: String
            var n: Int
            var name: String { "\(member) #\(n)" }
        }

        /// The calls of a crash-point log (`k<TAB>member<TAB>...`; `#` lines are events).
        static func calls(in log: String) -> [Call] {
            log.split(separator: "\n").compactMap { line in
                let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
                guard fields.count >= 2, let k = Int(fields[0]) else { return nil }
                return Call(k: k, member: String(fields[1]))
            }
        }

        /// Waits until the booted guest holds 192.168.1.10 somewhere, then classifies it.
        static func settledOutcome(_ vm: NMVirtualMachine, port: String, context: String) async throws -> Outcome {
            let deadline = Date().addingTimeInterval(90)
            while Date() < deadline {
                if try vm.runChecked("ip -4 -o addr show").contains("192.168.1.10/24") { break }
                try await Task.sleep(for: .seconds(2))
            }
            // Give NetworkManager's autoconnection time to finish what it started.
            try await Task.sleep(for: .seconds(3))
            let addresses = try vm.runChecked("ip -4 -o addr show")
            let outcome: Outcome = addresses.contains(" br0 ") ? .bridged : .plain
            try expect(outcome, port: port, in: vm, context: context)
            return outcome
        }

        /// The guest is exactly `outcome`: the address on one interface (the NIC before, br0 after),
        /// the NIC run by one profile (wired before, the port after; and after a full commit, the
        /// only profile that autoconnects on it), reachable from the LAN.
        static func expect(_ outcome: Outcome, port: String, in vm: NMVirtualMachine, context: String) throws {
            let state = try vm.runChecked("""
                echo "addr: $(ip -4 -o addr show | grep -F 192.168.1.10/24 | awk '{print $2}' | tr '\\n' ' ')"; \
                echo "br0: $(ip -o link show br0 >/dev/null 2>&1 && echo yes || echo no)"; \
                echo "master: $(ip -o link show ens4 | grep -o 'master [a-z0-9]*' || echo none)"; \
                echo "active: $(nmcli -g GENERAL.CONNECTION device show ens4)"; \
                for u in $(nmcli -g UUID connection show); do \
                    echo "profile: $(nmcli -g connection.id,connection.interface-name,connection.autoconnect,connection.autoconnect-priority connection show "$u" | tr '\\n' ':')"; \
                done
                """)
            let holders = state.split(separator: "\n").first { $0.hasPrefix("addr: ") }.map { $0.dropFirst(6).split(separator: " ").map(String.init) } ?? []
            switch outcome {
            case .plain:
                #expect(holders == ["ens4"], "\(context): plain, the address on ens4 only\n\(state)")
                #expect(state.contains("br0: no") && state.contains("master: none") && state.contains("active: wired"),
                        "\(context): plain, ens4 run by wired, no br0\n\(state)")
            case .bridged:
                #expect(holders == ["br0"], "\(context): bridged, the address on br0 only\n\(state)")
                #expect(state.contains("master: master br0") && state.contains("active: \(port)\n"),
                        "\(context): bridged, ens4 run by br0's port\n\(state)")
                // Every other profile that autoconnects on ens4 ranks below the port, so that the next
                // boot picks the port again (the old one still autoconnects when the cut came before
                // the commit turned it off).
                let profiles = state.split(separator: "\n").filter { $0.hasPrefix("profile: ") }
                    .map { $0.dropFirst(9).split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
                    .filter { $0.count >= 4 && $0[1] == "ens4" && $0[2] == "yes" }
                let rank = profiles.first { $0[0] == port }.flatMap { Int($0[3]) }
                let others = profiles.filter { $0[0] != port }.compactMap { Int($0[3]) }
                #expect(rank != nil && others.allSatisfy { $0 < rank! }, "\(context): the port outranks the rest on ens4\n\(state)")
            }
            #expect(try vm.runLAN(["ping", "-c", "2", "-W", "5", "192.168.1.10"]).status == 0, "\(context): not reachable from the LAN\n\(state)")
        }
    }
}
