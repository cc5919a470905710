import DBus

extension NMClient {
    static let activeInterface: InterfaceName = "org.freedesktop.NetworkManager.Connection.Active"
    static let checkpointInterface: InterfaceName = "org.freedesktop.NetworkManager.Checkpoint"

    /// Calls a NetworkManager method; a D-Bus error becomes ``NMError`` (with the polkit hint
    /// for `operation` when permission is denied).
    @discardableResult
    func nmCall(
        _ path: ObjectPath, _ interface: InterfaceName, _ member: MemberName, _ arguments: [DBusValue] = [],
        operation: NMError.Operation? = nil, timeout: Duration? = DBusConnection.defaultTimeout
    ) async throws -> [DBusValue] {
        do {
            return try await connection.call(
                destination: Self.service, path: path, interface: interface, member: member,
                arguments: arguments, timeout: timeout)
        } catch let error as DBusError {
            throw NMError(error, operation: operation)
        }
    }

    /// Reads one property of a NetworkManager object, as ``NMError`` on failure.
    func nmProperty<T: DBusRepresentable>(_ path: ObjectPath, _ interface: InterfaceName, _ name: String, as _: T.Type = T.self) async throws -> T {
        do {
            return try await connection.property(name, of: interface, at: path, on: Self.service)
        } catch let error as DBusError {
            throw NMError(error)
        }
    }

    /// Reads every property of one interface of a NetworkManager object.
    func nmProperties(_ path: ObjectPath, _ interface: InterfaceName, on destination: BusName = NMClient.service) async throws -> [String: DBusValue] {
        do {
            return try await connection.allProperties(of: interface, at: path, on: destination)
        } catch let error as DBusError {
            throw NMError(error)
        }
    }

    /// The settings codec for the running NetworkManager (its version is read once and cached).
    public func codec() async throws(NMError) -> NMSettingsCodec {
        return try await NMError.boundary {
            NMSettingsCodec(version: try await cachedVersion())
        }
    }

    func cachedVersion() async throws -> NMVersion {
        if let known = versionCache.withLock({ $0 }) { return known }
        let version = try await self.version()
        versionCache.withLock { $0 = version }
        return version
    }
}

extension ObjectPath {
    /// NetworkManager's "no object": `/`.
    var orNilIfRoot: ObjectPath? { self == .root ? nil : self }
}
