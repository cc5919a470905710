import DBus
import Foundation
import NetworkManager
import Testing

@Suite("NMError")
struct NMErrorTests {
    /// Every error name of nm-errors.h (NMManagerError, NMSettingsError incl. 1.44/1.56,
    /// NMDeviceError, NMConnectionError, NMAgentManagerError), written out independently of
    /// the implementation's table.
    static let table: [(String, NMError.Domain, NMError.Code)] = {
        let m = "org.freedesktop.NetworkManager."
        return [
            (m + "Failed", .manager, .failed), (m + "PermissionDenied", .manager, .permissionDenied),
            (m + "UnknownConnection", .manager, .unknownConnection), (m + "UnknownDevice", .manager, .unknownDevice),
            (m + "ConnectionNotAvailable", .manager, .connectionNotAvailable),
            (m + "ConnectionNotActive", .manager, .connectionNotActive),
            (m + "ConnectionAlreadyActive", .manager, .connectionAlreadyActive),
            (m + "DependencyFailed", .manager, .dependencyFailed),
            (m + "AlreadyAsleepOrAwake", .manager, .alreadyAsleepOrAwake),
            (m + "AlreadyEnabledOrDisabled", .manager, .alreadyEnabledOrDisabled),
            (m + "UnknownLogLevel", .manager, .unknownLogLevel), (m + "UnknownLogDomain", .manager, .unknownLogDomain),
            (m + "InvalidArguments", .manager, .invalidArguments), (m + "MissingPlugin", .manager, .missingPlugin),
            (m + "Settings.Failed", .settings, .failed), (m + "Settings.PermissionDenied", .settings, .permissionDenied),
            (m + "Settings.NotSupported", .settings, .notSupported),
            (m + "Settings.InvalidConnection", .settings, .invalidConnection),
            (m + "Settings.ReadOnlyConnection", .settings, .readOnlyConnection),
            (m + "Settings.UuidExists", .settings, .uuidExists), (m + "Settings.InvalidHostname", .settings, .invalidHostname),
            (m + "Settings.InvalidArguments", .settings, .invalidArguments),
            (m + "Settings.VersionIdMismatch", .settings, .versionIDMismatch),
            (m + "Settings.NotSupportedByPlugin", .settings, .notSupportedByPlugin),
            (m + "Settings.FeatureDisabled", .settings, .featureDisabled),
            (m + "Settings.FeatureRemoved", .settings, .featureRemoved),
            (m + "Device.Failed", .device, .failed), (m + "Device.CreationFailed", .device, .creationFailed),
            (m + "Device.InvalidConnection", .device, .invalidConnection),
            (m + "Device.IncompatibleConnection", .device, .incompatibleConnection),
            (m + "Device.NotActive", .device, .deviceNotActive), (m + "Device.NotSoftware", .device, .notSoftware),
            (m + "Device.NotAllowed", .device, .notAllowed),
            (m + "Device.SpecificObjectNotFound", .device, .specificObjectNotFound),
            (m + "Device.VersionIdMismatch", .device, .versionIDMismatch),
            (m + "Device.MissingDependencies", .device, .missingDependencies),
            (m + "Device.InvalidArgument", .device, .invalidArguments),
            (m + "Settings.Connection.Failed", .connection, .failed),
            (m + "Settings.Connection.SettingNotFound", .connection, .settingNotFound),
            (m + "Settings.Connection.PropertyNotFound", .connection, .propertyNotFound),
            (m + "Settings.Connection.PropertyNotSecret", .connection, .propertyNotSecret),
            (m + "Settings.Connection.MissingSetting", .connection, .missingSetting),
            (m + "Settings.Connection.InvalidSetting", .connection, .invalidSetting),
            (m + "Settings.Connection.MissingProperty", .connection, .missingProperty),
            (m + "Settings.Connection.InvalidProperty", .connection, .invalidProperty),
            (m + "AgentManager.Failed", .agentManager, .failed),
            (m + "AgentManager.PermissionDenied", .agentManager, .permissionDenied),
            (m + "AgentManager.InvalidIdentifier", .agentManager, .invalidIdentifier),
            (m + "AgentManager.NotRegistered", .agentManager, .notRegistered),
            (m + "AgentManager.NoSecrets", .agentManager, .noSecrets),
            (m + "AgentManager.UserCanceled", .agentManager, .userCanceled),
        ]
    }()

    @Test("every NetworkManager error name parses into a code", arguments: 0..<table.count)
    func names(index: Int) {
        let (name, domain, code) = Self.table[index]
        let dbus = DBusError.remote(name: name, message: "something")
        let error = NMError(dbus)
        #expect(error.code == code, "\(name)")
        #expect(error.domain == domain, "\(name)")
        #expect(error.message == "something")
        #expect(error.dbusError == dbus)
        #expect(error.dbusName == name)
    }

    @Test("the table has exactly the names of nm-errors.h")
    func tableComplete() {
        #expect(Set(NMError.dbusNames.keys) == Set(Self.table.map(\.0)))
    }

    @Test("unknown names fall back to unknown(name)")
    func unknown() {
        let error = NMError(DBusError.remote(name: "org.freedesktop.NetworkManager.Frobnicated", message: "m"))
        #expect(error.code == .unknown("org.freedesktop.NetworkManager.Frobnicated"))
        #expect(error.code.unknownName == "org.freedesktop.NetworkManager.Frobnicated")
        let other = NMError(DBusError.remote(name: "com.example.Error.Odd", message: "m"))
        #expect(other.code.unknownName == "com.example.Error.Odd")
        #expect(other.domain == .dbus)
    }

    @Test("D-Bus's own errors get codes", arguments: [
        ("org.freedesktop.DBus.Error.ServiceUnknown", NMError.Code.notRunning),
        ("org.freedesktop.DBus.Error.NameHasNoOwner", .notRunning),
        ("org.freedesktop.DBus.Error.UnknownMethod", .notImplemented),
        ("org.freedesktop.DBus.Error.UnknownProperty", .notImplemented),
        ("org.freedesktop.DBus.Error.NoReply", .timeout),
        ("org.freedesktop.DBus.Error.AccessDenied", .permissionDenied),
        ("org.freedesktop.DBus.Error.LimitsExceeded", .dbus),
    ])
    func dbusNames(name: String, code: NMError.Code) {
        let error = NMError(DBusError.remote(name: name, message: "m"))
        #expect(error.code == code)
        #expect(error.domain == .dbus)
        if code != .dbus { #expect(error.hint != nil) }
    }

    @Test("local D-Bus failures")
    func local() {
        #expect(NMError(DBusError(.timeout, "no reply")).code == .timeout)
        #expect(NMError(DBusError(.disconnected, "gone")).code == .disconnected)
        #expect(NMError(DBusError(.typeMismatch, "bad")).code == .dbus)
    }

    @Test("permission denied names the polkit action", arguments: [
        ("org.freedesktop.NetworkManager.PermissionDenied", "Not authorized to control networking.", nil,
         "org.freedesktop.NetworkManager.network-control"),
        ("org.freedesktop.NetworkManager.Settings.PermissionDenied", "Insufficient privileges", nil,
         "org.freedesktop.NetworkManager.settings.modify.system"),
        ("org.freedesktop.NetworkManager.PermissionDenied", "Not authorized to checkpoint/rollback", nil,
         "org.freedesktop.NetworkManager.checkpoint-rollback"),
        ("org.freedesktop.NetworkManager.PermissionDenied", "Insufficient privileges", NMError.Operation.checkpoint,
         "org.freedesktop.NetworkManager.checkpoint-rollback"),
        ("org.freedesktop.NetworkManager.PermissionDenied", "Insufficient privileges", NMError.Operation.modifySettings,
         "org.freedesktop.NetworkManager.settings.modify.system"),
    ])
    func polkit(name: String, message: String, operation: NMError.Operation?, action: String) {
        let error = NMError(DBusError.remote(name: name, message: message), operation: operation)
        #expect(error.code == .permissionDenied)
        #expect(error.hint?.contains("'\(action)'") == true, "\(error.hint ?? "no hint")")
    }

    /// NetworkManager 1.52 under load: the typed seed procedure's port activation raced the
    /// port's autoconnection, and the deactivated request came back as PermissionDenied.
    @Test("an activation cancelled before its authorization is not blamed on polkit")
    func activationSuperseded() {
        let error = NMError(DBusError.remote(name: "org.freedesktop.NetworkManager.PermissionDenied",
                                             message: "Authorization request cancelled"), operation: .networkControl)
        #expect(error.code == .activationSuperseded)
        #expect(error.hint?.contains("polkit") == false, "\(error.hint ?? "no hint")")
        #expect(error.hint?.contains("another activation") == true, "\(error.hint ?? "no hint")")
    }

    @Test("an overlapping checkpoint is recognised and explained (field problem 2)")
    func checkpointOverlap() throws {
        let dbus = DBusError.remote(
            name: "org.freedesktop.NetworkManager.InvalidArguments",
            message: "device 'eno1' is already included in checkpoint /org/freedesktop/NetworkManager/Checkpoint/268")
        let error = NMError(dbus, operation: .checkpoint)
        #expect(error.code == .checkpointOverlap)
        let overlap = try #require(error.overlappingCheckpoint)
        #expect(overlap.device == "eno1")
        #expect(overlap.checkpoint == "/org/freedesktop/NetworkManager/Checkpoint/268")
        #expect(error.hint?.contains("/org/freedesktop/NetworkManager/Checkpoint/268") == true)
        // Tool-neutral: no flag a tool built on the library may not offer (issue 10).
        #expect(error.hint?.contains("ALLOW_OVERLAPPING") == false, "\(error.hint ?? "")")

        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let utc = try #require(TimeZone(identifier: "UTC"))
        let timed = error.withCheckpointExpiry(now.addingTimeInterval(42), now: now, timeZone: utc)
        #expect(timed.hint?.hasPrefix("another checkpoint covers eno1 until 22:14:02 (in 42 s)") == true, "\(timed.hint ?? "")")
        // Formatted by hand (no DateFormatter, no ICU): east (across midnight) and west.
        for (offset, clock) in [(5 * 3600 + 1800, "03:44:02"), (-(9 * 3600 + 1800), "12:44:02")] {
            let zone = try #require(TimeZone(secondsFromGMT: offset))
            let hint = error.withCheckpointExpiry(now.addingTimeInterval(42), now: now, timeZone: zone).hint ?? ""
            #expect(hint.hasPrefix("another checkpoint covers eno1 until \(clock) (in 42 s)"), "\(hint)")
        }
        #expect(timed.hint?.contains("ALLOW_OVERLAPPING") == false, "\(timed.hint ?? "")")
        let forever = error.withCheckpointExpiry(nil, now: now)
        #expect(forever.hint?.contains("no rollback timeout") == true)

        // Other InvalidArguments messages stay InvalidArguments.
        let other = NMError(DBusError.remote(name: "org.freedesktop.NetworkManager.InvalidArguments",
                                             message: "checkpoint /x does not exist"))
        #expect(other.code == .invalidArguments)
        #expect(other.overlappingCheckpoint == nil)
        #expect(other.withCheckpointExpiry(now) == other)
    }

    @Test("'NetworkManager X.Y lacks Z'")
    func lacks() {
        let error = NMError.lacks("ipv4.dns-data", version: NMVersion(1, 40, 2), since: NMVersion(1, 42))
        #expect(error.code == .unsupportedByVersion)
        #expect(error.message == "NetworkManager 1.40 lacks ipv4.dns-data (added in 1.42)")
        #expect(error.description.contains("hint:"))
    }

    // MARK: state reasons

    @Test("every device state reason maps to a code with a message", arguments: 0...79)
    func deviceReasons(value: UInt32) {
        let reason = NMDeviceStateReason(rawValue: value)
        #expect(!reason.name.hasPrefix("reason-"), "\(value) has no name")
        #expect(!reason.message.isEmpty)
        #expect(reason.errorCode.unknownName == nil)
        let error = NMError(deviceStateReason: reason, device: "eno1")
        #expect(error.code == reason.errorCode)
        #expect(error.message == "eno1: " + reason.message)
        #expect(error.domain == .deviceStateReason)
    }

    @Test("device state reason names are unique and cover the reference table")
    func deviceReasonNames() {
        let all = NMDeviceStateReason.allKnown
        #expect(all.map(\.rawValue) == Array(0...79))
        #expect(Set(all.map(\.name)).count == all.count)
    }

    @Test("device state reasons that need action have hints", arguments: [
        (NMDeviceStateReason.dhcpFailed, NMError.Code.dhcpFailed), (.ipConfigUnavailable, .ipConfigFailed),
        (.dependencyFailed, .dependencyFailed), (.carrier, .noCarrier), (.noSecrets, .noSecrets),
        (.ipAddressDuplicate, .ipAddressConflict), (.nowUnmanaged, .deviceUnmanaged), (.newActivation, .superseded),
        (.configFailed, .configFailed), (.unmanagedUserExplicit, .deviceUnmanaged),
    ])
    func deviceHints(reason: NMDeviceStateReason, code: NMError.Code) {
        #expect(reason.errorCode == code)
        #expect(reason.hint != nil)
    }

    @Test("unknown reasons keep their number")
    func unknownReasons() {
        let reason = NMDeviceStateReason(rawValue: 200)
        #expect(reason.name == "reason-200")
        #expect(reason.errorCode == .activationFailed)
        #expect(NMActiveConnectionStateReason(rawValue: 99).name == "reason-99")
    }

    @Test("every active-connection state reason maps to a code with a message", arguments: 0...14)
    func activeReasons(value: UInt32) {
        let reason = NMActiveConnectionStateReason(rawValue: value)
        #expect(!reason.name.hasPrefix("reason-"))
        #expect(!reason.message.isEmpty)
        let error = NMError(activeConnectionStateReason: reason, profile: "br0")
        #expect(error.code == reason.errorCode)
        #expect(error.message.hasPrefix("br0: "))
        #expect(error.domain == .activeConnectionStateReason)
    }

    @Test("active-connection reasons of note")
    func activeNotable() {
        #expect(NMActiveConnectionStateReason.allKnown.map(\.rawValue) == Array(0...14))
        #expect(NMActiveConnectionStateReason.dependencyFailed.errorCode == .dependencyFailed)
        #expect(NMActiveConnectionStateReason.dependencyFailed.hint?.contains("autoconnect") == true)
        #expect(NMActiveConnectionStateReason.deviceDisconnected.hint?.contains("StateReason") == true)
        #expect(NMActiveConnectionStateReason.deviceRealizeFailed.errorCode == .deviceRemoved)
    }
}
