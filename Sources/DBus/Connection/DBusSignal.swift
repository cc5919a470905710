/// A signal received from the bus.
public struct DBusSignal: Sendable, Hashable, CustomStringConvertible {
    /// The unique name of the connection that sent it (`org.freedesktop.DBus` for the bus itself).
    public var sender: String?
    public var path: ObjectPath
    public var interface: InterfaceName
    public var member: MemberName
    /// The signal's arguments.
    public var body: [DBusValue]
    /// The message's serial, given by its sender (0 when unknown). One connection numbers the
    /// messages it sends in the order it sends them, and the bus keeps that order, so among the
    /// messages of one sender a higher serial is a later message: a signal whose serial is above
    /// a method return's (``DBusConnection/managedObjectsWithSerial(at:on:timeout:)``) was sent
    /// after that reply.
    public var serial: UInt32

    public init(sender: String?, path: ObjectPath, interface: InterfaceName, member: MemberName, body: [DBusValue],
                serial: UInt32 = 0) {
        self.sender = sender
        self.path = path
        self.interface = interface
        self.member = member
        self.body = body
        self.serial = serial
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
