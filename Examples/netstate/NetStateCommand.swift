// netstate: declarative host networking in nmstate's schema on the transaction engine
// (docs/netstate.md). `show` renders the host; `apply` turns a state file into one
// transaction (checkpoint, staging, activation, verification, probes, commit or rollback).
//
// Conventions are bridgeify's (docs/bridgeify.md): progress lines on a terminal, one JSON
// document with --json, `result` values planned/unchanged/committed/pending/rolled-back/
// rejected/failed, exit codes 0 (planned, unchanged, committed), 1 rolled back, 2 rejected
// (nothing changed), 3 failed (needs attention), 4 pending. The CLI plumbing is not shared
// with bridgeify yet: bridgeify's Report/Output carry conversion-specific fields; factoring
// them is noted in docs/netstate.md as later work. Signals are handled as in bridgeify
// (Interruption.swift), and a usage error is `rejected` (exit 2) with a JSON document under --json.
import CommandSignals
import ArgumentParser
import Foundation
import NetState
import NetworkManager

@main
struct NetStateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netstate",
        abstract: "Show or apply the host's network state, in nmstate's schema, through NetworkManager transactions.",
        // The package's version (scripts/package checks it equals bridgeify's `version:`, the
        // one it names the .deb after; a shared constant would need a module both link).
        version: "0.1.0",
        subcommands: [Show.self, Apply.self, Confirm.self, Rollback.self, Status.self])

    /// The entry point, as bridgeify's: ArgumentParser's own `main()` exits 64 on a usage error
    /// and prints nothing on stdout; netstate promises exit 2 (`rejected`) for every invalid
    /// input, with a JSON document under `--json`, so it parses and dispatches here itself.
    static func main() async {
        // First of all: from here on a SIGINT, SIGTERM or SIGHUP cancels the command, which then
        // reports (a JSON document under --json) instead of dying silently.
        Interruption.shared.install(name: "netstate")
        let arguments = Array(CommandLine.arguments.dropFirst())
        let command: any ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            // --help and --version are "errors" that exit 0: let ArgumentParser print them.
            if exitCode(for: error) == .success { exit(withError: error) }
            let report = Report(command: "netstate", result: .rejected, state: "before", error: .init(
                code: "invalid-arguments", message: message(for: error).trimmingCharacters(in: .whitespacesAndNewlines),
                hint: "see netstate --help"))
            emit(report, json: arguments.contains("--json"))
            Foundation.exit(Outcome.rejected.exitCode)
        }
        guard let runnable = command as? any AsyncParsableCommand else {
            exit(withError: CleanExit.helpRequest(self))
        }
        let box = CommandBox(command: runnable)
        let task = Task { try await box.run() }
        // `confirm` and `rollback` are never abandoned half way: a signal is only noted there
        // (their report says so), as in bridgeify.
        if !(runnable is Confirm || runnable is Rollback) {
            Interruption.shared.onSignal { task.cancel() }
        }
        do {
            try await task.value
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            exit(withError: error)
        }
    }
}

/// The parsed command, handed to the task that runs it (a signal cancels that task).
final class CommandBox: @unchecked Sendable {
    // Set once before the task starts and used only by it.
    var command: any AsyncParsableCommand
    init(command: any AsyncParsableCommand) { self.command = command }
    func run() async throws { try await command.run() }
}

enum Outcome: String, Codable {
    case planned, unchanged, committed, pending, rolledBack = "rolled-back", rejected, failed, none
    var exitCode: Int32 {
        switch self {
        case .planned, .unchanged, .committed, .none: 0
        case .rolledBack: 1
        case .rejected: 2
        case .failed: 3
        case .pending: 4
        }
    }
}

struct Report: Encodable {
    var command: String
    var result: Outcome
    var state: String?
    var plan: NMTransactionPlan?
    var steps: [NMTransactionStepRecord] = []
    var pending: [NMPendingTransaction]?
    var error: ErrorInfo?
    var summary: String?
    var warnings: [String]?
    struct ErrorInfo: Encodable { var code: String; var path: String?; var message: String; var hint: String?; var step: String? }
}

/// Prints the report: one JSON document, or a summary with errors on stderr.
func emit(_ report: Report, json: Bool) {
    if json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let data = (try? encoder.encode(report)) ?? Data("{\"result\":\"\(report.result.rawValue)\"}".utf8)
        print(String(decoding: data, as: UTF8.self))
    } else {
        if let plan = report.plan, report.result == .planned { print(plan.description) }
        if let error = report.error {
            let where_ = error.path.map { "\($0): " } ?? ""
            FileHandle.standardError.write(Data("netstate: error: \(where_)\(error.message)\n".utf8))
            if let hint = error.hint { FileHandle.standardError.write(Data("hint: \(hint)\n".utf8)) }
        }
        for warning in report.warnings ?? [] { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        print("result: \(report.result.rawValue)" + (report.state.map { ", host: \($0)" } ?? ""))
        if let summary = report.summary { print(summary) }
    }
    fflush(nil)
}

struct Common: ParsableArguments {
    @Option(help: ArgumentHelp("D-Bus address of the bus NetworkManager is on (default: the system bus).", valueName: "address"))
    var address: String?
    @Flag(help: "Print one JSON document instead of progress lines.")
    var json = false

    func client() async throws -> NMClient {
        if let address { return try await NMClient.connect(address: address) }
        return try await NMClient.system()
    }

    /// Prints the report (JSON, or a summary with errors on stderr) and exits with its code.
    func finish(_ report: Report) throws -> Never {
        var report = report
        if let signal = Interruption.shared.signalName, report.command == "confirm" || report.command == "rollback" {
            report.warnings = (report.warnings ?? []) + ["interrupted by \(signal); the command ran to its end (a commit or rollback is never abandoned half way)"]
        }
        emit(report, json: json)
        // A rollback asked for and done is a success for its caller, as in bridgeify.
        throw ExitCode(report.command == "rollback" && report.result == .rolledBack ? 0 : report.result.exitCode)
    }
}

struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the host's state (YAML, or JSON with --json).")
    @Argument(help: "Interfaces to show (default: all but lo).") var interfaces: [String] = []
    @OptionGroup var common: Common

    func run() async throws {
        let nm = try await common.client()
        let state = DesiredState.show(try await nm.snapshotWithProfiles(), interfaces: interfaces)
        print(common.json ? try state.jsonText() : try state.yamlText(), terminator: "")
    }
}

struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Bring the host to the state in FILE (YAML or JSON; - reads stdin).")
    @Argument(help: "The state file, or - for standard input.") var file: String
    @Flag(help: "Print the plan and change nothing.") var dryRun = false
    @Option(help: ArgumentHelp("Leave the change pending for S seconds: `netstate confirm` keeps it, `netstate rollback` or the timeout undoes it.", valueName: "S"))
    var confirm: Int?
    @Flag(help: "Do not probe the default gateway after verification.") var noProbe = false
    @OptionGroup var common: Common

    func run() async throws {
        var report = Report(command: "apply", result: .rejected)
        let text: String
        do {
            text = file == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                               : try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            report.error = .init(code: "unreadable", message: "cannot read \(file): \(error.localizedDescription)", hint: "check the path")
            try common.finish(report)
        }
        let state: DesiredState
        do { state = try DesiredState.parse(text) } catch {
            report.error = .init(code: "invalid-state", path: error.path, message: error.message, hint: error.hint)
            report.state = "before"
            try common.finish(report)
        }
        let nm: NMClient
        let host: NMHostState
        var transaction: NMTransaction
        do {
            nm = try await common.client()
            host = try await nm.snapshotWithProfiles()
            transaction = try state.transaction(on: host)
        } catch let error as NetStateError {
            report.error = .init(code: "invalid-state", path: error.path, message: error.message, hint: error.hint)
            report.state = "before"
            try common.finish(report)
        } catch let error as NMError {
            report.error = .init(code: error.code.rawValue, message: error.message, hint: error.hint)
            report.state = "before"
            try common.finish(report.interruptedBeforeChange())
        } catch {
            // A signal cancels the task: reading the host ends with a cancellation.
            report.error = .init(code: "unexpected", message: "\(error)", hint: "run it again")
            report.state = "before"
            try common.finish(report.interruptedBeforeChange())
        }
        if !noProbe, transaction.changes.contains(where: { if case .activate = $0 { true } else { false } }) {
            transaction.probes = [.gateway()]
        }
        let plan: NMTransactionPlan
        do { plan = try await nm.plan(transaction, basedOn: host) } catch {
            report.error = .init(code: error.code.rawValue, message: error.message, hint: error.hint)
            report.state = "before"
            try common.finish(report.interruptedBeforeChange())
        }
        report.plan = plan
        if dryRun {
            report.result = plan.isUnchanged ? .unchanged : .planned
            report.state = "before"
            try common.finish(report)
        }
        if Interruption.shared.signal != nil {
            report.state = "before"
            try common.finish(report.interruptedBeforeChange())
        }
        let json = common.json
        // A SIGINT, SIGTERM or SIGHUP from here cancels this task (Interruption): the library
        // rolls back at once, or finishes a commit that has begun, and reads the host back.
        do {
            let result = try await nm.apply(transaction, plan: plan, commit: confirm == nil,
                                            confirmTimeout: .seconds(confirm ?? 120), basedOn: host) { event in
                guard !json, case .finished(let record) = event else { return }
                let step = record.step.rawValue
                print(step + String(repeating: " ", count: max(1, 12 - step.count)) + "\(record.detail)  (\(record.milliseconds) ms)")
            }
            report.steps = result.steps
            report.state = result.endState.name
            if let signal = Interruption.shared.signalName, result.outcome == .committed {
                report.warnings = ["interrupted by \(signal) after the commit had begun: the commit was finished"]
            }
            switch result.outcome {
            case .unchanged: report.result = .unchanged
            case .committed: report.result = .committed
            case .pending:
                report.result = .pending
                report.summary = "Pending: `netstate confirm` keeps it, `netstate rollback` undoes it; otherwise NetworkManager reverts it in \(confirm ?? 0) s."
            }
        } catch {
            report.error = .init(code: error.code.rawValue, message: error.message, hint: error.hint)
            // NetworkManager reports an address conflict its duplicate address detection found
            // only as a generic IP configuration failure: name the likely cause when the state
            // gives static IPv4 addresses (netstate asks for the probe on those it adds).
            if error.code == .ipConfigFailed, state.interfaces.contains(where: { !($0.ipv4?.addresses.isEmpty ?? true) }) {
                report.error?.hint = "an IPv4 address of the state may be in use on the network: NetworkManager probes the "
                    + "addresses netstate adds (ipv4.dad-timeout) and logs 'IPv4 address ... is used on network'; "
                    + (error.hint ?? "check the static addresses")
            }
            if let signal = Interruption.shared.signalName {
                report.error?.code = "interrupted"
                report.error?.message = "interrupted by \(signal)" + (error.transaction.map { " during \($0.step.rawValue)" } ?? "")
                report.error?.hint = "netstate was stopped (Ctrl-C, a kill, or its SSH session hung up), so it undid the change; run it again"
            }
            report.error?.step = error.transaction?.step.rawValue
            if let failure = error.transaction {
                report.steps = failure.steps
                report.state = failure.endState.name
                report.result = failure.endState == .before ? .rolledBack : .failed
            } else {
                report.state = "before"
            }
        }
        try common.finish(report)
    }
}

extension Report {
    /// The report of a run stopped before anything changed: `rejected`, code `interrupted`,
    /// when a signal came (the failure it caused is only its symptom); otherwise as it is.
    func interruptedBeforeChange() -> Report {
        guard let signal = Interruption.shared.signalName else { return self }
        var report = self
        report.result = .rejected
        report.state = "before"
        report.error = .init(code: "interrupted", message: "interrupted by \(signal) before anything was changed",
                             hint: "netstate was stopped (Ctrl-C, a kill, or its SSH session hung up); run it again")
        return report
    }
}

/// The pending transaction netstate left, by its label.
func pendingTransaction(_ nm: NMClient) async throws -> NMPendingTransaction? {
    try await nm.pendingTransactions(includingStale: true).first { $0.label.hasPrefix("netstate") }
}

struct Confirm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make a pending `apply --confirm` permanent.")
    @OptionGroup var common: Common
    func run() async throws {
        var report = Report(command: "confirm", result: .rejected)
        let nm = try await common.client()
        guard let pending = try await pendingTransaction(nm) else {
            report.error = .init(code: "nothing-pending", message: "no netstate change is waiting for confirmation", hint: "netstate status")
            try common.finish(report)
        }
        do {
            report.state = try await nm.confirm(pending).name
            report.result = .committed
        } catch {
            report.error = .init(code: error.code.rawValue, message: error.message, hint: error.hint)
            report.state = error.transaction?.endState.name
            report.result = error.transaction?.endState == .before ? .rolledBack : .failed
        }
        try common.finish(report)
    }
}

struct Rollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Undo a pending `apply --confirm`.")
    @OptionGroup var common: Common
    func run() async throws {
        var report = Report(command: "rollback", result: .rejected)
        let nm = try await common.client()
        guard let pending = try await pendingTransaction(nm) else {
            report.error = .init(code: "nothing-pending", message: "no netstate change is waiting for confirmation", hint: "netstate status")
            try common.finish(report)
        }
        do {
            let end = try await nm.rollback(pending)
            report.state = end.name
            report.result = end == .before ? .rolledBack : .failed
        } catch {
            report.error = .init(code: error.code.rawValue, message: error.message, hint: error.hint)
            report.result = .failed
        }
        // A rollback asked for and done is a success for the caller.
        if report.result == .rolledBack { report.summary = "Rolled back: the host is as before." }
        try common.finish(report)
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List netstate changes waiting for confirmation.")
    @OptionGroup var common: Common
    func run() async throws {
        let nm = try await common.client()
        let pending = try await nm.pendingTransactions(includingStale: true).filter { $0.label.hasPrefix("netstate") }
        var report = Report(command: "status", result: pending.isEmpty ? .none : .pending)
        report.pending = pending
        try common.finish(report)
    }
}
