import DBus
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

extension NMClient {
    /// Applies a transaction: validate and plan; checkpoint all devices; stage new and changed
    /// profiles in memory with autoconnect blocked; make changed profiles that are active take
    /// effect on their devices (`Device.Reapply`, or a reactivation where NetworkManager
    /// answers `IncompatibleConnection`); activate (controllers before ports), each awaited;
    /// verify (for changed active profiles: each device's `Device.GetAppliedConnection` and
    /// its addresses, routes and DNS); run the probes; then commit (persist, supersede,
    /// destroy the checkpoint).
    ///
    /// On any failure, timeout or task cancellation it rolls back through the checkpoint, waits
    /// until the devices settle, removes what it staged, reads the host back, and throws
    /// ``NMError`` (the root cause's code, message and hint) whose ``NMError/transaction``
    /// report gives the step, the rollback's own outcome and where the host ended
    /// (``NMTransactionError/endState``). It throws nothing but ``NMError``: a cancelled task is
    /// ``NMError/Code/cancelled``, NetworkManager not running ``NMError/Code/notRunning``, a
    /// profile that cannot fit its device ``NMError/Code/deviceTypeMismatch`` (refused before
    /// any checkpoint, see ``plan(_:)``). If nothing had been
    /// written yet, it destroys the checkpoint instead (a rollback would re-activate every
    /// device for nothing). If NetworkManager lost the checkpoint (it restarted), it waits for
    /// NetworkManager to come back and undoes the staging itself: staged profiles removed,
    /// modified ones restored, the profiles active before activated again.
    ///
    /// If this process dies, NetworkManager rolls back by itself once the checkpoint's timeout
    /// passes (it is kept alive by a heartbeat while the transaction works).
    ///
    /// Cancelling the calling task asks the transaction to stop at its next safe point: a call
    /// already sent is waited for (its outcome is never guessed), waits are interrupted, and
    /// the host is rolled back. Once the commit has begun it is finished instead (it takes
    /// milliseconds), and the result says so in ``NMTransactionResult/notes``.
    ///
    /// - Parameters:
    ///   - plan: the plan shown to whoever approved the change (from ``plan(_:)``). The
    ///     transaction is planned again; if the result differs (someone changed a profile it
    ///     modifies, or the host changed so that a step is now done or to do), nothing is
    ///     touched and ``NMError/Code/versionIDMismatch`` is thrown.
    ///   - commit: false leaves the checkpoint armed for `confirmTimeout`: confirm with
    ///     ``confirm(_:)`` (from this or another process) or it reverts by itself.
    ///   - progress: called as each step starts and ends.
    ///   - state: the host as the caller has just read it (``snapshotWithProfiles()``), to plan
    ///     against instead of reading it again: for a command that reads, decides and applies
    ///     within milliseconds. Profiles the transaction modifies are still compared with the
    ///     host right before they are written; nil (the default) reads the host first.
    /// - Returns: ``NMTransactionOutcome/unchanged`` (no checkpoint was made) when the desired
    ///   state already holds.
    public func apply(
        _ transaction: NMTransaction, plan: NMTransactionPlan? = nil, commit: Bool = true,
        confirmTimeout: Duration = .seconds(120), basedOn state: NMHostState? = nil,
        progress: (@Sendable (NMTransactionEvent) -> Void)? = nil
    ) async throws(NMError) -> NMTransactionResult {
        return try await NMError.boundary {
        let run = TransactionRun(client: self, transaction: transaction, progress: progress)
        if let state { try Self.requireTypedProfiles(state) }
        let host = state
        // The run works in a task of its own, which the caller's cancellation does not reach:
        // it only asks the run to stop at its next safe point (and interrupts its waits), so no
        // write is abandoned half way and the undo always runs to its end.
        let task = Task { try await run.execute(expected: plan, commit: commit, confirmTimeout: confirmTimeout, host: host) }
        return try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            run.requestCancellation()
        }
    }
    }
}
