public import Foundation

/// What a transaction will do, computed before anything changes: each step with the settings
/// it creates or changes (secrets masked). Print it for a person (``description``) or encode
/// it as JSON for automation.
public struct NMTransactionPlan: Sendable, Codable, Hashable, CustomStringConvertible {
    /// One planned step.
    public struct Step: Sendable, Codable, Hashable {
        public enum Kind: String, Sendable, Codable { case add, modify, delete, activate, deactivate, supersede }
        public var kind: Kind
        /// The profile's name.
        public var profile: String
        public var uuid: UUID
        /// For an activation: the ports waited for.
        public var ports: [String]
        /// The settings this step writes, against what exists now.
        public var changes: [SettingChange]
        /// Whether the step is already in effect (nothing to do).
        public var alreadyDone: Bool
    }

    /// One key whose value changes: `before` nil means added, `after` nil means removed.
    public struct SettingChange: Sendable, Codable, Hashable {
        public var setting: String
        public var key: String
        public var before: String?
        public var after: String?
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
            lines.append("\(index + 1). \(step.kind.rawValue) \(step.profile)\(ports)\(step.alreadyDone ? ": already done" : "")")
            for change in step.changes {
                let key = "\(change.setting).\(change.key)"
                switch (change.before, change.after) {
                case (nil, let after?): lines.append("     + \(key) = \(after)")
                case (let before?, nil): lines.append("     - \(key) (was \(before))")
                case (let before?, let after?): lines.append("     ~ \(key): \(before) -> \(after)")
                case (nil, nil): break
                }
            }
        }
        return lines.joined(separator: "\n")
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
                    before: before[key].map { secret ? "<hidden>" : $0.text },
                    after: after[key].map { secret ? "<hidden>" : $0.text }))
            }
        }
        return result
    }
}

/// A value's printable form, for diffs.
struct DBusValueText: Hashable {
    var text: String
}
