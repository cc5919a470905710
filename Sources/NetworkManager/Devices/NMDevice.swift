public import DBus

/// A network device as NetworkManager sees it: a snapshot of the
/// `org.freedesktop.NetworkManager.Device` interface's properties.
public struct NMDevice: Sendable, Hashable, Identifiable {
    /// The device's D-Bus object path.
    public var path: ObjectPath
    /// The kernel interface name (`Interface`), as NetworkManager reports it: taken with
    /// ``NMInterfaceName/init(unchecked:)``, since the kernel allows names that a profile may not use.
    public var interface: NMInterfaceName
    /// The kind of device (`DeviceType`).
    public var type: NMDeviceType
    /// The state (`State`).
    public var state: NMDeviceState
    /// Whether NetworkManager manages it (`Managed`).
    public var managed: Bool
    /// The MAC address as NetworkManager prints it (`HwAddress`), when it has one.
    public var hardwareAddress: String?
    /// The active connection on it (`ActiveConnection`), or nil.
    public var activeConnection: ObjectPath?
    /// Whether the device has a kernel link (`Real`, true unless it is a profile's placeholder).
    public var isReal: Bool

    public var id: ObjectPath { path }

    init(path: ObjectPath, properties p: [String: DBusValue]) {
        self.path = path
        interface = NMInterfaceName(unchecked: (try? p["Interface"]?.decode(String.self)) ?? "")
        type = NMDeviceType(rawValue: (try? p["DeviceType"]?.decode(UInt32.self)) ?? 0)
        state = NMDeviceState(rawValue: (try? p["State"]?.decode(UInt32.self)) ?? 0)
        managed = (try? p["Managed"]?.decode(Bool.self)) ?? false
        let mac = try? p["HwAddress"]?.decode(String.self)
        hardwareAddress = (mac?.isEmpty ?? true) ? nil : mac
        let active = try? p["ActiveConnection"]?.decode(ObjectPath.self)
        activeConnection = active == .root ? nil : active
        isReal = (try? p["Real"]?.decode(Bool.self)) ?? true
    }
}
