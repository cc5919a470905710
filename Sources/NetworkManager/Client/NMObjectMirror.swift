import DBus
import Synchronization

/// NetworkManager's objects as one `GetManagedObjects` showed them, kept current by the
/// signals of the kept rule (``NMClient/allSignals()``) read after its reply: what a new
/// `GetManagedObjects` would return, without the call.
///
/// It starts from a `GetManagedObjects` sent once the kept rule is on the bus (so no signal
/// after the reply is missed), and applies, in the order they are read, every signal of the
/// NetworkManager that answered whose serial is above the reply's (D-Bus keeps one sender's
/// messages in order, and a sender numbers them in that order: such a signal was sent after
/// the reply). Signals read before the reply arrives are held until it does, then sorted out
/// by serial. What is folded:
/// - `org.freedesktop.DBus.Properties.PropertiesChanged`: the changed properties of a known
///   object and interface (invalidated ones are dropped); an unknown path or interface is
///   left alone (NetworkManager announces an object with `InterfacesAdded` first);
/// - `org.freedesktop.DBus.ObjectManager.InterfacesAdded` on `/org/freedesktop`: the
///   object's interfaces with all their properties;
/// - `org.freedesktop.DBus.ObjectManager.InterfacesRemoved`: those interfaces, and the
///   object once it has none.
///
/// A restart of NetworkManager (another unique name) makes it unusable until the next
/// `GetManagedObjects` starts it again. NetworkManager emits `PropertiesChanged` from an idle
/// callback, after a change it has already made (and after replies it sends meanwhile), so the
/// mirror can be behind a read by that much: it serves the read after activation (the wait's
/// starting state, replayed over by the signals the wait reads anyway), not verification,
/// which must see a change NetworkManager has made even before it signals it
/// (docs/networkmanager-quirks.md, docs/decisions/0010-the-call-floor.md).
final class NMObjectMirror: Sendable {
    typealias Objects = [ObjectPath: [InterfaceName: [String: DBusValue]]]

    struct Fold: Sendable {
        /// The NetworkManager whose objects these are (unique name), and the serial of the
        /// `GetManagedObjects` reply they started from.
        var owner: String
        var serial: UInt32
        var objects: Objects

        /// Applies one signal; returns whether it changed anything.
        @discardableResult
        mutating func apply(_ signal: DBusSignal) -> Bool {
            guard signal.sender == owner, signal.serial > serial else { return false }
            switch (signal.interface, signal.member.rawValue) {
            case (.properties, "PropertiesChanged"):
                guard let name = try? signal.argument(0, as: String.self), let interface = try? InterfaceName(name),
                    objects[signal.path]?[interface] != nil,
                    case .dictionary(_, _, let entries)? = signal.body.count > 1 ? signal.body[1] : nil
                else { return false }
                var properties = objects[signal.path]![interface]!
                for entry in entries {
                    guard case .string(let key) = entry.key else { continue }
                    if case .variant(let value) = entry.value { properties[key] = value } else { properties[key] = entry.value }
                }
                if let invalidated = try? signal.argument(2, as: [String].self) {
                    for key in invalidated { properties[key] = nil }
                }
                objects[signal.path]![interface] = properties
                return true
            case (.objectManager, "InterfacesAdded"):
                guard let path = try? signal.argument(0, as: ObjectPath.self),
                    case .dictionary(_, _, let interfaces)? = signal.body.count > 1 ? signal.body[1] : nil
                else { return false }
                var object = objects[path] ?? [:]
                for entry in interfaces {
                    guard case .string(let name) = entry.key, let interface = try? InterfaceName(name),
                        case .dictionary(_, _, let entries) = entry.value
                    else { continue }
                    var properties: [String: DBusValue] = [:]
                    for property in entries {
                        guard case .string(let key) = property.key else { continue }
                        if case .variant(let value) = property.value { properties[key] = value } else { properties[key] = property.value }
                    }
                    object[interface] = properties
                }
                objects[path] = object
                return true
            case (.objectManager, "InterfacesRemoved"):
                guard let path = try? signal.argument(0, as: ObjectPath.self), var object = objects[path],
                    let names = try? signal.argument(1, as: [String].self)
                else { return false }
                for name in names { if let interface = try? InterfaceName(name) { object[interface] = nil } }
                objects[path] = object.isEmpty ? nil : object
                return true
            default:
                return false
            }
        }
    }

    struct State: Sendable {
        /// Set once the kept rule is on the bus: only a `GetManagedObjects` sent after that
        /// may start the mirror.
        var armed = false
        var fold: Fold?
        /// Signals read while a `GetManagedObjects` that may start the mirror is on the wire.
        var held: [DBusSignal] = []
        var reads = 0
        /// How many `Updated` or `Removed` signals each profile's path had since the rule was
        /// on the bus (of the NetworkManager the kept rule follows).
        var profileChanges: [ObjectPath: Int] = [:]
        /// The last `GetSettings` of each profile sent once the rule was on the bus: the
        /// NetworkManager asked, the path's change count when it was sent, what it returned.
        var settingsReads: [ObjectPath: (owner: String, changes: Int, reply: DBusValue)] = [:]
    }

    /// A `GetSettings` about to be sent, while the kept rule is on the bus.
    struct SettingsRead: Sendable {
        var path: ObjectPath
        var owner: String
        var changes: Int
    }

    let state = Mutex(State())

    /// Called by the kept rule's observer, on the connection's I/O thread, in read order.
    func observe(_ signal: DBusSignal) {
        state.withLock { s in
            if s.reads > 0 { s.held.append(signal) }
            s.fold?.apply(signal)
            if s.armed, signal.interface == Self.profileInterface, signal.member == "Updated" || signal.member == "Removed" {
                s.profileChanges[signal.path, default: 0] += 1
            }
        }
    }

    static let profileInterface: InterfaceName = "org.freedesktop.NetworkManager.Settings.Connection"

    /// A `GetSettings` of `path` is about to be sent to `owner` (NetworkManager's unique name,
    /// tracked): nil unless the kept rule is on the bus.
    func beginSettingsRead(_ path: ObjectPath, owner: BusName?) -> SettingsRead? {
        state.withLock { s in
            guard s.armed, let owner else { return nil }
            return SettingsRead(path: path, owner: owner.rawValue, changes: s.profileChanges[path] ?? 0)
        }
    }

    /// What that `GetSettings` returned, read while `owner` still ran.
    func finishSettingsRead(_ read: SettingsRead, reply: DBusValue, owner: BusName?) {
        guard owner?.rawValue == read.owner else { return }
        state.withLock { $0.settingsReads[read.path] = (read.owner, read.changes, reply) }
    }

    /// The last `GetSettings` reply of the profile at `path` if it is, provably, the profile as
    /// stored now: the call was sent while the kept rule was on the bus, NetworkManager has not
    /// restarted since (`owner` is the one asked), and no `Updated` or `Removed` signal for the
    /// path was read since the call was sent (NetworkManager emits `Updated` for every change
    /// of a profile's settings). nil for a profile read only before the rule was on the bus.
    func settingsIfUnchanged(_ path: ObjectPath, owner: BusName?) -> DBusValue? {
        state.withLock { s in
            guard let owner, let read = s.settingsReads[path], read.owner == owner.rawValue,
                (s.profileChanges[path] ?? 0) == read.changes
            else { return nil }
            return read.reply
        }
    }

    /// The kept rule is on the bus from now on.
    func arm() { state.withLock { $0.armed = true } }

    /// A `GetManagedObjects` is about to be sent: whether it may start the mirror (the kept
    /// rule was on the bus before it). Each `true` must be followed by ``finishRead(_:)``.
    func beginRead() -> Bool {
        state.withLock { s in
            guard s.armed else { return false }
            s.reads += 1
            return true
        }
    }

    /// The reply of a read begun with ``beginRead()`` (nil if it failed): the mirror starts
    /// again from it, with the signals held since that come after it.
    func finishRead(_ reply: (objects: Objects, sender: BusName?, serial: UInt32)?) {
        state.withLock { s in
            s.reads -= 1
            defer { if s.reads == 0 { s.held = [] } }
            guard let reply, let sender = reply.sender, sender.isUnique else { return }
            var fold = Fold(owner: sender.rawValue, serial: reply.serial, objects: reply.objects)
            for signal in s.held { fold.apply(signal) }
            // Two reads of the same NetworkManager: the later reply is the newer start.
            if let current = s.fold, current.owner == fold.owner, current.serial > fold.serial { return }
            s.fold = fold
        }
    }

    /// The objects now, if the mirror was started from a reply of `owner` (NetworkManager
    /// running now); nil otherwise.
    func objects(of owner: BusName?) -> Objects? {
        state.withLock { s in
            guard let owner, let fold = s.fold, fold.owner == owner.rawValue else { return nil }
            return fold.objects
        }
    }

    /// Forgets the objects (the kept rule is gone).
    func reset() {
        state.withLock { s in
            s.armed = false
            s.fold = nil
            s.held = []
        }
    }
}
