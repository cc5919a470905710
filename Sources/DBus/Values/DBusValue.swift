/// One D-Bus value of any type: the dynamic currency of the `DBus` module.
///
/// Most code reads and writes plain Swift types through ``DBusRepresentable``; `DBusValue` is
/// what those conversions produce and what goes on the wire. Containers keep their element
/// types, so an empty `as` still encodes as `as`.
public enum DBusValue: Hashable, Sendable {
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
    case objectPath(ObjectPath)
    case signature(Signature)
    case unixFD(DBusUnixFD)
    /// An array whose elements all have the given type (not a dictionary-entry type).
    case array(DBusType, [DBusValue])
    /// An array of dictionary entries `a{KV}`, in wire order. Keys are basic values.
    case dictionary(key: DBusType, value: DBusType, [DictionaryEntry])
    /// A struct of one or more fields.
    case structure([DBusValue])
    /// A variant: a value that carries its own type.
    indirect case variant(DBusValue)

    /// One key-value pair of a ``DBusValue/dictionary(key:value:_:)``.
    public struct DictionaryEntry: Hashable, Sendable {
        public var key: DBusValue
        public var value: DBusValue
        public init(_ key: DBusValue, _ value: DBusValue) {
            self.key = key
            self.value = value
        }
    }

    /// The value's complete type.
    public var type: DBusType {
        switch self {
        case .byte: return .byte
        case .boolean: return .boolean
        case .int16: return .int16
        case .uint16: return .uint16
        case .int32: return .int32
        case .uint32: return .uint32
        case .int64: return .int64
        case .uint64: return .uint64
        case .double: return .double
        case .string: return .string
        case .objectPath: return .objectPath
        case .signature: return .signature
        case .unixFD: return .unixFD
        case .array(let element, _): return .array(element)
        case .dictionary(let key, let value, _): return .dictionary(key: key, value: value)
        case .structure(let fields): return .structure(fields.map(\.type))
        case .variant: return .variant
        }
    }

    /// Checks that the value is well formed: array elements and dictionary entries match their
    /// declared types, dictionary keys are basic, structs are not empty, strings have no NUL,
    /// and the value's whole type is a valid D-Bus type (nesting limits, types declared for
    /// empty containers). The encoder calls this before anything is written; callers building
    /// values by hand can too.
    public func validate() throws(DBusError) {
        try validateContents()
        try validateType()
        try validateDepth(0)
    }

    /// The specification's limit on nesting in a message, counting variants too: libdbus
    /// refuses to read deeper values ("Variants cannot be used to create a hugely recursive
    /// tree of values"), so they are refused before they are written.
    public static let maximumNestingDepth = 64

    private func validateDepth(_ depth: Int) throws(DBusError) {
        guard depth <= Self.maximumNestingDepth else {
            throw DBusError(.invalidValue, "values nest more than \(Self.maximumNestingDepth) levels deep (variants included)",
                            hint: "receivers refuse such messages; flatten the value")
        }
        switch self {
        case .array(_, let items): for item in items { try item.validateDepth(depth + 1) }
        case .dictionary(_, _, let entries): for entry in entries { try entry.value.validateDepth(depth + 2) }
        case .structure(let fields): for field in fields { try field.validateDepth(depth + 1) }
        case .variant(let inner): try inner.validateDepth(depth + 1)
        default: break
        }
    }

    /// The element type of an empty container is never compared with a value, and libdbus
    /// aborts the process when asked to open a container whose signature is invalid (`a()`,
    /// `a{vs}`, 33 nested arrays); so the type of every root (an argument, or a variant's
    /// content, which carries its own signature) is checked against the grammar. Types nested
    /// in a valid type are valid, so roots are enough.
    private func validateType() throws(DBusError) {
        let type = self.type
        if type.isBasic { return }
        let signature = type.signature
        var parser = SignatureParser(Array(signature.utf8))
        do {
            _ = try parser.parseSingle()
        } catch {
            throw DBusError(.invalidValue, "a value of type '\(signature)' cannot be sent: \(error.reason)")
        }
    }

    private func validateContents() throws(DBusError) {
        switch self {
        case .string(let s):
            if s.utf8.contains(0) {
                throw DBusError(.invalidValue, "a D-Bus string cannot contain a NUL character",
                                hint: "remove the NUL, or send the bytes as an array of bytes (ay)")
            }
        case .array(let element, let items):
            for item in items {
                guard item.type == element else {
                    throw DBusError(.typeMismatch, "array of '\(element.signature)' holds a '\(item.type.signature)'")
                }
                try item.validateContents()
            }
        case .dictionary(let key, let value, let entries):
            guard key.isBasic else {
                throw DBusError(.typeMismatch, "dictionary key type '\(key.signature)' is not a basic type")
            }
            for entry in entries {
                guard entry.key.type == key, entry.value.type == value else {
                    throw DBusError(.typeMismatch,
                        "dictionary of '{\(key.signature)\(value.signature)}' holds '{\(entry.key.type.signature)\(entry.value.type.signature)}'")
                }
                try entry.key.validateContents()
                try entry.value.validateContents()
            }
        case .structure(let fields):
            if fields.isEmpty { throw DBusError(.invalidValue, "a D-Bus struct cannot be empty") }
            for field in fields { try field.validateContents() }
        case .variant(let inner):
            try inner.validate()
        default:
            break
        }
    }
}

extension DBusValue: CustomStringConvertible {
    /// A GVariant-like text form, handy in test failures and debug logs.
    public var description: String {
        switch self {
        case .byte(let v): return "byte \(v)"
        case .boolean(let v): return v ? "true" : "false"
        case .int16(let v): return "int16 \(v)"
        case .uint16(let v): return "uint16 \(v)"
        case .int32(let v): return "\(v)"
        case .uint32(let v): return "uint32 \(v)"
        case .int64(let v): return "int64 \(v)"
        case .uint64(let v): return "uint64 \(v)"
        case .double(let v): return "\(v)"
        case .string(let v): return "'\(v)'"
        case .objectPath(let v): return "objectpath '\(v)'"
        case .signature(let v): return "signature '\(v)'"
        case .unixFD(let v): return "handle \(v.rawValue)"
        case .array(let t, let items):
            return items.isEmpty ? "@a\(t.signature) []" : "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .dictionary(let k, let v, let entries):
            return entries.isEmpty
                ? "@a{\(k.signature)\(v.signature)} {}"
                : "{" + entries.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        case .structure(let fields): return "(" + fields.map(\.description).joined(separator: ", ") + ")"
        case .variant(let inner): return "<\(inner)>"
        }
    }
}
