/// Work a transaction runs right after its activations, before verification and the probes:
/// for state outside NetworkManager that the change should carry over, such as the kernel's
/// neighbour (ARP/NDP) entries of a NIC whose address moved onto a new bridge
/// (docs/networkmanager-quirks.md, "A neighbour lookup in a carrier gap costs a second").
///
/// ```swift
/// var transaction = NMTransaction([.add(bridge), .add(port), .activate(uuid: bridge.uuid, ports: ["eno1"])])
/// transaction.afterActivation = [
///     NMTransactionHook("neighbours") { try carryNeighbours(from: "eno1", to: "br0") }  // "2 carried to br0"
/// ]
/// ```
///
/// When it runs: once every activation of the transaction has been awaited (a controller is
/// activated with its ports attached), under the checkpoint, in the calling process and its
/// network namespace; then ``NMTransaction/verify`` and ``NMTransaction/probes`` follow. Hooks
/// run one after another, in the order given. A transaction whose plan holds nothing to do
/// runs none.
///
/// What it reports: the string a hook returns (what it did) becomes the detail of its step
/// record, ``NMTransactionStep/afterActivation``, as "NAME: RESULT".
///
/// When it fails: a hook that is not ``isRequired`` (the default) is an optimisation. If it
/// throws or runs out of its ``budget``, its step record says "NAME: failed (...): ..." and the
/// transaction goes on. A required hook's failure rolls the transaction back, like a failed
/// probe. Cancelling the transaction's task rolls back in both cases.
public struct NMTransactionHook: Sendable, CustomStringConvertible {
    /// What the hook does, for progress output and records ("neighbours").
    public var name: String
    /// How long the hook may take. It is also added to the checkpoint's rollback timeout
    /// (``NMTransaction/effectiveRollbackTimeout``), as probe budgets are.
    public var budget: Duration
    /// Whether a failure rolls the transaction back (`true`) or is only recorded (`false`).
    public var isRequired: Bool
    let body: @Sendable () async throws -> String

    /// A hook from a closure that returns what it did, or throws.
    public init(_ name: String, budget: Duration = .seconds(1), required: Bool = false,
                _ body: @escaping @Sendable () async throws -> String) {
        self.name = name
        self.budget = budget
        self.isRequired = required
        self.body = body
    }

    public var description: String { name }
}

extension TransactionRun {
    /// Runs ``NMTransaction/afterActivation``, in order, each within its budget.
    func runAfterActivation() async throws {
        for hook in transaction.afterActivation {
            let started = ContinuousClock.now
            progress?(.started(.afterActivation, hook.name))
            do {
                let detail = try await withDeadline(hook.budget, what: "hook \(hook.name)", timeoutError: {
                    NMError(.failed, "did not finish within its \(hook.budget) budget")
                }) {
                    try await hook.body()
                }
                record(.afterActivation, "\(hook.name): \(detail)", since: started)
            } catch {
                // The caller's cancellation is never the hook's to swallow.
                if Task.isCancelled { throw StepFailure(step: .afterActivation, error: CancellationError()) }
                var cause = Self.nmError(error)
                guard hook.isRequired else {
                    record(.afterActivation, "\(hook.name): failed (not required: the transaction goes on): \(cause.message)", since: started)
                    continue
                }
                cause.message = "\(hook.name): \(cause.message)"
                throw StepFailure(step: .afterActivation, error: cause)
            }
        }
    }
}
