/// The standard ObjectManager and Introspectable interfaces.
extension DBusConnection {
    /// Every object below `path` with every interface and property, in one round trip:
    /// path → interface → property → value.
    ///
    /// The corresponding D-Bus method is `org.freedesktop.DBus.ObjectManager.GetManagedObjects`.
    public func managedObjects(
        at path: ObjectPath, on destination: BusName, timeout: Duration? = DBusConnection.defaultTimeout
    ) async throws -> [ObjectPath: [InterfaceName: [String: DBusValue]]] {
        try await managedObjectsWithSender(at: path, on: destination, timeout: timeout).objects
    }

    /// ``managedObjects(at:on:timeout:)``, and the unique bus name of the peer that answered:
    /// the owner of `destination` when it replied, without `GetNameOwner`.
    public func managedObjectsWithSender(
        at path: ObjectPath, on destination: BusName, timeout: Duration? = DBusConnection.defaultTimeout
    ) async throws -> (objects: [ObjectPath: [InterfaceName: [String: DBusValue]]], sender: BusName?) {
        let reply = try await managedObjectsWithSerial(at: path, on: destination, timeout: timeout)
        return (reply.objects, reply.sender)
    }

    /// ``managedObjectsWithSender(at:on:timeout:)``, and the reply's serial: a signal of the
    /// same sender with a higher serial (``DBusSignal/serial``) was sent after this reply, so
    /// the objects plus every such signal, in order, are the peer's objects now.
    public func managedObjectsWithSerial(
        at path: ObjectPath, on destination: BusName, timeout: Duration? = DBusConnection.defaultTimeout
    ) async throws -> (objects: [ObjectPath: [InterfaceName: [String: DBusValue]]], sender: BusName?, serial: UInt32) {
        let (body, sender, serial) = try await callWithReply(destination: destination, path: path, interface: .objectManager,
                                                             member: "GetManagedObjects", timeout: timeout)
        guard case .dictionary(_, _, let objects)? = body.first else {
            throw DBusError(.typeMismatch, "GetManagedObjects did not return a{oa{sa{sv}}}")
        }
        var result: [ObjectPath: [InterfaceName: [String: DBusValue]]] = [:]
        result.reserveCapacity(objects.count)
        for object in objects {
            let objectPath = try ObjectPath(dbusValue: object.key)
            guard case .dictionary(_, _, let interfaces) = object.value else { throw DBusValue.mismatch(.dictionary(key: .string, value: .dictionary(key: .string, value: .variant)), object.value) }
            var byInterface: [InterfaceName: [String: DBusValue]] = [:]
            for interface in interfaces {
                let name = try InterfaceName(try String(dbusValue: interface.key))
                guard case .dictionary(_, _, let properties) = interface.value else { throw DBusValue.mismatch(.dictionary(key: .string, value: .variant), interface.value) }
                var values: [String: DBusValue] = [:]
                values.reserveCapacity(properties.count)
                for property in properties {
                    guard case .string(let key) = property.key, case .variant(let value) = property.value else {
                        throw DBusValue.mismatch(.dictionary(key: .string, value: .variant), interface.value)
                    }
                    values[key] = value
                }
                byInterface[name] = values
            }
            result[objectPath] = byInterface
        }
        return (result, sender, serial)
    }

    /// The introspection XML of one object.
    ///
    /// The corresponding D-Bus method is `org.freedesktop.DBus.Introspectable.Introspect`.
    public func introspect(_ path: ObjectPath, on destination: BusName) async throws -> String {
        try await call(destination: destination, path: path, interface: .introspectable, member: "Introspect", returning: String.self)
    }

    /// Checks that `destination` answers at all.
    ///
    /// The corresponding D-Bus method is `org.freedesktop.DBus.Peer.Ping`.
    public func ping(_ destination: BusName, timeout: Duration? = DBusConnection.defaultTimeout) async throws {
        _ = try await call(destination: destination, path: "/", interface: .peer, member: "Ping", timeout: timeout)
    }
}
