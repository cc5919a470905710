import DBus
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Transactions: validate, plan, checkpoint, stage, activate, verify, probe, commit; or roll back.
extension NMClient {
    /// A profile that was active on an interface before a transaction.
    struct ActiveBefore: Sendable, Hashable, Codable {
        var interface: String
        var uuid: UUID
    }

    // MARK: - Validate and plan

    /// Validates every change and computes the plan, touching nothing.
    ///
    /// - Throws: ``NMError`` for an invalid profile, a reference to a profile that does not
    ///   exist, a key the running NetworkManager lacks, or an end state in which two profiles
    ///   could autoconnect on one interface; ``NMError/Code/deviceTypeMismatch`` for a profile
    ///   on a device of another type or a port whose controller is of another type,
    ///   ``NMError/Code/missingParent`` / ``NMError/Code/missingController`` for a VLAN parent or a
    ///   controller that does not exist; ``NMError/Code/notRunning`` when NetworkManager is not.
    public func plan(_ transaction: NMTransaction) async throws(NMError) -> NMTransactionPlan {
        return try await NMError.boundary {
            try await prepare(transaction).plan
        }
    }

    /// ``plan(_:)`` against a state the caller has just read (from ``snapshotWithProfiles()``)
    /// instead of reading the host again: a preview consistent with what the caller decided
    /// on. ``apply(_:plan:commit:confirmTimeout:basedOn:progress:)`` reads the host itself
    /// unless given the same state.
    ///
    /// An ``NMHostState`` holds no applied connections (what each device runs), which a plan
    /// needs for a `.modify` of an active profile: those are still read from NetworkManager
    /// (`GetAppliedConnection`, one call per device whose active profile the transaction
    /// modifies), so only they can be newer than `state`. Without such a modify, nothing is read.
    ///
    /// - Throws: ``NMError/Code/invalidProfile`` when `state` was read without the profiles'
    ///   settings (``snapshot()``): read it with ``snapshotWithProfiles()``.
    public func plan(_ transaction: NMTransaction, basedOn state: NMHostState) async throws(NMError) -> NMTransactionPlan {
        return try await NMError.boundary {
            try Self.requireTypedProfiles(state)
            return try await prepare(transaction, host: state).plan
        }
    }

    /// Refuses a host state read without the profiles' settings: planning against it would
    /// take every profile for missing.
    static func requireTypedProfiles(_ state: NMHostState) throws(NMError) {
        guard state.hasTypedProfiles else {
            throw NMError(.invalidProfile, "the host state was read without the profiles' settings (snapshot())",
                          hint: "read it with snapshotWithProfiles() to plan or apply against it")
        }
    }

    struct Prepared {
        var plan: NMTransactionPlan
        var codec: NMSettingsCodec
        var existing: [UUID: NMStoredProfile]
        var active: [NMActiveConnection]
        /// The devices as they were when planned.
        var devices: [NMDevice]
        /// New profiles by their UUID, and modified ones (the desired settings).
        var adds: [UUID: NMConnectionProfile]
        var modifies: [UUID: NMConnectionProfile]
        /// The transaction's changes as planned: each `.ensure` resolved to the `.add` or
        /// `.modify` it stands for, references to it by UUID resolved too (NMClient+Ensure.swift).
        var changes: [NMChange]
        /// The profiles active before, controllers first: what an undo without the checkpoint
        /// activates again.
        var activeBefore: [ActiveBefore]
        /// Software devices the new profiles create that do not exist yet.
        var newDevices: [String]
    }

    /// The wire form of `profile` as compared by plans (no timestamp, no user data), as text.
    static func planText(_ profile: NMConnectionProfile, codec: NMSettingsCodec) throws(NMError) -> [String: [String: DBusValueText]] {
        var wire = try codec.encode(profile)
        wire["connection"]?["timestamp"] = nil
        wire["user"]?["data"] = nil
        if wire["user"]?.isEmpty == true { wire["user"] = nil }
        return wire.mapValues { $0.mapValues { DBusValueText($0) } }
    }

    /// Reads the host (unless given), the codec, and the applied connections the plan compares
    /// (``NMPlanner/appliedConnectionsNeeded(for:host:)``), then plans with ``NMPlanner``,
    /// which touches no bus.
    func prepare(_ transaction: NMTransaction, host known: HostObjects? = nil) async throws -> Prepared {
        // One read of the host: profiles, active connections and devices together.
        let host: HostObjects
        if let known { host = known } else { host = try await hostObjects() }
        let codec = try await codec()
        // The applied connection of each device whose active profile the transaction modifies
        // (`GetAppliedConnection`), read in the order the planner compares them.
        var applied: [ObjectPath: NMConnectionProfile] = [:]
        for path in try NMPlanner.appliedConnectionsNeeded(for: transaction, host: host) {
            do throws(any Error) {
                applied[path] = try await appliedProfile(of: path).profile
            } catch let error as NMError where error.code == .deviceNotActive {
                // Gone from the device since the read (deactivated meanwhile): nothing to reapply there.
                continue
            }
        }
        return try NMPlanner(host: host, applied: applied, codec: codec).prepare(transaction)
    }
}
