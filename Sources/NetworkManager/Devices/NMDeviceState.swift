/// A device's state (`NMDeviceState`, the `org.freedesktop.NetworkManager.Device.State` property).
public struct NMDeviceState: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let unknown = NMDeviceState(rawValue: 0)
    public static let unmanaged = NMDeviceState(rawValue: 10)
    public static let unavailable = NMDeviceState(rawValue: 20)
    public static let disconnected = NMDeviceState(rawValue: 30)
    public static let prepare = NMDeviceState(rawValue: 40)
    public static let config = NMDeviceState(rawValue: 50)
    public static let needAuth = NMDeviceState(rawValue: 60)
    public static let ipConfig = NMDeviceState(rawValue: 70)
    public static let ipCheck = NMDeviceState(rawValue: 80)
    public static let secondaries = NMDeviceState(rawValue: 90)
    public static let activated = NMDeviceState(rawValue: 100)
    public static let deactivating = NMDeviceState(rawValue: 110)
    public static let failed = NMDeviceState(rawValue: 120)

    private static let names: [UInt32: String] = [
        0: "unknown", 10: "unmanaged", 20: "unavailable", 30: "disconnected", 40: "prepare", 50: "config",
        60: "need-auth", 70: "ip-config", 80: "ip-check", 90: "secondaries", 100: "activated",
        110: "deactivating", 120: "failed",
    ]

    /// Whether the device is on its way somewhere: preparing, configuring, waiting for IP or
    /// secondaries, or deactivating.
    public var isTransitional: Bool { (self >= .prepare && self <= .secondaries) || self == .deactivating }

    public static func < (lhs: NMDeviceState, rhs: NMDeviceState) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { Self.names[rawValue] ?? "state-\(rawValue)" }
}
