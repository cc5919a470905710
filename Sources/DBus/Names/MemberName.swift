/// A D-Bus method or signal name, such as `GetManagedObjects`.
///
/// Invalid values cannot be constructed: `init(_:)` throws DBusError (code
/// DBusError/Code/invalidName), `init?(rawValue:)` returns nil, and a string literal that
/// is not valid stops the program (a literal is the programmer's input, not the user's).
public struct MemberName: DBusName {
    public let rawValue: String

    public init(_ string: String) throws(DBusError) {
        if let problem = NameGrammar.memberProblem(string) {
            throw DBusError(.invalidName, "invalid member name \"\(string)\": \(problem)", hint: "member names are one element of [A-Za-z0-9_], not starting with a digit")
        }
        rawValue = string
    }
}

extension MemberName {
    init(unchecked: String) { rawValue = unchecked }
}
