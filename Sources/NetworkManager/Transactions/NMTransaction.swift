#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// One intended change of a transaction. Profiles are named by UUID; a profile added by the
/// same transaction can be activated by its UUID too, and so can a profile it ensures
/// (``ensure(_:matching:)``: its UUID stands for whichever profile the ensure resolves to).
public enum NMChange: Sendable, Hashable {
    /// Add a profile. It is staged in memory with autoconnect off, and written to disk with
    /// its own autoconnect setting only at commit.
    case add(NMConnectionProfile)
    /// Replace an existing profile's settings (staged in memory, shadowing its file, until commit).
    ///
    /// When the profile is active, the change also takes effect on its devices within the
    /// transaction, before verification: in place with `Device.Reapply` where NetworkManager
    /// can apply it (the plan's ``NMTransactionPlan/Step/Kind/reapply`` step), by activating
    /// the profile again where it cannot (``NMTransactionPlan/Step/Kind/reactivate``, also the
    /// fallback when `Reapply` answers `IncompatibleConnection`). With an `.activate` of the
    /// same profile in the transaction, that activation carries the change instead.
    case modify(NMConnectionProfile)
    /// Make the profile this one stands for look like it: add it if it is missing, modify it
    /// if it differs, nothing if it already holds; so a tool that builds its profiles afresh
    /// (a new random UUID each run) can be run again safely.
    ///
    /// At plan time, before anything is touched, the existing profile it stands for is found
    /// (``NMEnsureMatch`` says how; docs/transactions.md, "The changes", has the rule in full):
    /// a stored profile with the same UUID, or with the same `connection.id` (``NMEnsureMatch/name``,
    /// the default), or of the same `connection.type` on the same `connection.interface-name`
    /// (``NMEnsureMatch/interface``). Then:
    /// - none: the change is an ``add(_:)`` of the profile, with its own UUID;
    /// - one: a ``modify(_:)`` of that profile, keeping its UUID and its D-Bus path, with the
    ///   given settings; the settings and keys this library does not model, and its `user`
    ///   data, are kept as they are (a read-modify-write). When it already holds (compared as
    ///   ``modify(_:)`` compares: NetworkManager's normalised form, and for an active profile
    ///   its devices' applied connections too) the step is already done, and a transaction
    ///   with nothing else to do is `unchanged`, without a checkpoint. A modified profile
    ///   that is active takes effect on its devices as with ``modify(_:)`` (`Reapply`, or a
    ///   reactivation);
    /// - two or more: refused with ``NMError/Code/ambiguousProfile``, naming them; one of
    ///   another `connection.type` with ``NMError/Code/profileTypeMismatch``. Nothing changes.
    ///
    /// Every other reference in the transaction to the given profile's UUID (`.activate`,
    /// `.deactivate`, `.supersede`, a port's `connection.controller`, a VLAN's `vlan.parent`)
    /// refers to the resolved profile: `.activate(uuid: bridge.uuid)` activates the existing
    /// bridge profile when `.ensure(bridge)` resolved to it. The plan's steps carry the
    /// resolved UUID.
    case ensure(NMConnectionProfile, matching: NMEnsureMatch = .name)
    /// Delete a profile, at commit.
    case delete(uuid: UUID)
    /// Activate a profile and wait for it; for a controller, also for these ports.
    case activate(uuid: UUID, ports: [NMInterfaceName] = [])
    /// Deactivate the profile's active connection.
    case deactivate(uuid: UUID)
    /// Make a profile unable to autoconnect, at commit: the profile it replaces stays for a
    /// person to see and restore, but never competes for the interface again.
    case supersede(uuid: UUID)
}

/// How ``NMChange/ensure(_:matching:)`` finds the existing profile that its profile stands for.
/// A stored profile with the same UUID always matches; so does, besides it:
public enum NMEnsureMatch: String, Sendable, Hashable, Codable, CaseIterable {
    /// A profile with the same `connection.id` (exact, case-sensitive: the name `nmcli
    /// connection up NAME` takes).
    case name
    /// A profile of the same `connection.type` with the same `connection.interface-name`:
    /// "the ethernet profile for eno1". The ensured profile must name its interface.
    case interface
    /// Either of the above: a profile matching by name and another by interface are two
    /// candidates, and refused as ambiguous.
    case nameOrInterface = "name-or-interface"
}

/// A set of changes applied together: validated before anything is touched, applied under a
/// NetworkManager checkpoint, verified, probed, then committed, or rolled back as a whole.
///
/// ```swift
/// var transaction = NMTransaction([.add(bridge), .add(port), .activate(uuid: bridge.uuid, ports: ["eno1"]),
///                                  .supersede(uuid: oldProfile.uuid)])
/// transaction.probes = [.gateway()]
/// let result = try await nm.apply(transaction)
/// ```
/// See docs/transactions.md for the guarantees and their limits.
public struct NMTransaction: Sendable {
    /// The changes, in the order given; activations are reordered so controllers come before ports.
    public var changes: [NMChange]
    /// Checks run after verification; any failure rolls back.
    public var probes: [NMProbe]
    /// Work run right after the activations, before verification: see ``NMTransactionHook``.
    public var afterActivation: [NMTransactionHook] = []
    /// The checkpoint's rollback timeout while the transaction works, before probe and hook budgets are
    /// added. It is kept alive by a heartbeat; if this process dies, NetworkManager rolls back
    /// this long after the last heartbeat.
    public var rollbackTimeout: Duration
    /// How long each activation may take.
    public var activationTimeout: Duration
    /// Whether to compare NetworkManager's view with the desired state after activation.
    public var verify: Bool
    /// A label stored with a pending transaction, so another process can tell what it is.
    public var label: String
    /// Whether a ``NMChange/modify(_:)`` of a profile that is active also takes effect on its
    /// devices (`Device.Reapply`, or a reactivation), and is verified there: true by default.
    /// False stores the change only: the devices keep running the old settings (their applied
    /// connection) until the profile is activated again, and the plan compares stored
    /// settings only, so a rerun with the default plans the reapply still to do.
    public var modifiesTakeEffect: Bool = true

    public init(_ changes: [NMChange], probes: [NMProbe] = [], rollbackTimeout: Duration = .seconds(30),
                activationTimeout: Duration = .seconds(45), verify: Bool = true, label: String = "") {
        self.changes = changes
        self.probes = probes
        self.rollbackTimeout = rollbackTimeout
        self.activationTimeout = activationTimeout
        self.verify = verify
        self.label = label
    }

    /// The checkpoint timeout: the base plus every probe's and hook's budget.
    public var effectiveRollbackTimeout: Duration {
        afterActivation.reduce(probes.reduce(rollbackTimeout) { $0 + $1.budget }) { $0 + $1.budget }
    }
}

/// What a transaction did.
public enum NMTransactionOutcome: String, Sendable, Codable {
    /// The desired state already held: nothing was touched, no checkpoint was made.
    case unchanged
    /// Applied, verified, probed and committed.
    case committed
    /// Applied, verified and probed, with the checkpoint left armed: confirm it with
    /// ``NMClient/confirm(_:)`` or NetworkManager rolls back when the timeout passes.
    case pending
}

/// Where the host ended after a transaction, as read back from NetworkManager once everything
/// settled: what a report must say, whatever path the code took to get there.
public enum NMTransactionEndState: Sendable, Hashable, Codable {
    /// Exactly as before the transaction: nothing it changed remains.
    case before
    /// Exactly the committed state: every change made permanent, nothing of the transaction's
    /// bookkeeping left.
    case committed
    /// Applied and waiting for ``NMClient/confirm(_:)`` (or for its checkpoint's timeout).
    case pending
    /// Neither: what differs from "before", one line each. A person must look.
    case needsAttention([String])

    /// `before`, `committed`, `pending` or `needs-attention`.
    public var name: String {
        switch self {
        case .before: return "before"
        case .committed: return "committed"
        case .pending: return "pending"
        case .needsAttention: return "needs-attention"
        }
    }
}

/// The result of ``NMClient/apply(_:commit:confirmTimeout:progress:)``.
public struct NMTransactionResult: Sendable {
    public var outcome: NMTransactionOutcome
    /// Where the host is now: ``NMTransactionEndState/committed`` (also when the desired
    /// state already held) or ``NMTransactionEndState/pending``.
    public var endState: NMTransactionEndState {
        outcome == .pending ? .pending : .committed
    }
    /// The plan that was applied.
    public var plan: NMTransactionPlan
    /// Each step with its duration.
    public var steps: [NMTransactionStepRecord]
    /// For a pending transaction: how to find it again.
    public var pending: NMPendingTransaction?
    /// Things worth knowing that did not stop the transaction: the task was cancelled after
    /// the commit had begun (a commit is finished, never abandoned half way), or the commit
    /// was finished without its checkpoint because NetworkManager restarted during it.
    public var notes: [String] = []
}

/// One step as it happened.
public struct NMTransactionStepRecord: Sendable, Codable, Hashable {
    public var step: NMTransactionStep
    public var detail: String
    /// Milliseconds.
    public var milliseconds: Int
}

/// The steps of a transaction, in order.
public enum NMTransactionStep: String, Sendable, Codable, Hashable, CaseIterable {
    case validate, plan, checkpoint, stage, activate
    /// The transaction's ``NMTransaction/afterActivation`` hooks, one record each.
    case afterActivation
    case verify, probe, commit, rollback
}

/// Progress reported while applying.
public enum NMTransactionEvent: Sendable {
    case started(NMTransactionStep, String)
    case finished(NMTransactionStepRecord)
}

/// A transaction applied with `commit: false`, waiting for confirmation.
///
/// Found again, from this or another process, with ``NMClient/pendingTransactions()``: its
/// checkpoint and its staged profiles carry the transaction's id in their `user` data.
public struct NMPendingTransaction: Sendable, Codable, Hashable {
    /// The transaction's id.
    public var id: UUID
    /// The checkpoint that will roll it back.
    public var checkpoint: String
    /// The label given at apply time.
    public var label: String
    /// Profiles staged by the transaction (UUIDs), persisted on confirmation.
    public var staged: [UUID]
    /// Profiles to make unable to autoconnect on confirmation.
    public var superseded: [UUID]
    /// Profiles to delete on confirmation.
    public var deleted: [UUID]
    /// When NetworkManager rolls back if nobody confirms (approximate: see ``NMCheckpoint/expiry``).
    public var revertsAt: Date?
    /// The checkpoint's creation time (``NMCheckpoint/createdBootTimeMilliseconds``): with the
    /// path, it tells the transaction's checkpoint from a younger one at the same path after
    /// NetworkManager restarted.
    public var checkpointCreated: Int64?
    /// Where the transaction stands.
    public var state: State = .awaitingConfirmation
    /// For a ``State/stale`` transaction: what happened to its checkpoint, and what it changed.
    public var staleReason: String?

    /// Where a transaction found on the host stands.
    public enum State: String, Sendable, Codable, Hashable {
        /// Applied with `commit: false` and waiting for ``NMClient/confirm(_:)``; its checkpoint
        /// reverts it at ``NMPendingTransaction/revertsAt``.
        case awaitingConfirmation = "awaiting-confirmation"
        /// Its checkpoint exists but it is not waiting for confirmation: its process is still
        /// working on it (or died, and the checkpoint reverts it at its timeout).
        case inProgress = "in-progress"
        /// Its checkpoint is gone (NetworkManager restarted, someone destroyed it, or it was
        /// rolled back) while some of what it changed remains: ``NMClient/rollback(_:)`` undoes
        /// the rest, ``NMClient/confirm(_:)`` commits it where that is still possible.
        case stale
    }

    public init(id: UUID, checkpoint: String, label: String, staged: [UUID], superseded: [UUID], deleted: [UUID],
                revertsAt: Date?, checkpointCreated: Int64? = nil) {
        self.id = id
        self.checkpoint = checkpoint
        self.label = label
        self.staged = staged
        self.superseded = superseded
        self.deleted = deleted
        self.revertsAt = revertsAt
        self.checkpointCreated = checkpointCreated
    }
}
