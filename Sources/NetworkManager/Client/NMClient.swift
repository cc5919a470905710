public import DBus
public import Logging
import Synchronization

/// The entry point to NetworkManager over D-Bus (libnm's name for the same role).
///
/// ```swift
/// let nm = try await NMClient.system()
/// let state = try await nm.snapshot()
/// print(state.version, state.devices.map(\.interface))
/// ```
/// `NMClient` is `Sendable`; one instance serves any number of tasks. It talks to the service
/// `org.freedesktop.NetworkManager` on the system bus, or on the bus at an explicit address.
public final class NMClient: Sendable {
    /// The D-Bus connection this client uses.
    public let connection: DBusConnection
    let logger: Logger?
    let versionCache = Mutex<NMVersion?>(nil)
    /// The rule of ``allSignals()``, kept on the bus while this client lives.
    let signalLease = Mutex<DBusMatchLease?>(nil)
    /// NetworkManager's objects, kept by the signals of the kept rule (``NMObjectMirror``).
    let mirror = NMObjectMirror()
    /// `GetSettings` replies by profile path, with the NetworkManager that gave them (its unique
    /// bus name) and the `VersionId` they were read at: a profile whose `VersionId`
    /// (NetworkManager 1.44) has not changed since is not read again. A restarted NetworkManager
    /// numbers its profiles and their `VersionId`s afresh (seen on 1.52: after a restart the same
    /// path and `VersionId` named another profile), so a reply serves only the instance that gave it.
    let settingsCache = Mutex<[ObjectPath: CachedSettings]>([:])
    struct CachedSettings: Sendable {
        var instance: BusName
        var versionID: UInt64
        var reply: DBusValue
    }

    /// NetworkManager's well-known bus name.
    public static let service: BusName = "org.freedesktop.NetworkManager"
    static let managerPath: ObjectPath = "/org/freedesktop/NetworkManager"
    static let settingsPath: ObjectPath = "/org/freedesktop/NetworkManager/Settings"
    static let managerInterface: InterfaceName = "org.freedesktop.NetworkManager"
    static let deviceInterface: InterfaceName = "org.freedesktop.NetworkManager.Device"
    static let settingsInterface: InterfaceName = "org.freedesktop.NetworkManager.Settings"
    static let profileInterface: InterfaceName = "org.freedesktop.NetworkManager.Settings.Connection"

    /// Whether this client made its connection (and so closes it when it goes).
    let ownsConnection: Bool

    /// Uses an existing connection (to the system bus, or to a test bus). The connection stays
    /// open when the client goes; match rules the client added are removed from the bus then.
    public convenience init(connection: DBusConnection, logger: Logger? = nil) {
        self.init(connection: connection, owned: false, logger: logger)
    }

    init(connection: DBusConnection, owned: Bool, logger: Logger?) {
        self.connection = connection
        self.ownsConnection = owned
        self.logger = logger
    }

    deinit {
        // A connection made for this client closes with it, and the bus drops its match rules
        // then: no RemoveMatch for a command that is about to exit. A caller's connection stays,
        // and the lease's rule is removed from the bus.
        if ownsConnection { connection.close() }
    }

    /// Connects to NetworkManager on the system bus (`DBUS_SYSTEM_BUS_ADDRESS` is honoured).
    /// The connection belongs to the client and is closed when the client is released.
    ///
    /// - Parameter options: how the connection is set up and treats its calls: the connect
    ///   timeout (10 s), the grace a cancelled call that was already sent keeps waiting for its
    ///   reply (5 s), the window of calls on the wire (64), and whether a system bus address
    ///   that is not a socket is allowed (no). See ``DBusConnection/Options``.
    /// - Throws: ``NMError`` wrapping the ``DBus/DBusError`` of
    ///   ``DBusConnection/system(options:logger:)`` (kept as ``NMError/dbusError``): a bad or
    ///   refused address, nothing listening (``NMError/Code/notRunning`` when the bus's socket
    ///   is missing), a handshake that does not finish within the timeout.
    public static func system(options: DBusConnection.Options = .init(), logger: Logger? = nil) async throws(NMError) -> NMClient {
        return try await NMError.boundary {
            NMClient(connection: try await DBusConnection.system(options: options, logger: logger), owned: true, logger: logger)
        }
    }

    /// Connects to NetworkManager on the bus at `address`, such as a container's
    /// `unix:path=/tmp/nm-container/t1/dbus/system_bus_socket`. The connection belongs to the
    /// client and is closed when the client is released.
    ///
    /// - Parameter options: as for ``system(options:logger:)``; the transport of an explicit
    ///   address is not checked.
    public static func connect(address: String, options: DBusConnection.Options = .init(), logger: Logger? = nil) async throws(NMError) -> NMClient {
        return try await NMError.boundary {
            NMClient(connection: try await DBusConnection.connect(address: address, options: options, logger: logger),
                     owned: true, logger: logger)
        }
    }

    /// NetworkManager's version.
    ///
    /// The corresponding D-Bus property is `org.freedesktop.NetworkManager.Version`.
    /// - Throws: ``NMError`` with ``NMError/Code/notRunning`` when NetworkManager is not running.
    public func version() async throws(NMError) -> NMVersion {
        return try await NMError.boundary {
            let text: String = try await connection.property("Version", of: Self.managerInterface, at: Self.managerPath, on: Self.service)
            guard let version = NMVersion(text) else {
                throw NMError(.invalidSettings, "NetworkManager reported an unparseable version \"\(text)\"", domain: .dbus)
            }
            return version
        }
    }

    /// Everything NetworkManager exports, read in one `GetManagedObjects` round trip, then the
    /// settings of every profile with `GetSettings` calls sent all at once (pipelined), since
    /// NetworkManager does not export a profile's settings as properties.
    ///
    /// The corresponding D-Bus methods are `org.freedesktop.DBus.ObjectManager.GetManagedObjects`
    /// on `/org/freedesktop` and `org.freedesktop.NetworkManager.Settings.Connection.GetSettings`.
    public func snapshot() async throws(NMError) -> NMHostState {
        return try await NMError.boundary {
            try await snapshot(withStoredProfiles: false)
        }
    }

    /// ``snapshot()`` and every profile's typed settings (as ``profiles()``, in
    /// ``NMHostState/profiles``), from one `GetManagedObjects` and one `GetSettings` per profile:
    /// the state to plan against (``plan(_:basedOn:)``).
    public func snapshotWithProfiles() async throws(NMError) -> NMHostState {
        return try await NMError.boundary {
            try await snapshot(withStoredProfiles: true)
        }
    }

    private func snapshot(withStoredProfiles: Bool) async throws -> NMHostState {
        // Objects and settings from one NetworkManager instance, so that cached settings are
        // only ever matched against the VersionIds of the daemon that gave them. Before 1.44
        // there is no VersionId and so no cache: the well-known name, no instance to look up.
        if versionCache.withLock({ $0.map { $0 < NMVersion(1, 44) } ?? false }) {
            return try await snapshot(withStoredProfiles: withStoredProfiles, from: nil)
        }
        if runningInstance == nil {
            // The instance from the objects' reply (its sender), not asked first (GetNameOwner).
            let (objects, instance) = try await objectsWithInstance()
            return try await snapshot(withStoredProfiles: withStoredProfiles, objects: objects, from: instance)
        }
        return try await withInstance { instance in try await self.snapshot(withStoredProfiles: withStoredProfiles, from: instance) }
    }

    private func snapshot(withStoredProfiles: Bool, from instance: BusName?) async throws -> NMHostState {
        let objects = try await readObjects(on: instance ?? Self.service).objects
        return try await snapshot(withStoredProfiles: withStoredProfiles, objects: objects, from: instance)
    }

    /// `GetManagedObjects` of the well-known name, and the unique name of the NetworkManager
    /// that answered (the reply's sender): settings read next are asked of that one.
    func objectsWithInstance() async throws -> (objects: [ObjectPath: [InterfaceName: [String: DBusValue]]], instance: BusName?) {
        do {
            let (objects, sender) = try await readObjects(on: Self.service)
            return (objects, sender.flatMap { $0.isUnique ? $0 : nil })
        } catch let error as DBusError {
            throw NMError(error)
        }
    }

    private func snapshot(withStoredProfiles: Bool, objects: [ObjectPath: [InterfaceName: [String: DBusValue]]],
                          from instance: BusName?) async throws -> NMHostState {
        guard let manager = objects[Self.managerPath]?[Self.managerInterface] else {
            throw NMError(.notRunning, "NetworkManager did not export its manager object",
                          hint: "is NetworkManager running on this bus?", domain: .dbus)
        }
        let versionText = (try? manager["Version"]?.decode(String.self)) ?? ""
        guard let version = NMVersion(versionText) else {
            throw NMError(.invalidSettings, "NetworkManager reported an unparseable version \"\(versionText)\"", domain: .dbus)
        }
        versionCache.withLock { $0 = version }
        let parsed = Self.parse(objects, version: version)
        let profilePaths = parsed.settingsObjects
        // Each profile's settings are read once, for its summary and (if asked) its typed form.
        let read = try await withThrowingTaskGroup(of: (NMProfileSummary, NMStoredProfile?)?.self) { group in
            for (path, properties) in profilePaths {
                group.addTask {
                    let reply: DBusValue
                    do {
                        guard let value = try await self.settingsReply(path: path, properties: properties, instance: instance) else { return nil }
                        reply = value
                    } catch let error as DBusError where error.code == .unknownMethod || error.code == .unknownObject {
                        return nil  // deleted between the two reads
                    }
                    guard let summary = try self.profileSummary(path: path, properties: properties, reply: reply) else { return nil }
                    guard withStoredProfiles else { return (summary, nil) }
                    return (summary, try await self.storedProfile(path: path, properties: properties, reply: reply))
                }
            }
            var result: [(NMProfileSummary, NMStoredProfile?)] = []
            for try await entry in group { if let entry { result.append(entry) } }
            return result
        }
        let profiles = read.map(\.0).sorted { ($0.name, $0.uuid.uuidString) < ($1.name, $1.uuid.uuidString) }
        var state = parsed.host
        state.profileSummaries = profiles
        if withStoredProfiles {
            state.profiles = read.compactMap(\.1).sorted { ($0.profile.name, $0.path.rawValue) < ($1.profile.name, $1.path.rawValue) }
        }
        return state
    }

    /// NetworkManager's devices, in one round trip.
    public func devices() async throws(NMError) -> [NMDevice] {
        return try await NMError.boundary {
            try await snapshot().devices
        }
    }

    /// The connection profiles NetworkManager knows.
    public func profileSummaries() async throws(NMError) -> [NMProfileSummary] {
        return try await NMError.boundary {
            try await snapshot().profileSummaries
        }
    }

    private func profileSummary(path: ObjectPath, properties: [String: DBusValue], reply: DBusValue) throws -> NMProfileSummary? {
        let settings = try reply.decode([String: [String: DBusVariant]].self)
        let connectionSetting = settings["connection"] ?? [:]
        let filename = try? properties["Filename"]?.decode(String.self)
        return NMProfileSummary(
            path: path,
            name: (try? connectionSetting["id"]?.decode(String.self)) ?? "",
            uuid: UUID(nmText: (try? connectionSetting["uuid"]?.decode(String.self)) ?? ""),
            type: NMConnectionType(rawValue: (try? connectionSetting["type"]?.decode(String.self)) ?? ""),
            interfaceName: (try? connectionSetting["interface-name"]?.decode(String.self)).map(NMInterfaceName.init(unchecked:)),
            filename: (filename?.isEmpty ?? true) ? nil : filename,
            unsaved: (try? properties["Unsaved"]?.decode(Bool.self)) ?? false)
    }
}
