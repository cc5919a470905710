// How a run is reported: progress lines as the library's transaction events arrive (on a
// terminal, each step as it happens with its elapsed time), then a summary; or, with --json,
// one JSON document and nothing else on stdout. docs/bridgeify.md documents the format.
import Foundation
import NetState
import NetworkManager
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The JSON document (`--json`); also the source of the human summary.
struct Report: Encodable, Sendable {
    /// `convert`, `confirm`, `rollback` or `status`.
    var command: String
    var result: Outcome
    var interface: String?
    var bridge: String?
    /// From the start of the command to the end.
    var elapsedMilliseconds: Int?
    /// Each step with its duration and when it ended, counted from the start of the command.
    var steps: [StepEntry] = []
    /// What will change (`--dry-run`) or changed: each step and its settings, as a diff.
    var plan: NMTransactionPlan?
    /// With `--dry-run`: the conversion as a desired state in netstate's schema, as
    /// `netstate apply` takes it (docs/netstate.md, "bridgeify's conversion as a state").
    var desiredState: DesiredState?
    /// What the bridge carries.
    var configuration: Configuration?
    /// The probes run after verification.
    var probes: [String]?
    /// The checkpoint's rollback timeout while working (the probes' and the neighbour step's budgets included).
    var rollbackTimeoutSeconds: Int?
    var profiles: Profiles?
    /// `pending`: how to confirm or undo it. For `status`: every pending conversion.
    var pending: [Pending]?
    /// For a failure after something was changed: what the rollback did.
    var rollback: Rollback?
    var error: ErrorInfo?
    /// Where the host ended, read back from NetworkManager (never inferred from the path the
    /// command took): `before`, `committed`, `pending` or `needs-attention`.
    var state: String?
    /// With `needs-attention`: what differs from before, one line each.
    var differences: [String]?
    var warnings: [String] = []
    /// What was cleaned up first: changes an interrupted conversion had left (its checkpoint lost).
    var cleanedUp: [String] = []
    /// How to go back to the superseded profile.
    var restore: [String]?
    /// One line for a person.
    var summary: String?

    struct StepEntry: Encodable, Sendable {
        var step: String
        var detail: String
        var milliseconds: Int
        var endedAtMilliseconds: Int
    }

    struct Configuration: Encodable, Sendable {
        var mac: String
        var mtu: UInt32?
        var stp: Bool
        var ipv4: IP?
        var ipv6: IP?
        /// `applied profile 'eno1'`, or `options`.
        var source: String
    }

    struct IP: Encodable, Sendable {
        var method: String
        var addresses: [String]
        var gateway: String?
        var dns: [String]
        var dnsSearch: [String]
        var routes: [String]

        init(_ s: NMIPv4Setting) {
            method = s.method.rawValue
            addresses = s.addresses.map(\.description)
            gateway = s.gateway?.description
            dns = s.dns.map(\.description)
            dnsSearch = s.dnsSearch
            routes = s.routes.map(\.description)
        }

        init(_ s: NMIPv6Setting) {
            method = s.method.rawValue
            addresses = s.addresses.map(\.description)
            gateway = s.gateway?.description
            dns = s.dns.map(\.description)
            dnsSearch = s.dnsSearch
            routes = s.routes.map(\.description)
        }

        /// "static 192.168.1.200/24 via 192.168.1.1, DNS 114.114.114.114"
        var text: String {
            var parts: [String] = []
            switch method {
            case "manual": parts.append("static " + addresses.joined(separator: " "))
            case "auto": parts.append(addresses.isEmpty ? "automatic" : "automatic (now " + addresses.joined(separator: " ") + ")")
            default: parts.append(method)
            }
            if let gateway { parts[0] += " via \(gateway)" }
            if !dns.isEmpty { parts.append("DNS " + dns.joined(separator: " ")) }
            if !dnsSearch.isEmpty { parts.append("search " + dnsSearch.joined(separator: " ")) }
            if !routes.isEmpty { parts.append("routes " + routes.joined(separator: "; ")) }
            return parts.joined(separator: ", ")
        }
    }

    struct Profiles: Encodable, Sendable {
        var bridge: Profile
        var port: Profile
        /// Kept, unable to autoconnect.
        var superseded: [Profile]
    }

    struct Profile: Encodable, Sendable {
        var name: String
        var uuid: String
        init(_ profile: NMConnectionProfile) {
            name = profile.name
            uuid = profile.uuid.uuidString.lowercased()
        }
    }

    struct Pending: Encodable, Sendable {
        var id: String
        var label: String
        var checkpoint: String
        /// ISO 8601, approximate (see NMCheckpoint.expiry).
        var revertsAt: String?
        var confirm: String
        var rollback: String
        /// `awaiting-confirmation`, `in-progress` or `stale` (NMPendingTransaction.State).
        var state: String
        /// For a stale conversion: what happened to its checkpoint, and what it left.
        var staleReason: String?

        init(_ pending: NMPendingTransaction) {
            id = pending.id.uuidString.lowercased()
            label = pending.label
            checkpoint = pending.checkpoint
            state = pending.state.rawValue
            staleReason = pending.staleReason
            revertsAt = pending.revertsAt.map { ISO8601DateFormatter().string(from: $0) }
            confirm = "bridgeify confirm"
            rollback = "bridgeify rollback"
        }
    }

    struct Rollback: Encodable, Sendable {
        /// Whether the host is back where it was.
        var restored: Bool
        var milliseconds: Int?
        /// Why the rollback failed.
        var error: String?
    }

    struct ErrorInfo: Encodable, Sendable {
        var code: String
        var message: String
        var hint: String?
        /// The transaction step that failed, when one did.
        var step: String?
    }
}

extension Duration {
    var milliseconds: Int { Int(components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000) }
}

/// Writes progress and the final report. Progress arrives from the library's `progress`
/// callback (any thread), so the little state kept is behind a Mutex.
final class Output: Sendable {
    let json: Bool
    /// stdout is a terminal: a step is shown when it starts and completed in place.
    let terminal: Bool
    let start = ContinuousClock.now
    private let state = Mutex(State())

    private struct State {
        var openLine: String?
        var steps: [Report.StepEntry] = []
    }

    init(json: Bool) {
        self.json = json
        terminal = !json && isatty(STDOUT_FILENO) == 1
    }

    var elapsedMilliseconds: Int { (ContinuousClock.now - start).milliseconds }

    /// The steps so far, for the report.
    var steps: [Report.StepEntry] { state.withLock { $0.steps } }

    /// A line for a person (nothing with --json).
    func note(_ text: String) {
        guard !json else { return }
        state.withLock { state in
            closeLine(&state)
            print(Self.terminalSafe(lines: text))
        }
        fflush(nil)
    }

    /// Records a step bridgeify ran itself (reading the host, the checks).
    func record(_ step: String, _ detail: String, since started: ContinuousClock.Instant) {
        let entry = Report.StepEntry(step: step, detail: NMText.sanitized(detail), milliseconds: (ContinuousClock.now - started).milliseconds,
                                     endedAtMilliseconds: elapsedMilliseconds)
        state.withLock { state in
            state.steps.append(entry)
            if !json {
                closeLine(&state)
                print(Self.line(entry))
            }
        }
        fflush(nil)
    }

    /// The library's progress callback: `NMClient.apply(_:commit:confirmTimeout:progress:)`
    /// calls it as each step starts and ends.
    func event(_ event: NMTransactionEvent) {
        state.withLock { state in
            switch event {
            case .started(let step, let detail):
                guard terminal else { return }
                if step == .rollback, state.openLine != nil {
                    // The step on the open line is the one that failed.
                    print("  FAILED", terminator: "")
                }
                closeLine(&state)
                let text = String(format: "%8.3f s  ", Double(elapsedMilliseconds) / 1000) + Self.pad(step.rawValue) + "  "
                    + NMText.sanitized(detail) + " ..."
                print(text, terminator: "")
                state.openLine = text
            case .finished(let record):
                let entry = Report.StepEntry(step: record.step.rawValue, detail: NMText.sanitized(record.detail),
                                             milliseconds: record.milliseconds, endedAtMilliseconds: elapsedMilliseconds)
                state.steps.append(entry)
                guard !json else { return }
                if state.openLine != nil {
                    // Complete the line in place.
                    print("\r\u{1B}[K", terminator: "")
                    state.openLine = nil
                }
                print(Self.line(entry))
            }
        }
        fflush(nil)
    }

    private func closeLine(_ state: inout State) {
        if state.openLine != nil {
            print("")
            state.openLine = nil
        }
    }

    static func pad(_ text: String, to width: Int = 10) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    static func line(_ entry: Report.StepEntry) -> String {
        String(format: "%8.3f s  ", Double(entry.endedAtMilliseconds) / 1000) + pad(entry.step) + "  " + entry.detail
            + "  (\(entry.milliseconds) ms)"
    }

    /// The end: the JSON document, or a summary (errors and hints on stderr).
    func finish(_ report: Report) {
        var report = report
        if report.state == nil, report.command == "convert" || report.command == "bridgeify" {
            // A conversion that changed nothing says so; the others set it from a read (status,
            // confirm and rollback that did nothing know nothing of the host's state).
            switch report.result {
            case .rejected, .planned, .none: report.state = "before"
            case .unchanged: report.state = "committed"
            case .pending, .running: report.state = "pending"
            default: break
            }
        }
        // Messages, hints, warnings and profile names can carry text from outside (a peer's
        // error, a profile someone else named): made safe once, here, for both outputs.
        report = report.terminalSafe()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            var data = (try? encoder.encode(report)) ?? Data("{\"result\":\"\(report.result.rawValue)\"}".utf8)
            data = Self.boundingStrings(in: data)
            print(String(decoding: data, as: UTF8.self))
            fflush(nil)
            return
        }
        state.withLock { closeLine(&$0) }
        for warning in report.warnings { print("note: \(warning)") }
        fflush(nil)
        if let error = report.error {
            var line = "bridgeify: error: \(error.message)"
            if let step = error.step { line = "bridgeify: error: \(step) failed: \(error.message)" }
            FileHandle.standardError.write(Data((line + "\n").utf8))
            if let hint = error.hint { FileHandle.standardError.write(Data("hint: \(hint)\n".utf8)) }
        }
        if let summary = report.summary { print(summary) }
        fflush(nil)
    }
}

// MARK: - Text from outside

extension Output {
    /// Multi-line text (the plan) for a terminal: each line sanitized, the line breaks kept.
    static func terminalSafe(lines text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { NMText.sanitized(String($0), limit: 4096) }.joined(separator: "\n")
    }

    /// The longest string the JSON document carries (the plan's values included).
    static let jsonStringLimit = 4096

    /// The JSON document with every string cut to ``jsonStringLimit`` scalars. JSONEncoder
    /// escapes control characters itself; this bounds what a hostile profile or peer could
    /// make a script read. A document that does not parse back is returned as it was.
    static func boundingStrings(in data: Data) -> Data {
        guard let object = try? JSONSerialization.jsonObject(with: data) else { return data }
        func bound(_ value: Any) -> Any {
            switch value {
            case let text as String: return NMText.truncated(text, limit: jsonStringLimit)
            case let array as [Any]: return array.map(bound)
            case let dictionary as [String: Any]: return dictionary.mapValues(bound)
            default: return value
            }
        }
        return (try? JSONSerialization.data(withJSONObject: bound(object),
                                            options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? data
    }
}

extension Report {
    /// The report with every string that can come from outside sanitized (NMText.sanitized:
    /// control characters shown as `\u{1b}`, 512 characters at most, 1024 for the summary).
    func terminalSafe() -> Report {
        func safe(_ text: String) -> String { NMText.sanitized(text) }
        var copy = self
        copy.interface = interface.map(safe)
        copy.bridge = bridge.map(safe)
        copy.error = error.map { error in
            var error = error
            error.message = safe(error.message)
            error.hint = error.hint.map(safe)
            return error
        }
        copy.warnings = warnings.map(safe)
        copy.summary = summary.map { NMText.sanitized($0, limit: 1024) }
        copy.steps = steps.map { step in
            var step = step
            step.detail = safe(step.detail)
            return step
        }
        copy.profiles = profiles.map { profiles in
            var profiles = profiles
            profiles.bridge.name = safe(profiles.bridge.name)
            profiles.port.name = safe(profiles.port.name)
            profiles.superseded = profiles.superseded.map { var profile = $0; profile.name = safe(profile.name); return profile }
            return profiles
        }
        copy.configuration?.source = safe(configuration?.source ?? "")
        copy.pending = pending.map { $0.map { var entry = $0; entry.label = safe(entry.label); entry.staleReason = entry.staleReason.map(safe); return entry } }
        copy.differences = differences.map { $0.map(safe) }
        copy.cleanedUp = cleanedUp.map(safe)
        copy.rollback?.error = rollback?.error.map(safe)
        copy.restore = restore.map { $0.map(safe) }
        return copy
    }
}
