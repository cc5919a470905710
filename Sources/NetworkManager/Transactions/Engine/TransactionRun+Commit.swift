import DBus
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// The checkpoint, the bookkeeping record, commit and undo.
extension TransactionRun {
    /// `CheckpointCreate`, with its doubt resolved: when the call was sent and its reply never
    /// read (a timeout, the connection lost), NetworkManager may hold the checkpoint anyway.
    /// A checkpoint of all devices created since the call was sent is then this one (no other
    /// can exist beside one of all devices).
    ///
    /// Its creation time is not read (no `GetAll`): NetworkManager set `Created` after the
    /// call was sent and before its reply was read, and that range is what identifies the
    /// checkpoint from now on (``NMClient/isCheckpoint(_:path:created:until:)``). A checkpoint
    /// at the same path made by a restarted NetworkManager cannot fall in it: a restart before
    /// the reply fails the call, one after it comes later than the range's end.
    func createCheckpoint(timeout: Duration, flags: NMCheckpointFlags) async throws -> NMCheckpoint {
        let sent = NMCheckpoint.bootTimeMilliseconds()
        do throws(any Error) {
            let path = try await client.sendCheckpointCreate(rollbackTimeout: timeout, flags: flags)
            let received = NMCheckpoint.bootTimeMilliseconds()
            let seconds = timeout.components.seconds + (timeout.components.attoseconds > 0 ? 1 : 0)
            // A margin for rounding: both clocks are CLOCK_BOOTTIME in whole milliseconds.
            return NMCheckpoint(path: path, createdBetween: sent - Self.createdMargin, and: received + Self.createdMargin,
                                rollbackTimeout: UInt32(clamping: seconds))
        } catch let error as NMError where ![.checkpointOverlap, .permissionDenied, .unsupportedByVersion, .invalidArguments].contains(error.code) {
            try? await client.waitUntilRunning(timeout: .seconds(30))
            if let made = try? await client.checkpoints().first(where: { $0.createdBootTimeMilliseconds >= sent }) {
                record(.checkpoint, "CheckpointCreate's reply was lost (\(error.message)); found \(made.path), made since it was sent", since: .now)
                return made
            }
            throw error
        }
    }

    /// Milliseconds added on both sides of the range in which a checkpoint this run made was
    /// created.
    static let createdMargin: Int64 = 5

    /// Adds the record (or the witness): inert, in memory, autoconnect blocked.
    func addBookkeeping(witness: Bool, _ fill: (inout NMStagedProfileTag) -> Void) async throws -> ObjectPath {
        var tag = NMStagedProfileTag(transaction: id, role: witness ? .witness : .record)
        tag.label = transaction.label.isEmpty ? nil : transaction.label
        fill(&tag)
        let profile = NMClient.bookkeepingProfile(for: id, witness: witness, tag: tag)
        let path = try await client.addProfile(profile, storage: .memory, blockAutoconnect: true)
        remember(path, profile)
        return path
    }

    /// What this run's commit writes, from what it wrote and planned (no listing of profiles).
    func commitWork(_ prepared: NMClient.Prepared, checkpoint: NMCheckpoint, recordPath: ObjectPath?,
                    record: NMTransactionRecord) -> NMClient.CommitWork {
        let staged = writtenProfiles(.add) + writtenProfiles(.modify)
        // The witness last: a record without a witness would read as "rolled back" (and be undone).
        let cleanup = writtenProfiles(.backup).map(\.path) + [recordPath].compactMap { $0 } + writtenProfiles(.witness).map(\.path)
        let recordProfile = recordPath.flatMap { path in
            written.withLock { $0 }.first { $0.path == path }.map {
                NMStoredProfile(path: path, profile: $0.profile, flags: .unsaved, filename: nil, versionID: nil)
            }
        }
        return NMClient.CommitWork(recordProfile: recordProfile, record: record, staged: staged,
                                   superseded: superseded(prepared), deleted: deleted(prepared), cleanup: cleanup,
                                   checkpoint: checkpoint.path, known: prepared.existing,
                                   before: prepared.existing.mapValues(\.profile))
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
        let until = checkpoint.createdUntilBootTimeMilliseconds
        return NMClient.transactionViews(host).first { $0.id == id }
            ?? NMClient.TransactionView(id: id, checkpointPath: path, checkpointCreated: created, checkpointCreatedUntil: until,
                                        checkpoint: host.checkpoints.first { NMClient.isCheckpoint($0, path: path, created: created, until: until) })
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
        guard let current, NMClient.isCheckpoint(current, path: checkpoint.path.rawValue, created: checkpoint.createdBootTimeMilliseconds,
                                                 until: checkpoint.createdUntilBootTimeMilliseconds) else {
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
}
