/// A D-Bus bus name: unique (`:1.42`, assigned by the bus) or well-known (`org.freedesktop.NetworkManager`).
///
/// Invalid values cannot be constructed: `init(_:)` throws DBusError (code
/// DBusError/Code/invalidName), `init?(rawValue:)` returns nil, and a string literal that
/// is not valid stops the program (a literal is the programmer's input, not the user's).
public struct BusName: DBusName {
    public let rawValue: String

    public init(_ string: String) throws(DBusError) {
        if let problem = NameGrammar.busNameProblem(string) {
            throw DBusError(.invalidName, "invalid bus name \"\(string)\": \(problem)", hint: "bus names look like org.example.Service or :1.42")
        }
        rawValue = string
    }
}

extension BusName {
    /// Whether this is a unique connection name assigned by the bus (`:1.42`).
    public var isUnique: Bool { rawValue.hasPrefix(":") }

    /// The bus itself, `org.freedesktop.DBus`.
    public static let bus = BusName(unchecked: "org.freedesktop.DBus")

    init(unchecked: String) { rawValue = unchecked }
}
