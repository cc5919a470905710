public import DBus

/// Devices: look-up, state and reason, applied connection, reapply, disconnect.
extension NMClient {
    /// The device with kernel interface name `interface`.
    ///
    /// The corresponding D-Bus method is `org.freedesktop.NetworkManager.GetDeviceByIpIface`.
    /// - Throws: ``NMError`` (``NMError/Code/unknownDevice``) when NetworkManager has no such device.
    public func device(named interface: String) async throws(NMError) -> NMDevice {
        return try await NMError.boundary {
            let reply = try await nmCall(Self.managerPath, Self.managerInterface, "GetDeviceByIpIface", [.string(interface)])
            guard case .objectPath(let path)? = reply.first else {
                throw NMError(.unknownDevice, "no device named \(interface)")
            }
            return try await device(at: path)
        }
    }

    /// The device at `path`, read now (`GetAll` on `org.freedesktop.NetworkManager.Device`).
    public func device(at path: ObjectPath) async throws(NMError) -> NMDevice {
        return try await NMError.boundary {
            NMDevice(path: path, properties: try await nmProperties(path, Self.deviceInterface))
        }
    }

    /// The device's state and the reason it is in it.
    ///
    /// The corresponding D-Bus property is `org.freedesktop.NetworkManager.Device.StateReason`.
    public func stateReason(of device: ObjectPath) async throws(NMError) -> (state: NMDeviceState, reason: NMDeviceStateReason) {
        return try await NMError.boundary {
            let value: DBusValue = try await nmProperty(device, Self.deviceInterface, "StateReason")
            guard case .structure(let fields) = value.unwrapped, fields.count == 2,
                case .uint32(let state) = fields[0], case .uint32(let reason) = fields[1]
            else { throw NMError(.invalidSettings, "StateReason of \(device) is not (uu)") }
            return (NMDeviceState(rawValue: state), NMDeviceStateReason(rawValue: reason))
        }
    }

    /// The settings the device runs with now (which can differ from its profile after a
    /// change that was not reapplied), and the version id to pass to ``reapply(_:on:versionID:)``.
    ///
    /// The corresponding D-Bus method is `org.freedesktop.NetworkManager.Device.GetAppliedConnection`.
    public func appliedProfile(of device: ObjectPath) async throws(NMError) -> (profile: NMConnectionProfile, versionID: UInt64) {
        return try await NMError.boundary {
            let reply = try await nmCall(device, Self.deviceInterface, "GetAppliedConnection", [.uint32(0)])
            guard reply.count == 2, case .uint64(let versionID) = reply[1] else {
                throw NMError(.invalidSettings, "GetAppliedConnection returned \(reply.count) values")
            }
            return (try await codec().decode(reply[0]), versionID)
        }
    }

    /// Applies `profile` to the running device without taking it down (addresses, routes and
    /// the like; NetworkManager refuses other differences with ``NMError/Code/incompatibleConnection``).
    ///
    /// - Parameters:
    ///   - profile: the settings to apply, or nil to reapply the device's own profile as stored.
    ///   - versionID: the applied connection's version id from ``appliedProfile(of:)``; a
    ///     mismatch fails with ``NMError/Code/versionIDMismatch``. 0 skips the check.
    ///
    /// The corresponding D-Bus method is `org.freedesktop.NetworkManager.Device.Reapply`.
    public func reapply(_ profile: NMConnectionProfile?, on device: ObjectPath, versionID: UInt64 = 0) async throws(NMError) {
        try await NMError.boundary {
            var settings: DBusValue = .dictionary(key: .string, value: .dictionary(key: .string, value: .variant), [])
            if let profile { settings = NMSettingsCodec.wireValue(try await codec().encode(profile)) }
            try await nmCall(device, Self.deviceInterface, "Reapply", [settings, .uint64(versionID), .uint32(0)],
                             operation: .networkControl)
        }
    }

    /// Deletes a software device (a bridge, bond, VLAN, dummy) from the kernel.
    ///
    /// The corresponding D-Bus method is `org.freedesktop.NetworkManager.Device.Delete`.
    /// - Throws: ``NMError`` (``NMError/Code/notSoftware``) for a hardware device.
    public func deleteDevice(_ device: ObjectPath) async throws(NMError) {
        try await NMError.boundary {
            try await nmCall(device, Self.deviceInterface, "Delete", operation: .networkControl)
        }
    }

    /// Disconnects the device and keeps it from autoconnecting until told otherwise.
    ///
    /// The corresponding D-Bus method is `org.freedesktop.NetworkManager.Device.Disconnect`.
    public func disconnect(_ device: ObjectPath) async throws(NMError) {
        try await NMError.boundary {
            try await nmCall(device, Self.deviceInterface, "Disconnect", operation: .networkControl)
        }
    }
}

