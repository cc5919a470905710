public import DBus

/// How long ``NMClient/activate(_:on:waitFor:timeout:)`` waits, and for what.
public enum NMActivationWait: Sendable, Hashable {
    /// Return as soon as NetworkManager accepted the request (what `ActivateConnection` does).
    case started
    /// Until the active connection is `activated` (its IP configuration done).
    case activated
    /// Until a controller (bridge, bond) is `activated` and each of these interfaces is
    /// activated as its port. A bridge without ports never leaves "waiting for ports".
    case activatedWithPorts([String])
}

/// Activation and deactivation.
extension NMClient {
    /// Activates the profile at `profile`, and waits for the real end state.
    ///
    /// Signals are subscribed before the request is sent, and the wait ends as soon as the
    /// outcome is known: success, or the failure with NetworkManager's precise reason (the
    /// active connection's state reason, refined by the device's `StateReason` when the first
    /// is only "device disconnected"). Nothing is polled.
    ///
    /// - Parameters:
    ///   - device: the device to activate on; nil lets NetworkManager choose (profiles bound to
    ///     an interface name need none).
    ///   - wait: what counts as done (see ``NMActivationWait``).
    ///   - timeout: the deadline; passing it throws ``NMError/Code/activationTimeout``.
    /// - Returns: the active connection as it is once done.
    /// - Throws: ``NMError``: a refused request (unknown profile, permission), an activation
    ///   failure with its reason, or the timeout.
    ///
    /// The corresponding D-Bus method is `org.freedesktop.NetworkManager.ActivateConnection`.
    @discardableResult
    public func activate(
        _ profile: ObjectPath, on device: ObjectPath? = nil, waitFor wait: NMActivationWait = .activated,
        timeout: Duration = .seconds(60)
    ) async throws(NMError) -> NMActiveConnection {
        return try await NMError.boundary {
            let signals = wait == .started ? nil : try await allSignals()
            let reply = try await nmCall(Self.managerPath, Self.managerInterface, "ActivateConnection",
                                         [.objectPath(profile), .objectPath(device ?? .root), .objectPath(.root)],
                                         operation: .networkControl)
            guard case .objectPath(let active)? = reply.first else {
                throw NMError(.failed, "ActivateConnection returned no active connection")
            }
            guard let signals else { return try await activeConnection(at: active) }
            var ports: [String] = []
            if case .activatedWithPorts(let names) = wait { ports = names }
            return try await waitUntilActivated(active, ports: ports, signals: signals, timeout: timeout)
        }
    }

    /// Deactivates an active connection.
    ///
    /// The corresponding D-Bus method is `org.freedesktop.NetworkManager.DeactivateConnection`.
    /// - Throws: ``NMError`` (``NMError/Code/connectionNotActive``) when it is not active.
    public func deactivate(_ activeConnection: ObjectPath, timeout: Duration? = .seconds(30)) async throws(NMError) {
        try await NMError.boundary {
            let signals = timeout == nil ? nil : try await allSignals()
            let state = try? await self.activeConnection(at: activeConnection).state
            try await nmCall(Self.managerPath, Self.managerInterface, "DeactivateConnection", [.objectPath(activeConnection)],
                             operation: .networkControl)
            guard let signals, let timeout, state != .deactivated else { return }
            // Wait for DEACTIVATED (or the object's disappearance, which NetworkManager signals too).
            try await withDeadline(timeout, what: "deactivation of \(activeConnection)") {
                for try await signal in signals {
                    if let change = Self.activeStateChange(signal), change.activeConnection == activeConnection,
                        change.state == .deactivated
                    {
                        return
                    }
                }
                try Task.checkCancellation()
                throw NMError(.disconnected, "NetworkManager's signals ended while waiting for the deactivation")
            }
        }
    }

    /// The active connection at `path`, read now.
    public func activeConnection(at path: ObjectPath) async throws(NMError) -> NMActiveConnection {
        return try await NMError.boundary {
            NMActiveConnection(path: path, properties: try await nmProperties(path, Self.activeInterface))
        }
    }

    /// Every active connection.
    ///
    /// Read with `org.freedesktop.DBus.ObjectManager.GetManagedObjects` (one round trip).
    public func activeConnections() async throws(NMError) -> [NMActiveConnection] {
        return try await NMError.boundary {
            // One GetManagedObjects rather than the property and a GetAll per active connection.
            try await managedObjects(withProfiles: false).active
        }
    }

    func waitUntilActivated(_ active: ObjectPath, ports: [String], signals: DBusSignalSequence, timeout: Duration) async throws -> NMActiveConnection {
        try await waitForActivation(active, ports: ports, signals: signals, timeout: timeout)
        return try await activeConnection(at: active)
    }

    /// Sends `ActivateConnection` and returns the new active connection's path, without reading it.
    func startActivation(_ profile: ObjectPath, on device: ObjectPath? = nil) async throws -> ObjectPath {
        let reply = try await nmCall(Self.managerPath, Self.managerInterface, "ActivateConnection",
                                     [.objectPath(profile), .objectPath(device ?? .root), .objectPath(.root)],
                                     operation: .networkControl)
        guard case .objectPath(let active)? = reply.first else {
            throw NMError(.failed, "ActivateConnection returned no active connection")
        }
        return active
    }

    /// ``waitUntilActivated(_:ports:signals:timeout:)`` without reading the result at the end.
    /// `host`: a read of the host made after `signals` were subscribed (and after the
    /// activation was requested), reused instead of reading again.
    func waitForActivation(_ active: ObjectPath, ports: [String], signals: DBusSignalSequence, timeout: Duration,
                           host known: HostObjects? = nil) async throws {
        // The ports' device paths, so their signals can be recognised.
        // One read (after subscribing) for the ports' devices, the active connection and
        // whether the ports are already attached.
        let host: HostObjects
        if let known { host = known } else { host = try await managedObjects(withProfiles: false) }
        var portDevices: [ObjectPath: String] = [:]
        for name in ports {
            let device: NMDevice
            if let known = host.device(named: name), known.isReal { device = known } else { device = try await self.device(named: name) }
            portDevices[device.path] = name
        }
        let remainingPorts = portDevices
        let initial: NMActiveConnection
        if let known = host.activeConnection(at: active) { initial = known } else { initial = try await activeConnection(at: active) }

        try await withDeadline(timeout, what: "activation of \(initial.name.isEmpty ? active.rawValue : initial.name)") {
            try await withHeldFailure(grace: Self.portFailureGrace) { portFailure in
                var acState = initial.state
                var waitingPorts = Set(remainingPorts.keys)
                var devices = Set(initial.devices)
                // What the signals say, on top of the read: which active connection each device
                // runs (its `ActiveConnection`), and each active connection's controller device.
                // A port that reaches `activated` is then recognised without reading anything.
                var links = PortLinks(host: host)
                // Ports may already be attached (the state was read after subscribing).
                if devices.isEmpty && !waitingPorts.isEmpty { devices = Set(try await self.activeConnection(at: active).devices) }
                for port in waitingPorts where host.isPort(port, of: devices) { waitingPorts.remove(port) }
                if acState == .activated && waitingPorts.isEmpty { return }
                if acState == .deactivated {
                    throw try await self.activationFailure(active, name: initial.name, reason: .unknown, devices: devices)
                }
                self.logger?.debug("waiting", metadata: ["active": "\(active)", "state": "\(acState)", "ports": "\(waitingPorts)"])
                for try await signal in signals {
                    self.logger?.trace("signal", metadata: ["signal": "\(signal)"])
                    links.observe(signal)
                    if signal.path == active, let now = links.devices[active] { devices = now }
                    if let change = Self.activeStateChange(signal), change.activeConnection == active {
                        acState = change.state
                        if change.state == .deactivated || change.state == .deactivating && change.reason != .unknown && change.reason != .none {
                            if devices.isEmpty { devices = Set((try? await self.activeConnection(at: active).devices) ?? []) }
                            throw try await self.activationFailure(active, name: initial.name, reason: change.reason, devices: devices)
                        }
                    } else if let change = Self.deviceStateChange(signal) {
                        if waitingPorts.contains(change.device) {
                            if devices.isEmpty { devices = Set((try? await self.activeConnection(at: active).devices) ?? []) }
                            if change.new == .activated, try await links.isPort(change.device, of: devices, client: self) {
                                waitingPorts.remove(change.device)
                            } else if change.new == .failed {
                                // A port fails with "dependency failed" (1.42) or with no reason at all
                                // (1.52) when its controller did: the controller's own reason is the
                                // root cause. Its device may not have been known yet (a new bridge
                                // appears only once activation starts), and its signal may be behind
                                // the port's on a busy machine: then the port's failure is held for a
                                // short grace, and the controller's failure, when it comes, wins.
                                let portError = NMError(deviceStateReason: change.reason, device: remainingPorts[change.device])
                                guard Self.vaguePortReasons.contains(change.reason) else { throw portError }
                                devices = Set((try? await self.activeConnection(at: active).devices) ?? [])
                                let cause = try await self.activationFailure(active, name: initial.name, reason: .deviceDisconnected, devices: devices)
                                if cause.code != .activationFailed && cause.code != .dependencyFailed { throw cause }
                                portFailure(portError)
                            }
                        } else if devices.contains(change.device) && change.new == .failed {
                            throw NMError(deviceStateReason: change.reason, device: nil)
                        }
                    }
                    if acState == .activated && waitingPorts.isEmpty { return }
                }
                // A cancelled task ends the sequence too: say so, not "disconnected".
                try Task.checkCancellation()
                throw NMError(.disconnected, "NetworkManager's signals ended while waiting for activation")
            }
        }
    }

    /// A port's failure reasons that say only that something else failed (its controller).
    static let vaguePortReasons: Set<NMDeviceStateReason> = [.none, .unknown, .dependencyFailed]

    /// How long a port's vague failure waits for its controller's own reason.
    static let portFailureGrace: Duration = .seconds(2)

    /// Which active connection each device runs and each active connection's controller
    /// device, from one read and the `PropertiesChanged` signals after it.
    struct PortLinks {
        var activeOf: [ObjectPath: ObjectPath] = [:]
        var controllerOf: [ObjectPath: ObjectPath?] = [:]
        var devices: [ObjectPath: Set<ObjectPath>] = [:]

        init(host: HostObjects) {
            for device in host.devices { if let active = device.activeConnection { activeOf[device.path] = active } }
            for active in host.active { controllerOf[active.path] = active.controllerDevice }
        }

        mutating func observe(_ signal: DBusSignal) {
            guard signal.interface == .properties, signal.member == "PropertiesChanged",
                let changed = try? signal.argument(1, as: [String: DBusVariant].self),
                let interface = try? signal.argument(0, as: String.self)
            else { return }
            if interface == NMClient.deviceInterface.rawValue, let value = changed["ActiveConnection"]?.value,
                let path = try? value.decode(ObjectPath.self)
            {
                activeOf[signal.path] = path
            }
            if interface == NMClient.activeInterface.rawValue {
                if let value = changed["Controller"]?.value ?? changed["Master"]?.value, let path = try? value.decode(ObjectPath.self) {
                    controllerOf[signal.path] = path.orNilIfRoot
                }
                if let value = changed["Devices"]?.value, let paths = try? value.decode([ObjectPath].self) {
                    devices[signal.path] = Set(paths)
                }
            }
        }

        /// Whether `port` (just `activated`) is a port of one of `controllerDevices`: yes from
        /// what is known, when it says so; anything else is read (``NMClient/isPort(_:of:)``),
        /// so that a property change not seen yet can only cost a call, never a missed port.
        func isPort(_ port: ObjectPath, of controllerDevices: Set<ObjectPath>, client: NMClient) async throws -> Bool {
            if let active = activeOf[port], let controller = controllerOf[active] ?? nil, controllerDevices.contains(controller) {
                return true
            }
            return try await client.isPort(port, of: controllerDevices)
        }
    }

    /// Whether `port` is activated as a port of one of `controllerDevices`.
    func isPort(_ port: ObjectPath, of controllerDevices: Set<ObjectPath>) async throws -> Bool {
        let state = try await device(at: port)
        guard state.state == .activated, let portActive = state.activeConnection,
            let controller = try? await activeConnection(at: portActive).controllerDevice
        else { return false }
        return controllerDevices.contains(controller)
    }

    /// The precise error for a failed activation: "device disconnected" is often only the
    /// symptom, and the device's own `StateReason` names the cause (a DHCP timeout, ...).
    func activationFailure(_ active: ObjectPath, name: String, reason: NMActiveConnectionStateReason, devices: Set<ObjectPath>) async throws -> NMError {
        let vague: Set<NMActiveConnectionStateReason> = [.unknown, .none, .deviceDisconnected]
        if vague.contains(reason) {
            for device in devices {
                if let (_, deviceReason) = try? await stateReason(of: device), deviceReason != .none, deviceReason != .unknown {
                    var error = NMError(deviceStateReason: deviceReason, device: (try? await self.device(at: device))?.interface.rawValue)
                    error.message = "activating \(name) failed: " + error.message
                    return error
                }
            }
        }
        return NMError(activeConnectionStateReason: reason, profile: name)
    }
}

/// Runs `body` (which owns a signal loop) with a `hold` callback: the first error handed to it
/// is thrown `grace` later unless `body` ends first (with a more precise error, or with
/// success). A timer started by an event, not a poll.
func withHeldFailure(
    grace: Duration,
    _ body: @escaping @Sendable (_ hold: @escaping @Sendable (NMError) -> Void) async throws -> Void
) async throws {
    let (failures, continuation) = AsyncStream<NMError>.makeStream(bufferingPolicy: .bufferingOldest(1))
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask {
            defer { continuation.finish() }
            try await body { continuation.yield($0) }
            return true
        }
        group.addTask {
            for await failure in failures {
                try await Task.sleep(for: grace)
                throw failure
            }
            return false
        }
        defer { group.cancelAll() }
        // Ends with the body (its return or its error) or with the held error; the timer's
        // quiet end (the body finished the stream) is not an outcome.
        for try await bodyEnded in group where bodyEnded { return }
    }
}

/// Runs `body` with a deadline: past it, `body` is cancelled and ``NMError/Code/activationTimeout`` thrown.
func withDeadline<T: Sendable>(
    _ timeout: Duration, what: String,
    timeoutError: (@Sendable () -> NMError)? = nil,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            if let timeoutError { throw timeoutError() }
            throw NMError(.activationTimeout, "\(what) did not finish within \(timeout)",
                          hint: "NetworkManager may still be working on it (a DHCP server that does not answer, STP's forwarding delay); raise the timeout or look at the device's state")
        }
        return value
    }
}
