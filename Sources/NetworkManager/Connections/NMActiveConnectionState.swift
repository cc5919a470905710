/// The state of an active connection (`NMActiveConnectionState`, the
/// `org.freedesktop.NetworkManager.Connection.Active.State` property).
public struct NMActiveConnectionState: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let unknown = NMActiveConnectionState(rawValue: 0)
    public static let activating = NMActiveConnectionState(rawValue: 1)
    public static let activated = NMActiveConnectionState(rawValue: 2)
    public static let deactivating = NMActiveConnectionState(rawValue: 3)
    public static let deactivated = NMActiveConnectionState(rawValue: 4)

    public var description: String {
        ["unknown", "activating", "activated", "deactivating", "deactivated"].indices.contains(Int(rawValue))
            ? ["unknown", "activating", "activated", "deactivating", "deactivated"][Int(rawValue)] : "state-\(rawValue)"
    }
}

/// Flags of an active connection (`NMActivationStateFlags`, the `StateFlags` property).
///
/// Changes of these flags emit `PropertiesChanged`, not `StateChanged`.
public struct NMActivationStateFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let isController = NMActivationStateFlags(rawValue: 0x1)
    public static let isPort = NMActivationStateFlags(rawValue: 0x2)
    public static let layer2Ready = NMActivationStateFlags(rawValue: 0x4)
    public static let ip4Ready = NMActivationStateFlags(rawValue: 0x8)
    public static let ip6Ready = NMActivationStateFlags(rawValue: 0x10)
    public static let controllerHasPorts = NMActivationStateFlags(rawValue: 0x20)
    public static let lifetimeBoundToProfileVisibility = NMActivationStateFlags(rawValue: 0x40)
    public static let external = NMActivationStateFlags(rawValue: 0x80)
}
