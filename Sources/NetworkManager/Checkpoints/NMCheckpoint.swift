public import DBus
#if canImport(Glibc)
import Glibc
#endif

/// A checkpoint: NetworkManager's saved copy of the network configuration of some devices,
/// restored by ``NMClient/rollback(_:)`` or by NetworkManager itself when its rollback timeout
/// passes. A snapshot of an `org.freedesktop.NetworkManager.Checkpoint` object.
public struct NMCheckpoint: Sendable, Hashable, Identifiable, Codable {
    /// The object path, `/org/freedesktop/NetworkManager/Checkpoint/N`.
    public var path: ObjectPath
    /// The devices it covers (`Devices`).
    public var devices: [ObjectPath]
    /// When it was made, in milliseconds of `CLOCK_BOOTTIME` (`Created`).
    public var createdBootTimeMilliseconds: Int64
    /// Seconds after which NetworkManager rolls back by itself, counted from creation or from
    /// the last ``NMClient/adjustRollbackTimeout(_:to:)``; 0 means never (`RollbackTimeout`).
    public var rollbackTimeout: UInt32
    /// When only the range of its creation time is known (made by this process from
    /// `CheckpointCreate`'s own timing, without reading `Created`): ``createdBootTimeMilliseconds``
    /// is the earliest, this the latest. nil: ``createdBootTimeMilliseconds`` is `Created`.
    var createdUntilBootTimeMilliseconds: Int64?

    public var id: ObjectPath { path }

    enum CodingKeys: String, CodingKey {
        case path, devices, createdBootTimeMilliseconds, rollbackTimeout
    }

    /// A checkpoint this process made, known from `CheckpointCreate`'s reply and its timing:
    /// NetworkManager set `Created` after the call was sent and before its reply was read.
    init(path: ObjectPath, createdBetween earliest: Int64, and latest: Int64, rollbackTimeout: UInt32) {
        self.path = path
        devices = []
        createdBootTimeMilliseconds = earliest
        createdUntilBootTimeMilliseconds = latest
        self.rollbackTimeout = rollbackTimeout
    }

    init(path: ObjectPath, properties p: [String: DBusValue]) {
        self.path = path
        devices = (try? p["Devices"]?.decode([ObjectPath].self)) ?? []
        createdBootTimeMilliseconds = (try? p["Created"]?.decode(Int64.self)) ?? 0
        rollbackTimeout = (try? p["RollbackTimeout"]?.decode(UInt32.self)) ?? 0
    }

    /// How long ago it was made.
    public var age: Duration {
        .milliseconds(max(0, NMCheckpoint.bootTimeMilliseconds() - createdBootTimeMilliseconds))
    }

    static func bootTimeMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_BOOTTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}

/// Flags of `CheckpointCreate` (`NMCheckpointCreateFlags`).
public struct NMCheckpointFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Destroy every existing checkpoint first (1.4).
    public static let destroyAll = NMCheckpointFlags(rawValue: 0x01)
    /// On rollback, delete profiles created after the checkpoint (1.6).
    public static let deleteNewConnections = NMCheckpointFlags(rawValue: 0x02)
    /// On rollback, disconnect devices that appeared after the checkpoint, such as a new bridge.
    /// Only allowed with an empty device list (1.6).
    public static let disconnectNewDevices = NMCheckpointFlags(rawValue: 0x04)
    /// Allow devices to be covered by more than one checkpoint (1.12).
    public static let allowOverlapping = NMCheckpointFlags(rawValue: 0x08)
    /// On rollback also detach bridge ports added outside NetworkManager (1.38).
    public static let noPreserveExternalPorts = NMCheckpointFlags(rawValue: 0x10)
    /// On rollback also restore the global DNS configuration set over D-Bus (1.48).
    public static let trackInternalGlobalDNS = NMCheckpointFlags(rawValue: 0x20)

    /// The NetworkManager version that introduced each flag.
    static let since: [(NMCheckpointFlags, NMVersion, String)] = [
        (.destroyAll, NMVersion(1, 4), "DESTROY_ALL"),
        (.deleteNewConnections, NMVersion(1, 6), "DELETE_NEW_CONNECTIONS"),
        (.disconnectNewDevices, NMVersion(1, 6), "DISCONNECT_NEW_DEVICES"),
        (.allowOverlapping, NMVersion(1, 12), "ALLOW_OVERLAPPING"),
        (.noPreserveExternalPorts, NMVersion(1, 38), "NO_PRESERVE_EXTERNAL_PORTS"),
        (.trackInternalGlobalDNS, NMVersion(1, 48), "TRACK_INTERNAL_GLOBAL_DNS"),
    ]
}

/// The outcome of a checkpoint rollback for one device (`NMRollbackResult`).
public struct NMRollbackResult: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let ok = NMRollbackResult(rawValue: 0)
    public static let noDevice = NMRollbackResult(rawValue: 1)
    public static let deviceUnmanaged = NMRollbackResult(rawValue: 2)
    public static let failed = NMRollbackResult(rawValue: 3)

    public var description: String {
        switch rawValue {
        case 0: return "ok"
        case 1: return "no-device"
        case 2: return "device-unmanaged"
        case 3: return "failed"
        default: return "result-\(rawValue)"
        }
    }
}
