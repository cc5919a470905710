public import DBus

/// The `dummy` setting (NetworkManager 1.8). It has no properties of its own; `GetSettings`
/// returns it as an empty dictionary, and the codec writes it the same way.
public struct NMDummySetting: Hashable, Sendable, Codable {
    /// Keys this library does not model, sent back exactly as read.
    public var extraKeys: [String: DBusValue]

    public init(extraKeys: [String: DBusValue] = [:]) { self.extraKeys = extraKeys }
}
