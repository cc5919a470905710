#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// What a transaction keeps inside NetworkManager so that any process, this one or the next,
/// can finish it or undo it from the state the host is in (docs/transactions.md, "Interrupted
/// at any point").
///
/// It lives, as JSON under one `user.data` key (``NMStagedProfileTag/record``), in an inert in-memory profile (the *record*)
/// added **before** the checkpoint, so that a checkpoint rollback, which deletes every profile
/// added after the checkpoint, keeps it. The *witness* is a profile added right **after** the
/// checkpoint: a rollback deletes it, a `CheckpointDestroy` or a NetworkManager restart does
/// not. It is the transaction's first staged add (``witness``) when it has one, else a second
/// inert profile of its own. So once the checkpoint is gone, one read tells what happened to it:
///
/// | checkpoint | witness | what happened |
/// |---|---|---|
/// | exists | exists | the transaction is running, or waiting for confirmation |
/// | gone | gone | NetworkManager rolled it back (its timeout, or a `CheckpointRollback`) |
/// | gone | exists | destroyed without a rollback: committed, a foreign `CheckpointDestroy`, or NetworkManager restarted |
///
/// and ``phase`` tells, in the last case, whether the commit had begun (finish it) or not (undo it).
struct NMTransactionRecord: Codable, Sendable, Hashable {
    /// Format version of this record; a newer process reads every older version. Version 2
    /// adds ``witness``.
    static let currentVersion = 2

    enum Phase: String, Codable, Sendable {
        /// Staging, activating, verifying, probing, or waiting for confirmation: undone if its
        /// checkpoint disappears without a rollback.
        case staging
        /// The commit has begun: completed if the checkpoint disappears without a rollback.
        case committing
    }

    /// A profile the transaction makes unable to autoconnect at commit, as it was.
    struct Superseded: Codable, Sendable, Hashable {
        var uuid: UUID
        /// `true`, `false`, or nil for the default (which is true).
        var autoconnect: Bool?
        /// Whether it lived in memory only (else on disk).
        var inMemory: Bool
    }

    var version: Int = currentVersion
    var id: UUID
    var label: String
    var phase: Phase
    /// CLOCK_BOOTTIME milliseconds when the record was made: a record without a checkpoint
    /// younger than ``inProgressGraceMilliseconds`` belongs to a transaction that is still
    /// making its checkpoint, not to a dead one.
    var createdBootTimeMilliseconds: Int64
    /// The transaction's own rollback timeout, whole seconds: what ``NMClient/confirm(_:)``
    /// arms the checkpoint with while it commits.
    var rollbackTimeoutSeconds: Int
    /// Set when `apply(commit: false)` returned: waiting for ``NMClient/confirm(_:)``.
    var awaitingConfirmation: Bool = false
    /// The process applying the transaction: its pid and its start time (field 22 of
    /// /proc/PID/stat), which together tell a live owner from a dead one or a reused pid.
    var ownerPID: Int32?
    var ownerStartTime: UInt64?
    /// Profiles added (deleted by an undo) and modified (given back from their backups).
    var adds: [UUID] = []
    var modifies: [UUID] = []
    var superseded: [Superseded] = []
    /// Profiles deleted at commit (a backup of each is kept until then).
    var deletes: [UUID] = []
    /// The profiles active before, controllers first: activated again by an undo without
    /// the checkpoint.
    var reactivate: [Reactivation] = []
    /// Software devices the transaction creates: deleted by an undo without the checkpoint.
    var newDevices: [String] = []
    /// The staged add that plays the witness (version 2): a profile added right after the
    /// checkpoint, which a rollback deletes and a restart or a `CheckpointDestroy` keeps, just
    /// like a witness profile of its own, which is then not added. Found by its UUID, tagged or
    /// not (the commit writes it to disk without tags). nil: the witness is a profile of its own
    /// (role `witness`), as every transaction without an add has.
    var witness: UUID?

    struct Reactivation: Codable, Sendable, Hashable {
        var interface: String
        var uuid: UUID
    }

    /// How long a record may exist without a checkpoint before it counts as abandoned, when
    /// whether its owner lives cannot be read (another pid namespace, no /proc).
    static let inProgressGraceMilliseconds: Int64 = 60_000

    /// Whether the process that applies the transaction is alive: nil when it cannot be told.
    var ownerAlive: Bool? {
        guard let ownerPID, let ownerStartTime else { return nil }
        guard let current = Self.startTime(of: ownerPID) else {
            // No such process in this pid namespace, or no /proc at all.
            return access("/proc/self/stat", R_OK) == 0 ? false : nil
        }
        return current == ownerStartTime
    }

    static var currentPID: Int32 { getpid() }

    /// Field 22 of /proc/PID/stat (the start time in clock ticks since boot), or nil.
    static func startTime(of pid: Int32) -> UInt64? {
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else { return nil }
        // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
        let text = String(decoding: buffer[0..<count], as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (the state); field 22 is fields[19].
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }

    func encoded() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding plain values cannot fail.
        let data = (try? encoder.encode(self)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// The record in `text`, or nil when it is not one this version understands.
    static func decode(_ text: String) -> NMTransactionRecord? {
        guard let record = try? JSONDecoder().decode(NMTransactionRecord.self, from: Data(text.utf8)),
            record.version >= 1, record.version <= currentVersion
        else { return nil }
        return record
    }
}

extension NMClient {
    /// The inert profiles that carry a transaction's bookkeeping: a `dummy` profile that can
    /// never autoconnect (autoconnect off, IP disabled) with an interface name of its own,
    /// kept in memory only. Visible to nmcli as "swift-networkmanager transaction 1a2b3c4d"
    /// (and "... checkpoint witness") while the transaction lasts.
    static func bookkeepingProfile(for id: UUID, witness: Bool, tag: NMStagedProfileTag) -> NMConnectionProfile {
        let short = id.uuidString.prefix(8).lowercased()
        // "nmtx-" / "nmtw-" + 8 hex digits: 13 bytes, a valid and unlikely interface name.
        let interface = NMInterfaceName(rawValue: (witness ? "nmtw-" : "nmtx-") + short)
        var profile = NMConnectionProfile(
            connection: NMConnectionSetting(id: witness ? "swift-networkmanager transaction \(short) checkpoint witness"
                                                : "swift-networkmanager transaction \(short)",
                                            uuid: UUID(), type: .dummy, interfaceName: interface!, autoconnect: false),
            ipv4: .disabled, ipv6: .disabled, dummy: NMDummySetting())
        profile.stagedTag = tag
        return profile
    }
}
