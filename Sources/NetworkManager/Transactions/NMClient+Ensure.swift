import DBus
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `.ensure`: finding the existing profile a desired one stands for, and turning the ensure
/// into an `.add` or a `.modify` before the planner sees it. Pure functions of the
/// transaction and the profiles read from the host: no bus access, unit-tested in
/// Tests/NetworkManagerTests/EnsureResolutionTests.swift.
extension NMClient {
    /// The existing profiles that `profile` could stand for under `match`, in the order of
    /// `profiles`: those with its UUID; with ``NMEnsureMatch/name``, those whose
    /// `connection.id` equals its name; with ``NMEnsureMatch/interface``, those of its
    /// `connection.type` whose `connection.interface-name` equals its interface name.
    ///
    /// Never candidates: this library's own bookkeeping (a transaction's record, witness and
    /// backups, told by their `user.data` tags) and the profiles in `excluded` (those the same
    /// transaction deletes: an ensure next to a delete of the old profile adds a fresh one).
    ///
    /// The candidates' `connection.type` is not filtered for ``NMEnsureMatch/name``: a
    /// profile of another type with the same name is a candidate, which
    /// ``resolveEnsures(_:existing:)`` refuses rather than silently add a second profile of
    /// that name.
    /// - Throws: ``NMError/Code/invalidArguments`` for ``NMEnsureMatch/interface`` when the
    ///   profile names no interface.
    static func ensureCandidates(for profile: NMConnectionProfile, matching match: NMEnsureMatch,
                                 among profiles: [NMStoredProfile], excluding excluded: Set<UUID> = []) throws(NMError) -> [NMStoredProfile] {
        if match == .interface, profile.interfaceName == nil {
            throw NMError(.invalidArguments, "cannot ensure '\(profile.name)' by interface: it names no interface (connection.interface-name)",
                          hint: "give the profile an interface name, or ensure it by name (matching: .name)")
        }
        let byName = match == .name || match == .nameOrInterface
        let byInterface = match == .interface || match == .nameOrInterface
        return profiles.filter { stored in
            let candidate = stored.profile
            if excluded.contains(candidate.uuid) || isBookkeeping(candidate) { return false }
            if candidate.uuid == profile.uuid { return true }
            if byName, candidate.name == profile.name { return true }
            if byInterface, let interface = profile.interfaceName, candidate.interfaceName == interface,
               candidate.type == profile.type
            {
                return true
            }
            return false
        }
    }

    /// Whether a stored profile is a transaction's record, witness or backup (never what a
    /// caller's profile stands for).
    static func isBookkeeping(_ profile: NMConnectionProfile) -> Bool {
        profile.isTransactionBookkeeping
    }

    /// `desired` made the new content of `existing`: its UUID is `existing`'s, and what this
    /// library does not model is kept from `existing` (whole settings, each modelled setting's
    /// other keys, `user` data), as a read-modify-write keeps it. Everything modelled is
    /// `desired`'s: a setting it leaves out is removed (unless it holds only keys this library
    /// does not model: see below), a key it leaves at `nil` goes back to NetworkManager's default.
    static func ensured(_ desired: NMConnectionProfile, onto existing: NMConnectionProfile) -> NMConnectionProfile {
        var result = desired
        result.connection.uuid = existing.uuid
        func keep(_ old: [String: DBusValue]?, _ new: inout [String: DBusValue]) {
            guard let old else { return }
            new = old.merging(new) { _, mine in mine }
        }
        keep(existing.connection.extraKeys, &result.connection.extraKeys)
        if result.ethernet != nil { keep(existing.ethernet?.extraKeys, &result.ethernet!.extraKeys) }
        if result.bridge != nil { keep(existing.bridge?.extraKeys, &result.bridge!.extraKeys) }
        if result.bridgePort != nil { keep(existing.bridgePort?.extraKeys, &result.bridgePort!.extraKeys) }
        if result.ipv4 != nil { keep(existing.ipv4?.extraKeys, &result.ipv4!.extraKeys) }
        if result.ipv6 != nil { keep(existing.ipv6?.extraKeys, &result.ipv6!.extraKeys) }
        if result.vlan != nil { keep(existing.vlan?.extraKeys, &result.vlan!.extraKeys) }
        if result.bond != nil { keep(existing.bond?.extraKeys, &result.bond!.extraKeys) }
        if result.dummy != nil { keep(existing.dummy?.extraKeys, &result.dummy!.extraKeys) }
        // A setting `desired` leaves out that holds nothing this library models (only keys it
        // does not know) is kept: NetworkManager adds such settings itself when it stores a
        // profile (a bridge profile gets an `802-3-ethernet` setting with `auto-negotiate`,
        // `mac-address-blacklist` and `s390-options`, docs/networkmanager-quirks.md), so
        // removing it would be a change that never holds. One with modelled content (an MTU,
        // a MAC address) is removed, as `desired` says.
        func keepIfBlank<Setting: Equatable>(_ wanted: inout Setting?, _ old: Setting?, _ blank: Setting,
                                             _ extraKeys: KeyPath<Setting, [String: DBusValue]>,
                                             _ setExtra: (inout Setting, [String: DBusValue]) -> Void) {
            guard wanted == nil, let old else { return }
            var empty = blank
            setExtra(&empty, old[keyPath: extraKeys])
            if empty == old { wanted = old }
        }
        keepIfBlank(&result.ethernet, existing.ethernet, NMEthernetSetting(), \.extraKeys) { $0.extraKeys = $1 }
        keepIfBlank(&result.bridgePort, existing.bridgePort, NMBridgePortSetting(), \.extraKeys) { $0.extraKeys = $1 }
        keepIfBlank(&result.bridge, existing.bridge, NMBridgeSetting(), \.extraKeys) { $0.extraKeys = $1 }
        keepIfBlank(&result.bond, existing.bond, NMBondSetting(), \.extraKeys) { $0.extraKeys = $1 }
        keepIfBlank(&result.dummy, existing.dummy, NMDummySetting(), \.extraKeys) { $0.extraKeys = $1 }
        for (setting, keys) in existing.unknownSettings where result.unknownSettings[setting] == nil {
            result.unknownSettings[setting] = keys
        }
        return result
    }

    /// The transaction's changes with every ``NMChange/ensure(_:matching:)`` replaced by the
    /// `.add` or `.modify` it resolves to against `existing` (the host's profiles), and every
    /// reference to an ensured profile's UUID (`.activate`, `.deactivate`, `.supersede`,
    /// `.delete`, a port's `connection.controller`, a VLAN's `vlan.parent`) replaced by the
    /// UUID it resolved to.
    ///
    /// - Throws: ``NMError/Code/ambiguousProfile`` when two or more profiles match one ensure;
    ///   ``NMError/Code/profileTypeMismatch`` when the one that matches has another
    ///   `connection.type`; ``NMError/Code/invalidArguments`` when two changes of the
    ///   transaction would add or change the same profile (two ensures resolving to one
    ///   profile, an ensure and a `.modify` of it).
    static func resolveEnsures(_ changes: [NMChange], existing: [NMStoredProfile]) throws(NMError) -> [NMChange] {
        guard changes.contains(where: { if case .ensure = $0 { return true } else { return false } }) else { return changes }
        let deleted = Set(changes.compactMap { if case .delete(let uuid) = $0 { return uuid } else { return nil } })
        var resolved = changes
        // The desired UUID of each ensure -> the UUID it stands for.
        var renamed: [UUID: UUID] = [:]
        for (index, change) in changes.enumerated() {
            guard case .ensure(let profile, let match) = change else { continue }
            let candidates = try ensureCandidates(for: profile, matching: match, among: existing, excluding: deleted)
            switch candidates.count {
            case 0:
                resolved[index] = .add(profile)
            case 1:
                let current = candidates[0].profile
                guard current.type == profile.type else {
                    throw NMError(.profileTypeMismatch,
                                  "cannot ensure '\(profile.name)' (\(profile.type)): the profile it stands for, '\(current.name)' \(current.uuid.uuidString.lowercased()), is of type \(current.type)",
                                  hint: "NetworkManager cannot change a profile's type: give the new profile another name, or delete the old one in the same transaction (.delete(uuid:))")
                }
                resolved[index] = .modify(ensured(profile, onto: current))
                if current.uuid != profile.uuid { renamed[profile.uuid] = current.uuid }
            default:
                let names = candidates.map { "'\($0.profile.name)' \($0.profile.uuid.uuidString.lowercased()) (\($0.profile.type)\($0.profile.interfaceName.map { " on \($0)" } ?? ""))" }
                throw NMError(.ambiguousProfile,
                              "cannot ensure '\(profile.name)': \(candidates.count) existing profiles match (\(match.rawValue)): \(names.joined(separator: ", "))",
                              hint: "delete or rename all but one of them (or delete them in the same transaction), or change the profile with .modify(_:) by its UUID")
            }
        }
        // Two changes on one profile would make the plan's outcome depend on their order.
        var seen: [UUID: String] = [:]
        for change in resolved {
            let profile: NMConnectionProfile
            switch change {
            case .add(let p), .modify(let p): profile = p
            default: continue
            }
            if let other = seen[profile.uuid] {
                throw NMError(.invalidArguments,
                              "the transaction adds or changes profile \(profile.uuid.uuidString.lowercased()) twice ('\(other)' and '\(profile.name)')",
                              hint: "an .ensure stands for the existing profile of the same name (or interface): do not also .modify or .ensure that profile")
            }
            seen[profile.uuid] = profile.name
        }
        guard !renamed.isEmpty else { return resolved }
        func map(_ uuid: UUID) -> UUID { renamed[uuid] ?? uuid }
        func mapReference(_ text: String?) -> String? {
            guard let text, let uuid = UUID(uuidString: text), let target = renamed[uuid] else { return text }
            return target.uuidString.lowercased()
        }
        func mapProfile(_ profile: NMConnectionProfile) -> NMConnectionProfile {
            var profile = profile
            profile.connection.controller = mapReference(profile.connection.controller)
            if let parent = profile.vlan?.parent { profile.vlan?.parent = mapReference(parent) ?? parent }
            return profile
        }
        return resolved.map { change in
            switch change {
            case .add(let profile): return .add(mapProfile(profile))
            case .modify(let profile): return .modify(mapProfile(profile))
            case .ensure: return change  // all resolved above
            case .delete(let uuid): return .delete(uuid: map(uuid))
            case .activate(let uuid, let ports): return .activate(uuid: map(uuid), ports: ports)
            case .deactivate(let uuid): return .deactivate(uuid: map(uuid))
            case .supersede(let uuid): return .supersede(uuid: map(uuid))
            }
        }
    }
}
