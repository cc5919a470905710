import DBus
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// The steps that change the host: stage, activate, reapply or reactivate.
extension TransactionRun {
    /// The tag of a profile this run adds or modifies: its checkpoint and the autoconnect it
    /// is to have once committed (staged profiles have autoconnect off).
    func tag(_ autoconnect: Bool?, role: NMStagedProfileTag.Role, checkpoint: NMCheckpoint) -> NMStagedProfileTag {
        var tag = NMStagedProfileTag(transaction: id, role: role)
        tag.checkpoint = checkpoint.path.rawValue
        tag.checkpointCreated = checkpoint.createdBootTimeMilliseconds
        tag.checkpointCreatedUntil = checkpoint.createdUntilBootTimeMilliseconds
        tag.hasAutoconnect = true
        tag.autoconnect = autoconnect
        tag.label = transaction.label.isEmpty ? nil : transaction.label
        return tag
    }

    /// The add staged first after the checkpoint, which plays the witness
    /// (``NMTransactionRecord/witness``); nil when the plan adds nothing. A port when the plan
    /// adds one: the witness is also the commit's first write to disk, and a port is the add
    /// that is inert on disk without the rest (docs/transactions.md, "A power cut during the
    /// commit").
    /// A controller added for a profile the plan modifies into its port comes first instead:
    /// the commit writes it inert before anything else (``NMClient/runCommit(_:fence:check:)``).
    func witnessAdd(_ prepared: NMClient.Prepared) -> UUID? {
        let adds = prepared.plan.steps.filter { $0.kind == .add && !$0.alreadyDone && prepared.adds[$0.uuid] != nil }
        let controllers = NMClient.inertControllers(
            adds: adds.compactMap { prepared.adds[$0.uuid] },
            modifies: prepared.plan.steps.filter { $0.kind == .modify && !$0.alreadyDone }.compactMap { prepared.modifies[$0.uuid] })
        let inert = adds.first { controllers.contains($0.uuid) }
        return (inert ?? adds.first { prepared.adds[$0.uuid]?.connection.controller != nil } ?? adds.first)?.uuid
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
            var tag = NMStagedProfileTag(transaction: id, role: .backup)
            tag.backupOf = stored.profile.uuid
            tag.originalName = stored.profile.name
            tag.originalStorage = stored.isInMemory ? .memory : .disk
            tag.label = transaction.label.isEmpty ? nil : transaction.label
            tag.hasAutoconnect = true
            tag.autoconnect = stored.profile.connection.autoconnect
            backup.stagedTag = tag
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
        // The add that plays the witness first: the first write after the checkpoint.
        let witness = witnessAdd(prepared)
        let steps = prepared.plan.steps.filter { !$0.alreadyDone }
        let pending = steps.filter { $0.kind == .add && $0.uuid == witness } + steps.filter { !($0.kind == .add && $0.uuid == witness) }
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
                try await step(.stage, "add \(profile.name) in memory" + (planned.uuid == witness ? " (the checkpoint's witness)" : "")) {
                    profile.stagedTag = tag(profile.connection.autoconnect, role: .add, checkpoint: checkpoint)
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
                    var staged = tag(profile.connection.autoconnect, role: .modify, checkpoint: checkpoint)
                    staged.originalStorage = stored.isInMemory ? .memory : .disk
                    profile.stagedTag = staged
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
                    // The host after the request (and after subscribing): reused by the wait
                    // below unless a port is activated here. From the object mirror when the
                    // kept rule was on the bus before a read (no call): it holds everything
                    // NetworkManager sent before ActivateConnection's reply, which does not
                    // always include a port that autoconnect-ports started (read then).
                    let portProfiles = planned.ports.map { port in
                        (port, all.first {
                            $0.profile.interfaceName?.rawValue == port && $0.profile.isPort
                                && ($0.profile.connection.controller == controllerInterface
                                    || $0.profile.connection.controller == planned.uuid.uuidString.lowercased())
                        })
                    }
                    // Started: an active connection of the port's profile that is not going
                    // down (a new one can still be `unknown` in the mirror: NetworkManager
                    // exports it before it sets its state, and the state's PropertiesChanged
                    // comes an idle cycle later).
                    func started(_ profile: NMConnectionProfile, in host: NMClient.HostObjects) -> Bool {
                        host.active.contains {
                            $0.uuid == profile.uuid && ($0.state == .activating || $0.state == .activated || $0.state == .unknown)
                        }
                    }
                    var host: NMClient.HostObjects? = try await client.mirroredObjectsIfFollowing()
                    if let mirrored = host, portProfiles.contains(where: { $0.1.map { !started($0.profile, in: mirrored) } ?? false }) {
                        // A port the mirror does not show started yet: read before activating
                        // it a second time (in the crash-point sweep on 1.42 the mirror lacked
                        // a port that NetworkManager started in about one run in four).
                        host = nil
                    }
                    if host == nil { host = try await client.managedObjects(withProfiles: false) }
                    let activeNow = host ?? NMClient.HostObjects(version: NMVersion(0, 0))
                    for (port, portProfile) in portProfiles {
                        guard let portProfile else { continue }
                        if !started(portProfile.profile, in: activeNow) {
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
}
