/// A D-Bus interface name, such as `org.freedesktop.NetworkManager.Device`.
///
/// Invalid values cannot be constructed: `init(_:)` throws DBusError (code
/// DBusError/Code/invalidName), `init?(rawValue:)` returns nil, and a string literal that
/// is not valid stops the program (a literal is the programmer's input, not the user's).
public struct InterfaceName: DBusName {
    public let rawValue: String

    public init(_ string: String) throws(DBusError) {
        if let problem = NameGrammar.interfaceProblem(string) {
            throw DBusError(.invalidName, "invalid interface name \"\(string)\": \(problem)", hint: "interface names look like org.example.Interface")
        }
        rawValue = string
    }
}

extension InterfaceName {
    init(unchecked: String) { rawValue = unchecked }
    public static let properties = InterfaceName(unchecked: "org.freedesktop.DBus.Properties")
    public static let objectManager = InterfaceName(unchecked: "org.freedesktop.DBus.ObjectManager")
    public static let introspectable = InterfaceName(unchecked: "org.freedesktop.DBus.Introspectable")
    public static let peer = InterfaceName(unchecked: "org.freedesktop.DBus.Peer")
    public static let bus = InterfaceName(unchecked: "org.freedesktop.DBus")
}
