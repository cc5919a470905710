import DBus
import Foundation
import Synchronization

extension NMClient {
    /// Applies a transaction: validate and plan; checkpoint all devices; stage new and changed
    /// profiles in memory with autoconnect blocked; activate (controllers before ports), each
    /// awaited; verify; run the probes; then commit (persist, supersede, destroy the checkpoint).
    ///
    /// On any failure, timeout or task cancellation it rolls back through the checkpoint, waits
    /// until the devices settle, removes what it staged, and throws ``NMTransactionError`` with
    /// the step, the root cause, the rollback's own outcome and a hint. If this process dies,
    /// NetworkManager rolls back by itself once the checkpoint's timeout passes (it is kept alive
    /// by a heartbeat while the transaction works).
    ///
    /// - Parameters:
    ///   - plan: the plan shown to whoever approved the change (from ``plan(_:)``). The
    ///     transaction is planned again; if the result differs (someone changed a profile it
    ///     modifies, or the host changed so that a step is now done or to do), nothing is
    ///     touched and ``NMTransactionError`` is thrown with ``NMError/Code/versionIDMismatch``.
    ///   - commit: false leaves the checkpoint armed for `confirmTimeout`: confirm with
    ///     ``confirm(_:)`` (from this or another process) or it reverts by itself.
    ///   - progress: called as each step starts and ends.
    /// - Returns: ``NMTransactionOutcome/unchanged`` (no checkpoint was made) when the desired
    ///   state already holds.
    public func apply(
        _ transaction: NMTransaction, plan: NMTransactionPlan? = nil, commit: Bool = true,
        confirmTimeout: Duration = .seconds(120), progress: (@Sendable (NMTransactionEvent) -> Void)? = nil
    ) async throws -> NMTransactionResult {
        let run = TransactionRun(client: self, transaction: transaction, progress: progress)
        return try await run.execute(expected: plan, commit: commit, confirmTimeout: confirmTimeout)
    }

    /// Transactions applied with `commit: false` that are still waiting, found through the
    /// checkpoints that exist and the profiles the transactions staged.
    public func pendingTransactions() async throws -> [NMPendingTransaction] {
        let checkpoints = try await checkpoints()
        let profiles = try await profiles()
        var byID: [UUID: NMPendingTransaction] = [:]
        for stored in profiles {
            let tags = stored.profile.userData
            guard let idText = tags[Tag.transaction], let id = UUID(uuidString: idText),
                let checkpointPath = tags[Tag.checkpoint]
            else { continue }
            var pending = byID[id] ?? NMPendingTransaction(
                id: id, checkpoint: checkpointPath, label: tags[Tag.label] ?? "", staged: [],
                superseded: Self.uuidList(tags[Tag.supersedes]), deleted: Self.uuidList(tags[Tag.deletes]),
                revertsAt: checkpoints.first { $0.path.rawValue == checkpointPath }?.expiry)
            pending.staged.append(stored.profile.uuid)
            byID[id] = pending
        }
        // A transaction whose checkpoint is gone was rolled back (or confirmed) already.
        let live = Set(checkpoints.map(\.path.rawValue))
        return byID.values.filter { live.contains($0.checkpoint) }.sorted { $0.id.uuidString < $1.id.uuidString }
    }

    /// Confirms a pending transaction: persists what it staged, supersedes and deletes what it
    /// said it would, and destroys its checkpoint.
    public func confirm(_ pending: NMPendingTransaction) async throws {
        guard let checkpoint = ObjectPath(rawValue: pending.checkpoint),
            try await checkpoints().contains(where: { $0.path == checkpoint })
        else {
            throw NMError(.invalidArguments, "transaction \(pending.id.uuidString.lowercased()) is no longer pending: its checkpoint is gone",
                          hint: "it was rolled back (by timeout or by hand) or confirmed already")
        }
        // Keep the checkpoint from expiring while committing.
        try? await adjustRollbackTimeout(checkpoint, to: .seconds(60))
        try await commitStaged(transactionID: pending.id, superseded: pending.superseded, deleted: pending.deleted)
        try await destroyCheckpoint(checkpoint)
    }

    /// Rolls a pending transaction back now rather than waiting for its timeout.
    public func rollback(_ pending: NMPendingTransaction) async throws {
        guard let checkpoint = ObjectPath(rawValue: pending.checkpoint) else { return }
        let onDisk = try await profiles().filter { !$0.isInMemory }.map(\.profile.uuid)
        _ = try await rollback(checkpoint)
        try await removeStaged(transactionID: pending.id, wereOnDisk: Set(onDisk))
    }

    /// Removes what transactions staged whose checkpoint no longer exists: left behind when
    /// NetworkManager restarted (a crash, not a reboot) in the middle of a transaction, since
    /// staged profiles live in /run and checkpoints in the daemon's memory. Staged profiles
    /// never autoconnect, so they are inert until removed; this removes them.
    ///
    /// - Returns: the names of the profiles removed.
    @discardableResult
    public func removeStaleTransactions() async throws -> [String] {
        let live = Set(try await checkpoints().map(\.path.rawValue))
        var removed: [String] = []
        for stored in try await profiles() {
            let tags = stored.profile.userData
            guard tags[Tag.transaction] != nil, let checkpoint = tags[Tag.checkpoint], !live.contains(checkpoint) else { continue }
            if stored.isInMemory {
                try await deleteProfile(stored.path)
            } else {
                var profile = stored.profile
                profile.userData = profile.userData.filter { !$0.key.hasPrefix("org.swift-networkmanager.") }
                try await updateProfile(stored.path, to: profile)
            }
            removed.append(stored.profile.name)
        }
        return removed
    }

    static func uuidList(_ text: String?) -> [UUID] {
        (text ?? "").split(separator: ",").compactMap { UUID(uuidString: String($0)) }
    }

    /// Persists every profile staged by `transactionID` with its intended autoconnect and
    /// without the tags, makes `superseded` unable to autoconnect, deletes `deleted`.
    func commitStaged(transactionID: UUID, superseded: [UUID], deleted: [UUID]) async throws {
        for stored in try await profiles() where stored.profile.userData[Tag.transaction] == transactionID.uuidString {
            var profile = stored.profile
            let autoconnect = profile.userData[Tag.autoconnect]
            profile.connection.autoconnect = autoconnect == "default" ? nil : autoconnect == "true"
            profile.userData = profile.userData.filter { !$0.key.hasPrefix("org.swift-networkmanager.") }
            try await updateProfile(stored.path, to: profile, storage: .disk)
        }
        for uuid in superseded {
            guard let stored = try await profile(uuid: uuid.uuidString.lowercased()) else { continue }
            var profile = stored.profile
            guard profile.connection.autoconnect != false else { continue }
            profile.connection.autoconnect = false
            try await updateProfile(stored.path, to: profile, storage: stored.isInMemory ? .unchanged : .disk)
        }
        for uuid in deleted {
            if let stored = try await profile(uuid: uuid.uuidString.lowercased()) { try await deleteProfile(stored.path) }
        }
    }

    /// After a rollback: deletes profiles the transaction staged that survived it, and writes
    /// back to disk profiles that were on disk before but are in memory now (NetworkManager
    /// before 1.48 restores an in-memory shadow without dropping it: docs/networkmanager-quirks.md).
    func removeStaged(transactionID: UUID, wereOnDisk: Set<UUID>) async throws {
        for stored in try await profiles() {
            if stored.profile.userData[Tag.transaction] == transactionID.uuidString {
                if wereOnDisk.contains(stored.profile.uuid) {
                    var profile = stored.profile
                    profile.userData = profile.userData.filter { !$0.key.hasPrefix("org.swift-networkmanager.") }
                    try await updateProfile(stored.path, to: profile, storage: .disk)
                } else {
                    try await deleteProfile(stored.path)
                }
            } else if stored.isInMemory && wereOnDisk.contains(stored.profile.uuid) {
                try await persistProfile(stored.path)
            }
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

    func execute(expected: NMTransactionPlan?, commit: Bool, confirmTimeout: Duration) async throws -> NMTransactionResult {
        // Validate and plan: nothing is touched yet.
        let prepared: NMClient.Prepared
        do {
            prepared = try await step(.validate, "\(transaction.changes.count) changes") {
                try await client.prepare(transaction)
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
        do {
            checkpoint = try await step(.checkpoint, "all devices, rollback after \(timeout)") {
                try await client.createCheckpoint(rollbackTimeout: timeout, flags: flags)
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
        let onDiskBefore = Set(prepared.existing.values.filter { !$0.isInMemory }.map(\.profile.uuid))

        do {
            try await stage(prepared, checkpoint: checkpoint.path)
            let gateway = try await activate(prepared)
            if transaction.verify { try await verify(prepared) }
            try await runProbes(gateway: gateway)
            heartbeat.cancel()
            if commit {
                try await step(.commit, "persist, supersede, destroy checkpoint") {
                    try await client.commitStaged(transactionID: id, superseded: superseded(prepared), deleted: deleted(prepared))
                    try await client.destroyCheckpoint(checkpoint.path)
                }
                return NMTransactionResult(outcome: .committed, plan: plan, steps: records.withLock { $0 }, pending: nil)
            }
            try await client.adjustRollbackTimeout(checkpoint.path, to: confirmTimeout)
            let pending = NMPendingTransaction(
                id: id, checkpoint: checkpoint.path.rawValue, label: transaction.label,
                staged: Array(prepared.adds.keys) + Array(prepared.modifies.keys),
                superseded: superseded(prepared), deleted: deleted(prepared),
                revertsAt: Date().addingTimeInterval(Double(confirmTimeout.components.seconds)))
            return NMTransactionResult(outcome: .pending, plan: plan, steps: records.withLock { $0 }, pending: pending)
        } catch {
            heartbeat.cancel()
            let failedStep = (error as? StepFailure)?.step ?? .commit
            let cause = Self.nmError((error as? StepFailure)?.error ?? error)
            // Roll back even when this task was cancelled: a new task does not inherit that.
            let rollback = await Task { [client, id] () -> NMTransactionError.Rollback in
                let started = ContinuousClock.now
                progress?(.started(.rollback, "restoring the checkpoint"))
                do {
                    _ = try await client.rollback(checkpoint.path, settle: .seconds(30))
                    try await client.removeStaged(transactionID: id, wereOnDisk: onDiskBefore)
                    record(.rollback, "restored", since: started)
                    return .restored(ContinuousClock.now - started)
                } catch {
                    record(.rollback, "FAILED: \(error)", since: started)
                    return .failed(Self.nmError(error))
                }
            }.value
            throw NMTransactionError(step: failedStep, cause: cause, rollback: rollback, steps: records.withLock { $0 })
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

    func tags(_ autoconnect: Bool?, checkpoint: ObjectPath, prepared: NMClient.Prepared) -> [String: String] {
        [
            NMClient.Tag.transaction: id.uuidString,
            NMClient.Tag.checkpoint: checkpoint.rawValue,
            NMClient.Tag.autoconnect: autoconnect.map { $0 ? "true" : "false" } ?? "default",
            NMClient.Tag.label: transaction.label,
            NMClient.Tag.supersedes: superseded(prepared).map(\.uuidString).joined(separator: ","),
            NMClient.Tag.deletes: deleted(prepared).map(\.uuidString).joined(separator: ","),
        ].filter { !$0.value.isEmpty }
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
    /// profiles are updated in memory, shadowing their files.
    func stage(_ prepared: NMClient.Prepared, checkpoint: ObjectPath) async throws {
        for planned in prepared.plan.steps where !planned.alreadyDone {
            switch planned.kind {
            case .add:
                guard var profile = prepared.adds[planned.uuid] else { continue }
                try await step(.stage, "add \(profile.name) in memory") {
                    profile.userData.merge(tags(profile.connection.autoconnect, checkpoint: checkpoint, prepared: prepared)) { $1 }
                    profile.connection.autoconnect = false
                    try await client.addProfile(profile, storage: .memory, blockAutoconnect: true)
                }
            case .modify:
                guard var profile = prepared.modifies[planned.uuid], let stored = prepared.existing[planned.uuid] else { continue }
                try await step(.stage, "change \(profile.name) in memory") {
                    // Is it still what the plan saw? (NetworkManager 1.44 checks version-id too.)
                    try await checkUnchangedSincePlanned(planned, stored, prepared: prepared)
                    profile.userData.merge(tags(profile.connection.autoconnect, checkpoint: checkpoint, prepared: prepared)) { $1 }
                    try await client.updateProfile(stored.path, to: profile, storage: .memory, options: .blockAutoconnect,
                                                   expectedVersionID: planned.versionID ?? stored.versionID)
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
        let all = try await client.profiles()
        func path(of uuid: UUID) -> ObjectPath? { all.first { $0.profile.uuid == uuid }?.path }
        for planned in prepared.plan.steps where !planned.alreadyDone {
            switch planned.kind {
            case .deactivate:
                try await step(.activate, "deactivate \(planned.profile)") {
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
                    let active = try await client.activate(profilePath, waitFor: .started)
                    // Bring up the ports' profiles explicitly: autoconnect-ports does not start
                    // profiles whose autoconnect is off, as staged ones are.
                    let controllerInterface = profile?.interfaceName?.rawValue
                    for port in planned.ports {
                        let portProfile = all.first {
                            $0.profile.interfaceName?.rawValue == port && $0.profile.isPort
                                && ($0.profile.connection.controller == controllerInterface
                                    || $0.profile.connection.controller == planned.uuid.uuidString.lowercased())
                        }
                        if let portProfile {
                            let device = try await client.device(named: port)
                            try await client.activate(portProfile.path, on: device.path, waitFor: .started)
                        }
                    }
                    _ = try await client.waitUntilActivated(active.path, ports: planned.ports, signals: signals,
                                                            timeout: transaction.activationTimeout)
                }
            default:
                continue
            }
        }
        return gateway
    }

    /// NetworkManager's view of the result against the desired state: addresses and gateway
    /// on each activated profile's device, each port attached to its controller, the MAC.
    /// Retried a few times, waiting for NetworkManager's next signal in between.
    func verify(_ prepared: NMClient.Prepared) async throws {
        try await step(.verify, "addresses, gateway, ports, MAC") {
            var lastProblem: NMError?
            for attempt in 0..<5 {
                if attempt > 0 { try await Task.sleep(for: .milliseconds(200 * attempt)) }
                do {
                    try await verifyOnce(prepared)
                    return
                } catch let problem as NMError {
                    lastProblem = problem
                }
            }
            throw lastProblem ?? NMError(.failed, "verification failed")
        }
    }

    func verifyOnce(_ prepared: NMClient.Prepared) async throws {
        for planned in prepared.plan.steps where planned.kind == .activate {
            guard let profile = prepared.adds[planned.uuid] ?? prepared.modifies[planned.uuid] ?? prepared.existing[planned.uuid]?.profile,
                let interface = profile.interfaceName?.rawValue
            else { continue }
            let device = try await client.device(named: interface)
            guard device.state == .activated else {
                throw NMError(.activationFailed, "\(interface) is \(device.state), not activated")
            }
            if let ipv4 = profile.ipv4, ipv4.method == .manual {
                let config = try await client.ipv4Configuration(of: device.path)
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
                let portDevice = try await client.device(named: port)
                guard try await client.isPort(portDevice.path, of: [device.path]) else {
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
                    try await withDeadline(probe.budget + .milliseconds(500), what: "probe \(probe.name)") {
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
