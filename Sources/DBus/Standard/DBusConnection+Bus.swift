/// The bus daemon's own methods (interface `org.freedesktop.DBus`).
extension DBusConnection {
    private func busCall(_ member: MemberName, _ arguments: [DBusValue]) async throws -> [DBusValue] {
        try await call(destination: .bus, path: "/org/freedesktop/DBus", interface: .bus, member: member, arguments: arguments)
    }

    /// The unique name that currently owns `name`.
    ///
    /// The corresponding D-Bus method is `org.freedesktop.DBus.GetNameOwner`.
    /// - Throws: ``DBusError`` with code ``DBusError/Code/nameHasNoOwner`` when nobody owns it.
    public func nameOwner(_ name: BusName) async throws -> BusName {
        let body = try await busCall("GetNameOwner", [.string(name.rawValue)])
        return try BusName(try String(dbusValue: body.first ?? .string("")))
    }

    /// The owner of the well-known `name` as this connection last saw it, without asking the
    /// bus: known while a signal sequence or a lease (``keepMatching(_:)``) filters on the
    /// name, and kept current by its `NameOwnerChanged` signals, which are handled before any
    /// reply that arrives after them. nil when nothing tracks the name, or nobody owns it.
    ///
    /// A changed owner between two readings means the service restarted in between.
    public func trackedOwner(of name: BusName) -> BusName? {
        transport.trackedOwner(of: name.rawValue).flatMap { BusName(rawValue: $0) }
    }

    /// Whether somebody owns `name` now.
    ///
    /// The corresponding D-Bus method is `org.freedesktop.DBus.NameHasOwner`.
    public func nameHasOwner(_ name: BusName) async throws -> Bool {
        let body = try await busCall("NameHasOwner", [.string(name.rawValue)])
        return try Bool(dbusValue: body.first ?? .boolean(false))
    }

    /// Every name on the bus. The corresponding D-Bus method is `org.freedesktop.DBus.ListNames`.
    public func listNames() async throws -> [String] {
        try [String](dbusValue: try await busCall("ListNames", []).first ?? .array(.string, []))
    }

    /// Changes of ownership of `name` (or of every name when nil): `(name, oldOwner, newOwner)`,
    /// with an empty string for "none".
    ///
    /// The corresponding D-Bus signal is `org.freedesktop.DBus.NameOwnerChanged`.
    public func nameOwnerChanges(of name: BusName? = nil) async throws -> some AsyncSequence<NameOwnerChange, any Error> {
        let rule = DBusMatchRule(sender: .bus, path: "/org/freedesktop/DBus", interface: .bus, member: "NameOwnerChanged",
                                 arguments: name.map { [0: $0.rawValue] } ?? [:])
        return try await signals(matching: rule).map { signal throws -> NameOwnerChange in
            NameOwnerChange(name: try signal.argument(0), oldOwner: try signal.argument(1), newOwner: try signal.argument(2))
        }
    }
}

/// One `org.freedesktop.DBus.NameOwnerChanged` signal.
public struct NameOwnerChange: Sendable, Hashable {
    public var name: String
    /// The previous owner's unique name, or "" if the name was free.
    public var oldOwner: String
    /// The new owner's unique name, or "" if the name is now free.
    public var newOwner: String
}
