public import DBus

/// One `org.freedesktop.NetworkManager.Device.StateChanged` signal.
public struct NMDeviceStateChange: Sendable, Hashable {
    public var device: ObjectPath
    public var new: NMDeviceState
    public var old: NMDeviceState
    public var reason: NMDeviceStateReason
}

/// One `org.freedesktop.NetworkManager.Connection.Active.StateChanged` signal.
public struct NMActiveConnectionStateChange: Sendable, Hashable {
    public var activeConnection: ObjectPath
    public var state: NMActiveConnectionState
    public var reason: NMActiveConnectionStateReason
}

/// State changes as async sequences. Each is subscribed when the call returns: subscribe
/// first, then act, and no change is missed.
extension NMClient {
    /// Every signal NetworkManager emits, through one match rule (one `AddMatch`).
    func allSignals() async throws -> DBusSignalSequence {
        do {
            return try await connection.signals(matching: DBusMatchRule(sender: Self.service, pathNamespace: Self.managerPath))
        } catch let error as DBusError {
            throw NMError(error)
        }
    }

    /// Device state changes, of one device or of all.
    ///
    /// The corresponding D-Bus signal is `org.freedesktop.NetworkManager.Device.StateChanged`.
    public func deviceStateChanges(of device: ObjectPath? = nil) async throws -> some AsyncSequence<NMDeviceStateChange, any Error> {
        let rule = DBusMatchRule(sender: Self.service, path: device, interface: Self.deviceInterface, member: "StateChanged")
        return try await connection.signals(matching: rule).compactMap { signal -> NMDeviceStateChange? in
            Self.deviceStateChange(signal)
        }
    }

    /// Active connection state changes, of one active connection or of all.
    ///
    /// The corresponding D-Bus signal is `org.freedesktop.NetworkManager.Connection.Active.StateChanged`.
    public func activeConnectionStateChanges(of activeConnection: ObjectPath? = nil) async throws -> some AsyncSequence<NMActiveConnectionStateChange, any Error> {
        let rule = DBusMatchRule(sender: Self.service, path: activeConnection, interface: Self.activeInterface, member: "StateChanged")
        return try await connection.signals(matching: rule).compactMap { signal -> NMActiveConnectionStateChange? in
            Self.activeStateChange(signal)
        }
    }

    /// Profiles added and removed.
    ///
    /// The corresponding D-Bus signals are `org.freedesktop.NetworkManager.Settings.NewConnection`
    /// and `ConnectionRemoved`.
    public func profileEvents() async throws -> some AsyncSequence<NMProfileEvent, any Error> {
        let rule = DBusMatchRule(sender: Self.service, path: Self.settingsPath, interface: Self.settingsInterface)
        return try await connection.signals(matching: rule).compactMap { signal -> NMProfileEvent? in
            guard case .objectPath(let path)? = signal.body.first else { return nil }
            switch signal.member.rawValue {
            case "NewConnection": return .added(path)
            case "ConnectionRemoved": return .removed(path)
            default: return nil
            }
        }
    }

    /// Property changes of NetworkManager's objects (all, or one object, or one interface).
    ///
    /// The corresponding D-Bus signal is `org.freedesktop.DBus.Properties.PropertiesChanged`.
    public func propertyChanges(of path: ObjectPath? = nil, interface: InterfaceName? = nil) async throws -> some AsyncSequence<PropertiesChange, any Error> {
        try await connection.propertiesChanges(on: Self.service, path: path, interface: interface)
    }

    static func deviceStateChange(_ signal: DBusSignal) -> NMDeviceStateChange? {
        guard signal.interface == deviceInterface, signal.member == "StateChanged", signal.body.count == 3,
            case .uint32(let new) = signal.body[0], case .uint32(let old) = signal.body[1],
            case .uint32(let reason) = signal.body[2]
        else { return nil }
        return NMDeviceStateChange(device: signal.path, new: NMDeviceState(rawValue: new), old: NMDeviceState(rawValue: old),
                                   reason: NMDeviceStateReason(rawValue: reason))
    }

    static func activeStateChange(_ signal: DBusSignal) -> NMActiveConnectionStateChange? {
        guard signal.interface == activeInterface, signal.member == "StateChanged", signal.body.count == 2,
            case .uint32(let state) = signal.body[0], case .uint32(let reason) = signal.body[1]
        else { return nil }
        return NMActiveConnectionStateChange(activeConnection: signal.path, state: NMActiveConnectionState(rawValue: state),
                                             reason: NMActiveConnectionStateReason(rawValue: reason))
    }
}
