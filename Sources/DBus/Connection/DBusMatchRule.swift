/// A signal match rule: which signals a subscription receives.
///
/// The rule is sent to the bus with `org.freedesktop.DBus.AddMatch` when a signal sequence is
/// created, and the same rule filters the signals that reach that sequence locally.
public struct DBusMatchRule: Hashable, Sendable, CustomStringConvertible {
    /// The sender: a unique name or a well-known name (matched against its current owner).
    public var sender: BusName?
    /// The object path the signal must come from.
    public var path: ObjectPath?
    /// Matches signals from this path or any path below it.
    public var pathNamespace: ObjectPath?
    public var interface: InterfaceName?
    public var member: MemberName?
    /// String arguments that must match exactly, by index (`arg0='...'`), 0 to 63.
    public var arguments: [Int: String]

    public init(
        sender: BusName? = nil, path: ObjectPath? = nil, pathNamespace: ObjectPath? = nil,
        interface: InterfaceName? = nil, member: MemberName? = nil, arguments: [Int: String] = [:]
    ) {
        self.sender = sender
        self.path = path
        self.pathNamespace = pathNamespace
        self.interface = interface
        self.member = member
        self.arguments = arguments.filter { (0...63).contains($0.key) }
    }

    /// The rule in the bus's text form: `type='signal',sender='...',...`, values quoted and escaped.
    public var description: String {
        var parts = ["type='signal'"]
        func add(_ key: String, _ value: String?) {
            guard let value else { return }
            // Inside quotes only the apostrophe needs care: close, escape, reopen.
            parts.append("\(key)='\(value.replacing("'", with: "'\\''"))'")
        }
        add("sender", sender?.rawValue)
        add("path", path?.rawValue)
        add("path_namespace", pathNamespace?.rawValue)
        add("interface", interface?.rawValue)
        add("member", member?.rawValue)
        for (index, value) in arguments.sorted(by: { $0.key < $1.key }) { add("arg\(index)", value) }
        return parts.joined(separator: ",")
    }

    /// Whether `signal` satisfies everything but the sender, which needs the owner table.
    func matchesIgnoringSender(_ signal: DBusSignal) -> Bool {
        if let path, signal.path != path { return false }
        if let pathNamespace, !signal.path.isDescendant(of: pathNamespace) { return false }
        if let interface, signal.interface != interface { return false }
        if let member, signal.member != member { return false }
        for (index, expected) in arguments {
            guard index < signal.body.count, case .string(let actual) = signal.body[index], actual == expected else {
                return false
            }
        }
        return true
    }
}
