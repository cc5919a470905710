public import DBus
#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// A profile active on one or more devices: a snapshot of an
/// `org.freedesktop.NetworkManager.Connection.Active` object.
public struct NMActiveConnection: Sendable, Hashable, Identifiable, Codable {
    /// The object path, `/org/freedesktop/NetworkManager/ActiveConnection/N`.
    public var path: ObjectPath
    /// The profile's name (`Id`).
    public var name: String
    /// The profile's UUID (`Uuid`).
    public var uuid: UUID
    /// The profile's type (`Type`), such as `bridge`.
    public var type: NMConnectionType
    /// The settings object of the profile (`Connection`).
    public var profile: ObjectPath?
    /// The devices it runs on (`Devices`).
    public var devices: [ObjectPath]
    /// `State`.
    public var state: NMActiveConnectionState
    /// `StateFlags`.
    public var stateFlags: NMActivationStateFlags
    /// The controller's *device* (a bridge, a bond), for a port (`Controller`, 1.44 and 1.42.2;
    /// the deprecated `Master` before). Note: a device path, not an active connection.
    public var controllerDevice: ObjectPath?
    /// Whether it holds the IPv4 default route (`Default`).
    public var isDefault: Bool

    public var id: ObjectPath { path }

    init(path: ObjectPath, properties p: [String: DBusValue]) {
        self.path = path
        name = (try? p["Id"]?.decode(String.self)) ?? ""
        uuid = UUID(nmText: (try? p["Uuid"]?.decode(String.self)) ?? "")
        type = NMConnectionType(rawValue: (try? p["Type"]?.decode(String.self)) ?? "")
        profile = (try? p["Connection"]?.decode(ObjectPath.self))?.orNilIfRoot
        devices = (try? p["Devices"]?.decode([ObjectPath].self)) ?? []
        state = NMActiveConnectionState(rawValue: (try? p["State"]?.decode(UInt32.self)) ?? 0)
        stateFlags = NMActivationStateFlags(rawValue: (try? p["StateFlags"]?.decode(UInt32.self)) ?? 0)
        let controllerPath = (try? p["Controller"]?.decode(ObjectPath.self)) ?? (try? p["Master"]?.decode(ObjectPath.self))
        controllerDevice = controllerPath?.orNilIfRoot
        isDefault = (try? p["Default"]?.decode(Bool.self)) ?? false
    }
}

extension UUID {
    /// The UUID in `text` as NetworkManager reports it (`Uuid`, `connection.uuid`); the nil
    /// UUID (all zeros) when it is not one, which NetworkManager does not allow in a profile.
    init(nmText text: String) {
        self = UUID(uuidString: text) ?? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    }
}
