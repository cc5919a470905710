public import DBus

/// NetworkManager's state as one value: its version, devices, active connections, checkpoints,
/// each device's IPv4 configuration, and its profiles.
///
/// Read with ``NMClient/snapshotWithProfiles()`` (everything, profiles typed) or
/// ``NMClient/snapshot()`` (the same without the typed profiles: ``profiles`` is empty, the
/// ``profileSummaries`` are there). Planning and applying take it as it was read
/// (``NMClient/plan(_:basedOn:)``, ``NMClient/apply(_:plan:commit:confirmTimeout:basedOn:progress:)``),
/// so that a tool decides and plans against one read of the host. It is `Codable`: a tool can
/// store it, log it or hand it to another program.
public struct NMHostState: Sendable, Hashable, Codable {
    /// NetworkManager's version (`org.freedesktop.NetworkManager.Version`).
    public var version: NMVersion
    /// The devices, by interface name.
    public var devices: [NMDevice]
    /// The active connections (`org.freedesktop.NetworkManager.Connection.Active` objects), by path.
    public var activeConnections: [NMActiveConnection]
    /// The checkpoints that exist now.
    public var checkpoints: [NMCheckpoint]
    /// Each device's IPv4 configuration (as ``NMClient/ipv4Configuration(of:)``), by device
    /// path; a device without one is absent.
    public var ipv4: [ObjectPath: NMIPv4Configuration]
    /// Every profile with its typed settings, by name; empty when read with ``NMClient/snapshot()``.
    public var profiles: [NMStoredProfile]
    /// Every profile's identity (what `nmcli connection show` lists), by name.
    public var profileSummaries: [NMProfileSummary]

    public init(version: NMVersion, devices: [NMDevice] = [], activeConnections: [NMActiveConnection] = [],
                checkpoints: [NMCheckpoint] = [], ipv4: [ObjectPath: NMIPv4Configuration] = [:],
                profiles: [NMStoredProfile] = [], profileSummaries: [NMProfileSummary]? = nil) {
        self.version = version
        self.devices = devices
        self.activeConnections = activeConnections
        self.checkpoints = checkpoints
        self.ipv4 = ipv4
        self.profiles = profiles
        self.profileSummaries = profileSummaries ?? profiles.map(NMProfileSummary.init(stored:))
    }

    /// The IPv4 configuration of the device at `device` (empty when it has none).
    public func ipv4Configuration(of device: ObjectPath) -> NMIPv4Configuration {
        ipv4[device] ?? NMIPv4Configuration(addresses: [], gateway: nil, dnsServers: [])
    }

    /// The device with kernel interface name `interface`.
    public func device(named interface: NMInterfaceName) -> NMDevice? { devices.first { $0.interface == interface } }

    /// The device with kernel interface name `interface` (any text: a name NetworkManager
    /// reported need not pass ``NMInterfaceName/init(_:)``).
    public func device(named interface: String) -> NMDevice? { devices.first { $0.interface.rawValue == interface } }

    /// The device at `path`.
    public func device(at path: ObjectPath) -> NMDevice? { devices.first { $0.path == path } }

    /// The active connection at `path`.
    public func activeConnection(at path: ObjectPath) -> NMActiveConnection? { activeConnections.first { $0.path == path } }
}

/// The earlier name of ``NMHostState``.
public typealias NMSnapshot = NMHostState

extension NMProfileSummary {
    /// The identity of a profile read with its settings.
    init(stored: NMStoredProfile) {
        self.init(path: stored.path, name: stored.profile.name, uuid: stored.profile.uuid, type: stored.profile.type,
                  interfaceName: stored.profile.interfaceName, filename: stored.filename, unsaved: stored.isInMemory)
    }
}

extension NMHostState {
    /// The active connections, by the name the transaction engine uses.
    var active: [NMActiveConnection] {
        get { activeConnections }
        set { activeConnections = newValue }
    }

    /// Whether `port` is activated as a port of one of `controllerDevices` (as ``NMClient/isPort(_:of:)``).
    func isPort(_ port: ObjectPath, of controllerDevices: Set<ObjectPath>) -> Bool {
        guard let state = device(at: port), state.state == .activated, let portActive = state.activeConnection,
            let controller = activeConnection(at: portActive)?.controllerDevice
        else { return false }
        return controllerDevices.contains(controller)
    }

    /// Whether it was read with the profiles' settings, or holds no profile at all.
    var hasTypedProfiles: Bool { profileSummaries.isEmpty || !profiles.isEmpty }
}
