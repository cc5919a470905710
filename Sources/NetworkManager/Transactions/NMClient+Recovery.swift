import DBus
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Finishing or undoing a transaction from the state the host is in: what the running
/// transaction does after a failure, what `confirm`, `rollback` and `removeStaleTransactions()`
/// do for a transaction another process left, and the read that says where the host ended.
extension NMClient {
    /// One transaction as a read of the host shows it: its record and witness, its staged
    /// profiles and backups, and its checkpoint if that still exists.
    struct TransactionView: Sendable {
        var id: UUID
        /// nil for a transaction staged by an older version (tags on its profiles only).
        var record: NMTransactionRecord?
        var recordProfile: NMStoredProfile?
        /// The witness when it is a profile of its own (role `witness`): bookkeeping.
        var witness: NMStoredProfile?
        /// The witness when it is a staged add (``NMTransactionRecord/witness``), tagged or
        /// already committed: part of the change, never deleted as bookkeeping.
        var stagedWitness: NMStoredProfile?
        /// Whether the witness, of either kind, exists.
        var hasWitness: Bool { witness != nil || stagedWitness != nil }
        /// Profiles still tagged `add` or `modify`.
        var staged: [NMStoredProfile] = []
        var backups: [NMStoredProfile] = []
        var checkpointPath: String?
        var checkpointCreated: Int64?
        /// The latest its checkpoint can have been created, when only a range is known.
        var checkpointCreatedUntil: Int64?
        /// The transaction's checkpoint, when it still exists.
        var checkpoint: NMCheckpoint?
        var label: String = ""

        /// A witness without its record is what a finished commit leaves when it is cut short
        /// between deleting the two (the record goes first): committing.
        ///
        /// With a staged witness, the commit's first write is that add written to disk without
        /// its tags (``NMClient/runCommit(_:fence:check:)``), not the record's phase: an
        /// untagged staged witness means `committing`.
        var phase: NMTransactionRecord.Phase {
            guard let record else { return recordProfile == nil && witness != nil ? .committing : .staging }
            if record.phase == .committing { return .committing }
            if record.witness != nil, let stagedWitness, stagedWitness.profile.stagedTag == nil { return .committing }
            return .staging
        }

        /// What a read can say about the transaction.
        enum Condition: Equatable {
            /// Its checkpoint exists: it is running, or waiting for confirmation.
            case live
            /// No checkpoint was recorded: it died before making one (or is making it now).
            case noCheckpoint(abandoned: Bool)
            /// The checkpoint is gone and so is the witness: NetworkManager rolled it back.
            case rolledBack
            /// The checkpoint is gone without a rollback (a restart of NetworkManager, a foreign
            /// `CheckpointDestroy`, or the end of a commit).
            case checkpointLost
        }

        var condition: Condition {
            if checkpoint != nil { return .live }
            guard checkpointPath != nil else {
                // Its process may be about to make it: abandoned once that process is gone (or,
                // where that cannot be read, after a grace period).
                if let alive = record?.ownerAlive { return .noCheckpoint(abandoned: !alive) }
                let age = record.map { NMCheckpoint.bootTimeMilliseconds() - $0.createdBootTimeMilliseconds } ?? .max
                return .noCheckpoint(abandoned: age > NMTransactionRecord.inProgressGraceMilliseconds)
            }
            // Only the witness is left: the commit finished and was cut short deleting its
            // bookkeeping (the record goes before the witness).
            if recordProfile == nil, witness != nil { return .checkpointLost }
            // A transaction staged by an older version has no witness: its staged profiles,
            // which a rollback deletes, play that part.
            if record == nil { return staged.isEmpty ? .rolledBack : .checkpointLost }
            return hasWitness ? .checkpointLost : .rolledBack
        }

        /// Every profile that carries this transaction's tags, the witness last (a record
        /// without its witness would read as "rolled back").
        var bookkeeping: [NMStoredProfile] { backups + [recordProfile, witness].compactMap { $0 } }

        /// The tags of the staged profiles, in order.
        var stagedTags: [NMStagedProfileTag] { staged.compactMap(\.profile.stagedTag) }

        /// What a transaction staged by an older version (no record) listed on its staged
        /// profiles: the first profile that carries each list.
        var legacySupersedes: [UUID] { stagedTags.first { !$0.supersedes.isEmpty }?.supersedes ?? [] }
        var legacyDeletes: [UUID] { stagedTags.first { !$0.deletes.isEmpty }?.deletes ?? [] }
        var legacyReactivate: [ActiveBefore] { stagedTags.first { !$0.reactivate.isEmpty }?.reactivate ?? [] }
        var legacyNewDevices: [String] { stagedTags.first { !$0.newDevices.isEmpty }?.newDevices ?? [] }

        /// The staged profiles in `role` (`add` or `modify`).
        func staged(_ role: NMStagedProfileTag.Role) -> [NMStoredProfile] {
            staged.filter { $0.profile.stagedTag?.role == role }
        }

        /// The profiles the backups preserve, as they were (UUID, name, storage and
        /// autoconnect of the original; the tag removed), by the original's UUID.
        var originalsFromBackups: [UUID: NMStoredProfile] {
            var originals: [UUID: NMStoredProfile] = [:]
            for backup in backups {
                guard let tag = backup.profile.stagedTag, let uuid = tag.backupOf, originals[uuid] == nil else { continue }
                var profile = NMClient.untagged(backup.profile)
                profile.connection.uuid = uuid
                profile.connection.id = tag.originalName ?? profile.name
                originals[uuid] = NMStoredProfile(path: backup.path, profile: profile,
                                                  flags: tag.originalStorage == .memory ? .unsaved : [], filename: nil, versionID: nil)
            }
            return originals
        }
    }

    /// The transactions that left profiles behind, from one read of the host.
    static func transactionViews(_ host: HostObjects) -> [TransactionView] {
        var views: [UUID: TransactionView] = [:]
        for stored in host.profiles {
            guard let tag = stored.profile.stagedTag else { continue }
            let id = tag.transaction
            var view = views[id] ?? TransactionView(id: id)
            switch tag.role {
            case .record?:
                view.recordProfile = stored
                view.record = tag.record
                if let label = view.record?.label { view.label = label }
            case .witness?: view.witness = stored
            case .backup?: view.backups.append(stored)
            default: view.staged.append(stored)
            }
            if view.label.isEmpty, let label = tag.label { view.label = label }
            if view.checkpointPath == nil, let path = tag.checkpoint {
                view.checkpointPath = path
                view.checkpointCreated = tag.checkpointCreated
                view.checkpointCreatedUntil = tag.checkpointCreatedUntil
            }
            views[id] = view
        }
        return views.values.map { view in
            var view = view
            if let witness = view.record?.witness {
                view.stagedWitness = host.profiles.first { $0.profile.uuid == witness }
            }
            if let path = view.checkpointPath {
                view.checkpoint = host.checkpoints.first {
                    isCheckpoint($0, path: path, created: view.checkpointCreated, until: view.checkpointCreatedUntil)
                }
            }
            return view
        }.sorted { $0.id.uuidString < $1.id.uuidString }
    }

    /// What an undo restores each touched profile to, and what activates again.
    struct UndoPlan: Sendable {
        /// Profiles as they were before (modified, superseded, deleted ones), by UUID, when this
        /// process knows them; else backups and the record say.
        var originals: [UUID: NMStoredProfile] = [:]
        var reactivate: [ActiveBefore]?
        var newDevices: [String]?
        /// Whether NetworkManager's checkpoint rollback ran (so devices are back already).
        var rolledBack = false
    }

    /// Brings the host back to exactly before the transaction, from whatever point it was
    /// interrupted at: deletes what it added (committed or not), gives modified, superseded and
    /// deleted profiles back their settings and storage, deletes the software devices it
    /// created, activates again what was active where something else (or nothing) is now, and
    /// removes its record, witness and backups. Every step looks before it writes, so running it
    /// twice, or after a partial run, is safe.
    ///
    /// - Returns: the names of the profiles deleted or restored.
    @discardableResult
    func undoTransaction(_ id: UUID, plan: UndoPlan, settle: Duration) async throws -> [String] {
        try await waitUntilRunning(timeout: settle)
        let host = try await hostObjects()
        let view = Self.transactionViews(host).first { $0.id == id } ?? TransactionView(id: id)
        let record = view.record
        var byUUID: [UUID: NMStoredProfile] = [:]
        for stored in host.profiles { byUUID[stored.profile.uuid] = stored }
        var names: [String] = []
        var restoredSettings: Set<UUID> = []

        // The originals: known by this process, else from the backups (and, for superseded
        // profiles, from the record: only their autoconnect and storage change).
        let originals = plan.originals.merging(view.originalsFromBackups) { known, _ in known }

        // 1. What the transaction added goes, committed or not.
        var adds = Set(record?.adds ?? [])
        for stored in view.staged(.add) { adds.insert(stored.profile.uuid) }
        for uuid in adds.sorted(by: { $0.uuidString < $1.uuidString }) {
            guard let stored = byUUID[uuid] else { continue }
            try await deleteIgnoringGone(stored.path)
            names.append(stored.profile.name)
        }
        // 2. What it modified or deleted gets its settings and storage back.
        var restore = Set(record?.modifies ?? []).union(record?.deletes ?? [])
        for stored in view.staged(.modify) { restore.insert(stored.profile.uuid) }
        let codec = try await codec()
        for uuid in restore.sorted(by: { $0.uuidString < $1.uuidString }) {
            guard let original = originals[uuid] else { continue }
            if let current = byUUID[uuid] {
                let sameSettings = try Self.planText(current.profile, codec: codec) == Self.planText(original.profile, codec: codec)
                    && current.profile.userData == original.profile.userData
                if sameSettings && current.isInMemory == original.isInMemory { continue }
                try await updateProfile(current.path, to: original.profile, storage: original.isInMemory ? .memory : .disk)
                // Only the storage was wrong (a checkpoint rollback restored it in memory): the
                // device already runs these settings, no re-activation.
                if !sameSettings { restoredSettings.insert(uuid) }
            } else {
                try await addProfile(original.profile, storage: original.isInMemory ? .memory : .disk)
            }
            names.append(original.profile.name)
        }
        // 3. What it superseded autoconnects as before, from where it was kept before. On
        //    NetworkManager before 1.48 a checkpoint rollback restores such a profile in memory,
        //    shadowing the file the commit wrote (docs/networkmanager-quirks.md).
        var superseded = record?.superseded ?? []
        if record == nil {
            for uuid in view.legacySupersedes {
                if let original = originals[uuid] {
                    superseded.append(.init(uuid: uuid, autoconnect: original.profile.connection.autoconnect, inMemory: original.isInMemory))
                }
            }
        }
        for entry in superseded {
            guard let current = byUUID[entry.uuid] else { continue }
            var wanted = originals[entry.uuid]?.profile ?? current.profile
            wanted.connection.autoconnect = entry.autoconnect
            let same = try Self.planText(current.profile, codec: codec) == Self.planText(wanted, codec: codec)
                && current.isInMemory == entry.inMemory
            if same { continue }
            try await updateProfile(current.path, to: wanted, storage: entry.inMemory ? .memory : .disk)
            names.append(current.profile.name)
        }
        // 4. Software devices it created (a checkpoint rollback disconnects them itself).
        let newDevices: [String] = plan.newDevices ?? record?.newDevices ?? view.legacyNewDevices
        for interface in newDevices {
            guard host.device(named: interface)?.isReal == true, let device = try? await device(named: interface), device.isReal else { continue }
            let removal = try await allSignals()
            do throws(any Error) {
                try await deleteDevice(device.path)
            } catch let error as NMError where error.dbusName?.hasSuffix(".NotSoftware") == true {
                continue  // unrealized meanwhile: its profile was deleted above
            }
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
        // 5. Its bookkeeping.
        for stored in view.bookkeeping { try await deleteIgnoringGone(stored.path) }
        // 6. What was active before is active again.
        let reactivate = plan.reactivate ?? record?.reactivate.map { ActiveBefore(interface: $0.interface, uuid: $0.uuid) }
            ?? view.legacyReactivate
        let signals = try await allSignals()
        try await waitUntilSettled(nil, signals: signals, timeout: settle)
        for entry in reactivate {
            guard let device = try? await device(named: entry.interface) else { continue }
            // Already back, unless it runs with settings the transaction gave it.
            if let activePath = device.activeConnection, let active = try? await activeConnection(at: activePath),
                active.uuid == entry.uuid, active.state != .deactivating,
                !restoredSettings.contains(entry.uuid)
            {
                continue
            }
            guard let stored = try await profile(uuid: entry.uuid) else { continue }
            try await activate(stored.path, on: device.path, waitFor: .activated, timeout: settle)
        }
        let settled = try await allSignals()
        try await waitUntilSettled(nil, signals: settled, timeout: settle)
        return names
    }

    /// What a commit writes, in order. The argument for the order is in docs/transactions.md
    /// ("The commit's writes, and why in this order").
    struct CommitWork: Sendable {
        var recordProfile: NMStoredProfile?
        var record: NMTransactionRecord?
        /// Staged profiles (still tagged), with their paths.
        var staged: [(path: ObjectPath, profile: NMConnectionProfile)]
        var superseded: [UUID]
        var deleted: [UUID]
        /// Backups, the witness (and the record, last): deleted once the checkpoint is destroyed.
        var cleanup: [ObjectPath]
        var checkpoint: ObjectPath?
        /// Profiles known from planning, re-read by path instead of being looked up.
        var known: [UUID: NMStoredProfile] = [:]
        /// The modified profiles as they were before the transaction (from planning, or from
        /// the backups when another process commits): which controller a modification detaches
        /// its port from.
        var before: [UUID: NMConnectionProfile] = [:]
    }

    /// Runs a commit: marks the record `committing`, persists every staged profile without
    /// its tags (in the storage it had, for a modified one), makes superseded profiles unable to
    /// autoconnect, deletes what is to be deleted, destroys the checkpoint, then deletes the
    /// bookkeeping. `fence` runs before the first write and throws when the checkpoint no
    /// longer guards the change (it also renews the checkpoint's timeout for the commit);
    /// `check` runs before each later write and throws when the checkpoint is known to be gone
    /// without asking anyone (NetworkManager restarted: its unique name changed). Writes
    /// already done are then finished or undone by the caller from what a read shows
    /// (``settleInterrupted(_:plan:settle:)``). A write that lands after NetworkManager rolled
    /// the checkpoint back (this process stopped past its timeout) is caught by
    /// `CheckpointDestroy` failing, and undone with the rest (docs/transactions.md, "The
    /// commit's writes").
    func runCommit(_ work: CommitWork, fence: () async throws -> Void, check: () throws -> Void = {}) async throws {
        var fenced = false
        func beforeWrite() async throws {
            if fenced { return try check() }
            try await fence()
            fenced = true
        }
        // The commit's first write marks it begun: the record's phase, or, when a staged add
        // plays the witness, that add written to disk without its tags (one call fewer: an
        // untagged witness reads as `committing`, TransactionView.phase).
        let witness = work.record?.witness
        if var record = work.record, let recordProfile = work.recordProfile, record.phase != .committing, witness == nil {
            try await beforeWrite()
            record.phase = .committing
            var profile = recordProfile.profile
            var tag = profile.stagedTag ?? NMStagedProfileTag(transaction: record.id, role: .record)
            tag.record = record
            profile.stagedTag = tag
            try await updateProfile(recordProfile.path, to: profile, storage: .memory)
        }
        // The order of the writes is what a power cut leaves on disk (docs/transactions.md,
        // "A power cut during the commit"): every prefix must boot with the addresses on one
        // interface and the NIC carrying them able to activate.
        // - The witness first (see above; TransactionRun.witnessAdd picks it by the same rules).
        // - Controllers added for a profile modified into their port (a NIC's own profile
        //   attached to a new bridge): written inert (autoconnect off), before that port, and
        //   their autoconnect restored once every port is on disk. An inert controller comes up
        //   only when a port pulls it in, so it never holds the addresses beside the NIC.
        // - Modifications, then added ports, then the other additions: a port whose controller
        //   is not on disk is inert at boot (NetworkManager tries it, finds no controller, and
        //   autoconnects the old profile), while a controller with addresses and no port would
        //   come up beside the old profile's interface.
        // Every profile of the new configuration is on disk before the old one steps back.
        let inert = Self.inertControllers(adds: work.staged.filter { $0.profile.stagedTag?.role == .add }.map(\.profile),
                                          modifies: work.staged.filter { $0.profile.stagedTag?.role != .add }.map(\.profile))
        let modifications = work.staged.filter { $0.profile.stagedTag?.role != .add }
        let additions = work.staged.filter { $0.profile.stagedTag?.role == .add && !inert.contains($0.profile.uuid) }
        let ordered = work.staged.filter { inert.contains($0.profile.uuid) }
            + modifications
            + additions.filter { $0.profile.connection.controller != nil }
            + additions.filter { $0.profile.connection.controller == nil }
        let first = ordered.firstIndex { $0.profile.uuid == witness }.map { [ordered[$0]] } ?? []
        var restore: [(path: ObjectPath, profile: NMConnectionProfile, storage: NMUpdateStorage)] = []
        func persist(_ stored: (path: ObjectPath, profile: NMConnectionProfile)) async throws {
            try await beforeWrite()
            let storage: NMUpdateStorage = stored.profile.stagedTag?.originalStorage == .memory ? .memory : .disk
            var profile = Self.untagged(stored.profile)
            if inert.contains(profile.uuid), profile.connection.autoconnect != false {
                restore.append((stored.path, profile, storage))
                profile.connection.autoconnect = false
            }
            try await updateProfile(stored.path, to: profile, storage: storage)
        }
        for stored in first {
            try await persist(stored)
        }
        // - Controllers deleted while a modification detaches their port (a bridge given back
        //   to its NIC): written inert (autoconnect off) before that port becomes a plain
        //   profile, and deleted last as every deletion is. A cut in between boots the port,
        //   which pulls its controller in: as before; after the port's write the controller
        //   stays down: as committed. An undo gives it its autoconnect back from its backup.
        let detached = Self.controllersLeftBehind(modifies: modifications.map(\.profile), before: work.before)
        for uuid in detached.isEmpty ? [] : work.deleted {
            guard let stored = try await profile(uuid: uuid), stored.profile.connection.autoconnect != false,
                [stored.profile.connection.interfaceName?.rawValue, uuid.uuidString].compactMap({ $0?.lowercased() }).contains(where: detached.contains)
            else { continue }
            var profile = stored.profile
            profile.connection.autoconnect = false
            try await beforeWrite()
            try await updateProfile(stored.path, to: profile, storage: stored.isInMemory ? .unchanged : .disk)
        }
        for stored in ordered.filter({ $0.profile.uuid != witness }) {
            try await persist(stored)
        }
        for controller in restore {
            try await beforeWrite()
            try await updateProfile(controller.path, to: controller.profile, storage: controller.storage)
        }
        for uuid in work.superseded {
            // The profile as planning read it is written back without a re-read when a change
            // since would be caught: on 1.44 and later by its `VersionId` (Update2's
            // `version-id`: NetworkManager refuses the write if anyone changed the profile
            // since, and the re-read below runs only then); before 1.44 when the object mirror
            // proves it unchanged (read while the kept rule was on the bus, no `Updated` signal
            // for it since, same NetworkManager): the re-read would return the same settings.
            // Otherwise, and for a profile planning saw with autoconnect already off, it is
            // re-read as before.
            if let known = work.known[uuid], known.profile.connection.autoconnect != false {
                var asRead = known.versionID != nil
                if !asRead { asRead = await isUnchangedSinceRead(known) }
                if asRead {
                    try await beforeWrite()
                    if try await supersedeAsRead(known) { continue }
                }
            }
            // Re-read before the change; by the path known from planning when it still holds
            // this profile, else looked up by UUID.
            var current: NMStoredProfile?
            if let known = work.known[uuid], let read = try? await rereadSettings(of: known), read.profile.uuid == uuid { current = read }
            if current == nil { current = try await profile(uuid: uuid) }
            guard let stored = current else { continue }
            var profile = stored.profile
            guard profile.connection.autoconnect != false else { continue }
            profile.connection.autoconnect = false
            try await beforeWrite()
            try await updateProfile(stored.path, to: profile, storage: stored.isInMemory ? .unchanged : .disk)
        }
        for uuid in work.deleted {
            if let stored = try await profile(uuid: uuid) {
                try await beforeWrite()
                try await deleteIgnoringGone(stored.path)
            }
        }
        // The commit point: from here on NetworkManager will not roll back.
        if let checkpoint = work.checkpoint {
            try await beforeWrite()
            try await destroyCheckpoint(checkpoint)
        }
        for path in work.cleanup { try await deleteIgnoringGone(path) }
    }

    /// The additions that are the controller of a *modification*: a profile that exists today
    /// becomes their port. The commit writes them inert first, and the first of them plays the
    /// witness (``TransactionRun/witnessAdd(_:)``). A port names its controller by interface
    /// name or UUID.
    static func inertControllers(adds: [NMConnectionProfile], modifies: [NMConnectionProfile]) -> Set<UUID> {
        let named = Set(modifies.compactMap { $0.connection.controller?.lowercased() })
        guard !named.isEmpty else { return [] }
        return Set(adds.filter { add in
            [add.connection.interfaceName?.rawValue, add.uuid.uuidString].compactMap { $0?.lowercased() }.contains(where: named.contains)
        }.map(\.uuid))
    }

    /// The controllers that modifications detach their ports from: a profile in `modifies`
    /// whose version in `before` named a controller (by interface name or UUID) it no longer
    /// names. Returned as the names and UUIDs seen, lowercased; the commit writes a deleted
    /// profile matching one of them inert before the modifications (a bridge given back to its
    /// NIC; docs/transactions.md, "A power cut during the commit").
    static func controllersLeftBehind(modifies: [NMConnectionProfile], before: [UUID: NMConnectionProfile]) -> Set<String> {
        var left: Set<String> = []
        for modified in modifies {
            guard let old = before[modified.uuid]?.connection.controller?.lowercased() else { continue }
            if modified.connection.controller?.lowercased() != old { left.insert(old) }
        }
        return left
    }

    /// Turns autoconnect off on `known` as planning read it, with its `VersionId`
    /// (`Update2`'s `version-id`, 1.44 and later): NetworkManager refuses the write if anyone
    /// changed the profile since. False when it was refused for that, or the profile is gone:
    /// answered, nothing written, and the caller re-reads it.
    func supersedeAsRead(_ known: NMStoredProfile) async throws -> Bool {
        var profile = known.profile
        profile.connection.autoconnect = false
        do throws(any Error) {
            try await updateProfile(known.path, to: profile, storage: known.isInMemory ? .unchanged : .disk,
                                    expectedVersionID: known.versionID)
            return true
        } catch let error as NMError where error.code == .versionIDMismatch || error.code == .unknownConnection
            || error.code == .invalidConnection || error.dbusError?.code == .unknownObject
            || error.dbusError?.code == .unknownMethod
        {
            return false
        }
    }

    /// Deletes a profile; one that is gone already is fine.
    func deleteIgnoringGone(_ path: ObjectPath) async throws {
        do throws(any Error) {
            try await deleteProfile(path)
        } catch let error as NMError where error.code == .unknownConnection || error.code == .invalidConnection
            || error.dbusError?.code == .unknownObject || error.dbusError?.code == .unknownMethod
        {
            return
        }
    }

    /// How one interrupted transaction ended once settled.
    enum Settled: Sendable, Equatable {
        case before
        case committed
    }

    /// Settles a transaction whose checkpoint no longer guards it, from what a read shows:
    /// - rolled back by NetworkManager (its witness is gone): the rest is undone → before;
    /// - the checkpoint lost without a rollback while the commit had begun: the commit is
    ///   finished → committed;
    /// - lost before the commit, or never made: undone → before.
    ///
    /// `intent` forces a direction where the caller decided (``confirm(_:)`` of a stale
    /// transaction finishes it; ``rollback(_:)`` undoes it).
    func settleInterrupted(_ view: TransactionView, plan: UndoPlan, intent: Settled? = nil,
                           settle: Duration) async throws -> (Settled, [String]) {
        let forward: Bool
        switch view.condition {
        case .rolledBack, .noCheckpoint: forward = false
        case .checkpointLost: forward = intent.map { $0 == .committed } ?? (view.phase == .committing)
        case .live: forward = intent == .committed
        }
        if forward {
            try await waitUntilRunning(timeout: settle)
            let work = commitWork(view, checkpoint: view.checkpoint?.path)
            try await runCommit(work) {}
            return (.committed, view.staged.map(\.profile.name))
        }
        var plan = plan
        if let checkpoint = view.checkpoint?.path {
            _ = try await rollback(checkpoint, settle: settle)
            plan.rolledBack = true
        }
        return (.before, try await undoTransaction(view.id, plan: plan, settle: settle))
    }

    /// ``settleInterrupted(_:plan:intent:settle:)`` for the transaction `id`, from a fresh read,
    /// again from a fresh read if an attempt fails (its checkpoint expired or NetworkManager
    /// restarted meanwhile: this process may have been stopped for longer than the timeout).
    func settle(_ id: UUID, plan: UndoPlan, intent: Settled?, settle: Duration) async throws -> (Settled, [String]) {
        var lastError: (any Error)?
        for _ in 0..<3 {
            do {
                try await waitUntilRunning(timeout: settle)
                guard let view = Self.transactionViews(try await hostObjects()).first(where: { $0.id == id }) else {
                    return (intent ?? .before, [])
                }
                return try await settleInterrupted(view, plan: plan, intent: intent, settle: settle)
            } catch {
                lastError = error
            }
        }
        throw lastError ?? NMError(.failed, "the transaction could not be settled")
    }

    /// Which profiles and devices one transaction touches, with what "before" and
    /// "committed" mean for each: what ``assess(_:)`` compares the host with.
    struct Expectations: Sendable {
        var id: UUID
        /// Added profiles, with the settings committed when known.
        var adds: [UUID: NMConnectionProfile?]
        /// Modified profiles' committed settings, when known.
        var modifies: [UUID: NMConnectionProfile]
        var superseded: [NMTransactionRecord.Superseded]
        var deleted: [UUID]
        /// Modified and deleted profiles as they were.
        var originals: [UUID: NMStoredProfile]
        var activeBefore: [ActiveBefore]
        var newDevices: [String]
        var checkpoint: NMCheckpoint?
    }

    /// What "before" and "committed" mean for a transaction another process left, from its
    /// record, its staged profiles and its backups (read before they are settled).
    static func expectations(of view: TransactionView) -> Expectations {
        var adds: [UUID: NMConnectionProfile?] = [:]
        for uuid in view.record?.adds ?? [] { adds[uuid] = .some(nil) }
        var modifies: [UUID: NMConnectionProfile] = [:]
        for stored in view.staged(.add) { adds[stored.profile.uuid] = untagged(stored.profile) }
        for stored in view.staged(.modify) { modifies[stored.profile.uuid] = untagged(stored.profile) }
        let originals = view.originalsFromBackups
        return Expectations(id: view.id, adds: adds, modifies: modifies, superseded: view.record?.superseded ?? [],
                            deleted: view.record?.deletes ?? [], originals: originals,
                            activeBefore: view.record?.reactivate.map { ActiveBefore(interface: $0.interface, uuid: $0.uuid) } ?? [],
                            newDevices: view.record?.newDevices ?? [], checkpoint: view.checkpoint)
    }

    /// Where the host ended, by one read compared with what "before" and "committed" mean for
    /// the transaction: the answer a report gives, never the path the code took.
    func assess(_ expected: Expectations) async throws -> NMTransactionEndState {
        let host = try await hostObjects()
        let codec = try await codec()
        var byUUID: [UUID: NMStoredProfile] = [:]
        for stored in host.profiles { byUUID[stored.profile.uuid] = stored }
        var notBefore: [String] = []
        var notCommitted: [String] = []
        for stored in host.profiles where stored.profile.stagedTag?.transaction == expected.id {
            notBefore.append("\(stored.profile.name) still carries the transaction's tags")
            notCommitted.append("\(stored.profile.name) still carries the transaction's tags")
        }
        if let checkpoint = expected.checkpoint, host.checkpoints.contains(where: {
            Self.isCheckpoint($0, path: checkpoint.path.rawValue, created: checkpoint.createdBootTimeMilliseconds,
                              until: checkpoint.createdUntilBootTimeMilliseconds)
        }) {
            notBefore.append("its checkpoint \(checkpoint.path) still exists")
            notCommitted.append("its checkpoint \(checkpoint.path) still exists")
        }
        for (uuid, profile) in expected.adds {
            let name = profile?.name ?? uuid.uuidString.lowercased()
            if let stored = byUUID[uuid] {
                notBefore.append("\(name) exists")
                if stored.isInMemory { notCommitted.append("\(name) is not on disk") }
                if var intended = profile {
                    intended.stagedTag = nil
                    if try Self.planText(stored.profile, codec: codec) != Self.planText(intended, codec: codec) {
                        notCommitted.append("\(name) differs from the profile committed")
                    }
                }
            } else {
                notCommitted.append("\(name) is missing")
            }
        }
        for (uuid, original) in expected.originals {
            let name = original.profile.name
            guard let stored = byUUID[uuid] else {
                notBefore.append("\(name) is missing")
                if !expected.deleted.contains(uuid) { notCommitted.append("\(name) is missing") }
                continue
            }
            if expected.deleted.contains(uuid) { notCommitted.append("\(name) still exists") }
            let now = try Self.planText(stored.profile, codec: codec)
            let asBefore = now == (try Self.planText(original.profile, codec: codec))
            // "Before" fails on what this transaction changed, not on someone else's edit made
            // meanwhile (which a rollback must not undo either): the settings it would commit,
            // or the original settings kept in the wrong place.
            if var desired = expected.modifies[uuid] {
                desired.stagedTag = nil
                let asCommitted = now == (try Self.planText(desired, codec: codec))
                if asCommitted && !asBefore { notBefore.append("\(name) has the settings this transaction commits") }
                if !asCommitted { notCommitted.append("\(name)'s settings differ from those committed") }
            } else if !asBefore && !expected.deleted.contains(uuid) {
                notCommitted.append("\(name)'s settings differ")
            }
            if asBefore, stored.isInMemory != original.isInMemory {
                notBefore.append("\(name) is \(stored.isInMemory ? "in memory" : "on disk"), it was \(original.isInMemory ? "in memory" : "on disk")")
            }
        }
        for entry in expected.superseded {
            guard let stored = byUUID[entry.uuid] else { continue }
            let name = stored.profile.name
            if stored.profile.connection.autoconnect != false { notCommitted.append("\(name) still autoconnects") }
            if (stored.profile.connection.autoconnect ?? true) != (entry.autoconnect ?? true) {
                notBefore.append("\(name) has autoconnect \(stored.profile.connection.autoconnect.map(String.init) ?? "default"), it was \(entry.autoconnect.map(String.init) ?? "default")")
            } else if stored.isInMemory != entry.inMemory {
                notBefore.append("\(name) is \(stored.isInMemory ? "in memory" : "on disk"), it was \(entry.inMemory ? "in memory" : "on disk")")
            }
        }
        for interface in expected.newDevices where host.device(named: interface)?.isReal == true {
            notBefore.append("the device \(interface) exists")
        }
        for entry in expected.activeBefore {
            guard let device = host.device(named: entry.interface) else { continue }
            let active = device.activeConnection.flatMap { host.activeConnection(at: $0) }
            if active?.uuid != entry.uuid {
                let name = expected.originals[entry.uuid]?.profile.name ?? entry.uuid.uuidString.lowercased()
                notBefore.append("\(entry.interface) does not run \(name)")
            }
        }
        if notBefore.isEmpty { return .before }
        if notCommitted.isEmpty { return .committed }
        return .needsAttention(notBefore)
    }
}
