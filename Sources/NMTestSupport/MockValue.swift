/// A D-Bus value to hand to a python-dbusmock peer (property values, signal arguments).
///
/// Values are rendered as dbus-python expressions (`dbus.UInt32(7)`,
/// `dbus.Array([...], signature='s')`), so every D-Bus type can be expressed, which
/// dbus-send cannot do (it has no arrays of variants or nested containers).
///
/// Literals give the common types: `"eno1"` is a string, `7` an int32, `true` a boolean.
///
/// Where the signature says `v` a value is wrapped in a variant automatically, and
/// `.variant(x)` there means the same; `.variant(.variant(x))` is a variant holding a
/// variant (dbus-python's `variant_level`). Outside `v` slots, `.variant` is an error.
public indirect enum MockValue: Sendable {
    case byte(UInt8)
    case boolean(Bool)
    case int16(Int16)
    case uint16(UInt16)
    case int32(Int32)
    case uint32(UInt32)
    case int64(Int64)
    case uint64(UInt64)
    case double(Double)
    case string(String)
    case objectPath(String)
    case signature(String)
    /// An array whose elements have signature `of` (kept, so that empty arrays are typed).
    case array(of: String, [MockValue])
    /// A dictionary `a{KV}`, entries in the given order.
    case dictionary(key: String, value: String, [(MockValue, MockValue)])
    case structure([MockValue])
    case variant(MockValue)
    /// A raw dbus-python expression, for anything else (`dbus.UnixFd(...)`, ...).
    case python(String)

    /// `a{sv}`: the shape of D-Bus property maps and NetworkManager settings sections.
    public static func properties(_ entries: [(String, MockValue)]) -> MockValue {
        .dictionary(key: "s", value: "v", entries.map { (.string($0.0), $0.1) })
    }

    /// `as`.
    public static func strings(_ values: [String]) -> MockValue {
        .array(of: "s", values.map(MockValue.string))
    }

    /// `ao`.
    public static func objectPaths(_ values: [String]) -> MockValue {
        .array(of: "o", values.map(MockValue.objectPath))
    }

    /// The dbus-python expression for this value.
    public var pythonExpression: String { render(variantLevel: 0) }

    private func render(variantLevel level: Int) -> String {
        let vl = level > 0 ? ", variant_level=\(level)" : ""
        switch self {
        case .byte(let v): return "dbus.Byte(\(v)\(vl))"
        case .boolean(let v): return "dbus.Boolean(\(v ? "True" : "False")\(vl))"
        case .int16(let v): return "dbus.Int16(\(v)\(vl))"
        case .uint16(let v): return "dbus.UInt16(\(v)\(vl))"
        case .int32(let v): return "dbus.Int32(\(v)\(vl))"
        case .uint32(let v): return "dbus.UInt32(\(v)\(vl))"
        case .int64(let v): return "dbus.Int64(\(v)\(vl))"
        case .uint64(let v): return "dbus.UInt64(\(v)\(vl))"
        // Swift's description round-trips and float() parses it, inf and nan included.
        case .double(let v): return "dbus.Double(float(\(Python.literal(v.description)))\(vl))"
        case .string(let v): return "dbus.String(\(Python.literal(v))\(vl))"
        case .objectPath(let v): return "dbus.ObjectPath(\(Python.literal(v))\(vl))"
        case .signature(let v): return "dbus.Signature(\(Python.literal(v))\(vl))"
        case .array(let signature, let elements):
            let items = elements.map { $0.render(variantLevel: 0) }.joined(separator: ", ")
            return "dbus.Array([\(items)], signature=\(Python.literal(signature))\(vl))"
        case .dictionary(let key, let value, let entries):
            let items = entries.map { "\($0.0.render(variantLevel: 0)): \($0.1.render(variantLevel: 0))" }
                .joined(separator: ", ")
            return "dbus.Dictionary({\(items)}, signature=\(Python.literal(key + value))\(vl))"
        case .structure(let fields):
            let items = fields.map { $0.render(variantLevel: 0) + ", " }.joined()
            return "dbus.Struct((\(items))\(vl))"
        case .variant(let inner):
            return inner.render(variantLevel: level + 1)
        case .python(let code):
            return "(\(code))"
        }
    }
}

extension MockValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int32) { self = .int32(value) }
    public init(booleanLiteral value: Bool) { self = .boolean(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
}

enum Python {
    /// A Python string literal for `text`: printable ASCII as is, everything else escaped.
    static func literal(_ text: String) -> String {
        var out = "'"
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x5C: out += "\\\\"
            case 0x27: out += "\\'"
            case 0x20...0x7E: out.unicodeScalars.append(scalar)
            case 0...0xFF: out += "\\x" + hex(scalar.value, width: 2)
            case 0x100...0xFFFF: out += "\\u" + hex(scalar.value, width: 4)
            default: out += "\\U" + hex(scalar.value, width: 8)
            }
        }
        return out + "'"
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
