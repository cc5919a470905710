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

    /// Returns once NetworkManager owns its bus name and has finished starting up (its
    /// `Startup` property is false), waiting on `NameOwnerChanged` and `PropertiesChanged`.
    func waitUntilRunning(timeout: Duration) async throws {
        let owners: DBusSignalSequence
        do {
            owners = try await connection.signals(matching: DBusMatchRule(
                sender: .bus, path: "/org/freedesktop/DBus", interface: .bus, member: "NameOwnerChanged",
                arguments: [0: Self.service.rawValue]))
        } catch let error as DBusError {
            throw NMError(error)
        }
        if try await !connection.nameHasOwner(Self.service) {
            try await withDeadline(timeout, what: "NetworkManager coming back") {
                for try await signal in owners {
                    if let owner = try? signal.argument(2, as: String.self), !owner.isEmpty { return }
                }
                try Task.checkCancellation()
                throw NMError(.disconnected, "the bus connection ended while waiting for NetworkManager")
            }
        }
        let signals = try await allSignals()
        // NetworkManager takes its bus name before it exports its objects: right after it
        // came back, reading `Startup` can fail with "object does not exist". That means "not
        // ready yet", never "done starting" (docs/networkmanager-quirks.md).
        let startup: Bool = try await withDeadline(timeout, what: "NetworkManager exporting its objects") {
            while true {
                if let value: Bool = try? await self.nmProperty(Self.managerPath, Self.managerInterface, "Startup") { return value }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        guard startup else { return }
        try await withDeadline(timeout, what: "NetworkManager finishing its start-up") {
            for try await signal in signals
            where signal.path == Self.managerPath && signal.interface == .properties && signal.member == "PropertiesChanged" {
                let changed = try? signal.argument(1, as: [String: DBusVariant].self)
                if changed?["Startup"]?.value == .boolean(false) { return }
            }
            try Task.checkCancellation()
            throw NMError(.disconnected, "NetworkManager's signals ended while it was starting up")
        }
    }

}

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

    /// The profiles this run wrote with the given `staged` tag.
    func writtenProfiles(_ kind: String) -> [(path: ObjectPath, profile: NMConnectionProfile)] {
        written.withLock { $0 }.filter { $0.profile.userData[NMClient.Tag.staged] == kind }
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
                    recordPath = try await addBookkeeping(witness: false, tags: [NMClient.Tag.label: transaction.label,
                                                                                NMTransactionRecord.key: record.encoded()])
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
                        profile.userData[NMClient.Tag.checkpoint] = checkpoint.path.rawValue
                        profile.userData[NMClient.Tag.checkpointCreated] = String(checkpoint.createdBootTimeMilliseconds)
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
            // and anyone can tell later whether the checkpoint was rolled back or lost.
            try await step(.checkpoint, "witness") {
                _ = try await addBookkeeping(witness: true, tags: [
                    NMClient.Tag.label: transaction.label,
                    NMClient.Tag.checkpoint: checkpoint.path.rawValue,
                    NMClient.Tag.checkpointCreated: String(checkpoint.createdBootTimeMilliseconds),
                ])
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
                var profile = NMClient.bookkeepingProfile(for: id, witness: false, tags: [:])
                if let known = written.withLock({ $0 }).first(where: { $0.path == recordPath }) { profile = known.profile }
                profile.userData[NMTransactionRecord.key] = record.encoded()
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

    /// `CheckpointCreate`, with its doubt resolved: when the call was sent and its reply never
    /// read (a timeout, the connection lost), NetworkManager may hold the checkpoint anyway.
    /// A checkpoint of all devices created since the call was sent is then this one (no other
    /// can exist beside one of all devices).
    func createCheckpoint(timeout: Duration, flags: NMCheckpointFlags) async throws -> NMCheckpoint {
        let sent = NMCheckpoint.bootTimeMilliseconds()
        do throws(any Error) {
            return try await client.createCheckpoint(rollbackTimeout: timeout, flags: flags)
        } catch let error as NMError where ![.checkpointOverlap, .permissionDenied, .unsupportedByVersion, .invalidArguments].contains(error.code) {
            try? await client.waitUntilRunning(timeout: .seconds(30))
            if let made = try? await client.checkpoints().first(where: { $0.createdBootTimeMilliseconds >= sent }) {
                record(.checkpoint, "CheckpointCreate's reply was lost (\(error.message)); found \(made.path), made since it was sent", since: .now)
                return made
            }
            throw error
        }
    }

    /// Adds the record (or the witness): inert, in memory, autoconnect blocked.
    func addBookkeeping(witness: Bool, tags: [String: String]) async throws -> ObjectPath {
        let profile = NMClient.bookkeepingProfile(for: id, witness: witness, tags: tags.merging([
            NMClient.Tag.transaction: id.uuidString,
            NMClient.Tag.staged: witness ? "witness" : "record",
        ]) { $1 })
        let path = try await client.addProfile(profile, storage: .memory, blockAutoconnect: true)
        remember(path, profile)
        return path
    }

    /// What this run's commit writes, from what it wrote and planned (no listing of profiles).
    func commitWork(_ prepared: NMClient.Prepared, checkpoint: NMCheckpoint, recordPath: ObjectPath?,
                    record: NMTransactionRecord) -> NMClient.CommitWork {
        let staged = writtenProfiles("add") + writtenProfiles("modify")
        // The witness last: a record without a witness would read as "rolled back" (and be undone).
        let cleanup = writtenProfiles("backup").map(\.path) + [recordPath].compactMap { $0 } + writtenProfiles("witness").map(\.path)
        let recordProfile = recordPath.flatMap { path in
            written.withLock { $0 }.first { $0.path == path }.map {
                NMStoredProfile(path: path, profile: $0.profile, flags: .unsaved, filename: nil, versionID: nil)
            }
        }
        return NMClient.CommitWork(recordProfile: recordProfile, record: record, staged: staged,
                                   superseded: superseded(prepared), deleted: deleted(prepared), cleanup: cleanup,
                                   checkpoint: checkpoint.path, known: prepared.existing)
    }

    /// The commit stopped part way (its checkpoint gone, a write refused, a reply lost): one
    /// read says what happened, and the transaction is finished or undone from there. The
    /// result is the state the host ends in.
    func commitInterrupted(_ prepared: NMClient.Prepared, checkpoint: NMCheckpoint, error: any Error) async throws -> NMTransactionResult {
        let cause = Self.nmError((error as? StepFailure)?.error ?? error)
        let started = ContinuousClock.now
        progress?(.started(.rollback, "the commit was interrupted: \(cause.message)"))
        do {
            let view = try await readView(checkpoint: checkpoint)
            let condition = view.condition
            let (settled, _) = try await client.settleInterrupted(view, plan: undoPlan(prepared), settle: .seconds(30))
            let endState = try await client.assess(expectations(prepared, checkpoint: checkpoint))
            if settled == .committed, endState == .committed {
                record(.commit, "finished without the checkpoint, which was gone (\(cause.message)): NetworkManager restarted after the commit had begun", since: started)
                return NMTransactionResult(outcome: .committed, plan: prepared.plan, steps: records.withLock { $0 }, pending: nil,
                                           notes: ["the commit was finished without its checkpoint: \(cause.message)"])
            }
            record(.rollback, endState == .before ? Self.restoredDetail(condition) + " (the commit was interrupted: \(cause.message))"
                                                   : "FAILED to restore: \(endState)", since: started)
            throw NMTransactionError(step: .commit, cause: cause,
                                     rollback: endState == .before ? .restored(ContinuousClock.now - started)
                                                                   : .failed(NMError(.failed, "the host is neither as before nor committed")),
                                     steps: records.withLock { $0 }, endState: endState)
        } catch let error as NMTransactionError {
            throw error
        } catch {
            record(.rollback, "FAILED: \(error)", since: started)
            let endState = (try? await client.assess(expectations(prepared, checkpoint: checkpoint)))
                ?? .needsAttention(["the host could not be read back: \(Self.nmError(error).message)"])
            throw NMTransactionError(step: .commit, cause: cause, rollback: .failed(Self.nmError(error)),
                                     steps: records.withLock { $0 }, endState: endState)
        }
    }

    /// This run's transaction as a read of the host shows it, once NetworkManager runs: when
    /// none of its profiles is left, only its checkpoint (if that still exists) is known.
    func readView(checkpoint: NMCheckpoint) async throws -> NMClient.TransactionView {
        try await client.waitUntilRunning(timeout: .seconds(30))
        let host = try await client.hostObjects()
        let path = checkpoint.path.rawValue, created = checkpoint.createdBootTimeMilliseconds
        return NMClient.transactionViews(host).first { $0.id == id }
            ?? NMClient.TransactionView(id: id, checkpointPath: path, checkpointCreated: created,
                                        checkpoint: host.checkpoints.first { NMClient.isCheckpoint($0, path: path, created: created) })
    }

    /// What an undo of this run restores: the profiles it touches as they were.
    func undoPlan(_ prepared: NMClient.Prepared) -> NMClient.UndoPlan {
        var originals: [UUID: NMStoredProfile] = [:]
        for uuid in Set(prepared.modifies.keys).union(superseded(prepared)).union(deleted(prepared)) {
            originals[uuid] = prepared.existing[uuid]
        }
        return NMClient.UndoPlan(originals: originals, reactivate: prepared.activeBefore, newDevices: prepared.newDevices)
    }

    func expectations(_ prepared: NMClient.Prepared, checkpoint: NMCheckpoint?) -> NMClient.Expectations {
        var originals: [UUID: NMStoredProfile] = [:]
        for uuid in Set(prepared.modifies.keys).union(deleted(prepared)) { originals[uuid] = prepared.existing[uuid] }
        var adds: [UUID: NMConnectionProfile?] = [:]
        for (uuid, profile) in prepared.adds where prepared.existing[uuid] == nil { adds[uuid] = profile }
        let supersededEntries: [NMTransactionRecord.Superseded] = superseded(prepared).compactMap { uuid in
            guard let stored = prepared.existing[uuid] else { return nil }
            return .init(uuid: uuid, autoconnect: stored.profile.connection.autoconnect, inMemory: stored.isInMemory)
        }
        return NMClient.Expectations(id: id, adds: adds, modifies: prepared.modifies, superseded: supersededEntries,
                                     deleted: deleted(prepared), originals: originals, activeBefore: prepared.activeBefore,
                                     newDevices: prepared.newDevices, checkpoint: checkpoint)
    }

    /// Sets the checkpoint's rollback timeout to `timeout` from now, and throws unless it is
    /// still this transaction's: the adjustment fails if the checkpoint is gone, and
    /// NetworkManager's unique bus name, tracked through the kept signal rule, tells whether it
    /// restarted since the checkpoint was made (paths are reused after a restart). One call;
    /// when the instance is unknown, the checkpoint is read as well (``requireCheckpoint(_:)``).
    func keepCheckpoint(_ checkpoint: NMCheckpoint, for timeout: Duration, instance: BusName?) async throws {
        guard let instance, client.runningInstance == instance else {
            try await requireCheckpoint(checkpoint)
            try await client.adjustRollbackTimeout(checkpoint.path, to: timeout)
            return
        }
        do {
            try await client.adjustRollbackTimeout(checkpoint.path, to: timeout)
        } catch {
            // Say why: gone (the usual message), or something else (that error).
            try await requireCheckpoint(checkpoint)
            throw error
        }
        // A restart between the two readings: the adjusted checkpoint is someone else's.
        if client.runningInstance != instance { try await requireCheckpoint(checkpoint) }
    }

    /// Throws unless `checkpoint` still exists (the same one: paths are reused after a restart).
    func requireCheckpoint(_ checkpoint: NMCheckpoint) async throws {
        // The checkpoint itself, read by its path (one call): no such object means it is gone.
        let current: NMCheckpoint?
        do throws(any Error) {
            current = try await client.checkpoint(at: checkpoint.path)
        } catch let error as NMError where error.code == .notImplemented || error.dbusError?.code == .unknownObject
            || error.dbusError?.code == .unknownMethod || error.dbusError?.code == .unknownInterface
        {
            current = nil
        }
        guard let current, NMClient.isCheckpoint(current, path: checkpoint.path.rawValue, created: checkpoint.createdBootTimeMilliseconds) else {
            throw NMError(.failed, "the transaction's checkpoint \(checkpoint.path) is gone: NetworkManager restarted, or someone destroyed or rolled it back",
                          hint: "nothing more was committed; what the transaction changed is finished or undone from the state the host is in")
        }
    }

    /// Undoes the transaction after a failure before its commit, then reads the host back:
    /// - nothing was written: the checkpoint is destroyed (a rollback would re-activate every
    ///   device for nothing), the bookkeeping deleted;
    /// - otherwise, from what one read shows: the checkpoint exists → rolled back, devices
    ///   settled, the rest undone; rolled back by NetworkManager already → the rest undone; lost
    ///   (NetworkManager restarted, someone destroyed it) → undone without it.
    func undo(_ prepared: NMClient.Prepared, checkpoint: NMCheckpoint) async -> (NMTransactionError.Rollback, NMTransactionEndState) {
        let started = ContinuousClock.now
        let expected = expectations(prepared, checkpoint: checkpoint)
        if !touched.withLock({ $0 }) {
            do {
                try await client.destroyCheckpoint(checkpoint.path)
                for stored in written.withLock({ $0 }) { try await client.deleteIgnoringGone(stored.path) }
                let endState = try await client.assess(expected)
                if endState == .before {
                    record(.rollback, "nothing was written: checkpoint destroyed, no rollback needed", since: started)
                    return (.notNeeded, .before)
                }
            } catch {
                // NetworkManager is gone, or the checkpoint already is: the full undo below
                // copes with both, and rolling back an unchanged host is only a blip.
            }
        }
        progress?(.started(.rollback, "restoring the checkpoint"))
        var lastError: (any Error)?
        var firstCondition: NMClient.TransactionView.Condition?
        // Twice at most: a first attempt can meet NetworkManager restarting.
        for _ in 0..<2 {
            do {
                let view = try await readView(checkpoint: checkpoint)
                let condition = firstCondition ?? view.condition
                firstCondition = condition
                _ = try await client.settleInterrupted(view, plan: undoPlan(prepared), intent: .before, settle: .seconds(30))
                let endState = try await client.assess(expected)
                let detail = Self.restoredDetail(condition)
                if endState == .before {
                    record(.rollback, detail, since: started)
                    return (.restored(ContinuousClock.now - started), .before)
                }
                lastError = NMError(.failed, "after the undo the host differs from before: \(endState)")
            } catch {
                lastError = error
            }
        }
        let error = Self.nmError(lastError ?? NMError(.failed, "the undo failed"))
        record(.rollback, "FAILED: \(error.message)", since: started)
        let endState = (try? await client.assess(expected)) ?? .needsAttention(["the host could not be read back: \(error.message)"])
        return (.failed(error), endState == .before ? .before : endState)
    }

    /// How the host was restored, for the rollback's step record.
    static func restoredDetail(_ condition: NMClient.TransactionView.Condition) -> String {
        switch condition {
        case .live: return "restored"
        case .rolledBack: return "restored: NetworkManager had rolled the checkpoint back already; the rest undone"
        default: return "restored without the checkpoint, which was gone: staging removed, the profiles active before activated again"
        }
    }

    static func nmError(_ error: any Error) -> NMError {
        switch error {
        case let error as NMError: return error
        case let error as DBusError: return NMError(error)
        case let failure as StepFailure: return nmError(failure.error)
        case is CancellationError: return NMError(.cancelled, "the transaction's task was cancelled", hint: "the change was rolled back")
        case let skipped as NMProbeSkipped: return NMError(.failed, skipped.reason)
        default: return NMError(.failed, "\(error)")
        }
    }

    func superseded(_ prepared: NMClient.Prepared) -> [UUID] {
        prepared.changes.compactMap { if case .supersede(let uuid) = $0 { return uuid } else { return nil } }
    }

    func deleted(_ prepared: NMClient.Prepared) -> [UUID] {
        prepared.changes.compactMap { if case .delete(let uuid) = $0 { return uuid } else { return nil } }
    }

    func tags(_ autoconnect: Bool?, staged: String, checkpoint: NMCheckpoint, prepared: NMClient.Prepared) -> [String: String] {
        [
            NMClient.Tag.transaction: id.uuidString,
            NMClient.Tag.checkpoint: checkpoint.path.rawValue,
            NMClient.Tag.checkpointCreated: String(checkpoint.createdBootTimeMilliseconds),
            NMClient.Tag.staged: staged,
            NMClient.Tag.autoconnect: autoconnect.map { $0 ? "true" : "false" } ?? "default",
            NMClient.Tag.label: transaction.label,
        ].filter { !$0.value.isEmpty }
    }

    /// The profiles the plan modifies or deletes, each copied as it is into an inert in-memory
    /// profile (new UUID, autoconnect off, tagged `backup`). No network state changes.
    func keepBackups(_ prepared: NMClient.Prepared) async throws {
        let deletes = Set(deleted(prepared))
        for planned in prepared.plan.steps where (planned.kind == .modify || planned.kind == .delete) && !planned.alreadyDone {
            guard let stored = prepared.existing[planned.uuid], planned.kind == .modify || deletes.contains(planned.uuid) else { continue }
            var backup = stored.profile
            backup.connection.uuid = UUID()
            backup.connection.id = "\(stored.profile.name) (kept by transaction \(id.uuidString.prefix(8).lowercased()))"
            backup.userData.merge([
                NMClient.Tag.transaction: id.uuidString,
                NMClient.Tag.staged: "backup",
                NMClient.Tag.backupOf: stored.profile.uuid.uuidString,
                NMClient.Tag.originalName: stored.profile.name,
                NMClient.Tag.originalStorage: stored.isInMemory ? "memory" : "disk",
                NMClient.Tag.autoconnect: stored.profile.connection.autoconnect.map { $0 ? "true" : "false" } ?? "default",
            ]) { $1 }
            backup.connection.autoconnect = false
            let path = try await client.addProfile(backup, storage: .memory, blockAutoconnect: true)
            remember(path, backup)
        }
    }

    /// Re-reads a profile the plan modifies and throws ``NMError/Code/versionIDMismatch``
    /// unless its settings are still those planned against: the client-side `version-id`
    /// (NetworkManager checks the real one only from 1.44, and only at the write).
    func checkUnchangedSincePlanned(_ planned: NMTransactionPlan.Step, _ stored: NMStoredProfile, prepared: NMClient.Prepared) async throws {
        guard let baseline = planned.baseline else { return }
        let current = try await client.profile(at: stored.path)
        let now = NMTransactionPlan.fingerprint(try NMClient.planText(current.profile, codec: prepared.codec))
        guard now == baseline else {
            throw NMError(.versionIDMismatch, "\(planned.profile) was changed by someone else after this transaction was planned",
                          hint: "plan the transaction again against the current profile and review it; this one would overwrite that change")
        }
    }

    /// New profiles go to memory with autoconnect off (so a NetworkManager restart mid-way
    /// brings back only what is on disk, and nothing staged competes for a device); changed
    /// profiles are updated in memory, shadowing their files, after an inert in-memory copy of
    /// them as they were (the backup) is added, so that the original survives a crash of this
    /// process or of NetworkManager (``NMClient/removeStaleTransactions(settle:)`` restores it).
    func stage(_ prepared: NMClient.Prepared, checkpoint: NMCheckpoint) async throws {
        let pending = prepared.plan.steps.filter { !$0.alreadyDone }
        // Before the first write: is every modified profile still as planned? Then a conflict
        // changes nothing at all (the checkpoint is destroyed, not rolled back).
        for planned in pending where planned.kind == .modify {
            guard let stored = prepared.existing[planned.uuid] else { continue }
            try await step(.stage, "check \(planned.profile) is unchanged since planned") {
                try await checkUnchangedSincePlanned(planned, stored, prepared: prepared)
            }
        }
        for planned in pending {
            switch planned.kind {
            case .add:
                guard var profile = prepared.adds[planned.uuid] else { continue }
                try await step(.stage, "add \(profile.name) in memory") {
                    profile.userData.merge(tags(profile.connection.autoconnect, staged: "add", checkpoint: checkpoint, prepared: prepared)) { $1 }
                    profile.connection.autoconnect = false
                    markTouched()
                    let path = try await client.addProfile(profile, storage: .memory, blockAutoconnect: true)
                    stagedPaths.withLock { $0[planned.uuid] = path }
                    remember(path, profile)
                }
            case .modify:
                guard var profile = prepared.modifies[planned.uuid], let stored = prepared.existing[planned.uuid] else { continue }
                try await step(.stage, "change \(profile.name) in memory") {
                    // Again right before the write: the window is now milliseconds (and closed
                    // entirely by NetworkManager 1.44's version-id check below).
                    try await checkUnchangedSincePlanned(planned, stored, prepared: prepared)
                    markTouched()
                    profile.userData.merge(tags(profile.connection.autoconnect, staged: "modify", checkpoint: checkpoint, prepared: prepared)) { $1 }
                    profile.userData[NMClient.Tag.originalStorage] = stored.isInMemory ? "memory" : "disk"
                    try await client.updateProfile(stored.path, to: profile, storage: .memory, options: .blockAutoconnect,
                                                   expectedVersionID: planned.versionID ?? stored.versionID)
                    remember(stored.path, profile)
                }
            default:
                continue
            }
        }
    }

    /// Deactivations, then activations (controllers first), each awaited. Returns the IPv4
    /// gateway of the activated profiles, for the gateway probe.
    func activate(_ prepared: NMClient.Prepared) async throws -> IPv4Address? {
        var gateway: IPv4Address?
        // The profiles as this run knows them: those there before (their paths do not change
        // with an update) and the ones it added (paths from AddConnection2's replies).
        let addedPaths = stagedPaths.withLock { $0 }
        var all: [(profile: NMConnectionProfile, path: ObjectPath)] = prepared.existing.values.map {
            (prepared.modifies[$0.profile.uuid] ?? $0.profile, $0.path)
        }
        for (uuid, path) in addedPaths { if let profile = prepared.adds[uuid] { all.append((profile, path)) } }
        func path(of uuid: UUID) -> ObjectPath? { all.first { $0.profile.uuid == uuid }?.path }
        for planned in prepared.plan.steps where !planned.alreadyDone {
            switch planned.kind {
            case .deactivate:
                try await step(.activate, "deactivate \(planned.profile)") {
                    markTouched()
                    for active in try await client.activeConnections() where active.uuid == planned.uuid {
                        try await client.deactivate(active.path)
                    }
                }
            case .reapply, .reactivate:
                guard let profilePath = path(of: planned.uuid), let profile = prepared.modifies[planned.uuid] else {
                    throw StepFailure(step: .activate, error: NMError(.unknownConnection, "profile \(planned.profile) vanished before it was reapplied"))
                }
                if let gw = profile.ipv4?.gateway { gateway = gw }
                for interface in planned.devices {
                    guard let device = prepared.devices.first(where: { $0.interface.rawValue == interface }) else { continue }
                    if planned.kind == .reapply {
                        let refused = try await step(.activate, "reapply \(planned.profile) on \(interface)") { () async throws -> NMError? in
                            try await reapply(profile, on: device.path)
                        }
                        if let refused {
                            try await step(.activate, "reactivate \(planned.profile) on \(interface): NetworkManager cannot reapply it (\(refused.message))") {
                                try await reactivate(profilePath, on: device.path)
                            }
                        }
                    } else {
                        try await step(.activate, "reactivate \(planned.profile) on \(interface)") {
                            try await reactivate(profilePath, on: device.path)
                        }
                    }
                }
            case .activate:
                guard let profilePath = path(of: planned.uuid) else {
                    throw StepFailure(step: .activate, error: NMError(.unknownConnection, "profile \(planned.profile) vanished before activation"))
                }
                let profile = prepared.adds[planned.uuid] ?? prepared.modifies[planned.uuid] ?? prepared.existing[planned.uuid]?.profile
                if let gw = profile?.ipv4?.gateway { gateway = gw }
                try await step(.activate, "activate \(planned.profile)" + (planned.ports.isEmpty ? "" : " with ports \(planned.ports.joined(separator: ", "))")) {
                    let signals = try await client.allSignals()
                    markTouched()
                    let active = try await client.startActivation(profilePath)
                    // Bring up the ports' profiles, unless the controller's autoconnect-ports
                    // already did: on 1.42 it starts a port profile even with autoconnect off
                    // (as staged ones are), during ActivateConnection, and a second activation
                    // of the same port would detach and attach the NIC again (a carrier gap on
                    // the bridge, docs/networkmanager-quirks.md).
                    let controllerInterface = profile?.interfaceName?.rawValue
                    // Read after the request (and after subscribing): reused by the wait below
                    // unless a port is activated here.
                    var host: NMClient.HostObjects? = try await client.managedObjects(withProfiles: false)
                    let activeNow = host?.active ?? []
                    for port in planned.ports {
                        let portProfile = all.first {
                            $0.profile.interfaceName?.rawValue == port && $0.profile.isPort
                                && ($0.profile.connection.controller == controllerInterface
                                    || $0.profile.connection.controller == planned.uuid.uuidString.lowercased())
                        }
                        guard let portProfile else { continue }
                        let started = activeNow.contains {
                            $0.uuid == portProfile.profile.uuid
                                && ($0.state == .activating || $0.state == .activated)
                        }
                        if !started {
                            let device = try await client.device(named: port)
                            _ = try await client.startActivation(portProfile.path, on: device.path)
                            host = nil
                        }
                    }
                    try await client.waitForActivation(active, ports: planned.ports, signals: signals,
                                                       timeout: transaction.activationTimeout, host: host)
                }
            default:
                continue
            }
        }
        return gateway
    }

    /// Makes the running device apply `profile` in place: `Device.GetAppliedConnection` for
    /// the applied connection's version id, then `Device.Reapply` with the profile's settings
    /// and that version id (so that a reapply by someone else in between is refused, not
    /// overwritten). The settings sent are the transaction's, without its staging tags in
    /// `user.data`, which stay on the stored profile only. Returns NetworkManager's refusal
    /// when it cannot apply the change without reactivating (`IncompatibleConnection`).
    func reapply(_ profile: NMConnectionProfile, on device: ObjectPath) async throws -> NMError? {
        let applied = try await client.appliedProfile(of: device)
        markTouched()
        do throws(any Error) {
            try await client.reapply(profile, on: device, versionID: applied.versionID)
            return nil
        } catch let error as NMError where error.code == .incompatibleConnection {
            return error
        }
    }

    /// Activates the profile again on the device (`ActivateConnection`), which takes the
    /// device through deactivation with the old settings and activation with the new, and
    /// waits for it on signals.
    func reactivate(_ profile: ObjectPath, on device: ObjectPath) async throws {
        let signals = try await client.allSignals()
        markTouched()
        let active = try await client.startActivation(profile, on: device)
        try await client.waitForActivation(active, ports: [], signals: signals, timeout: transaction.activationTimeout)
    }

    /// NetworkManager's view of the result against the desired state: addresses and gateway
    /// on each activated profile's device, each port attached to its controller, the MAC.
    ///
    /// When the first comparison fails, it is made again each time NetworkManager signals a
    /// change that could settle it (a device's state, addresses or gateway, an active
    /// connection's devices or controller, a MAC), for up to 2 s, and once more at the end;
    /// nothing sleeps. Seen on NetworkManager 1.52 (IPv4 duplicate address detection is on by
    /// default from 1.46): the bridge reports `activated` while its `IP4Config` still lists no
    /// address, and `AddressData` follows 130-160 ms later (docs/networkmanager-quirks.md).
    func verify(_ prepared: NMClient.Prepared) async throws {
        let applied = prepared.plan.steps.contains { $0.kind == .reapply || $0.kind == .reactivate || ($0.kind == .activate && prepared.modifies[$0.uuid] != nil) }
        try await step(.verify, "addresses, gateway, ports, MAC" + (applied ? ", applied connections, routes, DNS" : "")) {
            // Subscribed before the first read (the kept rule: no round trip), so that a change
            // landing between a read and the wait is not missed.
            let signals = try await client.allSignals()
            do {
                try await verifyOnce(prepared)
                return
            } catch let problem as NMError {
                client.logger?.debug("verify: waiting for NetworkManager", metadata: ["first attempt": "\(problem.message)"])
            }
            /// A signal after which the comparison may come out differently.
            @Sendable func mayChangeOutcome(_ signal: DBusSignal) -> Bool {
                if signal.member == "StateChanged" { return signal.interface.rawValue == "org.freedesktop.NetworkManager.Device" }
                guard signal.interface == .properties, signal.member == "PropertiesChanged",
                    let changed = try? signal.argument(1, as: [String: DBusVariant].self)
                else { return false }
                let relevant: Set<String> = ["State", "AddressData", "Addresses", "Gateway", "Ip4Config", "HwAddress",
                                             "ActiveConnection", "Devices", "Controller", "Master", "RouteData", "NameserverData"]
                return changed.keys.contains(where: relevant.contains)
            }
            let settled = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask { [self] in
                    for try await signal in signals where mayChangeOutcome(signal) {
                        do {
                            try await verifyOnce(prepared)
                            return true
                        } catch is NMError {
                            continue
                        }
                    }
                    return false  // NetworkManager left the bus, or cancelled: the last read says
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(2))
                    return false
                }
                defer { group.cancelAll() }
                return try await group.next() ?? false
            }
            // The last word: passes, or throws what still differs.
            if !settled { try await verifyOnce(prepared) }
        }
    }

    func verifyOnce(_ prepared: NMClient.Prepared) async throws {
        // Devices, active connections and port attachments from one read.
        let host = try await client.managedObjects(withProfiles: false)
        func deviceNamed(_ name: String) async throws -> NMDevice {
            if let known = host.device(named: name), known.isReal { return known }
            return try await client.device(named: name)
        }
        for planned in prepared.plan.steps where planned.kind == .activate {
            guard let profile = prepared.adds[planned.uuid] ?? prepared.modifies[planned.uuid] ?? prepared.existing[planned.uuid]?.profile,
                let interface = profile.interfaceName?.rawValue
            else { continue }
            let device = try await deviceNamed(interface)
            guard device.state == .activated else {
                throw NMError(.activationFailed, "\(interface) is \(device.state), not activated")
            }
            if let ipv4 = profile.ipv4, ipv4.method == .manual {
                let config = host.ipv4[device.path] ?? NMIPv4Configuration(addresses: [], gateway: nil, dnsServers: [])
                for address in ipv4.addresses where !config.addresses.contains(address) {
                    throw NMError(.ipConfigFailed, "\(interface) lacks \(address) (has \(config.addresses.map(\.description).joined(separator: ", ")))")
                }
                if let gateway = ipv4.gateway, config.gateway != gateway, ipv4.neverDefault != true {
                    throw NMError(.ipConfigFailed, "\(interface)'s gateway is \(config.gateway?.description ?? "none"), not \(gateway)")
                }
            }
            if case .address(let mac)? = profile.ethernet?.assignedMACAddress,
                device.hardwareAddress?.lowercased() != mac.description.lowercased()
            {
                throw NMError(.failed, "\(interface)'s MAC is \(device.hardwareAddress ?? "none"), not \(mac)")
            }
            for port in planned.ports {
                let portDevice = try await deviceNamed(port)
                guard host.isPort(portDevice.path, of: [device.path]) else {
                    throw NMError(.activationFailed, "\(port) is not attached to \(interface)")
                }
            }
        }
        try await verifyApplied(prepared, host: host, deviceNamed: deviceNamed)
    }

    /// A modified profile that is active (reapplied, reactivated, or activated by the
    /// transaction): each of its devices must run it. The device's applied connection
    /// (`Device.GetAppliedConnection`) is compared with the profile as NetworkManager stores it
    /// now (so both sides are normalised alike; the staging tags in `user.data` aside), and
    /// what NetworkManager reads back from the kernel (`IP4Config`: addresses, routes, DNS)
    /// must hold the profile's static addresses, routes and DNS servers. A change that was
    /// stored but did not reach the device, or that the kernel refused (a route whose next
    /// hop is not reachable), fails here, and the transaction rolls back.
    func verifyApplied(_ prepared: NMClient.Prepared, host: NMClient.HostObjects,
                       deviceNamed: (String) async throws -> NMDevice) async throws {
        for planned in prepared.plan.steps {
            let interfaces: [String]
            switch planned.kind {
            case .reapply, .reactivate: interfaces = planned.devices
            case .activate: interfaces = [prepared.modifies[planned.uuid]?.interfaceName?.rawValue].compactMap { $0 }
            default: continue
            }
            guard let desired = prepared.modifies[planned.uuid], let stored = prepared.existing[planned.uuid], !interfaces.isEmpty else { continue }
            let reference = try NMClient.planText(try await client.profile(at: stored.path).profile, codec: prepared.codec)
            for interface in interfaces {
                let device = try await deviceNamed(interface)
                guard device.state == .activated else {
                    throw NMError(.activationFailed, "\(interface) is \(device.state), not activated")
                }
                let applied = try await client.appliedProfile(of: device.path).profile
                // Not `connection.autoconnect(-priority)`: they are nothing a device runs, and an
                // applied connection can keep a stale value (the planner ignores them too).
                let differences = NMTransactionPlan.diff(from: try NMClient.planText(applied, codec: prepared.codec), to: reference)
                    .filter { !NMTransactionPlan.isProfileOnly(setting: $0.setting, key: $0.key) }
                guard differences.isEmpty else {
                    throw NMError(.failed, "\(interface) does not run \(desired.name) as stored: its applied connection differs in "
                                  + differences.map { "\($0.setting).\($0.key)" }.joined(separator: ", "),
                                  hint: "the change was stored but did not reach the device; it was rolled back")
                }
                guard let ipv4 = desired.ipv4, ipv4.method != .disabled else { continue }
                let config = host.ipv4[device.path] ?? NMIPv4Configuration(addresses: [], gateway: nil, dnsServers: [])
                for address in ipv4.addresses where !config.addresses.contains(address) {
                    throw NMError(.ipConfigFailed, "\(interface) lacks \(address) (has \(config.addresses.map(\.description).joined(separator: ", ")))")
                }
                // Routes in the main table (RouteData lists others with their table too).
                for route in ipv4.routes where route.attributes["table"] == nil {
                    let present = config.routes.contains {
                        $0.destination == route.destination && $0.nextHop == route.nextHop && (route.metric == nil || $0.metric == route.metric)
                    }
                    guard present else {
                        throw NMError(.ipConfigFailed, "\(interface) lacks the route \(route) (has \(config.routes.map(\.description).joined(separator: ", ")))",
                                      hint: "NetworkManager applied the profile but the kernel does not have the route: is its next hop reachable?")
                    }
                }
                for server in ipv4.dns where !config.dnsServers.contains(server) {
                    throw NMError(.ipConfigFailed, "\(interface) lacks the DNS server \(server) (has \(config.dnsServers.map(\.description).joined(separator: ", ")))")
                }
            }
        }
    }

    func runProbes(gateway: IPv4Address?) async throws {
        for probe in transaction.probes {
            do {
                try await step(.probe, probe.name) {
                    let context = NMProbeContext(gateway: gateway, deadline: ContinuousClock.now + probe.budget)
                    // The probe's own retries stop at its deadline; this outer bound only catches
                    // a probe that ignores it, and reports it as the probe's failure.
                    try await withDeadline(probe.budget + .seconds(1), what: "probe \(probe.name)", timeoutError: {
                        NMError(.timeout, "no success within its \(probe.budget) budget",
                                hint: "the change cut connectivity it should keep; it was rolled back")
                    }) {
                        try await probe.body(context)
                    }
                }
            } catch let failure as StepFailure where failure.error is NMProbeSkipped {
                progress?(.finished(NMTransactionStepRecord(step: .probe, detail: "\(probe.name): skipped", milliseconds: 0)))
            } catch let failure as StepFailure {
                var cause = Self.nmError(failure.error)
                cause.message = "\(probe.name): \(cause.message)"
                cause.hint = cause.hint ?? "the change cut connectivity it should keep; it was rolled back"
                throw StepFailure(step: .probe, error: cause)
            }
        }
    }
}
