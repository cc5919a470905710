import DBus
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

extension NMClient {
    /// Applies a transaction: validate and plan; checkpoint all devices; stage new and changed
    /// profiles in memory with autoconnect blocked; activate (controllers before ports), each
    /// awaited; verify; run the probes; then commit (persist, supersede, destroy the checkpoint).
    ///
    /// On any failure, timeout or task cancellation it rolls back through the checkpoint, waits
    /// until the devices settle, removes what it staged, and throws ``NMTransactionError`` with
    /// the step, the root cause, the rollback's own outcome and a hint. If nothing had been
    /// written yet, it destroys the checkpoint instead (a rollback would re-activate every
    /// device for nothing). If NetworkManager lost the checkpoint (it restarted), it waits for
    /// NetworkManager to come back and undoes the staging itself: staged profiles removed,
    /// modified ones restored, the profiles active before activated again.
    ///
    /// If this process dies, NetworkManager rolls back by itself once the checkpoint's timeout
    /// passes (it is kept alive by a heartbeat while the transaction works).
    ///
    /// - Parameters:
    ///   - plan: the plan shown to whoever approved the change (from ``plan(_:)``). The
    ///     transaction is planned again; if the result differs (someone changed a profile it
    ///     modifies, or the host changed so that a step is now done or to do), nothing is
    ///     touched and ``NMTransactionError`` is thrown with ``NMError/Code/versionIDMismatch``.
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
        confirmTimeout: Duration = .seconds(120), basedOn state: (snapshot: NMSnapshot, profiles: [NMStoredProfile])? = nil,
        progress: (@Sendable (NMTransactionEvent) -> Void)? = nil
    ) async throws -> NMTransactionResult {
        let run = TransactionRun(client: self, transaction: transaction, progress: progress)
        let host = state.map { HostObjects(profiles: $0.profiles, active: $0.snapshot.activeConnections, devices: $0.snapshot.devices,
                                           ipv4: $0.snapshot.ipv4, checkpoints: $0.snapshot.checkpoints) }
        return try await run.execute(expected: plan, commit: commit, confirmTimeout: confirmTimeout, host: host)
    }

    /// Transactions applied with `commit: false` that are still waiting, found through the
    /// checkpoints that exist and the profiles the transactions staged.
    public func pendingTransactions() async throws -> [NMPendingTransaction] {
        let checkpoints = try await checkpoints()
        let profiles = try await profiles()
        var byID: [UUID: NMPendingTransaction] = [:]
        var live: Set<UUID> = []
        for stored in profiles {
            let tags = stored.profile.userData
            guard let idText = tags[Tag.transaction], let id = UUID(uuidString: idText),
                let checkpointPath = tags[Tag.checkpoint]
            else { continue }
            let created = tags[Tag.checkpointCreated].flatMap { Int64($0) }
            let checkpoint = checkpoints.first { Self.isCheckpoint($0, path: checkpointPath, created: created) }
            var pending = byID[id] ?? NMPendingTransaction(
                id: id, checkpoint: checkpointPath, label: tags[Tag.label] ?? "", staged: [],
                superseded: Self.uuidList(tags[Tag.supersedes]), deleted: Self.uuidList(tags[Tag.deletes]),
                revertsAt: checkpoint?.expiry, checkpointCreated: created)
            if tags[Tag.staged] != "backup" { pending.staged.append(stored.profile.uuid) }
            byID[id] = pending
            if checkpoint != nil { live.insert(id) }
        }
        // A transaction whose checkpoint is gone was rolled back (or confirmed) already, or
        // NetworkManager restarted under it: removeStaleTransactions() cleans those up.
        return byID.values.filter { live.contains($0.id) }.sorted { $0.id.uuidString < $1.id.uuidString }
    }

    /// Whether `checkpoint` is the one a transaction recorded (same path, and the same
    /// creation time when known: paths are reused after NetworkManager restarts).
    static func isCheckpoint(_ checkpoint: NMCheckpoint, path: String, created: Int64?) -> Bool {
        checkpoint.path.rawValue == path && (created == nil || created == checkpoint.createdBootTimeMilliseconds)
    }

    /// The live checkpoint of a pending transaction, or nil when it is gone.
    func liveCheckpoint(of pending: NMPendingTransaction) async throws -> ObjectPath? {
        try await checkpoints().first { Self.isCheckpoint($0, path: pending.checkpoint, created: pending.checkpointCreated) }?.path
    }

    /// Confirms a pending transaction: persists what it staged, supersedes and deletes what it
    /// said it would, and destroys its checkpoint.
    ///
    /// - Throws: ``NMError`` (``NMError/Code/invalidArguments``) when its checkpoint is gone:
    ///   rolled back by its timeout or by hand, confirmed already, or lost when NetworkManager
    ///   restarted. Nothing is committed then.
    public func confirm(_ pending: NMPendingTransaction) async throws {
        guard let checkpoint = try await liveCheckpoint(of: pending) else {
            throw NMError(.invalidArguments, "transaction \(pending.id.uuidString.lowercased()) is no longer pending: its checkpoint is gone",
                          hint: "it was rolled back (by its timeout or by hand) or confirmed already; if NetworkManager restarted, removeStaleTransactions() undoes what it staged")
        }
        // Keep the checkpoint from expiring while committing (this also proves it is still there).
        try await adjustRollbackTimeout(checkpoint, to: .seconds(60))
        try await commitStaged(transactionID: pending.id, superseded: pending.superseded, deleted: pending.deleted)
        try await destroyCheckpoint(checkpoint)
    }

    /// Rolls a pending transaction back now rather than waiting for its timeout.
    public func rollback(_ pending: NMPendingTransaction) async throws {
        if let checkpoint = try await liveCheckpoint(of: pending) {
            _ = try await rollback(checkpoint)
            try await removeStaged(transactionID: pending.id, originals: [:])
        } else {
            try await undoWithoutCheckpoint(transactionID: pending.id, originals: [:], reactivate: nil, newDevices: nil,
                                            settle: .seconds(30))
        }
    }

    /// Undoes what transactions staged whose checkpoint no longer exists: left behind when
    /// NetworkManager restarted (a crash, not a reboot) in the middle of a transaction, or
    /// while one was pending, since staged profiles live in /run and checkpoints only in the
    /// daemon's memory. NetworkManager comes back with the staged configuration still
    /// active; this deletes the staged profiles, gives modified profiles back their settings
    /// (from the copy the transaction kept), activates again the profiles that were active
    /// before, and waits until the devices settle.
    ///
    /// - Parameter state: the host as the caller has just read it (``snapshotWithProfiles()``),
    ///   to look for stale transactions without reading it again; nil reads it.
    /// - Returns: the names of the profiles removed or restored.
    @discardableResult
    public func removeStaleTransactions(basedOn state: (snapshot: NMSnapshot, profiles: [NMStoredProfile])? = nil,
                                        settle: Duration = .seconds(30)) async throws -> [String] {
        // Checkpoints and profiles from one read.
        let host: HostObjects
        if let state {
            host = HostObjects(profiles: state.profiles, active: state.snapshot.activeConnections, devices: state.snapshot.devices,
                               ipv4: state.snapshot.ipv4, checkpoints: state.snapshot.checkpoints)
        } else {
            host = try await hostObjects()
        }
        let checkpoints = host.checkpoints
        var stale: Set<UUID> = []
        for stored in host.profiles {
            let tags = stored.profile.userData
            guard let id = tags[Tag.transaction].flatMap(UUID.init(uuidString:)) else { continue }
            // A backup without a checkpoint: its transaction died before making one.
            guard let path = tags[Tag.checkpoint] else {
                stale.insert(id)
                continue
            }
            let created = tags[Tag.checkpointCreated].flatMap { Int64($0) }
            if !checkpoints.contains(where: { Self.isCheckpoint($0, path: path, created: created) }) { stale.insert(id) }
        }
        var names: [String] = []
        for id in stale.sorted(by: { $0.uuidString < $1.uuidString }) {
            names += try await undoWithoutCheckpoint(transactionID: id, originals: [:], reactivate: nil, newDevices: nil, settle: settle)
        }
        return names
    }

    static func uuidList(_ text: String?) -> [UUID] {
        (text ?? "").split(separator: ",").compactMap { UUID(uuidString: String($0)) }
    }

    static func reactivateList(_ text: String?) -> [ActiveBefore] {
        (text ?? "").split(separator: ",").compactMap { entry in
            let parts = entry.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let uuid = UUID(uuidString: String(parts[1])) else { return nil }
            return ActiveBefore(interface: String(parts[0]), uuid: uuid)
        }
    }

    /// The tags removed, the intended autoconnect put back.
    static func untagged(_ profile: NMConnectionProfile) -> NMConnectionProfile {
        var profile = profile
        let tags = profile.userData
        if let autoconnect = tags[Tag.autoconnect] {
            profile.connection.autoconnect = autoconnect == "default" ? nil : autoconnect == "true"
        }
        profile.userData = tags.filter { !$0.key.hasPrefix(Tag.prefix) }
        return profile
    }

    /// Persists every profile staged by `transactionID` with its intended autoconnect and
    /// without the tags (in the storage it had before, for a modified one), deletes the
    /// backups, makes `superseded` unable to autoconnect, deletes `deleted`.
    ///
    /// `known`: the profiles the transaction wrote (staged ones and backups), with their paths,
    /// when the process that staged them commits: then they are not listed again.
    func commitStaged(transactionID: UUID, superseded: [UUID], deleted: [UUID],
                      known: [(path: ObjectPath, profile: NMConnectionProfile)]? = nil,
                      knownProfiles: [UUID: NMStoredProfile] = [:]) async throws {
        var backups: [ObjectPath] = []
        var written: [(path: ObjectPath, profile: NMConnectionProfile)] = []
        if let known {
            written = known
        } else {
            written = try await profiles().map { ($0.path, $0.profile) }
        }
        for stored in written where stored.profile.userData[Tag.transaction] == transactionID.uuidString {
            let tags = stored.profile.userData
            if tags[Tag.staged] == "backup" {
                backups.append(stored.path)
                continue
            }
            let storage: NMUpdateStorage = tags[Tag.originalStorage] == "memory" ? .memory : .disk
            try await updateProfile(stored.path, to: Self.untagged(stored.profile), storage: storage)
        }
        for path in backups { try await deleteProfile(path) }
        for uuid in superseded {
            // Re-read before the change; by the path known from planning when it still holds
            // this profile, else looked up by UUID.
            var current: NMStoredProfile?
            if let known = knownProfiles[uuid], let read = try? await rereadSettings(of: known), read.profile.uuid == uuid { current = read }
            if current == nil { current = try await profile(uuid: uuid.uuidString.lowercased()) }
            guard let stored = current else { continue }
            var profile = stored.profile
            guard profile.connection.autoconnect != false else { continue }
            profile.connection.autoconnect = false
            try await updateProfile(stored.path, to: profile, storage: stored.isInMemory ? .unchanged : .disk)
        }
        for uuid in deleted {
            if let stored = try await profile(uuid: uuid.uuidString.lowercased()) { try await deleteProfile(stored.path) }
        }
    }

    /// Undoes the staging of `transactionID` (after a checkpoint rollback, or without one):
    /// - a profile it added is deleted;
    /// - a profile it modified gets its settings back, in the storage it had: from
    ///   `originals` when this process still knows them, else from the backup the transaction
    ///   kept in memory; backups are deleted;
    /// - a profile that was on disk and is in memory now is written back to disk
    ///   (NetworkManager before 1.48 restores an in-memory shadow without dropping it:
    ///   docs/networkmanager-quirks.md).
    ///
    /// - Returns: the names of the profiles deleted or restored.
    @discardableResult
    func removeStaged(transactionID: UUID, originals: [UUID: NMStoredProfile]) async throws -> [String] {
        try await removeStagedReporting(transactionID: transactionID, originals: originals).names
    }

    /// ``removeStaged(transactionID:originals:)``, also saying which profiles got their
    /// settings back (an active one must be activated again for them to apply).
    func removeStagedReporting(transactionID: UUID, originals: [UUID: NMStoredProfile]) async throws -> (names: [String], restored: Set<UUID>) {
        var restoredSettings: Set<UUID> = []
        let all = try await profiles()
        let ours = all.filter { $0.profile.userData[Tag.transaction] == transactionID.uuidString }
        var backups: [UUID: NMStoredProfile] = [:]
        for stored in ours where stored.profile.userData[Tag.staged] == "backup" {
            if let uuid = stored.profile.userData[Tag.backupOf].flatMap(UUID.init(uuidString:)) { backups[uuid] = stored }
        }
        var names: [String] = []
        for stored in ours where stored.profile.userData[Tag.staged] != "backup" {
            let uuid = stored.profile.uuid
            let tags = stored.profile.userData
            if let original = originals[uuid] {
                try await updateProfile(stored.path, to: original.profile, storage: original.isInMemory ? .memory : .disk)
                restoredSettings.insert(uuid)
            } else if let backup = backups[uuid] {
                var profile = Self.untagged(backup.profile)
                profile.connection.uuid = uuid
                profile.connection.id = backup.profile.userData[Tag.originalName] ?? stored.profile.name
                let storage: NMUpdateStorage = backup.profile.userData[Tag.originalStorage] == "memory" ? .memory : .disk
                try await updateProfile(stored.path, to: profile, storage: storage)
                restoredSettings.insert(uuid)
            } else if tags[Tag.staged] == "modify" {
                // A modified profile whose original is nowhere: leave it for a person rather
                // than delete the user's profile (deleting a shadowing copy deletes the file too).
                continue
            } else {
                try await deleteProfile(stored.path)
            }
            names.append(stored.profile.name)
        }
        // A backup whose original is no longer staged: NetworkManager's checkpoint rollback
        // restored the settings, but before 1.48 leaves the profile in memory. Put it back
        // where it was, only if its settings are still exactly the backup's (else someone has
        // changed it since, and that change stays).
        let codec = try await codec()
        for (uuid, backup) in backups where originals[uuid] == nil && !ours.contains(where: { $0.profile.uuid == uuid }) {
            guard let current = all.first(where: { $0.profile.uuid == uuid }) else { continue }
            var restored = Self.untagged(backup.profile)
            restored.connection.uuid = uuid
            restored.connection.id = backup.profile.userData[Tag.originalName] ?? current.profile.name
            let wasOnDisk = backup.profile.userData[Tag.originalStorage] != "memory"
            if wasOnDisk, current.isInMemory,
                try Self.planText(current.profile, codec: codec) == Self.planText(restored, codec: codec)
            {
                try await updateProfile(current.path, to: restored, storage: .disk)
                names.append(current.profile.name)
            }
        }
        for backup in backups.values { try await deleteProfile(backup.path) }
        for stored in all where !ours.contains(stored) {
            if let original = originals[stored.profile.uuid], !original.isInMemory, stored.isInMemory {
                try await persistProfile(stored.path)
            }
        }
        return (names, restoredSettings)
    }

    /// Undoes a transaction whose checkpoint NetworkManager lost (it restarted, and checkpoints
    /// live only in its memory), or that someone destroyed: waits for NetworkManager to be
    /// back and done starting up, removes the staging (``removeStaged(transactionID:originals:)``),
    /// deletes the software devices the transaction created (`newDevices`, or the list the
    /// staged profiles carry: NetworkManager may keep a half-configured one as "external"),
    /// activates again the profiles that were active before (`reactivate`, or the list the
    /// staged profiles carry) where something else is active now or nothing, and waits until
    /// the devices settle.
    @discardableResult
    func undoWithoutCheckpoint(transactionID: UUID, originals: [UUID: NMStoredProfile], reactivate: [ActiveBefore]?,
                               newDevices: [String]?, settle: Duration) async throws -> [String] {
        try await waitUntilRunning(timeout: settle)
        let tagged = try await profiles().filter { $0.profile.userData[Tag.transaction] == transactionID.uuidString }
        let reactivate = reactivate ?? Self.reactivateList(tagged.lazy.compactMap { $0.profile.userData[Tag.reactivate] }.first)
        let newDevices = newDevices ?? (tagged.lazy.compactMap { $0.profile.userData[Tag.newDevices] }.first ?? "")
            .split(separator: ",").map(String.init)
        let signals = try await allSignals()
        let (names, restoredSettings) = try await removeStagedReporting(transactionID: transactionID, originals: originals)
        try await waitUntilSettled(nil, signals: signals, timeout: settle)
        for interface in newDevices {
            guard let device = try? await device(named: interface), device.isReal else { continue }
            let removal = try await allSignals()
            try await deleteDevice(device.path)
            // Gone once NetworkManager says so (DeviceRemoved, or the object stays but is no
            // longer real), so that nothing below sees it.
            try await withDeadline(settle, what: "removal of \(interface)") {
                for try await signal in removal {
                    if signal.member == "DeviceRemoved" && signal.body.first == .objectPath(device.path) { return }
                    if signal.path == device.path, (try? await self.device(at: device.path))?.isReal != true { return }
                }
                try Task.checkCancellation()
                throw NMError(.disconnected, "NetworkManager's signals ended while removing \(interface)")
            }
        }
        for entry in reactivate {
            guard let device = try? await device(named: entry.interface) else { continue }
            // Already back, unless it runs with the settings the transaction gave it.
            if let activePath = device.activeConnection, let active = try? await activeConnection(at: activePath),
                active.uuid.lowercased() == entry.uuid.uuidString.lowercased(), active.state != .deactivating,
                !restoredSettings.contains(entry.uuid)
            {
                continue
            }
            guard let stored = try await profile(uuid: entry.uuid.uuidString.lowercased()) else { continue }
            try await activate(stored.path, on: device.path, waitFor: .activated, timeout: settle)
        }
        let settled = try await allSignals()
        try await waitUntilSettled(nil, signals: settled, timeout: settle)
        return names
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

    /// Runs one step, recording its duration; a failure is tagged with the step.
    func step<T>(_ step: NMTransactionStep, _ detail: String, _ body: () async throws -> T) async throws -> T {
        progress?(.started(step, detail))
        let started = ContinuousClock.now
        do {
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
    /// Every profile this run wrote (backups, staged adds and modifies) as last written, with
    /// its path: what the commit persists, without listing the profiles again.
    let written = Mutex<[(path: ObjectPath, profile: NMConnectionProfile)]>([])

    func remember(_ path: ObjectPath, _ profile: NMConnectionProfile) {
        written.withLock { list in
            list.removeAll { $0.path == path }
            list.append((path, profile))
        }
    }

    func markTouched() { touched.withLock { $0 = true } }

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
        do {
            checkpoint = try await step(.checkpoint, "all devices, rollback after \(timeout)") {
                // Copies of the profiles to modify, as they are, made *before* the checkpoint so
                // that its rollback does not delete them as new: they outlive a rollback that
                // NetworkManager does by itself after this process died, and a restart of
                // NetworkManager, and let removeStaleTransactions() restore the originals.
                try await keepBackups(prepared)
                try await client.keepSignalRule()
                instance = client.runningInstance
                do {
                    let checkpoint = try await client.createCheckpoint(rollbackTimeout: timeout, flags: flags)
                    try await tagBackups(with: checkpoint)
                    return checkpoint
                } catch {
                    _ = try? await client.removeStaged(transactionID: id, originals: prepared.existing)
                    throw error
                }
            }
        } catch let failure as StepFailure {
            throw NMTransactionError(step: .checkpoint, cause: Self.nmError(failure.error), rollback: .notNeeded,
                                     steps: records.withLock { $0 })
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

        do {
            try await stage(prepared, checkpoint: checkpoint)
            let gateway = try await activate(prepared)
            try await runAfterActivation()
            if transaction.verify { try await verify(prepared) }
            try await runProbes(gateway: gateway)
            heartbeat.cancel()
            if commit {
                try await step(.commit, "persist, supersede, destroy checkpoint") {
                    // Nothing is persisted unless the checkpoint still guards the change: it is
                    // gone if NetworkManager restarted meanwhile (checkpoints live in its
                    // memory), and committing then would make permanent a state no one verified
                    // since. The adjustment also keeps it from expiring while committing.
                    try await keepCheckpoint(checkpoint, for: timeout, instance: instance)
                    try await client.commitStaged(transactionID: id, superseded: superseded(prepared), deleted: deleted(prepared),
                                                  known: written.withLock { $0 }, knownProfiles: prepared.existing)
                    try await client.destroyCheckpoint(checkpoint.path)
                }
                return NMTransactionResult(outcome: .committed, plan: plan, steps: records.withLock { $0 }, pending: nil)
            }
            try await keepCheckpoint(checkpoint, for: confirmTimeout, instance: instance)
            let pending = NMPendingTransaction(
                id: id, checkpoint: checkpoint.path.rawValue, label: transaction.label,
                staged: Array(prepared.adds.keys) + Array(prepared.modifies.keys),
                superseded: superseded(prepared), deleted: deleted(prepared),
                revertsAt: Date().addingTimeInterval(Double(confirmTimeout.components.seconds)),
                checkpointCreated: checkpoint.createdBootTimeMilliseconds)
            return NMTransactionResult(outcome: .pending, plan: plan, steps: records.withLock { $0 }, pending: pending)
        } catch {
            heartbeat.cancel()
            let failedStep = (error as? StepFailure)?.step ?? .commit
            let cause = Self.nmError((error as? StepFailure)?.error ?? error)
            // Roll back even when this task was cancelled: a new task does not inherit that.
            let rollback = await Task { () -> NMTransactionError.Rollback in
                await self.undo(prepared, checkpoint: checkpoint)
            }.value
            throw NMTransactionError(step: failedStep, cause: cause, rollback: rollback, steps: records.withLock { $0 })
        }
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
        do {
            current = try await client.checkpoint(at: checkpoint.path)
        } catch let error as NMError where error.code == .notImplemented {
            current = nil
        }
        guard let current, NMClient.isCheckpoint(current, path: checkpoint.path.rawValue, created: checkpoint.createdBootTimeMilliseconds) else {
            throw NMError(.failed, "the transaction's checkpoint \(checkpoint.path) is gone: NetworkManager restarted, or someone destroyed or rolled it back",
                          hint: "nothing was committed; the change is undone without the checkpoint")
        }
    }

    /// Undoes the transaction after a failure. Three cases:
    /// - nothing was written: the checkpoint is destroyed (a rollback would re-activate every
    ///   device for nothing);
    /// - the checkpoint exists: rolled back, devices settled, staging removed;
    /// - it is gone (NetworkManager restarted, or someone destroyed it): undone without it.
    func undo(_ prepared: NMClient.Prepared, checkpoint: NMCheckpoint) async -> NMTransactionError.Rollback {
        let started = ContinuousClock.now
        if !touched.withLock({ $0 }) {
            do {
                try await client.destroyCheckpoint(checkpoint.path)
                // Only the backups exist: no network state was changed.
                try await client.removeStaged(transactionID: id, originals: prepared.existing)
                record(.rollback, "nothing was written: checkpoint destroyed, no rollback needed", since: started)
                return .notNeeded
            } catch {
                // NetworkManager is gone, or the checkpoint already is: the full undo below
                // copes with both, and rolling back an unchanged host is only a blip.
            }
        }
        progress?(.started(.rollback, "restoring the checkpoint"))
        do {
            var detail = "restored"
            do {
                _ = try await client.rollback(checkpoint.path, settle: .seconds(30))
                try await client.removeStaged(transactionID: id, originals: prepared.existing)
            } catch {
                // Was the checkpoint lost? Wait for NetworkManager (it may be restarting), look.
                try await client.waitUntilRunning(timeout: .seconds(30))
                if (try? await requireCheckpoint(checkpoint)) != nil {
                    _ = try await client.rollback(checkpoint.path, settle: .seconds(30))
                    try await client.removeStaged(transactionID: id, originals: prepared.existing)
                } else {
                    try await client.undoWithoutCheckpoint(transactionID: id, originals: prepared.existing,
                                                           reactivate: prepared.activeBefore, newDevices: prepared.newDevices,
                                                           settle: .seconds(30))
                    detail = "restored without the checkpoint, which was gone (\(Self.nmError(error).message)): "
                        + "staging removed, the profiles active before activated again"
                }
            }
            record(.rollback, detail, since: started)
            return .restored(ContinuousClock.now - started)
        } catch {
            record(.rollback, "FAILED: \(error)", since: started)
            return .failed(Self.nmError(error))
        }
    }

    static func nmError(_ error: any Error) -> NMError {
        switch error {
        case let error as NMError: return error
        case let error as DBusError: return NMError(error)
        case let failure as StepFailure: return nmError(failure.error)
        case is CancellationError: return NMError(.failed, "the transaction's task was cancelled", hint: "the change was rolled back")
        case let skipped as NMProbeSkipped: return NMError(.failed, skipped.reason)
        default: return NMError(.failed, "\(error)")
        }
    }

    func superseded(_ prepared: NMClient.Prepared) -> [UUID] {
        transaction.changes.compactMap { if case .supersede(let uuid) = $0 { return uuid } else { return nil } }
    }

    func deleted(_ prepared: NMClient.Prepared) -> [UUID] {
        transaction.changes.compactMap { if case .delete(let uuid) = $0 { return uuid } else { return nil } }
    }

    func tags(_ autoconnect: Bool?, staged: String, checkpoint: NMCheckpoint, prepared: NMClient.Prepared) -> [String: String] {
        [
            NMClient.Tag.transaction: id.uuidString,
            NMClient.Tag.checkpoint: checkpoint.path.rawValue,
            NMClient.Tag.checkpointCreated: String(checkpoint.createdBootTimeMilliseconds),
            NMClient.Tag.staged: staged,
            NMClient.Tag.autoconnect: autoconnect.map { $0 ? "true" : "false" } ?? "default",
            NMClient.Tag.label: transaction.label,
            NMClient.Tag.supersedes: superseded(prepared).map(\.uuidString).joined(separator: ","),
            NMClient.Tag.deletes: deleted(prepared).map(\.uuidString).joined(separator: ","),
            NMClient.Tag.reactivate: prepared.activeBefore.map { "\($0.interface)=\($0.uuid.uuidString)" }.joined(separator: ","),
            NMClient.Tag.newDevices: prepared.newDevices.joined(separator: ","),
        ].filter { !$0.value.isEmpty }
    }

    /// The profiles the plan modifies, each copied as it is into an inert in-memory profile
    /// (new UUID, autoconnect off, tagged `backup`). No network state changes.
    func keepBackups(_ prepared: NMClient.Prepared) async throws {
        for planned in prepared.plan.steps where planned.kind == .modify && !planned.alreadyDone {
            guard let stored = prepared.existing[planned.uuid] else { continue }
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

    /// Records the checkpoint on the backups (a backup without it belongs to a transaction that
    /// died before its checkpoint existed).
    func tagBackups(with checkpoint: NMCheckpoint) async throws {
        // The backups this run just added (their paths from AddConnection2's replies).
        for stored in written.withLock({ $0 })
        where stored.profile.userData[NMClient.Tag.transaction] == id.uuidString && stored.profile.userData[NMClient.Tag.staged] == "backup" {
            var profile = stored.profile
            profile.userData[NMClient.Tag.checkpoint] = checkpoint.path.rawValue
            profile.userData[NMClient.Tag.checkpointCreated] = String(checkpoint.createdBootTimeMilliseconds)
            try await client.updateProfile(stored.path, to: profile, storage: .memory)
            remember(stored.path, profile)
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
                    for active in try await client.activeConnections() where active.uuid.lowercased() == planned.uuid.uuidString.lowercased() {
                        try await client.deactivate(active.path)
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
                            $0.uuid.lowercased() == portProfile.profile.uuid.uuidString.lowercased()
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
        try await step(.verify, "addresses, gateway, ports, MAC") {
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
                                             "ActiveConnection", "Devices", "Controller", "Master"]
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
