import DBus
import Foundation
import NMTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension BridgeifyTests {
    /// The crash-point sweep (docs/testing.md, "Crash-point sweep"; issue 10): every D-Bus call
    /// bridgeify makes, interrupted right after it is sent, with SIGTERM, SIGKILL and SIGSTOP
    /// held past the rollback timeout, must end exactly "before" or exactly "committed", and
    /// the report must say which.
    @Suite struct CrashPoints {
        // MARK: The shim

        /// The shim frames what a client writes however it is split or batched, ignores what is
        /// not D-Bus, cuts a batched write right after call k, and signals the process there
        /// (a python client on a socket pair; no bus needed).
        @Test(arguments: [("NONE", 0), ("KILL", 1), ("KILL", 2), ("KILL", 3), ("KILL", 4), ("STOP", 2), ("TERM", 2)])
        func theShimFindsEveryCallHoweverTheWritesAreSplit(signal: String, call: Int) async throws {
            let shim = try CrashPointShim.build(nextTo: bridgeifyPath)
            let log = NSTemporaryDirectory() + "/crashpoint-framing-\(UUID().uuidString).log"
            defer { try? FileManager.default.removeItem(atPath: log) }
            let python = ProcessInfo.processInfo.environment["NMTS_PYTHON"] ?? "/usr/bin/python3"
            let output = try await runOnHost(python, [CrashPointShim.testFile("framing-check.py"), signal], environment: [
                "LD_PRELOAD": shim, "CRASHPOINT_LOG": log, "CRASHPOINT_AT": String(call), "CRASHPOINT_SIGNAL": signal,
                "CRASHPOINT_HOLD_MS": "400",
            ], timeout: 60)
            try #require(output.status == 0, "framing-check.py failed: \(output.stderr)")
            let result = try #require(
                (try? JSONSerialization.jsonObject(with: Data(output.stdout.utf8))) as? [String: Any], "\(output.stdout)")
            let expected = try #require(result["calls"] as? [[String]]).map {
                LoggedCall(member: $0[0], interface: $0[1], path: $0[2], destination: $0[3])
            }
            let ends = try #require(result["ends"] as? [Int])
            let length = try #require(result["streamLength"] as? Int)
            let received = try #require(result["received"] as? Int)
            let logged = LoggedCall.read(log)
            #expect(result["receivedMatches"] as? Bool == true, "the peer received other bytes than were written")
            switch signal {
            case "KILL":
                // Killed right after call k: the peer has exactly the bytes up to its end.
                #expect(logged.calls == Array(expected.prefix(call)))
                #expect(received == ends[call - 1], "received \(received) bytes, call \(call) ends at \(ends[call - 1])")
                #expect(result["exitSignal"] as? Int == Int(SIGKILL))
            case "STOP":
                #expect(logged.calls == expected)
                #expect(result["stoppedAt"] as? Int == ends[call - 1], "stopped after \(String(describing: result["stoppedAt"])) bytes")
                #expect(received == length)
            case "TERM":
                #expect(logged.calls == expected && logged.signalled)
                // The reply is held back: the next read waited out most of the 400 ms.
                let held = try #require(result["holdMilliseconds"] as? Int)
                #expect(held >= 250, "the read after the signal waited only \(held) ms")
                #expect(received == length)
            default:
                #expect(logged.calls == expected && !logged.signalled)
                #expect(received == length && result["exitSignal"] as? Int == 0)
            }
        }

        /// Under the shim, `bridgeify status` is logged call for call as the bus itself sees it
        /// (`dbus-monitor` in the container), and makes the calls it must: `Hello` first, one
        /// `GetSettings` per profile.
        @Test func theShimLogsTheCallsTheBusSees() async throws {
            let shim = try CrashPointShim.build(nextTo: bridgeifyPath)
            try await withNMContainer(eno1Static: true) { container in
                let token = UUID().uuidString
                let log = "/tmp/crashpoint-status-\(token).log"
                let monitor = "/tmp/crashpoint-monitor-\(token).txt"
                defer {
                    try? FileManager.default.removeItem(atPath: log)
                    try? FileManager.default.removeItem(atPath: monitor)
                }
                // The monitor is known to be listening once it has seen a marker call.
                let script = """
                    dbus-monitor --system type=method_call >\(monitor) 2>&1 & m=$!
                    i=0
                    until grep -q member=GetId \(monitor); do
                        dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.GetId >/dev/null
                        i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.05
                    done
                    env LD_PRELOAD=\(shim) CRASHPOINT_LOG=\(log) \(bridgeifyPath) status --json >/dev/null
                    sleep 0.3; kill $m
                    """
                let output = try await container.execAsync(["sh", "-c", script], timeout: 60)
                #expect(output.status == 0 || output.status == 4, "\(output.stderr)")
                let logged = LoggedCall.read(log).calls
                // dbus-monitor: "method call time=T sender=S -> destination=D serial=N path=P; interface=I; member=M"
                let pattern = try NSRegularExpression(
                    pattern: #"^method call time=\S+ sender=(\S+) -> destination=(\S+) serial=\d+ path=([^;]+); interface=([^;]+); member=(\S+)"#,
                    options: .anchorsMatchLines)
                let text = (try? String(contentsOfFile: monitor, encoding: .utf8)) ?? ""
                var bySender: [String: [LoggedCall]] = [:]
                var order: [String] = []
                for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    let field = { (i: Int) in String(text[Range(match.range(at: i), in: text)!]) }
                    if bySender[field(1)] == nil { order.append(field(1)) }
                    bySender[field(1), default: []].append(
                        LoggedCall(member: field(5), interface: field(4), path: field(3), destination: field(2)))
                }
                // bridgeify's connection: it says Hello first and then more than dbus-send's one call.
                let clients = order.filter { bySender[$0]!.first?.member == "Hello" && bySender[$0]!.count > 2 }
                try #require(clients.count == 1, "expected one client besides dbus-send, got \(clients): \(text.prefix(2000))")
                let seen = bySender[clients[0]]!
                #expect(logged == seen, "shim: \(logged)\nbus: \(seen)")
                let profiles = try container.execChecked(["nmcli", "-g", "UUID", "connection", "show"])
                    .split(separator: "\n").count
                #expect(logged.first?.member == "Hello")
                #expect(logged.filter { $0.member == "GetSettings" }.count == profiles)
                #expect(logged.contains { $0.member == "GetManagedObjects" })
            }
        }

        // MARK: The sweep

        /// Every call of a conversion, a `confirm` and a `rollback`, interrupted right after it
        /// is sent by SIGTERM, SIGKILL and SIGSTOP held past the rollback timeout, ends exactly
        /// before or committed, and the report names the state. The calls come from a recording
        /// run under the shim, so a call added later is swept too.
        ///
        /// `CRASH_SWEEP_ONLY=convert:10:TERM` runs one cell (`*` for any part, several with
        /// commas); `CRASH_SWEEP_PARALLEL` containers at once (default 3); `CRASH_SWEEP_FRESH=1`
        /// a fresh container for every cell instead of one reset exactly to "before". The table
        /// goes to `crash-sweep.md` in the build directory and to stdout.
        @Test func everyInterruptedCallEndsBeforeOrCommittedAndTheReportSaysWhich() async throws {
            let started = ContinuousClock.now
            let environment = ProcessInfo.processInfo.environment
            let selection = try SweepSelection(environment["CRASH_SWEEP_ONLY"])
            let buildDirectory = URL(fileURLWithPath: bridgeifyPath).deletingLastPathComponent().path
            let sweep = Sweep(shim: try CrashPointShim.build(nextTo: bridgeifyPath),
                              logDirectory: buildDirectory + "/crash-sweep")
            try? FileManager.default.removeItem(atPath: sweep.logDirectory)
            try FileManager.default.createDirectory(atPath: sweep.logDirectory, withIntermediateDirectories: true)
            let parallel = max(1, Int(environment["CRASH_SWEEP_PARALLEL"] ?? "") ?? 3)
            let fresh = environment["CRASH_SWEEP_FRESH"] == "1"

            // 1. One recording run per flow: its calls, and the reference states.
            var flows = SweepFlow.allCases.filter(selection.includes)
            if flows.contains(.rollback) && !flows.contains(.convert) { flows.append(.convert) }  // committed reference
            var recordings: [SweepFlow: SweepRecording] = [:]
            try await withThrowingTaskGroup(of: (SweepFlow, SweepRecording).self) { group in
                for flow in flows { group.addTask { (flow, try await sweep.record(flow)) } }
                for try await (flow, recording) in group { recordings[flow] = recording }
            }
            for flow in flows {
                let recording = recordings[flow]!
                print("crash sweep: \(flow.rawValue) makes \(recording.calls.count) calls: "
                      + recording.calls.enumerated().map { "\($0.offset + 1) \($0.element.member)" }.joined(separator: ", "))
                #expect(recording.problems.isEmpty, "recording \(flow.rawValue): \(recording.problems)")
            }
            if let convert = recordings[.convert], let confirm = recordings[.confirm] {
                #expect(convert.before == confirm.before, "two fresh containers differ: \(confirm.before.differences(from: convert.before))")
                #expect(convert.after == confirm.after,
                        "a confirmed conversion differs from one committed at once: \(confirm.after.differences(from: convert.after))")
            }
            var references: [SweepFlow: SweepReferences] = [:]
            for flow in flows {
                let recording = recordings[flow]!
                let committed = flow == .rollback ? recordings[.convert]!.after : recording.after
                references[flow] = SweepReferences(before: recording.before, committed: committed, pending: recording.pending)
            }

            // 2. Every cell, in fresh containers, `parallel` at a time.
            let cells = flows.flatMap { flow in
                (1...max(1, recordings[flow]!.calls.count)).flatMap { k in
                    SweepSignal.allCases.map { SweepCell(flow: flow, call: k, signal: $0) }
                }
            }.filter(selection.includes)
            let queue = SweepQueue(cells)
            let frozen = references
            var outcomes: [SweepOutcome] = []
            try await withThrowingTaskGroup(of: [SweepOutcome].self) { group in
                for _ in 0..<parallel {
                    group.addTask {
                        var done: [SweepOutcome] = []
                        var slot: SweepContainer?
                        while let cell = await queue.next() {
                            if fresh, let used = slot {
                                await used.stop()
                                slot = nil
                            }
                            let outcome = await sweep.run(cell, in: &slot, references: frozen[cell.flow]!)
                            print(String(format: "crash sweep: %@ %@ %@ -> %@ (%.1f s: %@)%@", cell.description, outcome.member,
                                         outcome.passed ? "pass" : "FAIL", outcome.final?.rawValue ?? "?", outcome.seconds,
                                         outcome.laps.joined(separator: " "),
                                         outcome.passed ? "" : ": " + outcome.problems.joined(separator: " | ")))
                            done.append(outcome)
                        }
                        await slot?.stop()
                        return done
                    }
                }
                for try await batch in group { outcomes += batch }
            }

            // 3. The table.
            let order = Dictionary(uniqueKeysWithValues: cells.enumerated().map { ($0.element, $0.offset) })
            outcomes.sort { order[$0.cell]! < order[$1.cell]! }
            let elapsed = ContinuousClock.now - started
            let table = Sweep.table(outcomes, recordings: recordings, elapsed: elapsed, parallel: parallel)
            try table.write(toFile: buildDirectory + "/crash-sweep.md", atomically: true, encoding: .utf8)
            print(table)
            print("crash sweep: \(outcomes.count) cells in \(String(format: "%.0f", elapsed.seconds)) s; table in \(buildDirectory)/crash-sweep.md")
            let failed = outcomes.filter { !$0.passed }
            #expect(!outcomes.isEmpty, "the selection \(environment["CRASH_SWEEP_ONLY"] ?? "") matched no cell")
            if !failed.isEmpty {
                Issue.record(Comment(rawValue: "\(failed.count) of \(outcomes.count) cells failed:\n" + failed.map {
                    "\($0.cell) (\($0.member)): " + $0.problems.joined(separator: " | ")
                }.joined(separator: "\n")))
            }
        }
    }
}

// MARK: - The sweep's runs

/// What the uninstrumented (recording) run of a flow found.
struct SweepRecording: Sendable {
    var calls: [LoggedCall]
    var before: SweepSnapshot
    var pending: SweepSnapshot?
    var after: SweepSnapshot
    var problems: [String]
}

/// `CRASH_SWEEP_ONLY`: `flow[:k[:signal]]`, `*` for any, several separated by commas.
struct SweepSelection: Sendable {
    var patterns: [(flow: String, call: String, signal: String)] = []

    init(_ text: String?) throws {
        for item in (text ?? "").split(separator: ",") {
            let parts = item.split(separator: ":").map { String($0).trimmingCharacters(in: .whitespaces) }
            guard (1...3).contains(parts.count), parts[0] == "*" || SweepFlow(rawValue: parts[0]) != nil,
                parts.count < 2 || parts[1] == "*" || Int(parts[1]) != nil,
                parts.count < 3 || parts[2] == "*" || SweepSignal(rawValue: parts[2].uppercased()) != nil
            else {
                throw TestSupportError(.invalidArgument, "CRASH_SWEEP_ONLY: '\(item)' is not flow[:k[:signal]] "
                    + "(flows: convert, confirm, rollback; signals: TERM, KILL, STOP; * for any)")
            }
            patterns.append((parts[0], parts.count > 1 ? parts[1] : "*", parts.count > 2 ? parts[2].uppercased() : "*"))
        }
    }

    func includes(_ flow: SweepFlow) -> Bool {
        patterns.isEmpty || patterns.contains { $0.flow == "*" || $0.flow == flow.rawValue }
    }

    func includes(_ cell: SweepCell) -> Bool {
        patterns.isEmpty || patterns.contains {
            ($0.flow == "*" || $0.flow == cell.flow.rawValue) && ($0.call == "*" || Int($0.call) == cell.call)
                && ($0.signal == "*" || $0.signal == cell.signal.rawValue)
        }
    }
}

actor SweepQueue {
    private var cells: [SweepCell]
    init(_ cells: [SweepCell]) { self.cells = cells.reversed() }
    func next() -> SweepCell? { cells.popLast() }
}

struct Sweep: Sendable {
    var shim: String
    var logDirectory: String
    /// The rollback timeout the conversion asks for (`--rollback-timeout 1`; the neighbour
    /// step's 1 s is added by bridgeify).
    var rollbackTimeout = 1
    /// Seconds left to a pending conversion when the instrumented `confirm` or `rollback`
    /// starts. bridgeify's `--confirm` takes at least 10; the sweep shortens the pending
    /// checkpoint's deadline with `CheckpointAdjustRollbackTimeout` right before the run, so
    /// that the cells that wait for NetworkManager's own rollback wait 4 s and not 10.
    var pendingSeconds: UInt32 = 3
    /// The longest wait for NetworkManager's own rollback (its timeout, plus a margin).
    var checkpointBound: Duration = .seconds(12)
    /// How long the shim holds back the reply after SIGTERM.
    var holdMilliseconds = 300

    func environment(log: String, token: String, cell: SweepCell? = nil) -> [String: String] {
        var environment = ["LD_PRELOAD": shim, "CRASHPOINT_LOG": log, "CRASHPOINT_RUN": token]
        if let cell {
            environment["CRASHPOINT_AT"] = String(cell.call)
            environment["CRASHPOINT_SIGNAL"] = cell.signal.rawValue
            environment["CRASHPOINT_HOLD_MS"] = String(holdMilliseconds)
        }
        return environment
    }

    /// A `--confirm` conversion, applied and pending, whose checkpoint reverts in `pendingSeconds`.
    func makePending(_ container: NMContainer, _ bus: DBusConnection) async throws {
        let applied = try await container.bridgeify(["eno1", "--no-probe", "--rollback-timeout", String(rollbackTimeout), "--confirm", "10"],
                                                    timeout: 90)
        guard applied.status == 4, let checkpoint = try await Self.checkpoints(bus).first else {
            throw TestSupportError(.commandFailed, "the pending conversion was not applied: \(applied)")
        }
        _ = try await bus.call(destination: SweepSnapshot.nm, path: "/org/freedesktop/NetworkManager",
                               interface: "org.freedesktop.NetworkManager", member: "CheckpointAdjustRollbackTimeout",
                               arguments: [.objectPath(checkpoint), .uint32(pendingSeconds)])
    }

    static func checkpoints(_ bus: DBusConnection) async throws -> [ObjectPath] {
        let reply = try await bus.call(destination: SweepSnapshot.nm, path: "/org/freedesktop/NetworkManager",
                                       interface: "org.freedesktop.DBus.Properties", member: "Get",
                                       arguments: [.string("org.freedesktop.NetworkManager"), .string("Checkpoints")])
        var value = reply.first
        while case .variant(let inner)? = value { value = inner }
        guard case .array(_, let items)? = value else { return [] }
        return items.compactMap { if case .objectPath(let path) = $0 { return path } else { return nil } }
    }

    /// The flow once, under the shim without a crash point: the calls it makes, and the states
    /// before, pending (if the flow starts there) and after.
    func record(_ flow: SweepFlow) async throws -> SweepRecording {
        let container = try await NMContainer.start(eno1Static: true)
        defer { try? container.stop() }
        let bus = try await DBusConnection.connect(address: container.busAddress)
        defer { bus.close() }
        let mac = try await container.eno1MAC()
        let before = try await container.settledSnapshot(bus, mac: mac)
        var pending: SweepSnapshot?
        if flow != .convert {
            try await makePending(container, bus)
            pending = try await container.settledSnapshot(bus, mac: mac)
        }
        let log = logDirectory + "/record-\(flow.rawValue).log"
        let run = try await container.bridgeify(flow.arguments, environment: environment(log: log, token: UUID().uuidString),
                                                timeout: 90)
        let after = try await container.settledSnapshot(bus, mac: mac)
        var problems: [String] = []
        let report = SweepReport(run)
        if report?.result != flow.expectedResult.result {
            problems.append("expected \(flow.expectedResult.result), got \(report?.summary ?? "no JSON"): \(run)")
        }
        if flow == .rollback && after != before {
            problems.append("rolled back, but not to before: \(after.differences(from: before))")
        }
        if after.checkpoints != 0 { problems.append("a checkpoint is left") }
        let calls = LoggedCall.read(log).calls
        if calls.isEmpty { problems.append("the shim logged no call") }
        return SweepRecording(calls: calls, before: before, pending: pending, after: after, problems: problems)
    }

    /// One cell: a fresh container, the run interrupted after call k, then what the host ended
    /// in and what the reports said.
    /// One cell: a container in the state before (a fresh one, or the previous cell's reset
    /// exactly to it), the run interrupted after call k, then what the host ended in and what
    /// the reports said.
    func run(_ cell: SweepCell, in slot: inout SweepContainer?, references recorded: SweepReferences) async -> SweepOutcome {
        let started = ContinuousClock.now
        var outcome = SweepOutcome(cell: cell)
        do {
            var before: SweepSnapshot?
            if let reused = slot {
                before = try await reused.reset()
                outcome.lap("reset")
                if before == nil {
                    await reused.stop()
                    slot = nil
                }
            }
            if slot == nil {
                slot = try await SweepContainer.start()
                before = slot!.before
                outcome.lap("start")
            }
            try await run(cell, slot!, before!, recorded, &outcome)
        } catch {
            outcome.problems.append("harness: \(error)")
            if let broken = slot {
                await broken.stop()
                slot = nil
            }
        }
        outcome.seconds = (ContinuousClock.now - started).seconds
        return outcome
    }

    private func run(_ cell: SweepCell, _ slot: SweepContainer, _ before: SweepSnapshot, _ recorded: SweepReferences,
                     _ outcome: inout SweepOutcome) async throws {
        let container = slot.container
        let bus = slot.bus
        let mac = slot.mac
        if before != recorded.before {
            outcome.problems.append("harness: this container's state before differs from the recording's: "
                + before.differences(from: recorded.before).joined(separator: "; "))
        }
        // This container's own "before"; the other references come from the recording runs.
        let references = SweepReferences(before: before, committed: recorded.committed, pending: recorded.pending)
        if cell.flow != .convert {
            try await makePending(container, bus)
            outcome.lap("pending")
        }

        let token = UUID().uuidString
        let log = logDirectory + "/\(cell.flow.rawValue)-\(cell.call)-\(cell.signal.rawValue).log"
        let ended = SweepFlag()
        let environment = environment(log: log, token: token, cell: cell)
        async let interrupted: BridgeifyRun = {
            defer { ended.set() }
            return try await container.bridgeify(cell.flow.arguments, environment: environment, timeout: 90)
        }()
        if cell.signal == .STOP, let note = try await holdStopped(token: token, ended: ended, bus) {
            outcome.problems.append(note)
        }
        let run = try await interrupted
        outcome.lap("run")
        let logged = LoggedCall.read(log)
        if logged.calls.count >= cell.call { outcome.member = logged.calls[cell.call - 1].member }
        if !logged.signalled {
            if logged.calls.count < cell.call {
                // The number of reads can differ between runs (verify re-reads on each signal
                // until the host matches: seen on 1.52, 32 calls where the recording made 33).
                // This run finished uninterrupted; its end state and report are still checked.
                outcome.member = "(not reached: \(logged.calls.count) calls)"
            } else {
                outcome.problems.append("call \(cell.call) was sent but never signalled (the shim missed it)")
            }
        }

        // The state the process left, and its report (TERM, STOP: it lived to write one).
        var current = references.classify(try await container.settledSnapshot(bus, mac: mac))
        if cell.signal != .KILL {
            outcome.atExit = current.state
            if let report = SweepReport(run) {
                outcome.report = report.summary
                if let mismatch = report.mismatch(host: current.state, flow: cell.flow) {
                    outcome.problems.append(mismatch + Self.detail(current.differences))
                }
            } else {
                let stderr = run.stderr.split(separator: "\n").last.map(String.init) ?? ""
                outcome.report = "no JSON, exit \(run.status)"
                outcome.problems.append("no JSON document on stdout (exit \(run.status)\(stderr.isEmpty ? "" : ": " + stderr))")
            }
        }

        outcome.lap("at exit")
        // NetworkManager's own rollback, if a checkpoint is left (a killed or stopped run, a
        // pending change left pending); then what `status` says, and `rollback` if it finds
        // something to undo.
        try await Task.sleep(for: .milliseconds(250))
        if try await NMContainer.checkpointCount(bus) > 0 {
            if !(try await NMContainer.waitForNoCheckpoint(bus, bound: checkpointBound)) {
                outcome.problems.append("NetworkManager still held a checkpoint \(checkpointBound) after the run")
            }
            current = references.classify(try await container.settledSnapshot(bus, mac: mac))
        }
        if cell.signal == .KILL { outcome.atExit = current.state }
        outcome.lap("checkpoint")
        var followUp: [String] = []
        let status = try await container.bridgeify(["status"], timeout: 60)
        let statusReport = SweepReport(status)
        followUp.append("status " + (statusReport?.summary ?? "no JSON, exit \(status.status)"))
        if let statusReport, let mismatch = statusReport.mismatch(host: current.state, flow: cell.flow) {
            outcome.problems.append("status: " + mismatch + Self.detail(current.differences))
        } else if statusReport == nil {
            outcome.problems.append("status printed no JSON (exit \(status.status))")
        }
        if let result = statusReport?.result, result == "pending" || result == "stale" {
            let rollback = try await container.bridgeify(["rollback"], timeout: 90)
            current = references.classify(try await container.settledSnapshot(bus, mac: mac))
            let rollbackReport = SweepReport(rollback)
            followUp.append("rollback " + (rollbackReport?.summary ?? "no JSON, exit \(rollback.status)"))
            if let rollbackReport, let mismatch = rollbackReport.mismatch(host: current.state, flow: .rollback) {
                outcome.problems.append("rollback: " + mismatch)
            }
        }
        outcome.lap("status")
        outcome.report = cell.signal == .KILL ? followUp.joined(separator: "; ")
            : outcome.report + (followUp.count > 1 ? "; then " + followUp.dropFirst().joined(separator: "; ") : "")
        outcome.final = current.state
        if current.state != .before && current.state != .committed {
            outcome.problems.append("ended \(current.state.rawValue)" + Self.detail(current.differences))
        }
    }

    private static func detail(_ differences: [String]) -> String {
        differences.isEmpty ? "" : " (" + differences.joined(separator: "; ") + ")"
    }

    /// SIGSTOP: once the process has stopped itself after call k, keeps it stopped past the
    /// rollback timeout (at least 0.5 s, and until NetworkManager holds no checkpoint), then
    /// SIGCONT. Returns a problem if NetworkManager's checkpoint outlived the bound.
    private func holdStopped(token: String, ended: SweepFlag, _ bus: DBusConnection) async throws -> String? {
        let deadline = ContinuousClock.now + .seconds(60)
        var pid: pid_t?
        var stopped = false
        while !ended.isSet && ContinuousClock.now < deadline {
            if pid == nil { pid = SweepProcess.find(token: token) }
            if let pid, SweepProcess.state(pid) == "T" { stopped = true; break }
            try await Task.sleep(for: .milliseconds(pid == nil ? 20 : 5))
        }
        guard stopped, let pid else { return nil }  // never stopped: the log says call k was never sent
        try await Task.sleep(for: .milliseconds(500))
        let gone = try await NMContainer.waitForNoCheckpoint(bus, bound: checkpointBound)
        if SweepProcess.isOurs(pid, token: token) { SweepProcess.resume(pid) }
        return gone ? nil : "NetworkManager still held a checkpoint \(checkpointBound) into the stop"
    }

    // MARK: The table

    static func table(_ outcomes: [SweepOutcome], recordings: [SweepFlow: SweepRecording], elapsed: Duration, parallel: Int) -> String {
        var text = "## Crash-point sweep\n\n"
        let passed = outcomes.filter(\.passed).count
        text += "\(outcomes.count) cells (calls × {SIGTERM, SIGKILL, SIGSTOP}): \(passed) pass, \(outcomes.count - passed) fail; "
        text += String(format: "%.0f s with %d containers at a time.\n\n", elapsed.seconds, parallel)
        for flow in SweepFlow.allCases {
            guard let recording = recordings[flow], outcomes.contains(where: { $0.cell.flow == flow }) else { continue }
            let mine = outcomes.filter { $0.cell.flow == flow }
            text += "- `\(flow.rawValue)`: \(recording.calls.count) calls; "
            text += SweepSignal.allCases.compactMap { signal in
                let cells = mine.filter { $0.cell.signal == signal }
                return cells.isEmpty ? nil : "\(signal.rawValue) \(cells.filter(\.passed).count)/\(cells.count) pass"
            }.joined(separator: ", ") + "\n"
        }
        let failing = outcomes.filter { !$0.passed }
        if !failing.isEmpty {
            text += "\nFailing, by member and signal:\n\n"
            var byMember: [String: [String]] = [:]
            var memberOrder: [String] = []
            for outcome in failing {
                let key = "\(outcome.cell.flow.rawValue) \(outcome.member)"
                if byMember[key] == nil { memberOrder.append(key) }
                byMember[key, default: []].append("\(outcome.cell.signal.rawValue) (k=\(outcome.cell.call))")
            }
            for key in memberOrder { text += "- \(key): " + byMember[key]!.joined(separator: ", ") + "\n" }
        }
        // Call × signal, per flow: the state each cell ended in, or why it failed.
        for flow in SweepFlow.allCases {
            let mine = outcomes.filter { $0.cell.flow == flow }
            guard !mine.isEmpty else { continue }
            text += "\n### `\(flow.rawValue)`\n\n| k | call | SIGTERM | SIGKILL | SIGSTOP |\n|---|---|---|---|---|\n"
            for k in Array(Set(mine.map(\.cell.call))).sorted() {
                let row = mine.filter { $0.cell.call == k }
                let member = row.map(\.member).first { $0 != "-" } ?? recordings[flow].map { k <= $0.calls.count ? $0.calls[k - 1].member : "-" } ?? "-"
                text += "| \(k) | \(member) |"
                for signal in SweepSignal.allCases {
                    guard let cell = row.first(where: { $0.cell.signal == signal }) else { text += " |"; continue }
                    if cell.passed {
                        text += " \(cell.final?.rawValue ?? "?") |"
                    } else {
                        let first = (cell.problems.first ?? "").prefix { $0 != "(" && $0 != ":" }
                        text += " **FAIL** \(cell.final?.rawValue ?? "?"): \(first.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "|", with: "\\|")) |"
                    }
                }
                text += "\n"
            }
        }
        text += "\n### Every cell\n\n| flow | k | call | signal | at exit | report | final | outcome | s |\n|---|---|---|---|---|---|---|---|---|\n"
        for outcome in outcomes {
            let problems = outcome.problems.joined(separator: "; ").replacingOccurrences(of: "|", with: "\\|")
                .replacingOccurrences(of: "\n", with: " ")
            let verdict = outcome.passed ? "pass" : "**FAIL**: " + (problems.count > 300 ? String(problems.prefix(297)) + "..." : problems)
            text += "| \(outcome.cell.flow.rawValue) | \(outcome.cell.call) | \(outcome.member) | \(outcome.cell.signal.rawValue) "
            text += "| \(outcome.atExit?.rawValue ?? "-") | \(outcome.report.replacingOccurrences(of: "|", with: "\\|")) "
            text += "| \(outcome.final?.rawValue ?? "-") | \(verdict) | \(String(format: "%.1f", outcome.seconds)) |\n"
        }
        return text
    }
}

/// Runs blocking work (a helper command) on a thread of its own, not on one of the few
/// threads of the cooperative pool that the sweep's parallel cells share.
func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
