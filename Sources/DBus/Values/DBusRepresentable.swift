/// A Swift type with a fixed D-Bus type, convertible to and from ``DBusValue``.
///
/// The standard types conform (integers, `Bool`, `Double`, `String`, arrays, dictionaries,
/// the name types), so call sites read as plain Swift:
/// ```swift
/// let version: String = try await nm.property("Version", of: "org.freedesktop.NetworkManager")
/// ```
/// Decoding a value of the wrong type throws ``DBusError`` with code
/// ``DBusError/Code/typeMismatch``; it never traps.
public protocol DBusRepresentable: Sendable {
    /// The D-Bus type of every value of this Swift type.
    static var dbusType: DBusType { get }
    /// Decodes `value`, which must have type ``dbusType`` (a variant is unwrapped first).
    init(dbusValue value: DBusValue) throws(DBusError)
    /// The D-Bus form of this value.
    var dbusValue: DBusValue { get }
}

extension DBusValue {
    /// Decodes this value as `T`, looking through variants when `T` is not itself a variant.
    public func decode<T: DBusRepresentable>(_: T.Type = T.self) throws(DBusError) -> T {
        try T(dbusValue: self)
    }

    /// The value inside any number of variant wrappers.
    public var unwrapped: DBusValue {
        var value = self
        while case .variant(let inner) = value { value = inner }
        return value
    }

    static func mismatch(_ expected: DBusType, _ value: DBusValue) -> DBusError {
        DBusError(.typeMismatch, "expected a value of type '\(expected.signature)', found '\(value.type.signature)' (\(value))")
    }
}

// MARK: - Basic types

extension UInt8: DBusRepresentable {
    public static var dbusType: DBusType { .byte }
    public init(dbusValue value: DBusValue) throws(DBusError) {
        guard case .byte(let v) = value.unwrapped else { throw DBusValue.mismatch(.byte, value) }
        self = v
    }
    public var dbusValue: DBusValue { .byte(self) }
}

extension Bool: DBusRepresentable {
    public static var dbusType: DBusType { .boolean }
    public init(dbusValue value: DBusValue) throws(DBusError) {
        guard case .boolean(let v) = value.unwrapped else { throw DBusValue.mismatch(.boolean, value) }
        self = v
    }
    public var dbusValue: DBusValue { .boolean(self) }
}

extension Int16: DBusRepresentable {
    public static var dbusType: DBusType { .int16 }
    public init(dbusValue value: DBusValue) throws(DBusError) {
        guard case .int16(let v) = value.unwrapped else { throw DBusValue.mismatch(.int16, value) }
        self = v
    }
    public var dbusValue: DBusValue { .int16(self) }
}

extension UInt16: DBusRepresentable {
    public static var dbusType: DBusType { .uint16 }
    public init(dbusValue value: DBusValue) throws(DBusError) {
        guard case .uint16(let v) = value.unwrapped else { throw DBusValue.mismatch(.uint16, value) }
        self = v
    }
    public var dbusValue: DBusValue { .uint16(self) }
}

extension Int32: DBusRepresentable {
    public static var dbusType: DBusType { .int32 }
    public init(dbusValue value: DBusValue) throws(DBusError) {
        guard case .int32(let v) = value.unwrapped else { throw DBusValue.mismatch(.int32, value) }
        self = v
    }
    public var dbusValue: DBusValue { .int32(self) }
}

extension UInt32: DBusRepresentable {
    public static var dbusType: DBusType { .uint32 }
    public init(dbusValue value: DBusValue) throws(DBusError) {
        guard case .uint32(let v) = value.unwrapped else { throw DBusValue.mismatch(.uint32, value) }
        self = v
    }
    public var dbusValue: DBusValue { .uint32(self) }
}

extension Int64: DBusRepresentable {
    public static var dbusType: DBusType { .int64 }
    public init(dbusValue value: DBusValue) throws(DBusError) {
        guard case .int64(let v) = value.unwrapped else { throw DBusValue.mismatch(.int64, value) }
        self = v
    }
    public var dbusValue: DBusValue { .int64(self) }
}

extension UInt64: DBusRepresentable {
    public static var dbusType: DBusType { .uint64 }
    public init(dbusValue value: DBusValue) throws(DBusError) {
        guard case .uint64(let v) = value.unwrapped else { throw DBusValue.mismatch(.uint64, value) }
        self = v
    }
    public var dbusValue: DBusValue { .uint64(self) }
}

extension Double: DBusRepresentable {
    public static var dbusType: DBusType { .double }
    public init(dbusValue value: DBusValue) throws(DBusError) {
        guard case .double(let v) = value.unwrapped else { throw DBusValue.mismatch(.double, value) }
        self = v
    }
    public var dbusValue: DBusValue { .double(self) }
}

extension String: DBusRepresentable {
    public static var dbusType: DBusType { .string }
    public init(dbusValue value: DBusValue) throws(DBusError) {
        guard case .string(let v) = value.unwrapped else { throw DBusValue.mismatch(.string, value) }
        self = v
    }
    public var dbusValue: DBusValue { .string(self) }
}

extension ObjectPath: DBusRepresentable {
    public static var dbusType: DBusType { .objectPath }
    public init(dbusValue value: DBusValue) throws(DBusError) {
        guard case .objectPath(let v) = value.unwrapped else { throw DBusValue.mismatch(.objectPath, value) }
        self = v
    }
    public var dbusValue: DBusValue { .objectPath(self) }
}

extension Signature: DBusRepresentable {
    public static var dbusType: DBusType { .signature }
    public init(dbusValue value: DBusValue) throws(DBusError) {
        guard case .signature(let v) = value.unwrapped else { throw DBusValue.mismatch(.signature, value) }
        self = v
    }
    public var dbusValue: DBusValue { .signature(self) }
}

extension DBusUnixFD: DBusRepresentable {
    public static var dbusType: DBusType { .unixFD }
    public convenience init(dbusValue value: DBusValue) throws(DBusError) {
        guard case .unixFD(let v) = value.unwrapped else { throw DBusValue.mismatch(.unixFD, value) }
        try self.init(duplicating: v.rawValue)
    }
    public var dbusValue: DBusValue { .unixFD(self) }
}

// MARK: - Variants

/// A D-Bus variant (`v`): a value that carries its own type, as in `a{sv}` property maps.
public struct DBusVariant: DBusRepresentable, Hashable, CustomStringConvertible {
    /// The value inside the variant (never itself a variant unless the sender nested them).
    public var value: DBusValue

    public init(_ value: DBusValue) { self.value = value }
    public init<T: DBusRepresentable>(_ value: T) { self.value = value.dbusValue }

    public static var dbusType: DBusType { .variant }
    public init(dbusValue value: DBusValue) throws(DBusError) {
        guard case .variant(let inner) = value else { throw DBusValue.mismatch(.variant, value) }
        self.value = inner
    }
    public var dbusValue: DBusValue { .variant(value) }

    /// Decodes the contained value as `T`.
    public func decode<T: DBusRepresentable>(_: T.Type = T.self) throws(DBusError) -> T {
        try T(dbusValue: value)
    }

    public var description: String { "<\(value)>" }
}

extension DBusValue: DBusRepresentable {
    /// A `DBusValue` where a static type is required (`[DBusValue]`, `[String: DBusValue]`) is
    /// a variant: it travels wrapped in one, `av` and `a{sv}`, and reading it back removes that
    /// one wrapper, so encoding and decoding are symmetric.
    public static var dbusType: DBusType { .variant }
    public init(dbusValue value: DBusValue) throws(DBusError) {
        if case .variant(let inner) = value { self = inner } else { self = value }
    }
    public var dbusValue: DBusValue { .variant(self) }
}

// MARK: - Containers

extension Array {
    /// Whether values declared as `declared` can be decoded as `wanted`: equal types, or a
    /// `DBusValue` (which takes anything).
    static func accepts(_ declared: DBusType, as wanted: DBusType) -> Bool {
        declared == wanted || Element.self == DBusValue.self
    }
}

extension Array: DBusRepresentable where Element: DBusRepresentable {
    public static var dbusType: DBusType { .array(Element.dbusType) }

    public init(dbusValue value: DBusValue) throws(DBusError) {
        switch value.unwrapped {
        case .array(let declared, let items):
            // The declared element type must be what was asked for, even when there are no
            // elements to check (an empty `as` is not an `ai`).
            guard Self.accepts(declared, as: Element.dbusType) else { throw DBusValue.mismatch(Self.dbusType, value) }
            var result: [Element] = []
            result.reserveCapacity(items.count)
            for item in items { result.append(try Element(dbusValue: item)) }
            self = result
        case .dictionary(let k, let v, let entries) where Element.dbusType == .structure([k, v]):
            // An a{KV} read as an array of (K, V) structs.
            var result: [Element] = []
            for entry in entries { result.append(try Element(dbusValue: .structure([entry.key, entry.value]))) }
            self = result
        default:
            throw DBusValue.mismatch(Self.dbusType, value)
        }
    }

    public var dbusValue: DBusValue { .array(Element.dbusType, map(\.dbusValue)) }
}

extension Dictionary: DBusRepresentable where Key: DBusRepresentable, Value: DBusRepresentable {
    public static var dbusType: DBusType { .dictionary(key: Key.dbusType, value: Value.dbusType) }

    public init(dbusValue value: DBusValue) throws(DBusError) {
        guard case .dictionary(let keyType, let valueType, let entries) = value.unwrapped,
            keyType == Key.dbusType, Array<Value>.accepts(valueType, as: Value.dbusType)
        else {
            throw DBusValue.mismatch(Self.dbusType, value)
        }
        var result: [Key: Value] = [:]
        result.reserveCapacity(entries.count)
        for entry in entries {
            // Later duplicates win, as in GLib and libnm.
            result[try Key(dbusValue: entry.key)] = try Value(dbusValue: entry.value)
        }
        self = result
    }

    /// Entries are encoded sorted by key description so that equal dictionaries give equal bytes.
    public var dbusValue: DBusValue {
        let entries = map { DBusValue.DictionaryEntry($0.key.dbusValue, $0.value.dbusValue) }
            .sorted { $0.key.sortKey < $1.key.sortKey }
        return .dictionary(key: Key.dbusType, value: Value.dbusType, entries)
    }
}

extension DBusValue {
    var sortKey: String {
        switch self {
        case .string(let s): return s
        case .objectPath(let p): return p.rawValue
        default: return description
        }
    }
}
