public import DBus

/// The identity of one connection profile: what `nmcli connection show` lists.
///
/// Read from the profile's `org.freedesktop.NetworkManager.Settings.Connection.GetSettings`
/// (the `connection` setting) and its `Filename` and `Flags` properties.
public struct NMProfileSummary: Sendable, Hashable, Identifiable {
    /// The profile's D-Bus object path under `/org/freedesktop/NetworkManager/Settings`.
    public var path: ObjectPath
    /// `connection.id`: the profile's name.
    public var name: String
    /// `connection.uuid`.
    public var uuid: String
    /// `connection.type`, such as `802-3-ethernet` or `bridge`.
    public var type: String
    /// `connection.interface-name`, when the profile is bound to one interface.
    public var interfaceName: String?
    /// The keyfile behind the profile (`Filename`): under /etc for profiles on disk, under /run for in-memory ones.
    public var filename: String?
    /// Whether the profile exists only in memory (`Unsaved`).
    public var unsaved: Bool

    public var id: String { uuid }
}
