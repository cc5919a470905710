// A pending conversion, from another process: `bridgeify eno1 --confirm 120` applies the
// change and leaves NetworkManager's checkpoint armed; then, typically from a new SSH session
// after reconnecting, `bridgeify confirm` makes it permanent or `bridgeify rollback` undoes it.
// If neither happens, NetworkManager restores the host by itself when the time is up.
//
// A process that did not apply the change finds it with `nm.pendingTransactions()`: the
// library tags the checkpoint's staged profiles with the transaction's id, label and checkpoint.
import CommandSignals
import ArgumentParser
import Foundation
import NetworkManager

/// The pending (or stale) conversion made by bridgeify (by its label), or a rejection.
func pendingConversion(_ nm: NMClient) async throws -> NMPendingTransaction {
    let all = try await nm.pendingTransactions(includingStale: true).filter { $0.label.hasPrefix("bridgeify") }
    let pending = all.filter { $0.state != .inProgress }
    guard let first = pending.first else {
        if let running = all.first {
            throw Rejection(code: "conversion-running", message: "a conversion is being applied right now (\(running.label)), not waiting for confirmation",
                            hint: "wait for it to finish (bridgeify status); if its process died, its checkpoint reverts it within its rollback timeout")
        }
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
                       _ body: @escaping @Sendable (NMClient, Output, inout Report) async throws -> Void) async throws -> Never {
    let output = Output(json: common.json)
    var report = Report(command: name, result: .rejected)
    do {
        if name == "status" {
            let nm = try await common.client()
            try await body(nm, output, &report)
        } else {
            // confirm and rollback take a few hundred milliseconds and are never abandoned half
            // way: a signal is only noted (the command's task it cancels is not this one), and
            // they run to their end and report the state they read back.
            let box = ReportBox(report)
            defer { report = box.report }
            let connect = common
            try await Task {
                let nm = try await connect.client()
                try await body(nm, output, &box.report)
            }.value
        }
    } catch where Interruption.shared.signal != nil && (error as? NMError)?.transaction == nil {
        // Stopped while reading, before confirm or rollback began (once begun, they run to
        // their end and report): nothing was done.
        report.result = .rejected
        report.error = .init(code: "interrupted", message: "interrupted by \(Interruption.shared.signalName ?? "a signal") before anything was done",
                             hint: "run it again")
    } catch let rejection as Rejection {
        report.result = .rejected
        report.error = .init(code: rejection.code, message: rejection.message, hint: rejection.hint)
    } catch let thrown as NMError where thrown.transaction != nil {
        let error = thrown.transaction!
        // Confirm found it rolled back, or its commit was cut short and undone: the report
        // says where the host was read back in.
        report.error = .init(code: error.cause.code.rawValue, message: error.cause.message, hint: error.hint)
        report.state = error.endState.name
        if case .needsAttention(let differences) = error.endState {
            report.result = .failed
            report.differences = differences
            report.summary = "The host is neither as before nor committed: " + differences.joined(separator: "; ")
        } else if error.endState == .committed {
            report.result = .committed
        } else {
            report.result = .rolledBack
            report.summary = "Not committed: it was rolled back, and the host is as it was before (read back from NetworkManager)."
        }
    } catch let error as NMError {
        // PermissionDenied and friends: refused before anything changed.
        // A call NetworkManager took with it when it left the bus is notRunning too, but it may
        // have acted: not a refusal.
        report.result = (error.code == .permissionDenied || error.code == .notRunning) && !error.outcomeUnknown ? .rejected : .failed
        report.error = .init(code: error.code.rawValue, message: error.message, hint: error.hint)
    } catch {
        report.result = .failed
        report.error = .init(code: "failed", message: "\(error)")
    }
    if let signal = Interruption.shared.signalName {
        report.warnings.append("interrupted by \(signal); the command ran to its end (a commit or rollback is never abandoned half way)")
    }
    report.steps = output.steps
    report.elapsedMilliseconds = output.elapsedMilliseconds
    output.finish(report)
    // `bridgeify rollback` did what was asked: that is success, not the failure code 1.
    throw ExitCode(name == "rollback" && report.result == .rolledBack ? 0 : report.result.exitCode)
}

/// The report, handed to the task a signal cannot cancel.
final class ReportBox: @unchecked Sendable {
    // Used by one task at a time: the one running the command's body, then the caller.
    var report: Report
    init(_ report: Report) { self.report = report }
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
            // Persists the staged profiles, supersedes the old one, destroys the checkpoint, and
            // reads the host back (a stale conversion whose checkpoint was lost is committed as
            // it stands).
            let endState = try await nm.confirm(pending)
            output.record("commit", "persist, supersede, destroy checkpoint (\(pending.label))", since: started)
            report.state = endState.name
            if case .needsAttention(let differences) = endState {
                report.result = .failed
                report.differences = differences
                report.summary = "Confirmed, but the host is not as committed: " + differences.joined(separator: "; ")
            } else {
                report.result = .committed
                report.summary = "Confirmed: \(pending.label) is permanent."
            }
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
            // CheckpointRollback (when it still exists), wait until the devices settle, undo
            // what the checkpoint does not cover, and read the host back.
            let endState = try await nm.rollback(pending)
            let elapsed = ContinuousClock.now - started
            output.record("rollback", (pending.state == .stale ? "undid the stale conversion" : "restored the checkpoint") + " (\(pending.label))",
                          since: started)
            report.state = endState.name
            if case .needsAttention(let differences) = endState {
                report.result = .failed
                report.differences = differences
                report.rollback = .init(restored: false, milliseconds: elapsed.milliseconds, error: "the host differs from before")
                report.summary = "Rolled back, but the host is not as before: " + differences.joined(separator: "; ")
            } else if endState == .committed {
                report.result = .committed
                report.summary = "Nothing to roll back: \(pending.label) had finished committing; its leftover bookkeeping was removed."
            } else {
                report.result = .rolledBack
                report.rollback = .init(restored: true, milliseconds: elapsed.milliseconds)
                report.summary = "Rolled back in \(elapsed.milliseconds) ms: the host is as it was before \(pending.label) (read back from NetworkManager)."
            }
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
            // Read only: a stale conversion is reported with what it left, never cleaned up here.
            let all = try await nm.pendingTransactions(includingStale: true).filter { $0.label.hasPrefix("bridgeify") }
            let checkpoints = try await nm.checkpoints()
            report.pending = all.map(Report.Pending.init)
            let foreign = checkpoints.filter { checkpoint in !all.contains { $0.checkpoint == checkpoint.path.rawValue } }
            if !foreign.isEmpty {
                report.warnings.append("other checkpoints exist (not bridgeify's): " + foreign.map(\.path.rawValue).joined(separator: ", "))
            }
            let lines = all.map { item -> String in
                switch item.state {
                case .awaitingConfirmation:
                    let when = item.revertsAt.map { " It reverts by itself at about \(ConvertCommand.clock($0))" } ?? ""
                    return "Pending: \(item.label).\(when) unless confirmed: bridgeify confirm (or undo now: bridgeify rollback)."
                case .inProgress:
                    return "Running: \(item.label) is being applied by another process."
                case .stale:
                    return "Stale: \(item.label): \(item.staleReason ?? "its checkpoint is gone"). "
                        + "Undo what it left: bridgeify rollback (or keep it: bridgeify confirm)."
                }
            }
            if all.contains(where: { $0.state == .stale }) {
                report.result = .stale
                report.state = "needs-attention"
            } else if all.contains(where: { $0.state == .awaitingConfirmation }) {
                report.result = .pending
            } else if !all.isEmpty {
                report.result = .running
            } else {
                report.result = .none
            }
            report.summary = all.isEmpty ? "No conversion is pending." : lines.joined(separator: "\n")
        }
    }
}
