/// A complete D-Bus type: what one signature element such as `a{sv}` describes.
///
/// Types exist even where there is no value: an empty array still has an element type,
/// which is why ``DBusValue/array(_:_:)`` carries one.
public indirect enum DBusType: Hashable, Sendable, CustomStringConvertible {
    case byte, boolean, int16, uint16, int32, uint32, int64, uint64, double
    case string, objectPath, signature, unixFD
    /// `aT`: an array of `T`. Arrays of dictionary entries are ``dictionary(key:value:)``.
    case array(DBusType)
    /// `a{KV}`: an array of dictionary entries, whose key is a basic type.
    case dictionary(key: DBusType, value: DBusType)
    /// `(T...)`: a struct of one or more fields.
    case structure([DBusType])
    /// `v`: a value together with its own type.
    case variant

    /// The signature of this single type, such as `a{sv}`.
    public var signature: String {
        var out = ""
        appendSignature(to: &out)
        return out
    }

    public var description: String { signature }

    func appendSignature(to out: inout String) {
        switch self {
        case .byte: out += "y"
        case .boolean: out += "b"
        case .int16: out += "n"
        case .uint16: out += "q"
        case .int32: out += "i"
        case .uint32: out += "u"
        case .int64: out += "x"
        case .uint64: out += "t"
        case .double: out += "d"
        case .string: out += "s"
        case .objectPath: out += "o"
        case .signature: out += "g"
        case .unixFD: out += "h"
        case .variant: out += "v"
        case .array(let element):
            out += "a"
            element.appendSignature(to: &out)
        case .dictionary(let key, let value):
            out += "a{"
            key.appendSignature(to: &out)
            value.appendSignature(to: &out)
            out += "}"
        case .structure(let fields):
            out += "("
            for field in fields { field.appendSignature(to: &out) }
            out += ")"
        }
    }

    /// Whether this is a basic (non-container) type: the only kind allowed as a dictionary key.
    public var isBasic: Bool {
        switch self {
        case .array, .dictionary, .structure, .variant: return false
        default: return true
        }
    }

    /// The type code libdbus uses (`DBUS_TYPE_*`), as an ASCII character.
    var typeCode: UInt8 {
        switch self {
        case .byte: return UInt8(ascii: "y")
        case .boolean: return UInt8(ascii: "b")
        case .int16: return UInt8(ascii: "n")
        case .uint16: return UInt8(ascii: "q")
        case .int32: return UInt8(ascii: "i")
        case .uint32: return UInt8(ascii: "u")
        case .int64: return UInt8(ascii: "x")
        case .uint64: return UInt8(ascii: "t")
        case .double: return UInt8(ascii: "d")
        case .string: return UInt8(ascii: "s")
        case .objectPath: return UInt8(ascii: "o")
        case .signature: return UInt8(ascii: "g")
        case .unixFD: return UInt8(ascii: "h")
        case .variant: return UInt8(ascii: "v")
        case .array, .dictionary: return UInt8(ascii: "a")
        case .structure: return UInt8(ascii: "r")
        }
    }
}
