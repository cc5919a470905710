/// Why an active connection changed state: `NMActiveConnectionStateReason`, the second
/// argument of `org.freedesktop.NetworkManager.Connection.Active.StateChanged` (1.8).
///
/// Each known reason has a ``name``, a human ``message``, an ``NMError/Code`` and, where there
/// is one, a remediation ``hint``; ``NMError/init(activeConnectionStateReason:profile:)`` turns
/// a failure reason into an ``NMError``.
public struct NMActiveConnectionStateReason: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `NM_ACTIVE_CONNECTION_STATE_REASON_UNKNOWN` (0): the reason for the active connection state change is unknown.
    public static let unknown = NMActiveConnectionStateReason(rawValue: 0)
    /// `NM_ACTIVE_CONNECTION_STATE_REASON_NONE` (1): no reason was given for the active connection state change.
    public static let none = NMActiveConnectionStateReason(rawValue: 1)
    /// `NM_ACTIVE_CONNECTION_STATE_REASON_USER_DISCONNECTED` (2): the active connection changed state because the user disconnected it.
    public static let userDisconnected = NMActiveConnectionStateReason(rawValue: 2)
    /// `NM_ACTIVE_CONNECTION_STATE_REASON_DEVICE_DISCONNECTED` (3): the active connection changed state because the device it was using was disconnected.
    public static let deviceDisconnected = NMActiveConnectionStateReason(rawValue: 3)
    /// `NM_ACTIVE_CONNECTION_STATE_REASON_SERVICE_STOPPED` (4): the service providing the VPN connection was stopped.
    public static let serviceStopped = NMActiveConnectionStateReason(rawValue: 4)
    /// `NM_ACTIVE_CONNECTION_STATE_REASON_IP_CONFIG_INVALID` (5): the IP config of the active connection was invalid.
    public static let ipConfigInvalid = NMActiveConnectionStateReason(rawValue: 5)
    /// `NM_ACTIVE_CONNECTION_STATE_REASON_CONNECT_TIMEOUT` (6): the connection attempt to the VPN service timed out.
    public static let connectTimeout = NMActiveConnectionStateReason(rawValue: 6)
    /// `NM_ACTIVE_CONNECTION_STATE_REASON_SERVICE_START_TIMEOUT` (7): a timeout occurred while starting the service providing the VPN connection.
    public static let serviceStartTimeout = NMActiveConnectionStateReason(rawValue: 7)
    /// `NM_ACTIVE_CONNECTION_STATE_REASON_SERVICE_START_FAILED` (8): starting the service providing the VPN connection failed.
    public static let serviceStartFailed = NMActiveConnectionStateReason(rawValue: 8)
    /// `NM_ACTIVE_CONNECTION_STATE_REASON_NO_SECRETS` (9): necessary secrets for the connection were not provided.
    public static let noSecrets = NMActiveConnectionStateReason(rawValue: 9)
    /// `NM_ACTIVE_CONNECTION_STATE_REASON_LOGIN_FAILED` (10): authentication to the server failed.
    public static let loginFailed = NMActiveConnectionStateReason(rawValue: 10)
    /// `NM_ACTIVE_CONNECTION_STATE_REASON_CONNECTION_REMOVED` (11): the connection was deleted from settings.
    public static let connectionRemoved = NMActiveConnectionStateReason(rawValue: 11)
    /// `NM_ACTIVE_CONNECTION_STATE_REASON_DEPENDENCY_FAILED` (12): the controller connection of this connection failed to activate.
    public static let dependencyFailed = NMActiveConnectionStateReason(rawValue: 12)
    /// `NM_ACTIVE_CONNECTION_STATE_REASON_DEVICE_REALIZE_FAILED` (13): could not create the software device link.
    public static let deviceRealizeFailed = NMActiveConnectionStateReason(rawValue: 13)
    /// `NM_ACTIVE_CONNECTION_STATE_REASON_DEVICE_REMOVED` (14): the device this connection depended on disappeared.
    public static let deviceRemoved = NMActiveConnectionStateReason(rawValue: 14)

    static let table: [UInt32: NMDeviceStateReason.Info] = [
        0: .init(name: "unknown", message: "the reason for the active connection state change is unknown", code: .activationFailed, hint: "read NetworkManager's log (journalctl -u NetworkManager) for the cause"),
        1: .init(name: "none", message: "no reason was given for the active connection state change", code: .activationFailed, hint: nil),
        2: .init(name: "user-disconnected", message: "the active connection changed state because the user disconnected it", code: .userRequested, hint: nil),
        3: .init(name: "device-disconnected", message: "the active connection changed state because the device it was using was disconnected", code: .activationFailed, hint: "this can be transient; read the device's StateReason for the real cause"),
        4: .init(name: "service-stopped", message: "the service providing the VPN connection was stopped", code: .serviceFailed, hint: nil),
        5: .init(name: "ip-config-invalid", message: "the IP config of the active connection was invalid", code: .ipConfigFailed, hint: "check the addresses, gateway and routes of the profile"),
        6: .init(name: "connect-timeout", message: "the connection attempt to the VPN service timed out", code: .activationTimeout, hint: nil),
        7: .init(name: "service-start-timeout", message: "a timeout occurred while starting the service providing the VPN connection", code: .serviceFailed, hint: nil),
        8: .init(name: "service-start-failed", message: "starting the service providing the VPN connection failed", code: .serviceFailed, hint: "check that the VPN plugin is installed"),
        9: .init(name: "no-secrets", message: "necessary secrets for the connection were not provided", code: .noSecrets, hint: "store the secret in the profile or run a secret agent"),
        10: .init(name: "login-failed", message: "authentication to the server failed", code: .serviceFailed, hint: "check the credentials"),
        11: .init(name: "connection-removed", message: "the connection was deleted from settings", code: .connectionRemoved, hint: nil),
        12: .init(name: "dependency-failed", message: "the controller connection of this connection failed to activate", code: .dependencyFailed, hint: "activate the controller (bridge, bond) profile first and check why it failed; give it autoconnect-ports (autoconnect-slaves) 1"),
        13: .init(name: "device-realize-failed", message: "could not create the software device link", code: .deviceRemoved, hint: "the kernel refused to create the device: check that the interface name is free and the module (bridge, bonding, 8021q, dummy) is available"),
        14: .init(name: "device-removed", message: "the device this connection depended on disappeared", code: .deviceRemoved, hint: nil),
    ]

    /// Every known reason, in numeric order.
    public static var allKnown: [NMActiveConnectionStateReason] {
        table.keys.sorted().map(NMActiveConnectionStateReason.init(rawValue:))
    }

    /// The reason's name, such as `dependency-failed`; `reason-N` for unknown values.
    public var name: String { Self.table[rawValue]?.name ?? "reason-\(rawValue)" }
    /// What happened, in words.
    public var message: String {
        Self.table[rawValue]?.message ?? "active connection state reason \(rawValue) (unknown to this library)"
    }
    /// The error code this reason maps to.
    public var errorCode: NMError.Code { Self.table[rawValue]?.code ?? .activationFailed }
    /// What to do about it, where there is something to say.
    public var hint: String? { Self.table[rawValue]?.hint }
    public var description: String { name }
}
