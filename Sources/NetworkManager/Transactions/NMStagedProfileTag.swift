import DBus
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a transaction writes into the `user.data` of each profile it stages (a new or modified
/// profile, a backup, the bookkeeping record or witness), as one typed value: the only place
/// that knows the keys (``Key``) and their formats. The engine encodes a tag when it stages
/// (``NMConnectionProfile/stagedTag``'s setter) and decodes it when it reads the host back
/// (recovery, pending confirm and rollback, ensure, supersede).
///
/// `user.data` holds string pairs only, so the tag is stored as flat keys (``userData``), the
/// same keys every earlier version wrote, so that a process of an older version still finds a
/// pending transaction this one left, and this one reads what an older one left
/// (``init(userData:)``). Version 1 adds `org.swift-networkmanager.tag-version`; its absence
/// is version 0, the format before this type. The type is also `Codable` (JSON, for reports
/// and tests).
struct NMStagedProfileTag: Sendable, Hashable, Codable {
    /// The version this build writes. Version 2 adds ``checkpointCreatedUntil``.
    static let currentVersion = 2
    /// The key that carries the version (absent: version 0).
    static let versionKey = Key.version

    /// The `user.data` keys (NetworkManager keeps them with the profile, so another process
    /// can find a pending transaction). Nothing outside this file reads or writes them.
    enum Key {
        /// The prefix of every key below.
        static let prefix = "org.swift-networkmanager."
        static let version = prefix + "tag-version"
        static let transaction = prefix + "transaction"
        static let checkpoint = prefix + "checkpoint"
        /// When the checkpoint was made (its `Created`, CLOCK_BOOTTIME ms): checkpoint paths
        /// start again at `/Checkpoint/1` when NetworkManager restarts, so the path alone could
        /// name a younger, unrelated checkpoint.
        static let checkpointCreated = prefix + "checkpoint-created"
        /// Version 2: the latest the checkpoint can have been created; `checkpoint-created` is
        /// then the earliest (the engine knows the range from `CheckpointCreate`'s timing).
        static let checkpointCreatedUntil = prefix + "checkpoint-created-until"
        static let autoconnect = prefix + "autoconnect"
        static let label = prefix + "label"
        /// What the profile is to the transaction (``Role``).
        static let staged = prefix + "staged"
        /// On a backup: the UUID, name and storage (`disk` or `memory`) of the profile it preserves.
        static let backupOf = prefix + "backup-of"
        static let originalName = prefix + "original-name"
        static let originalStorage = prefix + "original-storage"
        /// On the record profile: the ``NMTransactionRecord`` as JSON.
        static let record = prefix + "record"
        /// Older versions only (the record carries these now): comma-separated UUIDs.
        static let supersedes = prefix + "supersedes"
        static let deletes = prefix + "deletes"
        /// Older versions only: the profiles active before, `interface=uuid` separated by commas.
        static let reactivate = prefix + "reactivate"
        /// Older versions only: interfaces of software devices the transaction created.
        static let newDevices = prefix + "new-devices"
    }

    /// What the profile is to its transaction (`org.swift-networkmanager.staged`).
    enum Role: String, Sendable, Hashable, Codable {
        /// A profile the transaction adds.
        case add
        /// A profile the transaction modifies (the desired settings, staged in memory).
        case modify
        /// An inert in-memory copy of a modified or deleted profile as it was.
        case backup
        /// The bookkeeping profile that carries the ``NMTransactionRecord``.
        case record
        /// The bookkeeping profile of a transaction that stages nothing else.
        case witness
    }

    /// Where a modified profile was kept before (`org.swift-networkmanager.original-storage`).
    enum Storage: String, Sendable, Hashable, Codable {
        case disk, memory
    }

    var version: Int = Self.currentVersion
    /// The transaction's id.
    var transaction: UUID
    var role: Role?
    /// The checkpoint's path and when it was made (CLOCK_BOOTTIME ms).
    var checkpoint: String?
    var checkpointCreated: Int64?
    var checkpointCreatedUntil: Int64?
    /// The autoconnect the profile is to have once committed: nil is NetworkManager's
    /// default (`default`); absent from the tag when ``hasAutoconnect`` is false.
    var autoconnect: Bool?
    var hasAutoconnect = false
    var label: String?
    /// On a backup: the profile it preserves, its name and where it was kept.
    var backupOf: UUID?
    var originalName: String?
    var originalStorage: Storage?
    /// Older versions only (the record carries these now): superseded and deleted profiles,
    /// the profiles active before, new software devices.
    var supersedes: [UUID] = []
    var deletes: [UUID] = []
    var reactivate: [NMClient.ActiveBefore] = []
    var newDevices: [String] = []
    /// On the record profile: the transaction's record (nil when absent, or written by a
    /// newer version this one does not understand).
    var record: NMTransactionRecord?

    init(transaction: UUID, role: Role?) {
        self.transaction = transaction
        self.role = role
    }

    /// The tag in `userData` (a profile's `user.data`), nil when it carries no transaction id.
    /// Unknown keys under the prefix (a newer version's) are ignored; values that do not parse
    /// are taken as absent, as the hand-written readers did.
    init?(userData tags: [String: String]) {
        typealias Tag = Key
        guard let id = tags[Tag.transaction].flatMap(UUID.init(uuidString:)) else { return nil }
        transaction = id
        version = tags[Self.versionKey].flatMap { Int($0) } ?? 0
        role = tags[Tag.staged].flatMap(Role.init(rawValue:))
        checkpoint = tags[Tag.checkpoint]
        checkpointCreated = tags[Tag.checkpointCreated].flatMap { Int64($0) }
        checkpointCreatedUntil = tags[Tag.checkpointCreatedUntil].flatMap { Int64($0) }
        if let text = tags[Tag.autoconnect] {
            hasAutoconnect = true
            autoconnect = text == "default" ? nil : text == "true"
        }
        label = tags[Tag.label]
        backupOf = tags[Tag.backupOf].flatMap(UUID.init(uuidString:))
        originalName = tags[Tag.originalName]
        originalStorage = tags[Tag.originalStorage].flatMap(Storage.init(rawValue:))
        supersedes = Self.uuidList(tags[Tag.supersedes])
        deletes = Self.uuidList(tags[Tag.deletes])
        reactivate = Self.reactivateList(tags[Tag.reactivate])
        newDevices = (tags[Tag.newDevices] ?? "").split(separator: ",").map(String.init)
        record = tags[Tag.record].flatMap(NMTransactionRecord.decode)
    }

    static func uuidList(_ text: String?) -> [UUID] {
        (text ?? "").split(separator: ",").compactMap { UUID(uuidString: String($0)) }
    }

    static func reactivateList(_ text: String?) -> [NMClient.ActiveBefore] {
        (text ?? "").split(separator: ",").compactMap { entry in
            let parts = entry.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let uuid = UUID(uuidString: String(parts[1])) else { return nil }
            return NMClient.ActiveBefore(interface: String(parts[0]), uuid: uuid)
        }
    }

    /// Whether `key` is one of the tag's (the prefix every version used).
    static func isTagKey(_ key: String) -> Bool { key.hasPrefix(Key.prefix) }

    /// `userData` without any tag key (what the caller's profile carried of its own).
    static func removingTags(from userData: [String: String]) -> [String: String] {
        userData.filter { !isTagKey($0.key) }
    }

    /// The flat keys to merge into a profile's `user.data`; empty values are left out.
    var userData: [String: String] {
        typealias Tag = Key
        var tags: [String: String] = [Tag.transaction: transaction.uuidString]
        if version > 0 { tags[Self.versionKey] = String(version) }
        tags[Tag.staged] = role?.rawValue
        tags[Tag.checkpoint] = checkpoint
        tags[Tag.checkpointCreated] = checkpointCreated.map { String($0) }
        tags[Tag.checkpointCreatedUntil] = checkpointCreatedUntil.map { String($0) }
        if hasAutoconnect { tags[Tag.autoconnect] = autoconnect.map { $0 ? "true" : "false" } ?? "default" }
        tags[Tag.label] = label
        tags[Tag.backupOf] = backupOf?.uuidString
        tags[Tag.originalName] = originalName
        tags[Tag.originalStorage] = originalStorage?.rawValue
        if !supersedes.isEmpty { tags[Tag.supersedes] = supersedes.map(\.uuidString).joined(separator: ",") }
        if !deletes.isEmpty { tags[Tag.deletes] = deletes.map(\.uuidString).joined(separator: ",") }
        if !reactivate.isEmpty { tags[Tag.reactivate] = reactivate.map { "\($0.interface)=\($0.uuid.uuidString)" }.joined(separator: ",") }
        if !newDevices.isEmpty { tags[Tag.newDevices] = newDevices.joined(separator: ",") }
        tags[Tag.record] = record?.encoded()
        return tags.filter { !$0.value.isEmpty }
    }
}


extension NMConnectionProfile {
    /// The transaction tag this profile carries in `user.data`, or nil. Setting it replaces
    /// every tag key (of any version) and keeps the profile's other `user.data` entries;
    /// setting nil removes the tag.
    var stagedTag: NMStagedProfileTag? {
        get { NMStagedProfileTag(userData: userData) }
        set {
            var data = NMStagedProfileTag.removingTags(from: userData)
            if let newValue { data.merge(newValue.userData) { $1 } }
            userData = data
        }
    }

    /// Whether a stored profile is a transaction's record, witness or backup (never what a
    /// caller's profile stands for).
    var isTransactionBookkeeping: Bool {
        switch stagedTag?.role {
        case .record?, .witness?, .backup?: return true
        default: return false
        }
    }
}
