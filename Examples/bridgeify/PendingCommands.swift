// A pending conversion, from another process: `bridgeify eno1 --confirm 120` applies the
// change and leaves NetworkManager's checkpoint armed; then, typically from a new SSH session
// after reconnecting, `bridgeify confirm` makes it permanent or `bridgeify rollback` undoes it.
// If neither happens, NetworkManager restores the host by itself when the time is up.
//
// A process that did not apply the change finds it with `nm.pendingTransactions()`: the
// library tags the checkpoint's staged profiles with the transaction's id, label and checkpoint.
import ArgumentParser
import Foundation
import NetworkManager

/// The pending conversion made by bridgeify (by its label), or a rejection.
func pendingConversion(_ nm: NMClient) async throws -> NMPendingTransaction {
    let pending = try await nm.pendingTransactions().filter { $0.label.hasPrefix("bridgeify") }
    guard let first = pending.first else {
        throw Rejection(code: "nothing-pending", message: "no conversion is waiting for confirmation",
                        hint: "it may have been confirmed, rolled back, or reverted by its timeout already: bridgeify status")
    }
    guard pending.count == 1 else {
        throw Rejection(code: "ambiguous", message: "\(pending.count) conversions are pending",
                        hint: "this should not happen (one checkpoint at a time); see bridgeify status --json")
    }
    return first
}

/// Runs `body`, then prints the report and exits with its outcome's code. Anything thrown
/// before a change is a rejection.
func runPendingCommand(_ name: String, _ common: CommonOptions,
                       _ body: (NMClient, Output, inout Report) async throws -> Void) async throws -> Never {
    let output = Output(json: common.json)
    var report = Report(command: name, result: .rejected)
    do {
        let nm = try await common.client()
        try await body(nm, output, &report)
    } catch let rejection as Rejection {
        report.result = .rejected
        report.error = .init(code: rejection.code, message: rejection.message, hint: rejection.hint)
    } catch let error as NMError {
        // PermissionDenied and friends: refused before anything changed.
        report.result = error.code == .permissionDenied || error.code == .notRunning ? .rejected : .failed
        report.error = .init(code: error.code.rawValue, message: error.message, hint: error.hint)
    } catch {
        report.result = .failed
        report.error = .init(code: "failed", message: "\(error)")
    }
    report.steps = output.steps
    report.elapsedMilliseconds = output.elapsedMilliseconds
    output.finish(report)
    // `bridgeify rollback` did what was asked: that is success, not the failure code 1.
    throw ExitCode(name == "rollback" && report.result == .rolledBack ? 0 : report.result.exitCode)
}

struct ConfirmCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "confirm",
        abstract: "Make a pending conversion (--confirm) permanent.")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        try await runPendingCommand("confirm", common) { nm, output, report in
            let pending = try await pendingConversion(nm)
            report.pending = [Report.Pending(pending)]
            let started = ContinuousClock.now
            // Persists the staged profiles, supersedes the old one, destroys the checkpoint.
            try await nm.confirm(pending)
            output.record("commit", "persist, supersede, destroy checkpoint (\(pending.label))", since: started)
            report.result = .committed
            report.summary = "Confirmed: \(pending.label) is permanent."
        }
    }
}

struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Undo a pending conversion (--confirm) now, instead of waiting for its timeout.")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        try await runPendingCommand("rollback", common) { nm, output, report in
            let pending = try await pendingConversion(nm)
            report.pending = [Report.Pending(pending)]
            let started = ContinuousClock.now
            // CheckpointRollback, wait until the devices settle, then remove what was staged.
            try await nm.rollback(pending)
            let elapsed = ContinuousClock.now - started
            output.record("rollback", "restored the checkpoint (\(pending.label))", since: started)
            report.result = .rolledBack
            report.rollback = .init(restored: true, milliseconds: elapsed.milliseconds)
            report.summary = "Rolled back in \(elapsed.milliseconds) ms: the host is as it was before \(pending.label)."
        }
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Say whether a conversion is waiting for confirmation (exit 4) or not (exit 0).")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        try await runPendingCommand("status", common) { nm, output, report in
            let pending = try await nm.pendingTransactions().filter { $0.label.hasPrefix("bridgeify") }
            let checkpoints = try await nm.checkpoints()
            report.pending = pending.map(Report.Pending.init)
            let foreign = checkpoints.filter { checkpoint in !pending.contains { $0.checkpoint == checkpoint.path.rawValue } }
            if !foreign.isEmpty {
                report.warnings.append("other checkpoints exist (not bridgeify's): " + foreign.map(\.path.rawValue).joined(separator: ", "))
            }
            if pending.isEmpty {
                report.result = .none
                report.summary = "No conversion is pending."
            } else {
                report.result = .pending
                report.summary = pending.map { item in
                    let when = item.revertsAt.map { " It reverts by itself at about \(ConvertCommand.clock($0))" } ?? ""
                    return "Pending: \(item.label).\(when) unless confirmed: bridgeify confirm (or undo now: bridgeify rollback)."
                }.joined(separator: "\n")
            }
        }
    }
}
