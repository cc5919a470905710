/// A signal received from the bus.
public struct DBusSignal: Sendable, Hashable, CustomStringConvertible {
    /// The unique name of the connection that sent it (`org.freedesktop.DBus` for the bus itself).
    public var sender: String?
    public var path: ObjectPath
    public var interface: InterfaceName
    public var member: MemberName
    /// The signal's arguments.
    public var body: [DBusValue]

    public init(sender: String?, path: ObjectPath, interface: InterfaceName, member: MemberName, body: [DBusValue]) {
        self.sender = sender
        self.path = path
        self.interface = interface
        self.member = member
        self.body = body
    }

    /// Decodes argument `index` as `T`.
    public func argument<T: DBusRepresentable>(_ index: Int, as _: T.Type = T.self) throws(DBusError) -> T {
        guard index < body.count else {
            throw DBusError(.typeMismatch, "signal \(interface).\(member) has \(body.count) arguments, wanted argument \(index)")
        }
        return try T(dbusValue: body[index])
    }

    public var description: String {
        "\(sender ?? "?") \(path) \(interface).\(member)(\(body.map(\.description).joined(separator: ", ")))"
    }
}
