/// A D-Bus object path, such as `/org/freedesktop/NetworkManager/Devices/1`.
///
/// Invalid values cannot be constructed: `init(_:)` throws DBusError (code
/// DBusError/Code/invalidName), `init?(rawValue:)` returns nil, and a string literal that
/// is not valid stops the program (a literal is the programmer's input, not the user's).
public struct ObjectPath: DBusName {
    public let rawValue: String

    public init(_ string: String) throws(DBusError) {
        if let problem = NameGrammar.objectPathProblem(string) {
            throw DBusError(.invalidName, "invalid object path \"\(string)\": \(problem)", hint: "object paths look like /org/example/Object, elements of [A-Za-z0-9_]")
        }
        rawValue = string
    }
}

extension ObjectPath {
    /// The root path, `/`.
    public static let root = ObjectPath(unchecked: "/")

    init(unchecked: String) { rawValue = unchecked }

    /// Whether this path is `other` or lies below it (`/a/b` is below `/a`).
    public func isDescendant(of other: ObjectPath) -> Bool {
        if other.rawValue == "/" || other == self { return true }
        return rawValue.hasPrefix(other.rawValue + "/")
    }

    /// The path with `element` appended: `/a` + `b` = `/a/b`.
    public func appending(_ element: String) throws(DBusError) -> ObjectPath {
        try ObjectPath(rawValue == "/" ? "/" + element : rawValue + "/" + element)
    }
}
