public import DBus

/// The `dummy` setting (NetworkManager 1.8). It has no properties of its own;
/// NetworkManager leaves it out of `GetSettings` when empty, and so does the codec.
public struct NMDummySetting: Hashable, Sendable {
    /// Keys this library does not model, sent back exactly as read.
    public var extraKeys: [String: DBusValue]

    public init(extraKeys: [String: DBusValue] = [:]) { self.extraKeys = extraKeys }
}
