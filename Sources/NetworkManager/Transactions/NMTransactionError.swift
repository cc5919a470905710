/// Why a transaction failed, and what the rollback did about it: the report that
/// ``NMClient/apply(_:plan:commit:confirmTimeout:basedOn:progress:)``, ``NMClient/confirm(_:)``
/// and ``NMClient/rollback(_:)-(NMPendingTransaction)`` attach to the ``NMError`` they throw, as
/// ``NMError/transaction`` (the module throws nothing but ``NMError``, decision 0007). `rollback` tells whether
/// the host is back where it was (``Rollback/restored``) or needs attention
/// (``Rollback/failed(_:)``).
public struct NMTransactionError: Error, Sendable, CustomStringConvertible {
    /// What the rollback did.
    public enum Rollback: Sendable {
        /// Nothing had been changed yet (the failure came during validation or planning, or
        /// NetworkManager refused the checkpoint).
        case notNeeded
        /// The checkpoint was rolled back and the devices settled, in this time.
        case restored(Duration)
        /// The rollback itself failed: the host may be half-configured. Attention needed.
        case failed(NMError)
    }

    /// The step that failed.
    public var step: NMTransactionStep
    /// The root cause, typed.
    public var cause: NMError
    /// What the rollback did.
    public var rollback: Rollback
    /// The steps that ran before the failure, with their durations.
    public var steps: [NMTransactionStepRecord]
    /// Where the host ended, read back after the rollback settled (never inferred from the
    /// path the code took): ``NMTransactionEndState/before`` when the rollback restored it,
    /// ``NMTransactionEndState/needsAttention(_:)`` with what differs otherwise.
    public var endState: NMTransactionEndState = .before

    public init(step: NMTransactionStep, cause: NMError, rollback: Rollback, steps: [NMTransactionStepRecord],
                endState: NMTransactionEndState = .before) {
        self.step = step
        self.cause = cause
        self.rollback = rollback
        self.steps = steps
        self.endState = endState
    }

    /// What to do about it.
    public var hint: String? { cause.hint }

    /// Whether the host was left as it was before (or never touched).
    public var hostRestored: Bool { endState == .before }

    public var description: String {
        var text = "\(step) failed: \(cause.message)"
        switch rollback {
        case .notNeeded: text += "; nothing was changed"
        case .restored(let duration): text += "; rolled back in \(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000) ms"
        case .failed(let error): text += "; THE ROLLBACK FAILED TOO: \(error.message)"
        }
        if case .needsAttention(let differences) = endState {
            text += "; the host is NOT as before: " + differences.joined(separator: "; ")
        }
        if let hint { text += " (hint: \(hint))" }
        return text
    }
}
