public import DBus
#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

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
    public var uuid: UUID
    /// `connection.type`, such as `802-3-ethernet` or `bridge`.
    public var type: NMConnectionType
    /// `connection.interface-name`, when the profile is bound to one interface (as
    /// NetworkManager reports it, see ``NMInterfaceName/init(unchecked:)``).
    public var interfaceName: NMInterfaceName?
    /// The keyfile behind the profile (`Filename`): under /etc for profiles on disk, under /run for in-memory ones.
    public var filename: String?
    /// Whether the profile exists only in memory (`Unsaved`).
    public var unsaved: Bool

    public var id: UUID { uuid }
}
