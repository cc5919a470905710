public import DBus
import Synchronization

/// One `org.freedesktop.NetworkManager.Device.StateChanged` signal.
public struct NMDeviceStateChange: Sendable, Hashable {
    /// The device's object path (the signal's sender path).
    public var device: ObjectPath
    /// The device's kernel interface name (its `Interface` property, as NetworkManager reports
    /// it), which the signal itself does not carry: known from a read when the subscription was
    /// made, or read when the device first appears. nil only when the device was gone before
    /// its name could be read (a software device deleted right after it appeared).
    public var interface: NMInterfaceName?
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
/// first, then act, and no change is missed. Each follows the NetworkManager that runs when it
/// is made and ends with ``NMError`` ``NMError/Code/notRunning`` if that NetworkManager goes
/// away (subscribe again once it is back), ``NMError/Code/disconnected`` if the bus connection
/// closes. A sequence ends with ``NMError`` only.
extension NMClient {
    /// Every signal NetworkManager emits, through one match rule (one `AddMatch`).
    ///
    /// The rule names NetworkManager by its well-known name and is kept on the bus for the
    /// client's lifetime (``DBusConnection/keepMatching(_:)``): the first call costs `AddMatch`
    /// (and `GetNameOwner`), every later one nothing, and none sends `RemoveMatch`, so a
    /// transaction that waits again and again subscribes once. The sequence still ends with
    /// ``DBusError/Code/peerVanished`` when the NetworkManager running now leaves the bus; a
    /// sequence made after it is back follows the new one (the lease tracks the owner).
    func allSignals() async throws -> DBusSignalSequence {
        do {
            try await keepSignalRule()
            return try await connection.signals(matching: Self.allSignalsRule)
        } catch let error as DBusError {
            throw NMError(error)
        }
    }

    /// Everything NetworkManager sends from `/org/freedesktop` down: its objects' signals and
    /// the ObjectManager's `InterfacesAdded`/`InterfacesRemoved` on `/org/freedesktop` itself,
    /// which the object mirror (``NMObjectMirror``) needs.
    static let allSignalsRule = DBusMatchRule(sender: service, pathNamespace: objectManagerPath)
    static let objectManagerPath: ObjectPath = "/org/freedesktop"

    /// Makes sure the rule of ``allSignals()`` is kept on the bus (and NetworkManager's owner
    /// tracked, see ``runningInstance``) from now on, with the object mirror fed by it: the
    /// next `GetManagedObjects` starts the mirror (``mirroredObjects()``).
    func keepSignalRule() async throws {
        guard signalLease.withLock({ $0 == nil }) else { return }
        let lease = try await connection.keepMatching(Self.allSignalsRule) { [mirror] signal in mirror.observe(signal) }
        // Two tasks may race here: the second lease is dropped (released) at once.
        let kept = signalLease.withLock { current -> Bool in
            guard current == nil else { return false }
            current = lease
            return true
        }
        if kept { mirror.arm() }
    }

    /// Keeps NetworkManager's signal rule on the bus from now on (two `AddMatch` calls, once
    /// per client), so that the next read of the host (``snapshotWithProfiles()``) also starts
    /// the client's mirror of NetworkManager's objects: a transaction applied on that read then
    /// takes the host's state after activation from the mirror, not from one more
    /// `GetManagedObjects` call (verification still reads: NetworkManager may signal a change
    /// an idle cycle after making it), and its commit knows, without a call, whether a profile
    /// it read changed since (the `Updated` signal). A transaction subscribes anyway (before
    /// its checkpoint); calling this first only moves those calls before the read.
    ///
    /// The corresponding D-Bus method is `org.freedesktop.DBus.AddMatch`.
    public func followChanges() async throws(NMError) {
        try await NMError.boundary { try await keepSignalRule() }
    }

    /// `GetManagedObjects` on `/org/freedesktop` of `destination` (the well-known name or the
    /// instance), with the reply's sender; starts the object mirror again when the kept rule
    /// was on the bus before the call.
    ///
    /// The corresponding D-Bus method is `org.freedesktop.DBus.ObjectManager.GetManagedObjects`.
    func readObjects(on destination: BusName) async throws -> (objects: NMObjectMirror.Objects, sender: BusName?) {
        let starts = mirror.beginRead()
        do {
            let reply = try await connection.managedObjectsWithSerial(at: Self.objectManagerPath, on: destination)
            if starts { mirror.finishRead(reply) }
            return (reply.objects, reply.sender)
        } catch let error as DBusError {
            if starts { mirror.finishRead(nil) }
            throw NMError(error)
        } catch {
            if starts { mirror.finishRead(nil) }
            throw error
        }
    }

    /// The host without profiles as a `GetManagedObjects` would show it now: from the object
    /// mirror when it follows the NetworkManager running now, else read (which starts the
    /// mirror for the next time when the kept rule is on the bus).
    func mirroredObjects() async throws -> HostObjects {
        if let mirrored = try await mirroredObjectsIfFollowing() { return mirrored }
        return try await managedObjects(withProfiles: false)
    }

    /// The host without profiles from the object mirror, if it follows the NetworkManager
    /// running now; nil otherwise (no call either way).
    func mirroredObjectsIfFollowing() async throws -> HostObjects? {
        guard let objects = mirror.objects(of: runningInstance) else { return nil }
        return try await hostObjects(from: objects, withProfiles: false)
    }

    /// The unique bus name of the NetworkManager running now, as tracked through the kept
    /// signal rule: it changes when NetworkManager restarts (and checkpoints, which live in its
    /// memory, are gone). nil before ``keepSignalRule()`` or while none runs.
    var runningInstance: BusName? { connection.trackedOwner(of: Self.service) }

    /// Subscribes to signals from the NetworkManager running now, named by its *unique* bus
    /// name: the sequence ends with ``DBusError/Code/peerVanished`` when that NetworkManager
    /// leaves the bus (crash, restart), and a NetworkManager started later is never mistaken
    /// for it.
    ///
    /// Why not the well-known name: the DBus module matches a well-known sender through the
    /// owner it last saw, and learns of a new owner only while some subscription watches the
    /// name. A client that lived through a NetworkManager restart without one kept the old,
    /// dead owner and silently got no signal at all from the new daemon (seen when a
    /// transaction's undo, after NetworkManager crashed during a probe, waited 30 s for
    /// signals that never came). The owner is checked again after subscribing, so a restart
    /// in between cannot leave the sequence tied to a name that is already gone.
    func subscribe(_ rule: @Sendable (BusName) throws -> DBusMatchRule) async throws -> DBusSignalSequence {
        do {
            for _ in 0..<3 {
                let owner = try await connection.nameOwner(Self.service)
                let signals = try await connection.signals(matching: try rule(owner))
                if try await connection.nameOwner(Self.service) == owner { return signals }
            }
            throw NMError(.notRunning, "NetworkManager kept restarting while subscribing to its signals")
        } catch let error as DBusError {
            throw NMError(error)
        }
    }

    /// Device state changes, of one device or of all.
    ///
    /// The corresponding D-Bus signal is `org.freedesktop.NetworkManager.Device.StateChanged`.
    ///
    /// Each change carries the device's interface name as well as its path: the names of the
    /// devices that exist are read once when subscribing (`GetManagedObjects`, or the one
    /// device's `Interface` property), and a device that appears later is asked for its
    /// `Interface` when its first change arrives.
    public func deviceStateChanges(of device: ObjectPath? = nil) async throws(NMError) -> some AsyncSequence<NMDeviceStateChange, NMError> {
        let (signals, names) = try await NMError.boundary {
            let signals = try await subscribe { owner in
                DBusMatchRule(sender: owner, path: device, interface: Self.deviceInterface, member: "StateChanged")
            }
            // Subscribed first, then read: a device that appears in between is looked up later.
            var names: [ObjectPath: NMInterfaceName] = [:]
            if let device {
                let name: String = try await nmProperty(device, Self.deviceInterface, "Interface")
                names[device] = NMInterfaceName(unchecked: name)
            } else {
                for known in try await managedObjects(withProfiles: false).devices { names[known.path] = known.interface }
            }
            return (signals, InterfaceNames(names))
        }
        return NMEventSequence(base: signals) { [self] signal -> NMDeviceStateChange? in
            guard var change = Self.deviceStateChange(signal) else { return nil }
            change.interface = await names.name(of: change.device, reading: self)
            return change
        }
    }

    /// Interface names by device path, for ``deviceStateChanges(of:)``.
    final class InterfaceNames: Sendable {
        let names: Mutex<[ObjectPath: NMInterfaceName]>
        init(_ names: [ObjectPath: NMInterfaceName]) { self.names = Mutex(names) }

        /// The name of the device at `path`: known, else its `Interface` property (nil when
        /// the device is already gone). Device paths are never reused by one NetworkManager.
        func name(of path: ObjectPath, reading client: NMClient) async -> NMInterfaceName? {
            if let known = names.withLock({ $0[path] }) { return known }
            guard let text: String = try? await client.nmProperty(path, NMClient.deviceInterface, "Interface") else { return nil }
            let name = NMInterfaceName(unchecked: text)
            names.withLock { $0[path] = name }
            return name
        }
    }

    /// Active connection state changes, of one active connection or of all.
    ///
    /// The corresponding D-Bus signal is `org.freedesktop.NetworkManager.Connection.Active.StateChanged`.
    public func activeConnectionStateChanges(of activeConnection: ObjectPath? = nil) async throws(NMError) -> some AsyncSequence<NMActiveConnectionStateChange, NMError> {
        let signals = try await NMError.boundary {
            try await subscribe { owner in
                DBusMatchRule(sender: owner, path: activeConnection, interface: Self.activeInterface, member: "StateChanged")
            }
        }
        return NMEventSequence(base: signals) { signal -> NMActiveConnectionStateChange? in
            Self.activeStateChange(signal)
        }
    }

    /// Profiles added and removed.
    ///
    /// The corresponding D-Bus signals are `org.freedesktop.NetworkManager.Settings.NewConnection`
    /// and `ConnectionRemoved`.
    public func profileEvents() async throws(NMError) -> some AsyncSequence<NMProfileEvent, NMError> {
        let signals = try await NMError.boundary {
            try await subscribe { owner in
                DBusMatchRule(sender: owner, path: Self.settingsPath, interface: Self.settingsInterface)
            }
        }
        return NMEventSequence(base: signals) { signal -> NMProfileEvent? in
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
    public func propertyChanges(of path: ObjectPath? = nil, interface: InterfaceName? = nil) async throws(NMError) -> some AsyncSequence<PropertiesChange, NMError> {
        // From the NetworkManager running now, by its unique name (see subscribe(_:)).
        let changes = try await NMError.boundary {
            for _ in 0..<3 {
                let owner = try await connection.nameOwner(Self.service)
                let changes = try await connection.propertiesChanges(on: owner, path: path, interface: interface)
                if try await connection.nameOwner(Self.service) == owner { return changes }
            }
            throw NMError(.notRunning, "NetworkManager kept restarting while subscribing to its signals")
        }
        return NMEventSequence(base: changes) { $0 }
    }

    static func deviceStateChange(_ signal: DBusSignal) -> NMDeviceStateChange? {
        guard signal.interface == deviceInterface, signal.member == "StateChanged", signal.body.count == 3,
            case .uint32(let new) = signal.body[0], case .uint32(let old) = signal.body[1],
            case .uint32(let reason) = signal.body[2]
        else { return nil }
        return NMDeviceStateChange(device: signal.path, interface: nil, new: NMDeviceState(rawValue: new), old: NMDeviceState(rawValue: old),
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
