import DBus
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Transactions found on the host: waiting for confirmation, in progress, or stale; and
/// confirming, rolling back or cleaning them up from any process.
extension NMClient {
    /// Transactions applied with `commit: false` that are waiting for ``confirm(_:)``, found
    /// through the checkpoints that exist and the profiles the transactions keep.
    ///
    /// - Parameter includingStale: also list transactions still in progress (their checkpoint
    ///   exists but they do not wait for confirmation: their process is working on them, or
    ///   died and the checkpoint reverts them at its timeout) and stale ones (their checkpoint
    ///   is gone, some of what they changed remains: see ``NMPendingTransaction/State/stale``).
    public func pendingTransactions(includingStale: Bool = false) async throws(NMError) -> [NMPendingTransaction] {
        return try await NMError.boundary {
            let host = try await hostObjects()
            var result: [NMPendingTransaction] = []
            for view in Self.transactionViews(host) {
                var pending = NMPendingTransaction(
                    id: view.id, checkpoint: view.checkpointPath ?? "", label: view.label,
                    staged: view.record.map { $0.adds + $0.modifies } ?? view.staged.map(\.profile.uuid),
                    superseded: view.record?.superseded.map(\.uuid) ?? view.legacySupersedes,
                    deleted: view.record?.deletes ?? view.legacyDeletes,
                    revertsAt: view.checkpoint?.expiry, checkpointCreated: view.checkpointCreated)
                switch view.condition {
                case .live:
                    // A transaction staged by an older version kept no record: live means waiting.
                    pending.state = view.record.map { $0.awaitingConfirmation ? .awaitingConfirmation : .inProgress } ?? .awaitingConfirmation
                case .noCheckpoint(let abandoned):
                    if abandoned {
                        pending.state = .stale
                        pending.staleReason = "its process stopped before making its checkpoint; only its bookkeeping is left"
                    } else {
                        pending.state = .inProgress
                    }
                case .rolledBack:
                    pending.state = .stale
                    pending.staleReason = "NetworkManager rolled its checkpoint back (its timeout passed, or someone rolled it back)"
                        + Self.leftovers(view)
                case .checkpointLost:
                    pending.state = .stale
                    pending.staleReason = (view.recordProfile == nil
                        ? "its commit finished; only its bookkeeping is left"
                        : view.phase == .committing
                        ? "its checkpoint was destroyed after the commit had begun (or NetworkManager restarted during it)"
                        : "its checkpoint is gone without a rollback: NetworkManager restarted, or someone destroyed it")
                        + "; what it staged is still in effect" + Self.leftovers(view)
                }
                if pending.state == .awaitingConfirmation || includingStale { result.append(pending) }
            }
            return result
        }
    }

    /// ", leaving ..." for a stale transaction's report.
    static func leftovers(_ view: TransactionView) -> String {
        let names = view.staged.map { "'\($0.profile.name)'" }
        return names.isEmpty ? "" : "; staged: " + names.joined(separator: ", ")
    }

    /// Whether `checkpoint` is the one a transaction recorded (same path, and the same
    /// creation time when known, or one in the range `created...until` when the transaction
    /// knew only that: paths are reused after NetworkManager restarts).
    static func isCheckpoint(_ checkpoint: NMCheckpoint, path: String, created: Int64?, until: Int64? = nil) -> Bool {
        guard checkpoint.path.rawValue == path, let created else { return checkpoint.path.rawValue == path }
        if let until { return (created...max(created, until)).contains(checkpoint.createdBootTimeMilliseconds) }
        return created == checkpoint.createdBootTimeMilliseconds
    }

    /// The transaction as the host shows it now, or nil when nothing of it is left.
    func view(of pending: NMPendingTransaction) async throws -> TransactionView? {
        Self.transactionViews(try await hostObjects()).first { $0.id == pending.id }
    }

    /// Confirms a transaction: persists what it staged, supersedes and deletes what it said it
    /// would, destroys its checkpoint, and removes its bookkeeping. While it commits, the
    /// checkpoint is armed with the transaction's own rollback timeout, so that a commit cut
    /// short (this process killed) is still rolled back by NetworkManager.
    ///
    /// A ``NMPendingTransaction/State/stale`` transaction whose checkpoint was lost without a
    /// rollback (NetworkManager restarted, someone destroyed it) is committed as it stands.
    ///
    /// It runs to its end even if the calling task is cancelled meanwhile (a commit is never
    /// abandoned half way), and reads the host back.
    ///
    /// - Returns: ``NMTransactionEndState/committed``.
    /// - Throws: ``NMError`` (``NMError/Code/invalidArguments``) when it cannot be confirmed
    ///   and nothing was done: confirmed already, or still in progress in another process;
    ///   ``NMError`` with its ``NMError/transaction`` report when it was rolled back (by its
    ///   timeout, by hand, or because the commit was cut short: what the rollback does not
    ///   cover is undone), with the state the host was read back in. Nothing but ``NMError``.
    @discardableResult
    public func confirm(_ pending: NMPendingTransaction) async throws(NMError) -> NMTransactionEndState {
        return try await NMError.boundary {
            try await Task { try await self.confirmNow(pending) }.value
        }
    }

    func confirmNow(_ pending: NMPendingTransaction) async throws -> NMTransactionEndState {
        let started = ContinuousClock.now
        guard let view = try await view(of: pending), view.recordProfile != nil || view.witness != nil || !view.staged.isEmpty else {
            throw NMError(.invalidArguments, "transaction \(pending.id.uuidString.lowercased()) is no longer pending: nothing of it is left",
                          hint: "it was rolled back (by its timeout or by hand) or confirmed already")
        }
        switch view.condition {
        case .live:
            if let record = view.record, !record.awaitingConfirmation {
                throw NMError(.invalidArguments, "transaction \(pending.id.uuidString.lowercased()) is still in progress, not waiting for confirmation",
                              hint: "wait until the process applying it returns; if it died, its checkpoint reverts it at its timeout")
            }
            guard let checkpoint = view.checkpoint else { return .before }
            let expected = Self.expectations(of: view)
            // The transaction's own rollback timeout while committing: a commit cut short (this
            // process killed) is rolled back by NetworkManager that soon.
            let timeout: Duration = .seconds(view.record?.rollbackTimeoutSeconds ?? 60)
            let instance = runningInstance
            do {
                try await runCommit(commitWork(view, checkpoint: checkpoint.path)) {
                    // Before the first write: the checkpoint still guards the change, and has the
                    // whole timeout for the commit.
                    try await adjustRollbackTimeout(checkpoint.path, to: timeout)
                    if let instance, runningInstance != instance {
                        throw NMError(.failed, "NetworkManager restarted while the transaction was being confirmed")
                    }
                } check: {
                    // Before each later write, without a call (a rollback meanwhile is caught by
                    // CheckpointDestroy failing).
                    if let instance, runningInstance != instance {
                        throw NMError(.failed, "NetworkManager restarted while the transaction was being confirmed")
                    }
                }
            } catch {
                // Cut short: finished or undone from what a read shows, then read back.
                let cause = error as? NMError ?? NMError(.failed, "\(error)")
                _ = try await settle(view.id, plan: UndoPlan(), intent: nil, settle: .seconds(30))
                let endState = try await assess(expected)
                if endState == .committed { return .committed }
                throw NMTransactionError(step: .commit, cause: cause,
                                         rollback: endState == .before ? .restored(ContinuousClock.now - started) : .failed(cause),
                                         steps: [], endState: endState)
            }
            return .committed
        case .checkpointLost:
            let expected = Self.expectations(of: view)
            _ = try await settle(view.id, plan: UndoPlan(), intent: .committed, settle: .seconds(30))
            if view.recordProfile == nil { return .committed }  // only a finished commit's witness was left
            return try await assess(expected)
        case .rolledBack, .noCheckpoint:
            // What NetworkManager's rollback does not undo is undone now.
            let expected = Self.expectations(of: view)
            _ = try await settle(view.id, plan: UndoPlan(), intent: .before, settle: .seconds(30))
            let endState = try await assess(expected)
            throw NMTransactionError(
                step: .commit,
                cause: NMError(.invalidArguments, "transaction \(pending.id.uuidString.lowercased()) is no longer pending: its checkpoint was rolled back",
                               hint: "it was rolled back (by its timeout or by hand): the host is as before it; apply it again to retry"),
                rollback: .notNeeded, steps: [], endState: endState)
        }
    }

    /// What a commit of `view` from another process writes.
    func commitWork(_ view: TransactionView, checkpoint: ObjectPath?) -> CommitWork {
        CommitWork(
            recordProfile: view.recordProfile, record: view.record,
            staged: view.staged.map { ($0.path, $0.profile) },
            superseded: view.record?.superseded.map(\.uuid) ?? view.legacySupersedes,
            deleted: view.record?.deletes ?? view.legacyDeletes,
            // The witness last: a record without a witness would read as "rolled back".
            cleanup: (view.backups + [view.recordProfile].compactMap { $0 } + [view.witness].compactMap { $0 }).map(\.path),
            checkpoint: checkpoint, before: view.originalsFromBackups.mapValues(\.profile))
    }

    /// Rolls a transaction back now: through its checkpoint when it still exists, then undoing
    /// what the checkpoint does not cover; a stale one is undone from what it recorded. It runs
    /// to its end even if the calling task is cancelled meanwhile.
    ///
    /// - Returns: where the host was read back in: ``NMTransactionEndState/before``, or
    ///   ``NMTransactionEndState/needsAttention(_:)`` with what differs.
    @discardableResult
    public func rollback(_ pending: NMPendingTransaction) async throws(NMError) -> NMTransactionEndState {
        return try await NMError.boundary {
            try await Task {
                guard let view = try await self.view(of: pending) else { return .before }
                if case .live = view.condition, let record = view.record, !record.awaitingConfirmation {
                    throw NMError(.invalidArguments, "transaction \(pending.id.uuidString.lowercased()) is still in progress, not waiting for confirmation",
                                  hint: "cancel the process applying it (it rolls back by itself); if it died, its checkpoint reverts it at its timeout")
                }
                if view.recordProfile == nil, view.witness != nil, view.staged.isEmpty {
                    // Only the witness of a finished commit is left: nothing to roll back.
                    for stored in view.bookkeeping { try await self.deleteIgnoringGone(stored.path) }
                    return .committed
                }
                let expected = Self.expectations(of: view)
                _ = try await self.settle(view.id, plan: UndoPlan(), intent: .before, settle: .seconds(30))
                return try await self.assess(expected)
            }.value
        }
    }

    /// Finishes or undoes what transactions left whose checkpoint no longer exists, from the
    /// state the host is in: NetworkManager rolled them back (what the rollback does not undo
    /// is undone), or lost their checkpoint without a rollback (a restart, a foreign
    /// `CheckpointDestroy`: undone, or finished when their commit had begun), or they died
    /// before making one (their bookkeeping is deleted). Activates again what was active
    /// before where needed and waits until the devices settle.
    ///
    /// - Parameter state: the host as the caller has just read it (``snapshotWithProfiles()``),
    ///   to look for stale transactions without reading it again; nil reads it.
    /// - Returns: one line per profile removed, restored or committed.
    @discardableResult
    public func removeStaleTransactions(basedOn state: NMHostState? = nil,
                                        settle: Duration = .seconds(30)) async throws(NMError) -> [String] {
        return try await NMError.boundary {
            let host: HostObjects
            if let state {
                try Self.requireTypedProfiles(state)
                host = state
            } else {
                host = try await hostObjects()
            }
            return try await Task {
                var names: [String] = []
                for view in Self.transactionViews(host) {
                    switch view.condition {
                    case .live, .noCheckpoint(abandoned: false): continue
                    default: break
                    }
                    let (settled, touched) = try await self.settle(view.id, plan: UndoPlan(), intent: nil, settle: settle)
                    names += touched.map { settled == .committed ? "\($0) (committed: its transaction had begun committing)" : $0 }
                    if touched.isEmpty { names.append("the bookkeeping of transaction \(view.id.uuidString.prefix(8).lowercased())") }
                }
                return names
            }.value
        }
    }

    /// The tag removed, the intended autoconnect it carries put back.
    static func untagged(_ profile: NMConnectionProfile) -> NMConnectionProfile {
        var profile = profile
        if let tag = profile.stagedTag, tag.hasAutoconnect {
            profile.connection.autoconnect = tag.autoconnect
        }
        profile.stagedTag = nil
        return profile
    }
}
