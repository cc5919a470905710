/// The standard Properties interface (`org.freedesktop.DBus.Properties`).
extension DBusConnection {
    /// Reads one property.
    ///
    /// The corresponding D-Bus method is `org.freedesktop.DBus.Properties.Get`.
    public func property<T: DBusRepresentable>(
        _ name: String, of interface: InterfaceName, at path: ObjectPath, on destination: BusName,
        as _: T.Type = T.self, timeout: Duration? = DBusConnection.defaultTimeout
    ) async throws -> T {
        let body = try await call(destination: destination, path: path, interface: .properties, member: "Get",
                                  arguments: [.string(interface.rawValue), .string(name)], timeout: timeout)
        guard let first = body.first else { throw DBusError(.typeMismatch, "Properties.Get returned nothing") }
        return try T(dbusValue: first)
    }

    /// Reads every property of `interface` on one object.
    ///
    /// The corresponding D-Bus method is `org.freedesktop.DBus.Properties.GetAll`.
    public func allProperties(
        of interface: InterfaceName, at path: ObjectPath, on destination: BusName,
        timeout: Duration? = DBusConnection.defaultTimeout
    ) async throws -> [String: DBusValue] {
        let body = try await call(destination: destination, path: path, interface: .properties, member: "GetAll",
                                  arguments: [.string(interface.rawValue)], timeout: timeout)
        let map = try [String: DBusVariant](dbusValue: body.first ?? .dictionary(key: .string, value: .variant, []))
        return map.mapValues(\.value)
    }

    /// Writes one property.
    ///
    /// The corresponding D-Bus method is `org.freedesktop.DBus.Properties.Set`.
    public func setProperty<T: DBusRepresentable>(
        _ name: String, of interface: InterfaceName, at path: ObjectPath, on destination: BusName, to value: T,
        timeout: Duration? = DBusConnection.defaultTimeout
    ) async throws {
        _ = try await call(destination: destination, path: path, interface: .properties, member: "Set",
                           arguments: [.string(interface.rawValue), .string(name), .variant(value.dbusValue)], timeout: timeout)
    }

    /// Writes one property from a dynamically typed value: `value` is the property's value
    /// itself (it is wrapped in the one variant that `Set` takes).
    ///
    /// The corresponding D-Bus method is `org.freedesktop.DBus.Properties.Set`.
    public func setProperty(
        _ name: String, of interface: InterfaceName, at path: ObjectPath, on destination: BusName, to value: DBusValue,
        timeout: Duration? = DBusConnection.defaultTimeout
    ) async throws {
        _ = try await call(destination: destination, path: path, interface: .properties, member: "Set",
                           arguments: [.string(interface.rawValue), .string(name), .variant(value)], timeout: timeout)
    }

    /// Property changes of objects owned by `destination`, optionally limited to one path and interface.
    ///
    /// The corresponding D-Bus signal is `org.freedesktop.DBus.Properties.PropertiesChanged`.
    public func propertiesChanges(
        on destination: BusName, path: ObjectPath? = nil, interface: InterfaceName? = nil
    ) async throws -> some AsyncSequence<PropertiesChange, any Error> {
        let rule = DBusMatchRule(sender: destination, path: path, interface: .properties, member: "PropertiesChanged",
                                 arguments: interface.map { [0: $0.rawValue] } ?? [:])
        return try await signals(matching: rule).map { signal throws -> PropertiesChange in
            let changed = try signal.argument(1, as: [String: DBusVariant].self).mapValues(\.value)
            return PropertiesChange(
                path: signal.path, interface: try InterfaceName(try signal.argument(0, as: String.self)),
                changed: changed, invalidated: try signal.argument(2))
        }
    }
}

/// One `org.freedesktop.DBus.Properties.PropertiesChanged` signal.
public struct PropertiesChange: Sendable, Hashable {
    public var path: ObjectPath
    public var interface: InterfaceName
    /// The new values of the changed properties.
    public var changed: [String: DBusValue]
    /// Properties that changed without their new value being sent.
    public var invalidated: [String]
}
