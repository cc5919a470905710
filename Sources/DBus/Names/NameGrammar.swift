// The D-Bus specification's name grammars, in one place ("Valid Names" and "Valid Object Paths").
// Each validator returns nil for a valid name, or the reason it is invalid.
enum NameGrammar {
    static let maximumNameLength = 255

    @inline(__always) static func isAlpha(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
    }
    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    @inline(__always) static func isElementChar(_ c: UInt8) -> Bool {
        isAlpha(c) || isDigit(c) || c == UInt8(ascii: "_")
    }

    static func objectPathProblem(_ s: String) -> String? {
        let b = Array(s.utf8)
        guard let first = b.first else { return "an object path cannot be empty" }
        guard first == UInt8(ascii: "/") else { return "an object path must start with '/'" }
        if b.count == 1 { return nil }
        if b.last == UInt8(ascii: "/") { return "an object path cannot end with '/' (except the root path \"/\")" }
        var previousSlash = false
        for c in b {
            if c == UInt8(ascii: "/") {
                if previousSlash { return "an object path cannot contain an empty element ('//')" }
                previousSlash = true
            } else {
                guard isElementChar(c) else {
                    return "object path elements may contain only [A-Za-z0-9_], found \(describe(c))"
                }
                previousSlash = false
            }
        }
        return nil
    }

    /// Interface and error names: two or more elements separated by '.', each `[A-Za-z_][A-Za-z0-9_]*`.
    static func interfaceProblem(_ s: String, what: String = "an interface name") -> String? {
        let b = Array(s.utf8)
        if b.isEmpty { return "\(what) cannot be empty" }
        if b.count > maximumNameLength { return "\(what) is longer than \(maximumNameLength) bytes" }
        var elements = 1
        var elementStart = true
        for c in b {
            if c == UInt8(ascii: ".") {
                if elementStart { return "\(what) cannot contain an empty element" }
                elements += 1
                elementStart = true
            } else if elementStart {
                guard isAlpha(c) || c == UInt8(ascii: "_") else {
                    return "each element of \(what) must start with a letter or '_', found \(describe(c))"
                }
                elementStart = false
            } else {
                guard isElementChar(c) else { return "\(what) may contain only [A-Za-z0-9_.], found \(describe(c))" }
            }
        }
        if elementStart { return "\(what) cannot end with '.'" }
        if elements < 2 { return "\(what) needs at least two elements separated by '.'" }
        return nil
    }

    static func memberProblem(_ s: String) -> String? {
        let b = Array(s.utf8)
        guard let first = b.first else { return "a member name cannot be empty" }
        if b.count > maximumNameLength { return "a member name is longer than \(maximumNameLength) bytes" }
        guard isAlpha(first) || first == UInt8(ascii: "_") else {
            return "a member name must start with a letter or '_', found \(describe(first))"
        }
        for c in b where !isElementChar(c) {
            return "a member name may contain only [A-Za-z0-9_], found \(describe(c))"
        }
        return nil
    }

    /// Unique (":1.42") and well-known ("org.freedesktop.NetworkManager") bus names.
    static func busNameProblem(_ s: String) -> String? {
        var b = Array(s.utf8)[...]
        if b.isEmpty { return "a bus name cannot be empty" }
        if b.count > maximumNameLength { return "a bus name is longer than \(maximumNameLength) bytes" }
        let unique = b.first == UInt8(ascii: ":")
        if unique {
            b = b.dropFirst()
            if b.isEmpty { return "a unique bus name needs elements after ':'" }
        }
        var elements = 1
        var elementStart = true
        for c in b {
            if c == UInt8(ascii: ".") {
                if elementStart { return "a bus name cannot contain an empty element" }
                elements += 1
                elementStart = true
                continue
            }
            let ok = isElementChar(c) || c == UInt8(ascii: "-")
            guard ok else { return "a bus name may contain only [A-Za-z0-9_-.], found \(describe(c))" }
            if elementStart && !unique && isDigit(c) {
                return "an element of a well-known bus name cannot start with a digit"
            }
            elementStart = false
        }
        if elementStart { return "a bus name cannot end with '.'" }
        if elements < 2 { return "a bus name needs at least two elements separated by '.'" }
        return nil
    }

    static func describe(_ c: UInt8) -> String {
        if c >= 0x21 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
        return "byte 0x\(String(c, radix: 16))"
    }
}

/// What every validated D-Bus name type shares: a checked string that cannot be built invalid.
public protocol DBusName: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible,
    ExpressibleByStringLiteral where RawValue == String
{
    /// Validates `string`, throwing ``DBusError`` with code ``DBusError/Code/invalidName`` if it is malformed.
    init(_ string: String) throws(DBusError)
}

extension DBusName {
    /// Validates `rawValue`; nil when it is malformed.
    public init?(rawValue: String) {
        guard let value = try? Self(rawValue) else { return nil }
        self = value
    }

    /// A literal is the programmer's input: a malformed one stops the program.
    public init(stringLiteral value: String) {
        do { try self.init(value) } catch { preconditionFailure("\(error)") }
    }

    public var description: String { rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
