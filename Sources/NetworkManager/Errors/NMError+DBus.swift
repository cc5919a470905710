public import DBus
#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

extension NMError {
    /// The polkit actions NetworkManager checks, named in permission hints
    /// (`src/libnm-core-aux-intern/nm-common-macros.h`).
    public enum PolkitAction {
        /// Activating, deactivating and reapplying (`ActivateConnection`, `Reapply`, ...).
        public static let networkControl = "org.freedesktop.NetworkManager.network-control"
        /// Adding, changing and deleting system-wide profiles (`AddConnection2`, `Update2`, `Delete`).
        public static let settingsModifySystem = "org.freedesktop.NetworkManager.settings.modify.system"
        /// Every checkpoint call (`CheckpointCreate`, `CheckpointRollback`, ...).
        public static let checkpointRollback = "org.freedesktop.NetworkManager.checkpoint-rollback"
    }

    /// What a call was doing, when the caller knows better than the error name. It picks the
    /// polkit action a permission hint names.
    public struct Operation: RawRepresentable, Hashable, Sendable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        /// Activating, deactivating, reapplying, disconnecting.
        public static let networkControl = Operation(rawValue: "network-control")
        /// Adding, updating or deleting profiles.
        public static let modifySettings = Operation(rawValue: "modify-settings")
        /// Creating, rolling back, destroying or adjusting checkpoints.
        public static let checkpoint = Operation(rawValue: "checkpoint")
    }

    /// Converts a D-Bus error into an `NMError`: every NetworkManager error name
    /// (NMManagerError, NMSettingsError, NMDeviceError, NMConnectionError, NMAgentManagerError,
    /// see `nm-errors.h`) becomes a ``Code``; other names fall back to ``Code/unknown(_:)``;
    /// local D-Bus failures (a closed connection, a timeout) get codes of their own.
    ///
    /// The peer's message is what the peer chose to send, so ``message`` holds it sanitized
    /// (``NMText/sanitized(_:limit:)``: control characters such as ESC shown as `\u{1b}`, at
    /// most 512 characters); ``dbusError`` keeps it verbatim.
    ///
    /// - Parameter operation: what the failed call was doing, when known; it chooses the polkit
    ///   action named by a permission hint. Without it the action is inferred from the
    ///   error's domain and message.
    public init(_ dbusError: DBusError, operation: Operation? = nil) {
        let message = NMText.sanitized(dbusError.message)
        guard let name = dbusError.name else {
            let code: Code
            var hint = dbusError.hint
            switch dbusError.code {
            case .timeout: code = .timeout
            case .disconnected: code = .disconnected
            case .peerVanished:
                // The bus is still there; NetworkManager left it (crash, restart, stop): the
                // same fault a call meets as ServiceUnknown, so the same code.
                code = .notRunning
                hint = "NetworkManager left the bus (it stopped, crashed or restarted); subscribe again once it is back"
            case .inDoubt:
                code = .cancelled
                hint = "the task was cancelled after the call was sent and its reply did not come in time: it may have "
                    + "taken effect; read the state before acting again"
            default: code = .dbus
            }
            self.init(code, message, hint: hint, domain: .dbus, dbusError: dbusError)
            return
        }
        if let (domain, code) = Self.dbusNames[name] {
            self.init(code, message, domain: domain, dbusError: dbusError)
            refine(operation: operation)
            return
        }
        if name.hasPrefix("org.freedesktop.DBus.Error.") {
            let code: Code
            switch dbusError.code {
            case .serviceUnknown, .nameHasNoOwner, .noServer: code = .notRunning
            case .unknownMethod, .unknownProperty, .unknownInterface, .unknownObject: code = .notImplemented
            case .noReply, .remoteTimeout: code = .timeout
            case .remoteDisconnected: code = .disconnected
            case .accessDenied, .authFailed, .interactiveAuthorizationRequired: code = .permissionDenied
            default: code = .dbus
            }
            var hint = dbusError.hint
            // dbus-daemon answers a call whose recipient left the bus before replying with
            // NoReply "Message recipient disconnected from message bus without replying"
            // (bus/connection.c): NetworkManager went away (a crash, a stop) with the call in
            // its hands, the same fault as a call that finds no owner, though it may have acted.
            if dbusError.code == .noReply && dbusError.message.contains("disconnected from message bus") {
                self.init(.notRunning, message, hint: "NetworkManager left the bus (it stopped or crashed) before answering: "
                              + "the call may have taken effect; read the state once NetworkManager is back",
                          domain: .dbus, dbusError: dbusError)
                return
            }
            switch code {
            case .notRunning:
                hint = "NetworkManager is not running on this bus; start it (systemctl start NetworkManager) or connect to the right bus"
            case .notImplemented:
                hint = "this NetworkManager does not implement the call; it is probably older than the feature (check Manager.Version)"
            case .permissionDenied:
                hint = "the bus refused the call for this user; run as root or as a user the D-Bus policy allows"
            default: break
            }
            self.init(code, message, hint: hint, domain: .dbus, dbusError: dbusError)
            return
        }
        let domain: Domain = name.hasPrefix("org.freedesktop.NetworkManager.") ? .manager : .dbus
        self.init(.unknown(name), message, hint: dbusError.hint, domain: domain, dbusError: dbusError)
    }

    /// Converts any error that reaches the NetworkManager module's public API into an
    /// `NMError`: the one conversion point of its error boundary (docs/decisions/0007).
    ///
    /// - an `NMError` is returned as it is;
    /// - a ``DBus/DBusError`` as ``init(_:operation:)`` (it stays available as ``dbusError``);
    /// - Swift's `CancellationError` becomes ``Code/cancelled``;
    /// - a transaction's failure report (``NMTransactionError``) becomes its cause, with the
    ///   report attached as ``transaction``;
    /// - anything else (an error thrown by a caller's probe or hook that was not an `NMError`)
    ///   becomes ``Code/failed`` with the error's description as the message.
    public init(wrapping error: any Error, operation: Operation? = nil) {
        switch error {
        case let error as NMError:
            self = error
        case let error as DBusError:
            self.init(error, operation: operation)
        case is CancellationError:
            self.init(.cancelled, "the task was cancelled", hint: "nothing more was sent after the cancellation")
        case let failure as NMTransactionError:
            self.init(transactionFailure: failure)
        default:
            self.init(.failed, NMText.sanitized("\(error)"))
        }
    }

    /// The error a failed transaction throws: its root cause (code, message, hint, D-Bus
    /// error) with the whole report (step, rollback, end state) in ``transaction``.
    public init(transactionFailure failure: NMTransactionError) {
        self = failure.cause
        self.transaction = failure
    }

    /// Whether the operation may have taken effect although it failed: a call sent and not
    /// answered (``DBus/DBusError/outcomeUnknown``: a timeout, a lost connection, a
    /// cancellation past the call's grace). Read the state before acting again.
    public var outcomeUnknown: Bool { dbusError?.outcomeUnknown ?? false }

    /// Runs `body` and converts whatever it throws with ``init(wrapping:operation:)``: how every
    /// public throwing function of the module keeps to `throws(NMError)`.
    @discardableResult
    static func boundary<T>(operation: Operation? = nil, _ body: () async throws -> T) async throws(NMError) -> T {
        do {
            return try await body()
        } catch {
            throw NMError(wrapping: error, operation: operation)
        }
    }

    /// Every NetworkManager D-Bus error name this library knows, with its domain and code.
    public static let dbusNames: [String: (Domain, Code)] = {
        var table: [String: (Domain, Code)] = [:]
        let manager: [(String, Code)] = [
            ("Failed", .failed), ("PermissionDenied", .permissionDenied),
            ("UnknownConnection", .unknownConnection), ("UnknownDevice", .unknownDevice),
            ("ConnectionNotAvailable", .connectionNotAvailable), ("ConnectionNotActive", .connectionNotActive),
            ("ConnectionAlreadyActive", .connectionAlreadyActive), ("DependencyFailed", .dependencyFailed),
            ("AlreadyAsleepOrAwake", .alreadyAsleepOrAwake), ("AlreadyEnabledOrDisabled", .alreadyEnabledOrDisabled),
            ("UnknownLogLevel", .unknownLogLevel), ("UnknownLogDomain", .unknownLogDomain),
            ("InvalidArguments", .invalidArguments), ("MissingPlugin", .missingPlugin),
        ]
        let settings: [(String, Code)] = [
            ("Failed", .failed), ("PermissionDenied", .permissionDenied), ("NotSupported", .notSupported),
            ("InvalidConnection", .invalidConnection), ("ReadOnlyConnection", .readOnlyConnection),
            ("UuidExists", .uuidExists), ("InvalidHostname", .invalidHostname),
            ("InvalidArguments", .invalidArguments), ("VersionIdMismatch", .versionIDMismatch),
            ("NotSupportedByPlugin", .notSupportedByPlugin), ("FeatureDisabled", .featureDisabled),
            ("FeatureRemoved", .featureRemoved),
        ]
        let device: [(String, Code)] = [
            ("Failed", .failed), ("CreationFailed", .creationFailed), ("InvalidConnection", .invalidConnection),
            ("IncompatibleConnection", .incompatibleConnection), ("NotActive", .deviceNotActive),
            ("NotSoftware", .notSoftware), ("NotAllowed", .notAllowed),
            ("SpecificObjectNotFound", .specificObjectNotFound), ("VersionIdMismatch", .versionIDMismatch),
            ("MissingDependencies", .missingDependencies), ("InvalidArgument", .invalidArguments),
        ]
        let connection: [(String, Code)] = [
            ("Failed", .failed), ("SettingNotFound", .settingNotFound), ("PropertyNotFound", .propertyNotFound),
            ("PropertyNotSecret", .propertyNotSecret), ("MissingSetting", .missingSetting),
            ("InvalidSetting", .invalidSetting), ("MissingProperty", .missingProperty),
            ("InvalidProperty", .invalidProperty),
        ]
        let agentManager: [(String, Code)] = [
            ("Failed", .failed), ("PermissionDenied", .permissionDenied), ("InvalidIdentifier", .invalidIdentifier),
            ("NotRegistered", .notRegistered), ("NoSecrets", .noSecrets), ("UserCanceled", .userCanceled),
        ]
        let base = "org.freedesktop.NetworkManager."
        for (suffix, code) in manager { table[base + suffix] = (.manager, code) }
        for (suffix, code) in settings { table[base + "Settings." + suffix] = (.settings, code) }
        for (suffix, code) in device { table[base + "Device." + suffix] = (.device, code) }
        for (suffix, code) in connection { table[base + "Settings.Connection." + suffix] = (.connection, code) }
        for (suffix, code) in agentManager { table[base + "AgentManager." + suffix] = (.agentManager, code) }
        return table
    }()

    /// Special messages and hints on top of the name's code.
    private mutating func refine(operation: Operation?) {
        switch code {
        case .permissionDenied:
            // Not polkit: NetworkManager answers an activation whose active connection was
            // deactivated before its authorization finished (nm-active-connection.c) with
            // PermissionDenied "Authorization request cancelled".
            if domain == .manager && message.contains("Authorization request cancelled") {
                code = .activationSuperseded
                hint = "NetworkManager deactivated this activation before authorizing it: another activation took "
                    + "the device or the profile at the same moment (autoconnect, another client); read the device's "
                    + "state, and activate again if it is not what you want"
                return
            }
            let action: String
            switch operation {
            case .checkpoint?: action = PolkitAction.checkpointRollback
            case .modifySettings?: action = PolkitAction.settingsModifySystem
            case .networkControl?: action = PolkitAction.networkControl
            default:
                if message.lowercased().contains("checkpoint") {
                    action = PolkitAction.checkpointRollback
                } else if domain == .settings {
                    action = PolkitAction.settingsModifySystem
                } else {
                    action = PolkitAction.networkControl
                }
            }
            hint = "polkit denied '\(action)' to this user; run as root, or grant that action to the user with a polkit rule"
        case .invalidArguments:
            if let overlap = overlappingCheckpoint {
                code = .checkpointOverlap
                hint = "another checkpoint (\(overlap.checkpoint)) already covers \(overlap.device): another change is "
                    + "in progress; wait until whoever made it commits or rolls it back, or destroy the checkpoint "
                    + "(CheckpointDestroy) if nobody will"
            }
        case .unknownConnection:
            hint = "the profile does not exist (any more); read the current profile list again"
        case .unknownDevice:
            hint = "no such device; it may have been removed, or a software device is not created yet"
        case .connectionNotAvailable:
            hint = "the profile cannot be activated on that device now: check the interface name, the device's "
                + "Managed state and carrier, and the profile's type"
        case .uuidExists:
            hint = "a profile with this UUID already exists; update it (Update2) or give the new profile a fresh UUID"
        case .versionIDMismatch:
            hint = "the profile or applied connection changed since it was read; read it again, merge, and retry"
        case .readOnlyConnection:
            hint = "the profile's storage plugin cannot write it; copy it to a new keyfile profile instead"
        case .incompatibleConnection:
            hint = "Reapply cannot make this change in place; reactivate the profile instead"
        case .notSoftware:
            hint = "only software devices (bridges, bonds, VLANs, dummies) can be deleted"
        case .invalidConnection, .invalidSetting, .invalidProperty, .missingSetting, .missingProperty,
             .settingNotFound, .propertyNotFound:
            if message.contains("not allowed") || message.contains("controller") || message.contains("master") {
                hint = "NetworkManager rejected the profile: a bridge port cannot carry IP settings, and "
                    + "'master' needs 'slave-type' (or a bridge-port setting)"
            } else {
                hint = "NetworkManager rejected the profile; the message names the setting and key"
            }
        case .dependencyFailed:
            hint = "a profile this one depends on (its controller or parent) failed to activate; check that one first"
        default:
            break
        }
    }

    /// For ``Code/checkpointOverlap``: the device and the checkpoint parsed from
    /// NetworkManager's "device 'eno1' is already included in checkpoint
    /// /org/freedesktop/NetworkManager/Checkpoint/3" message.
    public var overlappingCheckpoint: (device: String, checkpoint: ObjectPath)? {
        let marker = "' is already included in checkpoint "
        guard let start = message.firstRange(of: "device '"), let middle = message.firstRange(of: marker),
              start.upperBound <= middle.lowerBound else { return nil }
        let device = String(message[start.upperBound..<middle.lowerBound])
        let pathText = message[middle.upperBound...].prefix { !$0.isWhitespace }
        guard let path = ObjectPath(rawValue: String(pathText)) else { return nil }
        return (device, path)
    }

    /// The error with the hint of a ``Code/checkpointOverlap`` naming when the other
    /// checkpoint expires: "another checkpoint covers eno1 until 14:03:07 (in 42 s)".
    /// - Parameters:
    ///   - expiry: when the other checkpoint rolls back by itself; `nil` when it has no
    ///     timeout (`RollbackTimeout` 0).
    ///   - timeZone: the zone of the time shown; `nil` for the system's local time (`TZ`,
    ///     /etc/localtime), read through the C library: without Foundation's ICU part,
    ///     `TimeZone.current` knows no named zone and would silently be GMT.
    public func withCheckpointExpiry(_ expiry: Date?, now: Date = Date(), timeZone: TimeZone? = nil) -> NMError {
        guard let overlap = overlappingCheckpoint else { return self }
        var copy = self
        let until: String
        if let expiry {
            let seconds = max(0, Int(expiry.timeIntervalSince(now).rounded(.up)))
            until = "until \(Self.clockTime(expiry, timeZone: timeZone)) (in \(seconds) s)"
        } else {
            until = "with no rollback timeout (it stays until committed or destroyed)"
        }
        copy.hint = "another checkpoint covers \(overlap.device) \(until): \(overlap.checkpoint); "
            + "wait until whoever made it commits or rolls it back, or destroy it (CheckpointDestroy) if nobody will"
        return copy
    }

    /// `HH:mm:ss`, by hand: DateFormatter would load Foundation and ICU for six digits.
    static func clockTime(_ date: Date, timeZone: TimeZone?) -> String {
        let time = Int(date.timeIntervalSince1970.rounded(.down))
        let offset: Int
        if let timeZone {
            offset = timeZone.secondsFromGMT(for: date)
        } else {
            var t = time_t(time)
            var parts = tm()
            offset = localtime_r(&t, &parts) == nil ? 0 : Int(parts.tm_gmtoff)
        }
        let second = ((time + offset) % 86_400 + 86_400) % 86_400
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(two(second / 3600)):\(two(second / 60 % 60)):\(two(second % 60))"
    }

    /// The error for a key, setting or value the running NetworkManager does not have:
    /// "NetworkManager 1.40 lacks ipv4.dns-data (added in 1.42)".
    public static func lacks(_ what: String, version: NMVersion, since: NMVersion) -> NMError {
        // Micro versions only matter when the feature came in one (1.42.2).
        let precise = since.micro != 0
        func text(_ v: NMVersion) -> String { precise ? "\(v.major).\(v.minor).\(v.micro)" : "\(v.major).\(v.minor)" }
        return NMError(.unsupportedByVersion, "NetworkManager \(text(version)) lacks \(what) (added in \(text(since)))",
                       hint: "NetworkManager rejects settings it does not know; upgrade NetworkManager to \(text(since)) "
                           + "or later, or leave \(what) unset")
    }
}
