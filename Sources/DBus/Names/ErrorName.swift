/// A D-Bus error name, such as `org.freedesktop.DBus.Error.ServiceUnknown` (same grammar as interface names).
///
/// Invalid values cannot be constructed: `init(_:)` throws DBusError (code
/// DBusError/Code/invalidName), `init?(rawValue:)` returns nil, and a string literal that
/// is not valid stops the program (a literal is the programmer's input, not the user's).
public struct ErrorName: DBusName {
    public let rawValue: String

    public init(_ string: String) throws(DBusError) {
        if let problem = NameGrammar.interfaceProblem(string, what: "an error name") {
            throw DBusError(.invalidName, "invalid error name \"\(string)\": \(problem)", hint: "error names look like org.example.Error.Failed")
        }
        rawValue = string
    }
}
