import DBus
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// One execution of a transaction, with its bookkeeping.
final class TransactionRun: Sendable {
    let client: NMClient
    let transaction: NMTransaction
    let progress: (@Sendable (NMTransactionEvent) -> Void)?
    let id = UUID()
    let records = Mutex<[NMTransactionStepRecord]>([])

    init(client: NMClient, transaction: NMTransaction, progress: (@Sendable (NMTransactionEvent) -> Void)?) {
        self.client = client
        self.transaction = transaction
        self.progress = progress
    }

    // MARK: - Cancellation

    struct Cancellation {
        var requested = false
        /// Cancels the interruptible work running now (staging up to the probes), if any.
        var interrupt: (@Sendable () -> Void)?
    }
    let cancellation = Mutex(Cancellation())

    /// The caller's task was cancelled: stop at the next safe point.
    func requestCancellation() {
        let interrupt = cancellation.withLock { state -> (@Sendable () -> Void)? in
            state.requested = true
            return state.interrupt
        }
        interrupt?()
    }

    var isCancellationRequested: Bool { cancellation.withLock { $0.requested } }

    func checkNotCancelled() throws {
        if isCancellationRequested { throw CancellationError() }
    }

    /// Runs `body` as work that a cancellation interrupts (its waits end, calls not yet sent
    /// are not sent; a call already sent is still answered).
    func interruptible<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await body() }
        let already = cancellation.withLock { state -> Bool in
            state.interrupt = { task.cancel() }
            return state.requested
        }
        if already { task.cancel() }
        defer { cancellation.withLock { $0.interrupt = nil } }
        return try await task.value
    }

    // MARK: - Steps

    /// Runs one step, recording its duration; a failure is tagged with the step.
    func step<T>(_ step: NMTransactionStep, _ detail: String, _ body: () async throws -> T) async throws -> T {
        progress?(.started(step, detail))
        let started = ContinuousClock.now
        do {
            if step != .commit && step != .rollback { try checkNotCancelled() }
            let value = try await body()
            record(step, detail, since: started)
            return value
        } catch {
            throw StepFailure(step: step, error: error)
        }
    }

    func record(_ step: NMTransactionStep, _ detail: String, since started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        let milliseconds = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        let entry = NMTransactionStepRecord(step: step, detail: detail, milliseconds: milliseconds)
        records.withLock { $0.append(entry) }
        progress?(.finished(entry))
    }

    struct StepFailure: Error {
        var step: NMTransactionStep
        var error: any Error
    }

    /// Whether anything was written since the checkpoint (set before each write is sent: a
    /// write whose reply was lost counts).
    let touched = Mutex(false)

    /// The paths of the profiles this run added, from AddConnection2's replies.
    let stagedPaths = Mutex<[UUID: ObjectPath]>([:])
    /// Every profile this run wrote (backups, staged adds and modifies, record, witness) as last
    /// written, with its path: what the commit persists, without listing the profiles again.
    let written = Mutex<[(path: ObjectPath, profile: NMConnectionProfile)]>([])

    func remember(_ path: ObjectPath, _ profile: NMConnectionProfile) {
        written.withLock { list in
            list.removeAll { $0.path == path }
            list.append((path, profile))
        }
    }

    func markTouched() { touched.withLock { $0 = true } }

    /// The profiles this run wrote in the given role.
    func writtenProfiles(_ role: NMStagedProfileTag.Role) -> [(path: ObjectPath, profile: NMConnectionProfile)] {
        written.withLock { $0 }.filter { $0.profile.stagedTag?.role == role }
    }

    // MARK: - The run

    func execute(expected: NMTransactionPlan?, commit: Bool, confirmTimeout: Duration,
                 host: NMClient.HostObjects? = nil) async throws -> NMTransactionResult {
        // Validate and plan: nothing is touched yet.
        let prepared: NMClient.Prepared
        do {
            prepared = try await step(.validate, "\(transaction.changes.count) changes") {
                try await client.prepare(transaction, host: host)
            }
            if let expected {
                try await step(.plan, "compare with the plan given") {
                    if let difference = prepared.plan.firstDifference(from: expected) {
                        throw NMError(.versionIDMismatch, "the host changed since the plan was made: \(difference)",
                                      hint: "nothing was changed; plan again, review the new plan, and apply that one")
                    }
                }
            }
        } catch let failure as StepFailure {
            throw NMTransactionError(step: failure.step, cause: Self.nmError(failure.error), rollback: .notNeeded,
                                     steps: records.withLock { $0 })
        }
        let plan = prepared.plan
        if plan.isUnchanged {
            return NMTransactionResult(outcome: .unchanged, plan: plan, steps: records.withLock { $0 }, pending: nil)
        }

        // The checkpoint: if anything below fails, or this process dies, the host comes back.
        let version = prepared.codec.version
        var flags: NMCheckpointFlags = [.deleteNewConnections, .disconnectNewDevices]
        if version >= NMVersion(1, 48) { flags.insert(.trackInternalGlobalDNS) }
        let timeout = transaction.effectiveRollbackTimeout
        let checkpoint: NMCheckpoint
        // The NetworkManager that holds the checkpoint, by unique bus name: tracked from now on
        // through the signal rule that activation needs anyway.
        var instance: BusName?
        var record = NMTransactionRecord(
            id: id, label: transaction.label, phase: .staging, createdBootTimeMilliseconds: NMCheckpoint.bootTimeMilliseconds(),
            rollbackTimeoutSeconds: Int(timeout.components.seconds) + (timeout.components.attoseconds > 0 ? 1 : 0),
            adds: prepared.plan.steps.filter { $0.kind == .add && !$0.alreadyDone }.map(\.uuid),
            modifies: prepared.plan.steps.filter { $0.kind == .modify && !$0.alreadyDone }.map(\.uuid),
            superseded: superseded(prepared).compactMap { uuid in
                let original = prepared.modifies[uuid] ?? prepared.existing[uuid]?.profile
                return original.map { .init(uuid: uuid, autoconnect: $0.connection.autoconnect, inMemory: prepared.existing[uuid]?.isInMemory ?? true) }
            },
            deletes: deleted(prepared).filter { prepared.existing[$0] != nil },
            reactivate: prepared.activeBefore.map { .init(interface: $0.interface, uuid: $0.uuid) },
            newDevices: prepared.newDevices)
        // The first profile staged after the checkpoint is an add when there is one: it is the
        // witness (a rollback deletes it, a restart or CheckpointDestroy keeps it), so no
        // profile of its own is added for that, nor deleted at the end (two calls).
        record.witness = witnessAdd(prepared)
        record.ownerPID = NMTransactionRecord.currentPID
        record.ownerStartTime = NMTransactionRecord.startTime(of: NMTransactionRecord.currentPID)
        var recordPath: ObjectPath?
        do {
            checkpoint = try await step(.checkpoint, "all devices, rollback after \(timeout)") {
                // The record and copies of the profiles to modify or delete, as they are, made
                // *before* the checkpoint so that its rollback does not delete them as new: they
                // outlive a rollback that NetworkManager does by itself after this process died,
                // and a restart of NetworkManager, and tell the next process what to finish or undo.
                do {
                    try await keepBackups(prepared)
                    recordPath = try await addBookkeeping(witness: false) { $0.record = record }
                    try await client.keepSignalRule()
                    let checkpoint = try await createCheckpoint(timeout: timeout, flags: flags)
                    // Learnt from CheckpointCreate's own reply (the kept rule's owner is taken
                    // from the first reply after it, docs/transactions.md "Fewer calls"): the
                    // NetworkManager that holds the checkpoint. A restart after that reply
                    // changes it, and the fences see the change.
                    instance = client.runningInstance
                    // The record names its checkpoint: once that is gone, the record (which a
                    // rollback keeps) and the witness (which it deletes) tell what happened to it.
                    if let recordPath, let known = written.withLock({ $0 }).first(where: { $0.path == recordPath }) {
                        var profile = known.profile
                        var tag = profile.stagedTag ?? NMStagedProfileTag(transaction: id, role: .record)
                        tag.checkpoint = checkpoint.path.rawValue
                        tag.checkpointCreated = checkpoint.createdBootTimeMilliseconds
                        tag.checkpointCreatedUntil = checkpoint.createdUntilBootTimeMilliseconds
                        profile.stagedTag = tag
                        do {
                            try await client.updateProfile(recordPath, to: profile, storage: .memory)
                            remember(recordPath, profile)
                        } catch {
                            // The checkpoint exists: undo it rather than leave it armed.
                            try? await client.destroyCheckpoint(checkpoint.path)
                            throw error
                        }
                    }
                    return checkpoint
                } catch {
                    // No checkpoint: only the bookkeeping exists, and no network state changed.
                    for stored in written.withLock({ $0 }) { try? await client.deleteIgnoringGone(stored.path) }
                    throw error
                }
            }
        } catch let failure as StepFailure {
            let endState = (try? await client.assess(expectations(prepared, checkpoint: nil))) ?? .before
            throw NMTransactionError(step: .checkpoint, cause: Self.nmError(failure.error), rollback: .notNeeded,
                                     steps: records.withLock { $0 }, endState: endState)
        }
        let heartbeat = Task { [client] in
            // CheckpointAdjustRollbackTimeout counts from now: renew well before expiry.
            let interval = max(Duration.seconds(1), timeout / 3)
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                try? await client.adjustRollbackTimeout(checkpoint.path, to: timeout)
            }
        }

        var notes: [String] = []
        do {
            // The witness: a profile added after the checkpoint, so that its rollback deletes it
            // and anyone can tell later whether the checkpoint was rolled back or lost. The
            // first staged add when there is one (staged first, below), else one of its own.
            if record.witness == nil {
                try await step(.checkpoint, "witness") {
                    _ = try await addBookkeeping(witness: true) {
                        $0.checkpoint = checkpoint.path.rawValue
                        $0.checkpointCreated = checkpoint.createdBootTimeMilliseconds
                        $0.checkpointCreatedUntil = checkpoint.createdUntilBootTimeMilliseconds
                    }
                }
            }
            let gateway = try await interruptible { [self] in
                try await stage(prepared, checkpoint: checkpoint)
                let gateway = try await activate(prepared)
                try await runAfterActivation()
                if transaction.verify { try await verify(prepared) }
                try await runProbes(gateway: gateway)
                return gateway
            }
            _ = gateway
            try checkNotCancelled()
            heartbeat.cancel()
            if commit {
                // From here on the commit is finished, not abandoned: a cancellation that comes
                // now is noted, and the result is what the host ends in.
                do {
                    try await step(.commit, "persist, supersede, destroy checkpoint") {
                        try await client.runCommit(commitWork(prepared, checkpoint: checkpoint, recordPath: recordPath, record: record)) {
                            // Nothing is written unless the checkpoint still guards the change: it is
                            // gone if NetworkManager restarted or rolled back meanwhile (this process
                            // was stopped past its timeout), and writing then would make permanent a
                            // state no one verified since. The adjustment also gives the commit the
                            // whole timeout.
                            try await keepCheckpoint(checkpoint, for: timeout, instance: instance)
                        } check: { [client] in
                            // Before each later write, without a call: NetworkManager did not
                            // restart. A rollback meanwhile is caught by CheckpointDestroy.
                            if let instance, client.runningInstance != instance {
                                throw NMError(.failed, "NetworkManager restarted while the transaction was being committed: its checkpoint \(checkpoint.path) is gone",
                                              hint: "nothing more was committed; what the transaction changed is finished or undone from the state the host is in")
                            }
                        }
                    }
                } catch {
                    return try await commitInterrupted(prepared, checkpoint: checkpoint, error: error)
                }
                if isCancellationRequested {
                    notes.append("cancelled after the commit had begun: the commit was finished")
                }
                return NMTransactionResult(outcome: .committed, plan: plan, steps: records.withLock { $0 }, pending: nil, notes: notes)
            }
            try await keepCheckpoint(checkpoint, for: confirmTimeout, instance: instance)
            if let recordPath {
                // The record says it waits for confirmation: `status` tells it from a run in progress.
                record.awaitingConfirmation = true
                var profile = NMClient.bookkeepingProfile(for: id, witness: false, tag: NMStagedProfileTag(transaction: id, role: .record))
                if let known = written.withLock({ $0 }).first(where: { $0.path == recordPath }) { profile = known.profile }
                var tag = profile.stagedTag ?? NMStagedProfileTag(transaction: id, role: .record)
                tag.record = record
                profile.stagedTag = tag
                try await client.updateProfile(recordPath, to: profile, storage: .memory)
                remember(recordPath, profile)
            }
            var pending = NMPendingTransaction(
                id: id, checkpoint: checkpoint.path.rawValue, label: transaction.label,
                staged: Array(prepared.adds.keys) + Array(prepared.modifies.keys),
                superseded: superseded(prepared), deleted: deleted(prepared),
                revertsAt: Date().addingTimeInterval(Double(confirmTimeout.components.seconds)),
                checkpointCreated: checkpoint.createdBootTimeMilliseconds)
            pending.state = .awaitingConfirmation
            return NMTransactionResult(outcome: .pending, plan: plan, steps: records.withLock { $0 }, pending: pending)
        } catch let error as NMTransactionError {
            // The commit was interrupted and settled already (commitInterrupted).
            heartbeat.cancel()
            throw error
        } catch {
            heartbeat.cancel()
            let failedStep = (error as? StepFailure)?.step ?? .commit
            let cause = Self.nmError((error as? StepFailure)?.error ?? error)
            let (rollback, endState) = await undo(prepared, checkpoint: checkpoint)
            throw NMTransactionError(step: failedStep, cause: cause, rollback: rollback, steps: records.withLock { $0 }, endState: endState)
        }
    }
}
