/// A validated D-Bus type signature: zero or more complete types, such as `sa{sv}as`.
///
/// The grammar is the D-Bus specification's: basic types, arrays, dictionary entries (only as
/// array elements, with a basic key and exactly one value type), non-empty structs, variants;
/// at most 255 bytes, 32 nested arrays, 32 nested structs and 64 nestings in all.
/// An invalid signature cannot be constructed.
public struct Signature: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String
    /// The complete types, in order.
    public let types: [DBusType]

    public static let maximumLength = 255
    public static let maximumArrayDepth = 32
    public static let maximumStructDepth = 32

    public init(_ string: String) throws(DBusError) {
        var parser = SignatureParser(Array(string.utf8))
        do {
            types = try parser.parseAll()
        } catch let problem {
            throw DBusError(
                .invalidSignature, "invalid signature \"\(string)\": \(problem.reason)",
                hint: "signatures are made of y b n q i u x t d s o g h v, aT, a{KV} and (T...)")
        }
        rawValue = string
    }

    /// The signature of `types`, which is valid when each type is.
    public init(_ types: [DBusType]) throws(DBusError) {
        var text = ""
        for type in types { type.appendSignature(to: &text) }
        try self.init(text)
    }

    public init?(rawValue: String) {
        guard let value = try? Signature(rawValue) else { return nil }
        self = value
    }

    public init(stringLiteral value: String) {
        do { try self.init(value) } catch { preconditionFailure("\(error)") }
    }

    /// The empty signature (a message with no arguments).
    public static let empty = Signature(uncheckedTypes: [], rawValue: "")

    init(uncheckedTypes: [DBusType], rawValue: String) {
        self.types = uncheckedTypes
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    public static func == (lhs: Signature, rhs: Signature) -> Bool { lhs.rawValue == rhs.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
}

struct SignatureProblem: Error { var reason: String }

/// A recursive-descent parser over the signature's bytes.
struct SignatureParser {
    private let bytes: [UInt8]
    private var index = 0
    private var arrayDepth = 0
    private var structDepth = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseAll() throws(SignatureProblem) -> [DBusType] {
        if bytes.count > Signature.maximumLength {
            throw SignatureProblem(reason: "longer than \(Signature.maximumLength) bytes")
        }
        var types: [DBusType] = []
        while index < bytes.count { types.append(try parseOne()) }
        return types
    }

    /// Parses exactly one complete type and requires the whole input to be consumed.
    mutating func parseSingle() throws(SignatureProblem) -> DBusType {
        let types = try parseAll()
        guard types.count == 1 else { throw SignatureProblem(reason: "expected exactly one complete type, found \(types.count)") }
        return types[0]
    }

    private mutating func parseOne() throws(SignatureProblem) -> DBusType {
        guard index < bytes.count else { throw SignatureProblem(reason: "ends in the middle of a type") }
        let c = bytes[index]
        index += 1
        if let single = DBusType.singleCharacter(c) { return single }
        switch c {
        case UInt8(ascii: "a"):
            arrayDepth += 1
            defer { arrayDepth -= 1 }
            try checkDepth()
            guard index < bytes.count else { throw SignatureProblem(reason: "'a' must be followed by an element type") }
            if bytes[index] == UInt8(ascii: "{") {
                index += 1
                // Dict entries do not count as struct nesting: libdbus accepts 32 structs around
                // an a{sv}, so peers may send it. Every entry sits in an array, so the array
                // limit already bounds entry nesting (libdbus's separate limit is also 32).
                guard index < bytes.count, bytes[index] != UInt8(ascii: "}") else {
                    throw SignatureProblem(reason: "a dictionary entry needs a key and a value type")
                }
                let key = try parseOne()
                guard key.isBasic else {
                    throw SignatureProblem(reason: "a dictionary key must be a basic type, not '\(key.signature)'")
                }
                guard index < bytes.count, bytes[index] != UInt8(ascii: "}") else {
                    throw SignatureProblem(reason: "a dictionary entry needs a value type")
                }
                let value = try parseOne()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "}") else {
                    throw SignatureProblem(reason: "a dictionary entry must have exactly two types and end with '}'")
                }
                index += 1
                return .dictionary(key: key, value: value)
            }
            return .array(try parseOne())
        case UInt8(ascii: "("):
            structDepth += 1
            defer { structDepth -= 1 }
            try checkDepth()
            var fields: [DBusType] = []
            while true {
                guard index < bytes.count else { throw SignatureProblem(reason: "a struct is not closed with ')'") }
                if bytes[index] == UInt8(ascii: ")") {
                    index += 1
                    break
                }
                fields.append(try parseOne())
            }
            guard !fields.isEmpty else { throw SignatureProblem(reason: "a struct cannot be empty") }
            return .structure(fields)
        case UInt8(ascii: "{"):
            throw SignatureProblem(reason: "a dictionary entry '{...}' may only appear as an array element")
        case UInt8(ascii: ")"):
            throw SignatureProblem(reason: "unbalanced ')'")
        case UInt8(ascii: "}"):
            throw SignatureProblem(reason: "unbalanced '}'")
        case UInt8(ascii: "r"), UInt8(ascii: "e"), UInt8(ascii: "m"), UInt8(ascii: "*"), UInt8(ascii: "?"),
            UInt8(ascii: "@"), UInt8(ascii: "&"), UInt8(ascii: "^"):
            throw SignatureProblem(reason: "'\(Character(Unicode.Scalar(c)))' is reserved and not allowed in signatures")
        default:
            throw SignatureProblem(reason: "unknown type code \(NameGrammar.describe(c))")
        }
    }

    private func checkDepth() throws(SignatureProblem) {
        if arrayDepth > Signature.maximumArrayDepth {
            throw SignatureProblem(reason: "more than \(Signature.maximumArrayDepth) nested arrays")
        }
        if structDepth > Signature.maximumStructDepth {
            throw SignatureProblem(reason: "more than \(Signature.maximumStructDepth) nested structs")
        }
    }
}

extension DBusType {
    /// Parses one complete type, such as `a{sv}`.
    public init(signature: String) throws(DBusError) {
        var parser = SignatureParser(Array(signature.utf8))
        do {
            self = try parser.parseSingle()
        } catch let problem {
            throw DBusError(.invalidSignature, "invalid type \"\(signature)\": \(problem.reason)")
        }
    }
}

extension DBusType {
    /// The type a one-character signature code stands for by itself (the basic types and
    /// `v`), or nil for a container's opening code or anything else.
    static func singleCharacter(_ code: UInt8) -> DBusType? {
        switch code {
        case UInt8(ascii: "y"): return .byte
        case UInt8(ascii: "b"): return .boolean
        case UInt8(ascii: "n"): return .int16
        case UInt8(ascii: "q"): return .uint16
        case UInt8(ascii: "i"): return .int32
        case UInt8(ascii: "u"): return .uint32
        case UInt8(ascii: "x"): return .int64
        case UInt8(ascii: "t"): return .uint64
        case UInt8(ascii: "d"): return .double
        case UInt8(ascii: "s"): return .string
        case UInt8(ascii: "o"): return .objectPath
        case UInt8(ascii: "g"): return .signature
        case UInt8(ascii: "h"): return .unixFD
        case UInt8(ascii: "v"): return .variant
        default: return nil
        }
    }
}
