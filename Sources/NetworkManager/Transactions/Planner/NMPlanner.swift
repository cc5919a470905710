import DBus
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The planner: from a transaction, the host's state and the running NetworkManager's codec to
/// the plan and what the run needs (``NMClient/Prepared``). It touches no bus: everything it
/// reads is given, so it is unit-tested with host states built by hand (PlannerTests).
///
/// ``NMClient`` reads the host, then the applied connection (`GetAppliedConnection`) of each
/// device in ``appliedConnectionsNeeded(for:host:)``, then plans with this.
struct NMPlanner: Sendable {
    /// The host as read: devices, active connections, profiles with their settings.
    var host: NMHostState
    /// The applied connection of each device (by device path) whose active profile the
    /// transaction modifies. A device missing here is one whose connection went away since
    /// `host` was read: no reapply is planned on it.
    var applied: [ObjectPath: NMConnectionProfile]
    /// The codec of the running NetworkManager: what is written, and how plans compare it.
    var codec: NMSettingsCodec

    init(host: NMHostState, applied: [ObjectPath: NMConnectionProfile] = [:], codec: NMSettingsCodec) {
        self.host = host
        self.applied = applied
        self.codec = codec
    }

    /// The devices whose applied connection planning `transaction` compares, in the order it
    /// compares them: those running, activated, a profile the transaction modifies (its
    /// `.ensure`s resolved), when ``NMTransaction/modifiesTakeEffect``.
    static func appliedConnectionsNeeded(for transaction: NMTransaction, host: NMHostState) throws(NMError) -> [ObjectPath] {
        guard transaction.modifiesTakeEffect else { return [] }
        let existing = Set(host.profiles.map(\.profile.uuid))
        var paths: [ObjectPath] = []
        for change in try NMClient.resolveEnsures(transaction.changes, existing: host.profiles) {
            guard case .modify(let profile) = change, existing.contains(profile.uuid) else { continue }
            for connection in host.active where connection.uuid == profile.uuid && connection.state == .activated {
                for path in connection.devices where host.device(at: path) != nil && !paths.contains(path) {
                    paths.append(path)
                }
            }
        }
        return paths
    }

    /// Validates every change and computes the plan. See ``NMClient/plan(_:)`` for what it refuses.
    func prepare(_ transaction: NMTransaction) throws(NMError) -> NMClient.Prepared {
        let stored = host.profiles
        var existing: [UUID: NMStoredProfile] = [:]
        for profile in stored { existing[profile.profile.uuid] = profile }
        // `.ensure` becomes the `.add` or `.modify` it stands for, before anything is planned.
        let changes = try NMClient.resolveEnsures(transaction.changes, existing: stored)
        let active = host.active
        var adds: [UUID: NMConnectionProfile] = [:]
        var modifies: [UUID: NMConnectionProfile] = [:]
        var steps: [NMTransactionPlan.Step] = []
        // Reapplications (or reactivations) of modified profiles that are active.
        var effects: [NMTransactionPlan.Step] = []

        func wireText(_ profile: NMConnectionProfile) throws(NMError) -> [String: [String: DBusValueText]] {
            try NMClient.planText(profile, codec: codec)
        }
        func name(of uuid: UUID) -> String {
            adds[uuid]?.name ?? modifies[uuid]?.name ?? existing[uuid]?.profile.name ?? uuid.uuidString.lowercased()
        }
        func requireKnown(_ uuid: UUID, for what: String) throws(NMError) {
            guard adds[uuid] != nil || existing[uuid] != nil else {
                throw NMError(.unknownConnection, "\(what): no profile has UUID \(uuid.uuidString.lowercased())",
                              hint: "add the profile in the same transaction, or check the UUID")
            }
        }

        // Profiles first, so that later steps can refer to them.
        for change in changes {
            switch change {
            case .add(let profile):
                try profile.validate()
                guard adds[profile.uuid] == nil else {
                    throw NMError(.uuidExists, "the transaction adds UUID \(profile.uuid.uuidString.lowercased()) twice")
                }
                adds[profile.uuid] = profile
                if let current = existing[profile.uuid] {
                    // Re-adding a profile that is already there is a no-op: that is what makes a
                    // rerun safe. NetworkManager normalises what it stores (it adds keys with
                    // their defaults), so every key we would write must hold, not every key it has.
                    let stored = try wireText(current.profile)
                    let wanted = try wireText(profile)
                    let same = wanted.allSatisfy { setting, keys in
                        keys.allSatisfy { key, value in stored[setting]?[key] == value }
                    }
                    if !same {
                        throw NMError(.uuidExists, "a different profile with UUID \(profile.uuid.uuidString.lowercased()) exists (\(current.profile.name))",
                                      hint: "use .modify to change an existing profile")
                    }
                    steps.append(.init(kind: .add, profile: profile.name, uuid: profile.uuid, ports: [], changes: [], alreadyDone: true))
                } else {
                    steps.append(.init(kind: .add, profile: profile.name, uuid: profile.uuid, ports: [],
                                       changes: NMTransactionPlan.diff(from: [:], to: try wireText(profile)), alreadyDone: false))
                }
            case .modify(let profile):
                try profile.validate()
                guard let current = existing[profile.uuid] else {
                    throw NMError(.unknownConnection, "cannot modify \(profile.name): no profile has UUID \(profile.uuid.uuidString.lowercased())",
                                  hint: "use .add for a new profile, or .ensure to add or modify it by name")
                }
                modifies[profile.uuid] = profile
                let currentText = try wireText(current.profile)
                let diff = NMTransactionPlan.diff(from: currentText, to: try wireText(profile))
                steps.append(.init(kind: .modify, profile: profile.name, uuid: profile.uuid, ports: [], changes: diff, alreadyDone: diff.isEmpty,
                                   baseline: NMTransactionPlan.fingerprint(currentText), versionID: current.versionID))
                // Active on a device: what that device applies must become the profile too. A
                // profile that matches on disk while its device runs something else (an
                // earlier modify that was only stored) still has this to do.
                var devices: [(interface: String, changes: [NMTransactionPlan.SettingChange])] = []
                for connection in active where transaction.modifiesTakeEffect
                    && connection.uuid == profile.uuid && connection.state == .activated
                {
                    for path in connection.devices {
                        guard let device = host.device(at: path) else { continue }
                        // Not read (the device was deactivated since the host was read): nothing to reapply there.
                        guard let applied = applied[path] else { continue }
                        // Against the profile as NetworkManager normalised it when nothing is to
                        // be written; otherwise against what will be written.
                        // `connection.autoconnect(-priority)` say what NetworkManager does with
                        // the profile, not what the device runs: a difference there is nothing to
                        // reapply. (A profile a transaction added and activated keeps the staged
                        // copy's `autoconnect=false` in its applied connection after the commit,
                        // docs/networkmanager-quirks.md; without this every later modify or
                        // ensure of it would plan a reapply that never settles.)
                        let changes = NMTransactionPlan.diff(from: try wireText(applied), to: diff.isEmpty ? currentText : try wireText(profile))
                            .filter { !NMTransactionPlan.isProfileOnly(setting: $0.setting, key: $0.key) }
                        devices.append((device.interface.rawValue, changes))
                    }
                }
                if !devices.isEmpty {
                    var changes: [NMTransactionPlan.SettingChange] = []
                    for device in devices { for change in device.changes where !changes.contains(change) { changes.append(change) } }
                    let inPlace = changes.allSatisfy { NMTransactionPlan.reapplicable(setting: $0.setting, key: $0.key) }
                    effects.append(.init(kind: inPlace ? .reapply : .reactivate, profile: profile.name, uuid: profile.uuid, ports: [],
                                         changes: changes, alreadyDone: changes.isEmpty, devices: devices.map(\.interface).sorted()))
                }
            default:
                continue
            }
        }
        var deactivations: [NMTransactionPlan.Step] = []
        var activations: [(controller: Bool, step: NMTransactionPlan.Step)] = []
        var commits: [NMTransactionPlan.Step] = []
        var superseded: Set<UUID> = []
        var deleted: Set<UUID> = []
        for change in changes {
            switch change {
            case .add, .modify, .ensure:
                continue
            case .delete(let uuid):
                let exists = existing[uuid] != nil
                if adds[uuid] != nil { throw NMError(.invalidArguments, "the transaction both adds and deletes \(name(of: uuid))",
                                                           hint: "drop one of the two changes") }
                deleted.insert(uuid)
                commits.append(.init(kind: .delete, profile: name(of: uuid), uuid: uuid, ports: [], changes: [], alreadyDone: !exists))
            case .supersede(let uuid):
                try requireKnown(uuid, for: "supersede")
                superseded.insert(uuid)
                let autoconnect = (modifies[uuid] ?? existing[uuid]?.profile ?? adds[uuid])?.connection.autoconnect ?? true
                commits.append(.init(kind: .supersede, profile: name(of: uuid), uuid: uuid, ports: [],
                                     changes: autoconnect ? [.init(setting: "connection", key: "autoconnect", before: .boolean(true), after: .boolean(false))] : [],
                                     alreadyDone: !autoconnect))
            case .deactivate(let uuid):
                try requireKnown(uuid, for: "deactivate")
                let isActive = active.contains { $0.uuid == uuid && $0.state != .deactivated }
                deactivations.append(.init(kind: .deactivate, profile: name(of: uuid), uuid: uuid, ports: [], changes: [], alreadyDone: !isActive))
            case .activate(let uuid, let ports):
                try requireKnown(uuid, for: "activate")
                let profile = adds[uuid] ?? modifies[uuid] ?? existing[uuid]!.profile
                let running = active.first { $0.uuid == uuid && $0.state == .activated }
                var done = running != nil && adds[uuid].map({ _ in existing[uuid] != nil }) ?? true
                if done, modifies[uuid] != nil, let step = steps.first(where: { $0.uuid == uuid && $0.kind == .modify }), !step.alreadyDone {
                    done = false
                }
                // Activating a modified profile is a full reactivation, which carries the change
                // (and is what the caller asked for): it replaces the reapply; it is to do
                // while the device runs something else than the profile.
                if done, effects.contains(where: { $0.uuid == uuid && !$0.alreadyDone }) { done = false }
                if done, !ports.isEmpty, let running {
                    // Each port must be attached to this controller's device.
                    for port in ports {
                        guard let device = host.device(named: port.rawValue), device.isReal,
                            host.isPort(device.path, of: Set(running.devices))
                        else {
                            done = false
                            break
                        }
                    }
                }
                let isController = profile.bridge != nil || profile.bond != nil
                activations.append((isController, .init(kind: .activate, profile: profile.name, uuid: uuid,
                                                         ports: ports.map(\.rawValue), changes: [], alreadyDone: done)))
            }
        }
        // Never two profiles that can autoconnect on one interface once committed.
        var autoconnecting: [String: [String]] = [:]
        var finalProfiles: [UUID: NMConnectionProfile] = existing.mapValues(\.profile)
        for (uuid, profile) in adds { finalProfiles[uuid] = profile }
        for (uuid, profile) in modifies { finalProfiles[uuid] = profile }
        for (uuid, profile) in finalProfiles where !superseded.contains(uuid) && !deleted.contains(uuid) {
            guard profile.connection.autoconnect ?? true, let interface = profile.interfaceName?.rawValue else { continue }
            autoconnecting[interface, default: []].append(profile.name)
        }
        let touched = Set(adds.values.compactMap { $0.interfaceName?.rawValue })
            .union(modifies.values.compactMap { $0.interfaceName?.rawValue })
        for (interface, names) in autoconnecting where names.count > 1 && touched.contains(interface) {
            throw NMError(.invalidProfile,
                          "after this transaction \(names.count) profiles could autoconnect on \(interface): \(names.sorted().joined(separator: ", "))",
                          hint: "supersede the profiles this transaction replaces (.supersede(uuid:)), or give the new one autoconnect false")
        }
        // Profiles that do not fit their devices, parents and controllers that do not exist:
        // refused here, before any checkpoint (NMClient+DeviceFit.swift).
        try NMClient.checkDeviceFit(changed: Array(adds.values) + Array(modifies.values),
                                profiles: finalProfiles.filter { !deleted.contains($0.key) }.map(\.value), devices: host.devices)
        // What was active before, controllers first. NetworkManager's own external "connections"
        // come back by themselves: an active connection flagged external, a profile flagged
        // external (lo's on 1.50 and later, docs/networkmanager-quirks.md), and loopback itself,
        // which an undo must never activate (that makes NetworkManager manage lo from then on).
        var activeBefore: [NMClient.ActiveBefore] = []
        for connection in active where connection.state == .activated && !connection.stateFlags.contains(.external) {
            let uuid = connection.uuid
            if existing[uuid]?.flags.contains(.external) == true { continue }
            for devicePath in connection.devices {
                guard let device = host.device(at: devicePath), device.type != .loopback else { continue }
                let entry = NMClient.ActiveBefore(interface: device.interface.rawValue, uuid: uuid)
                if existing[uuid]?.profile.isPort == true { activeBefore.append(entry) } else { activeBefore.insert(entry, at: 0) }
            }
        }
        // Software devices the transaction will create: deleted again by an undo without the checkpoint.
        let software: Set<NMConnectionType> = [.bridge, .bond, .vlan, .dummy]
        var newDevices: [String] = []
        for profile in adds.values where software.contains(profile.type) && existing[profile.uuid] == nil {
            guard let interface = profile.interfaceName?.rawValue else { continue }
            if host.device(named: interface)?.isReal != true { newDevices.append(interface) }
        }
        // Controllers before ports.
        let orderedActivations = activations.filter(\.controller).map(\.step) + activations.filter { !$0.controller }.map(\.step)
        // A reapply only where the transaction neither activates nor deactivates the profile.
        let activatedOrDeactivated = Set((deactivations + orderedActivations).map(\.uuid))
        let reapplies = effects.filter { !activatedOrDeactivated.contains($0.uuid) }
        let allSteps = steps + deactivations + reapplies + orderedActivations + commits
        return NMClient.Prepared(plan: NMTransactionPlan(steps: allSteps, networkManagerVersion: codec.version.rawValue),
                        codec: codec, existing: existing, active: active, devices: host.devices, adds: adds, modifies: modifies, changes: changes,
                        activeBefore: activeBefore, newDevices: newDevices.sorted())
    }
}
