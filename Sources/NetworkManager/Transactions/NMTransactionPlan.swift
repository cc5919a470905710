public import DBus
#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// What a transaction will do, computed before anything changes: each step with the settings
/// it creates or changes (secrets masked). Print it for a person (``description``) or encode
/// it as JSON for automation.
public struct NMTransactionPlan: Sendable, Codable, Hashable, CustomStringConvertible {
    /// One planned step.
    public struct Step: Sendable, Codable, Hashable {
        public enum Kind: String, Sendable, Codable {
            case add, modify, delete, activate, deactivate, supersede
            /// Make a modified profile that is active take effect on its devices in place
            /// (`org.freedesktop.NetworkManager.Device.Reapply`), without taking them down. If
            /// NetworkManager refuses (`IncompatibleConnection`), the profile is reactivated instead.
            case reapply
            /// Make a modified profile that is active take effect by activating it again on its
            /// devices (`ActivateConnection`): its changes include a key that `Reapply` cannot
            /// apply in place (see ``NMTransactionPlan/reapplicable(setting:key:)``).
            case reactivate
        }
        public var kind: Kind
        /// The profile's name.
        public var profile: String
        public var uuid: UUID
        /// For an activation: the ports waited for.
        public var ports: [String]
        /// For ``Kind/reapply`` and ``Kind/reactivate``: the interfaces the profile is active on,
        /// whose applied connection (`Device.GetAppliedConnection`) the step brings to the profile.
        public var devices: [String]
        /// The settings this step writes, against what exists now; for ``Kind/reapply`` and
        /// ``Kind/reactivate``, against what the device applies now.
        public var changes: [SettingChange]
        /// Whether the step is already in effect (nothing to do).
        public var alreadyDone: Bool
        /// For a modification: a fingerprint of the profile's settings as planned against.
        /// Applying re-reads the profile just before writing it and refuses with
        /// ``NMError/Code/versionIDMismatch`` when someone else changed it in between (the
        /// client-side equivalent of `version-id`, which NetworkManager checks only from 1.44).
        public var baseline: String?
        /// For a modification on NetworkManager 1.44 and later: the profile's `VersionId` as
        /// planned against, passed to `Update2` so that the daemon itself refuses a stale write.
        public var versionID: UInt64?

        public init(kind: Kind, profile: String, uuid: UUID, ports: [String], changes: [SettingChange], alreadyDone: Bool,
                    baseline: String? = nil, versionID: UInt64? = nil, devices: [String] = []) {
            self.kind = kind
            self.profile = profile
            self.uuid = uuid
            self.ports = ports
            self.devices = devices
            self.changes = changes
            self.alreadyDone = alreadyDone
            self.baseline = baseline
            self.versionID = versionID
        }
    }

    /// One key whose value changes: `before` nil means added, `after` nil means removed.
    ///
    /// The values are the typed D-Bus values (in JSON: `{"signature": "u", "value": 24}`,
    /// lists and objects for containers); ``NMTransactionPlan/description`` shows them as
    /// GVariant text. A secret's value is the string `<hidden>`.
    public struct SettingChange: Sendable, Codable, Hashable {
        public var setting: String
        public var key: String
        public var before: DBusValue?
        public var after: DBusValue?

        public init(setting: String, key: String, before: DBusValue?, after: DBusValue?) {
            self.setting = setting
            self.key = key
            self.before = before
            self.after = after
        }
    }

    /// The steps, in the order they will run.
    public var steps: [Step]
    /// NetworkManager's version when planned.
    public var networkManagerVersion: String

    /// Whether the desired state already holds.
    public var isUnchanged: Bool { steps.allSatisfy(\.alreadyDone) }

    public var description: String {
        if isUnchanged { return "Nothing to do: the desired state already holds." }
        var lines: [String] = []
        for (index, step) in steps.enumerated() {
            let ports = step.ports.isEmpty ? "" : " (waiting for ports \(step.ports.joined(separator: ", ")))"
            var how = ""
            switch step.kind {
            case .reapply:
                how = " on \(step.devices.joined(separator: ", ")) in place (Reapply; reactivated if NetworkManager refuses)"
            case .reactivate:
                let blocking = step.changes.filter { !Self.reapplicable(setting: $0.setting, key: $0.key) }
                    .map { "\($0.setting).\($0.key)" }
                how = " on \(step.devices.joined(separator: ", "))"
                    + (blocking.isEmpty ? "" : " (Reapply cannot change \(blocking.joined(separator: ", ")) in place)")
            default:
                break
            }
            lines.append("\(index + 1). \(step.kind.rawValue) \(step.profile)\(ports)\(how)\(step.alreadyDone ? ": already done" : "")")
            // A reapply of changes just listed under the modify step is not listed again.
            let repeated = (step.kind == .reapply || step.kind == .reactivate)
                && steps.contains { $0.kind == .modify && $0.uuid == step.uuid && $0.changes == step.changes }
            for change in step.changes where !repeated {
                let key = "\(change.setting).\(change.key)"
                switch (change.before, change.after) {
                case (nil, let after?): lines.append("     + \(key) = \(Self.text(after))")
                case (let before?, nil): lines.append("     - \(key) (was \(Self.text(before)))")
                case (let before?, let after?): lines.append("     ~ \(key): \(Self.text(before)) -> \(Self.text(after))")
                case (nil, nil): break
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// A value as the human rendering shows it: GVariant text, a masked secret as `<hidden>`.
    static func text(_ value: DBusValue) -> String {
        value == hidden ? "<hidden>" : value.description
    }

    /// What a secret's value is replaced with.
    static let hidden = DBusValue.string("<hidden>")

    /// Whether NetworkManager can apply a change of `setting.key` to a running device in place
    /// (`Device.Reapply`): the IP settings, user data, and a few `connection` and ethernet keys.
    /// Found by trying on 1.42 and 1.52 (docs/networkmanager-quirks.md); a key not listed is
    /// planned as a reactivation, and a listed one that NetworkManager refuses after all
    /// (`IncompatibleConnection`) falls back to one when applied.
    public static func reapplicable(setting: String, key: String) -> Bool {
        switch setting {
        case "ipv4", "ipv6", "user": return true
        case "connection":
            return ["id", "stable-id", "autoconnect", "autoconnect-priority", "zone", "metered", "lldp", "mdns", "llmnr",
                    "dns-over-tls"].contains(key)
        case "802-3-ethernet": return ["mtu", "wake-on-lan"].contains(key)
        default: return false
        }
    }

    /// Whether `setting.key` says what NetworkManager does with a profile rather than what a
    /// device runs (`connection.autoconnect`, `connection.autoconnect-priority`): a difference
    /// there between a device's applied connection and the profile is nothing to reapply or
    /// verify.
    static func isProfileOnly(setting: String, key: String) -> Bool {
        setting == "connection" && (key == "autoconnect" || key == "autoconnect-priority")
    }

    /// The first difference between this plan and `other`, in words, or nil when they are the
    /// same plan (same steps, same settings planned against).
    public func firstDifference(from other: NMTransactionPlan) -> String? {
        if steps.count != other.steps.count {
            return "\(other.steps.count) steps were planned, now there are \(steps.count)"
        }
        for (index, (now, then)) in zip(steps, other.steps).enumerated() where now != then {
            let what = "step \(index + 1) (\(then.kind.rawValue) \(then.profile))"
            if now.kind != then.kind || now.uuid != then.uuid { return "\(what) is now \(now.kind.rawValue) \(now.profile)" }
            if now.alreadyDone != then.alreadyDone {
                return "\(what) was \(then.alreadyDone ? "already done" : "to do") and now is \(now.alreadyDone ? "already done" : "to do")"
            }
            if now.baseline != then.baseline || now.versionID != then.versionID {
                return "\(what): the profile was changed by someone else since the plan was made"
            }
            return "\(what) would now change other settings"
        }
        return nil
    }

    /// A stable fingerprint of a wire form (FNV-1a over its sorted text): the same settings
    /// give the same value in every process, unlike `Hasher`.
    static func fingerprint(_ wire: [String: [String: DBusValueText]]) -> String {
        var text = ""
        for setting in wire.keys.sorted() {
            for (key, value) in (wire[setting] ?? [:]).sorted(by: { $0.key < $1.key }) {
                text += "\(setting).\(key)=\(value.text)\n"
            }
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return String(hash, radix: 16)
    }

    /// The differences between two wire forms, masked where the key looks secret.
    static func diff(from old: [String: [String: DBusValueText]], to new: [String: [String: DBusValueText]]) -> [SettingChange] {
        var result: [SettingChange] = []
        for setting in Set(old.keys).union(new.keys).sorted() {
            let before = old[setting] ?? [:]
            let after = new[setting] ?? [:]
            for key in Set(before.keys).union(after.keys).sorted() where before[key] != after[key] {
                let secret = NMConnectionProfile.isSecretKey(key)
                result.append(SettingChange(
                    setting: setting, key: key,
                    before: before[key].map { secret ? hidden : $0.value },
                    after: after[key].map { secret ? hidden : $0.value }))
            }
        }
        return result
    }
}

/// A value with its printable form, for diffs: two values are the same when their text is.
struct DBusValueText: Hashable {
    var value: DBusValue
    var text: String

    init(_ value: DBusValue) {
        self.value = value
        text = value.description
    }

    static func == (lhs: DBusValueText, rhs: DBusValueText) -> Bool { lhs.text == rhs.text }
    func hash(into hasher: inout Hasher) { hasher.combine(text) }
}
