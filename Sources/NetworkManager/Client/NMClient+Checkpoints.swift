public import DBus
#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// Checkpoints: NetworkManager's own dead-man switch.
extension NMClient {
    /// Saves the configuration of `devices` (all devices when empty) so it can be restored.
    ///
    /// If the checkpoint is neither destroyed nor rolled back within `rollbackTimeout`,
    /// NetworkManager restores the saved configuration by itself: the guarantee that survives
    /// the death of the process that made the change.
    ///
    /// - Parameters:
    ///   - rollbackTimeout: whole seconds; zero means "never roll back by itself".
    ///   - flags: see ``NMCheckpointFlags``; each is checked against the running version, and
    ///     ``NMCheckpointFlags/disconnectNewDevices`` against an empty device list, before the call.
    /// - Throws: ``NMError``: ``NMError/Code/checkpointOverlap`` when another checkpoint
    ///   covers one of the devices (its message says which and until when),
    ///   ``NMError/Code/unsupportedByVersion`` for a flag the daemon lacks.
    ///
    /// The corresponding D-Bus method is `org.freedesktop.NetworkManager.CheckpointCreate`.
    public func createCheckpoint(
        devices: [ObjectPath] = [], rollbackTimeout: Duration, flags: NMCheckpointFlags = []
    ) async throws(NMError) -> NMCheckpoint {
        let path = try await sendCheckpointCreate(devices: devices, rollbackTimeout: rollbackTimeout, flags: flags)
        return try await checkpoint(at: path)
    }

    /// `CheckpointCreate` alone: the new checkpoint's path, without reading the checkpoint
    /// (``createCheckpoint(devices:rollbackTimeout:flags:)`` reads it as well).
    func sendCheckpointCreate(
        devices: [ObjectPath] = [], rollbackTimeout: Duration, flags: NMCheckpointFlags = []
    ) async throws(NMError) -> ObjectPath {
        return try await NMError.boundary {
            let version = try await cachedVersion()
            for (flag, since, name) in NMCheckpointFlags.since where flags.contains(flag) && version < since {
                throw NMError.lacks("the checkpoint flag \(name)", version: version, since: since)
            }
            if flags.contains(.disconnectNewDevices) && !devices.isEmpty {
                throw NMError(.invalidArguments, "DISCONNECT_NEW_DEVICES can only be used for a checkpoint of all devices",
                              hint: "pass an empty device list")
            }
            let seconds = rollbackTimeout.components.seconds + (rollbackTimeout.components.attoseconds > 0 ? 1 : 0)
            guard seconds >= 0, seconds <= Int64(UInt32.max) else {
                throw NMError(.invalidArguments, "rollback timeout \(rollbackTimeout) is out of range")
            }
            let reply: [DBusValue]
            do {
                reply = try await nmCall(Self.managerPath, Self.managerInterface, "CheckpointCreate",
                                         [.array(.objectPath, devices.map { .objectPath($0) }), .uint32(UInt32(seconds)), .uint32(flags.rawValue)],
                                         operation: .checkpoint)
            } catch var error as NMError where error.code == .checkpointOverlap {
                if let other = error.overlappingCheckpoint?.checkpoint, let existing = try? await checkpoint(at: other) {
                    error = error.withCheckpointExpiry(existing.expiry)
                }
                throw error
            }
            guard case .objectPath(let path)? = reply.first else {
                throw NMError(.failed, "CheckpointCreate returned no checkpoint")
            }
            logger?.debug("checkpoint created", metadata: ["path": "\(path)", "timeout": "\(seconds)"])
            return path
        }
    }

    /// Restores the configuration saved in `checkpoint` and destroys it (and any younger
    /// checkpoint that overlaps it).
    ///
    /// NetworkManager answers as soon as it has started re-activating the devices. With
    /// `settle`, this call then waits (on signals, with that deadline) until every device it
    /// covered has stopped changing: none is still preparing, configuring or deactivating.
    ///
    /// - Returns: the outcome for each device, keyed by the device's path at checkpoint time.
    ///
    /// The corresponding D-Bus method is `org.freedesktop.NetworkManager.CheckpointRollback`.
    public func rollback(_ checkpoint: ObjectPath, settle: Duration? = .seconds(30)) async throws(NMError) -> [ObjectPath: NMRollbackResult] {
        return try await NMError.boundary {
            let signals = settle == nil ? nil : try await allSignals()
            let reply = try await nmCall(Self.managerPath, Self.managerInterface, "CheckpointRollback", [.objectPath(checkpoint)],
                                         operation: .checkpoint, timeout: .seconds(120))
            let results = try [String: UInt32](dbusValue: reply.first ?? .dictionary(key: .string, value: .uint32, []))
            var byDevice: [ObjectPath: NMRollbackResult] = [:]
            for (path, result) in results {
                if let devicePath = ObjectPath(rawValue: path) { byDevice[devicePath] = NMRollbackResult(rawValue: result) }
            }
            if let signals, let settle {
                try await waitUntilSettled(Set(byDevice.keys), signals: signals, timeout: settle)
            }
            return byDevice
        }
    }

    /// Waits until none of `devices` (every device when nil) is in a transitional state
    /// (prepare ... secondaries, deactivating) and no active connection on them is still
    /// activating or deactivating. Subscribe `signals` before the action whose effects are awaited.
    ///
    /// Both are needed: right after a rollback a device can sit in `disconnected` for a moment
    /// with its re-activation already queued as a new active connection.
    func waitUntilSettled(_ devices: Set<ObjectPath>?, signals: DBusSignalSequence, timeout: Duration) async throws {
        try await withDeadline(timeout, what: "settling after the rollback") {
            var everyDevice: Set<ObjectPath> = []
            if devices == nil { everyDevice = Set(try await self.snapshot().devices.map(\.path)) }
            let devices = devices ?? everyDevice
            var busyDevices: Set<ObjectPath> = []
            for device in devices {
                // A device that no longer exists has settled.
                if let state = try? await self.device(at: device).state, state.isTransitional { busyDevices.insert(device) }
            }
            var busyActive: Set<ObjectPath> = []
            for active in try await self.activeConnections()
            where !devices.isDisjoint(with: active.devices) && active.state != .activated && active.state != .deactivated {
                busyActive.insert(active.path)
            }
            if busyDevices.isEmpty && busyActive.isEmpty { return }
            for try await signal in signals {
                if let change = Self.deviceStateChange(signal), devices.contains(change.device) {
                    if change.new.isTransitional { busyDevices.insert(change.device) } else { busyDevices.remove(change.device) }
                } else if let change = Self.activeStateChange(signal), change.state == .activated || change.state == .deactivated {
                    busyActive.remove(change.activeConnection)
                } else {
                    continue
                }
                if busyDevices.isEmpty && busyActive.isEmpty { return }
            }
            // The sequence ends when the task is cancelled or NetworkManager left the bus:
            // neither means the devices settled.
            try Task.checkCancellation()
            throw NMError(.disconnected, "NetworkManager's signals ended before the devices settled")
        }
    }

    /// Destroys `checkpoint` without rolling back: the current configuration stays.
    ///
    /// The corresponding D-Bus method is `org.freedesktop.NetworkManager.CheckpointDestroy`.
    public func destroyCheckpoint(_ checkpoint: ObjectPath) async throws(NMError) {
        try await NMError.boundary {
            try await nmCall(Self.managerPath, Self.managerInterface, "CheckpointDestroy", [.objectPath(checkpoint)],
                             operation: .checkpoint)
        }
    }

    /// Destroys every checkpoint (including other tools' pending ones: use with care).
    ///
    /// `CheckpointDestroy` with the path `/`.
    public func destroyAllCheckpoints() async throws(NMError) {
        try await NMError.boundary {
            try await nmCall(Self.managerPath, Self.managerInterface, "CheckpointDestroy", [.objectPath(.root)],
                             operation: .checkpoint)
        }
    }

    /// Sets the checkpoint's automatic rollback to happen `timeout` from **now** (not added to
    /// the old deadline); zero disables it. Called periodically, it is a heartbeat: while the
    /// process lives the rollback is postponed, and when it dies the rollback happens.
    ///
    /// The corresponding D-Bus method is `org.freedesktop.NetworkManager.CheckpointAdjustRollbackTimeout` (1.12).
    public func adjustRollbackTimeout(_ checkpoint: ObjectPath, to timeout: Duration) async throws(NMError) {
        try await NMError.boundary {
            let version = try await cachedVersion()
            guard version >= NMVersion(1, 12) else {
                throw NMError.lacks("CheckpointAdjustRollbackTimeout", version: version, since: NMVersion(1, 12))
            }
            let seconds = UInt32(clamping: timeout.components.seconds + (timeout.components.attoseconds > 0 ? 1 : 0))
            try await nmCall(Self.managerPath, Self.managerInterface, "CheckpointAdjustRollbackTimeout",
                             [.objectPath(checkpoint), .uint32(seconds)], operation: .checkpoint)
        }
    }

    /// The checkpoint at `path`, read now.
    public func checkpoint(at path: ObjectPath) async throws(NMError) -> NMCheckpoint {
        return try await NMError.boundary {
            NMCheckpoint(path: path, properties: try await nmProperties(path, Self.checkpointInterface))
        }
    }

    /// Every checkpoint that exists now, with its devices, age and timeout.
    ///
    /// The corresponding D-Bus property is `org.freedesktop.NetworkManager.Checkpoints`.
    public func checkpoints() async throws(NMError) -> [NMCheckpoint] {
        return try await NMError.boundary {
            let paths: [ObjectPath] = try await nmProperty(Self.managerPath, Self.managerInterface, "Checkpoints")
            var result: [NMCheckpoint] = []
            for path in paths {
                if let checkpoint = try? await checkpoint(at: path) { result.append(checkpoint) }
            }
            return result
        }
    }
}

extension NMCheckpoint {
    /// When NetworkManager rolls back by itself, assuming the timeout was not adjusted since
    /// creation (the daemon does not export the adjusted deadline); nil when it never does.
    public var expiry: Date? {
        guard rollbackTimeout > 0 else { return nil }
        let remainingMilliseconds = Int64(rollbackTimeout) * 1000 - (NMCheckpoint.bootTimeMilliseconds() - createdBootTimeMilliseconds)
        return Date().addingTimeInterval(Double(remainingMilliseconds) / 1000)
    }
}
