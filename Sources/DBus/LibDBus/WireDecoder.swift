import Synchronization

/// Decodes a message body straight from its wire bytes, guided by the signature.
///
/// libdbus's iterators validate and dispatch through several function calls for every value;
/// for the replies this project reads most (NetworkManager's `a{oa{sa{sv}}}` and `a{sa{sv}}`,
/// thousands of variants each) that dominated decoding. The bytes come from libdbus, which has
/// already validated the whole message on receipt (or on `demarshal`), so this reader only
/// walks them; it still checks every bound and throws rather than trap on anything unexpected.
/// Offsets are from the start of the message, as the specification's alignment rules are.
struct WireDecoder {
    private let base: UnsafeRawPointer
    private let count: Int
    private let bigEndian: Bool
    private var offset: Int
    /// Variant types met in this message, by their signature packed into an integer (up to 7
    /// bytes, and the length: `aa{sv}`, `as`, `ay`, ...); longer ones by text.
    private var packedTypes: [UInt64: DBusType] = [:]
    private var typeCache: [String: DBusType] = [:]
    /// The same, across messages: a client reads the same few container types all the time.
    private static let sharedPackedTypes = Mutex<[UInt64: DBusType]>([:])

    /// - Parameter message: a whole marshalled message (header and body).
    init(message: UnsafeRawBufferPointer) throws(DBusError) {
        guard let base = message.baseAddress, message.count >= 16 else {
            throw DBusError(.invalidValue, "a message is at least 16 bytes")
        }
        self.base = base
        count = message.count
        switch message[0] {
        case UInt8(ascii: "l"): bigEndian = false
        case UInt8(ascii: "B"): bigEndian = true
        default: throw DBusError(.invalidValue, "unknown byte order mark \(message[0])")
        }
        offset = 12
        let fieldsLength = Int(try Self.u32(base, 12, bigEndian))
        offset = (16 + fieldsLength + 7) & ~7
        let bodyLength = Int(try Self.u32(base, 4, bigEndian))
        guard offset + bodyLength <= count else { throw DBusError(.invalidValue, "the body runs past the message") }
    }

    private static func u32(_ base: UnsafeRawPointer, _ at: Int, _ bigEndian: Bool) throws(DBusError) -> UInt32 {
        let raw = base.loadUnaligned(fromByteOffset: at, as: UInt32.self)
        return bigEndian ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw)
    }

    mutating func body(_ types: [DBusType]) throws(DBusError) -> [DBusValue] {
        var values: [DBusValue] = []
        values.reserveCapacity(types.count)
        for type in types { values.append(try read(type)) }
        return values
    }

    @inline(__always) private mutating func align(_ boundary: Int) throws(DBusError) {
        offset = (offset + boundary - 1) & ~(boundary - 1)
        guard offset <= count else { throw truncated() }
    }

    private func truncated() -> DBusError { DBusError(.invalidValue, "the message body ends in the middle of a value") }

    @inline(__always) private mutating func need(_ bytes: Int) throws(DBusError) {
        guard offset + bytes <= count else { throw truncated() }
    }

    @inline(__always) private mutating func load<T: FixedWidthInteger>(_: T.Type) throws(DBusError) -> T {
        try align(MemoryLayout<T>.size)
        try need(MemoryLayout<T>.size)
        let raw = base.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return bigEndian ? T(bigEndian: raw) : T(littleEndian: raw)
    }

    private mutating func string() throws(DBusError) -> String {
        let length = Int(try load(UInt32.self))
        try need(length + 1)
        let text = String(decoding: UnsafeRawBufferPointer(start: base + offset, count: length), as: UTF8.self)
        offset += length + 1
        return text
    }

    private mutating func signatureText() throws(DBusError) -> String {
        try need(1)
        let length = Int(base.load(fromByteOffset: offset, as: UInt8.self))
        offset += 1
        try need(length + 1)
        let text = String(decoding: UnsafeRawBufferPointer(start: base + offset, count: length), as: UTF8.self)
        offset += length + 1
        return text
    }

    /// A variant's type. Most of NetworkManager's variants hold one basic type: those are
    /// read from their one signature byte, without a string or a lookup (`h` gives
    /// `.unixFD`, which ``read(_:)`` refuses as it does any fd); longer signatures are looked
    /// up in the caches below.
    private mutating func variantType() throws(DBusError) -> DBusType {
        try need(2)
        if base.load(fromByteOffset: offset, as: UInt8.self) == 1,
            let basic = DBusType.singleCharacter(base.load(fromByteOffset: offset + 1, as: UInt8.self))
        {
            try need(3)
            offset += 3  // length, code, terminating NUL
            return basic
        }
        let length = Int(base.load(fromByteOffset: offset, as: UInt8.self))
        if length <= 7 {
            try need(length + 2)
            var key: UInt64 = 0
            for index in 0..<length { key = key << 8 | UInt64(base.load(fromByteOffset: offset + 1 + index, as: UInt8.self)) }
            key |= UInt64(length) << 56  // above the 7 bytes: "y" and "ay" never share a key
            if let cached = packedTypes[key] {
                offset += length + 2
                return cached
            }
            if let shared = Self.sharedPackedTypes.withLock({ $0[key] }) {
                packedTypes[key] = shared
                offset += length + 2
                return shared
            }
            let parsed = try DBusType(signature: try signatureText())
            packedTypes[key] = parsed
            Self.sharedPackedTypes.withLock { shared in
                if shared.count >= 512 { shared.removeAll(keepingCapacity: true) }
                shared[key] = parsed
            }
            return parsed
        }
        let text = try signatureText()
        if let cached = typeCache[text] { return cached }
        let parsed = try DBusType(signature: text)
        typeCache[text] = parsed
        return parsed
    }

    private static func alignment(_ type: DBusType) -> Int {
        switch type {
        case .byte, .signature, .variant: return 1
        case .int16, .uint16: return 2
        // A dictionary is an array (4); its entries are aligned to 8.
        case .boolean, .int32, .uint32, .string, .objectPath, .unixFD, .array, .dictionary: return 4
        case .int64, .uint64, .double, .structure: return 8
        }
    }

    mutating func read(_ type: DBusType) throws(DBusError) -> DBusValue {
        switch type {
        case .byte:
            try need(1)
            defer { offset += 1 }
            return .byte(base.load(fromByteOffset: offset, as: UInt8.self))
        case .boolean: return .boolean(try load(UInt32.self) != 0)
        case .int16: return .int16(try load(Int16.self))
        case .uint16: return .uint16(try load(UInt16.self))
        case .int32: return .int32(try load(Int32.self))
        case .uint32: return .uint32(try load(UInt32.self))
        case .int64: return .int64(try load(Int64.self))
        case .uint64: return .uint64(try load(UInt64.self))
        case .double: return .double(Double(bitPattern: try load(UInt64.self)))
        case .string: return .string(try string())
        case .objectPath: return .objectPath(ObjectPath(unchecked: try string()))
        case .signature: return .signature(try Signature(try signatureText()))
        case .unixFD:
            throw DBusError(.invalidValue, "file descriptors are decoded through libdbus, not from bytes")
        case .variant:
            return .variant(try read(try variantType()))
        case .structure(let fields):
            try align(8)
            var values: [DBusValue] = []
            values.reserveCapacity(fields.count)
            for field in fields { values.append(try read(field)) }
            return .structure(values)
        case .array(let element):
            let length = Int(try load(UInt32.self))
            try align(Self.alignment(element))
            try need(length)
            let end = offset + length
            if element == .byte {
                let bytes = UnsafeRawBufferPointer(start: base + offset, count: length)
                offset = end
                return .array(.byte, bytes.map { .byte($0) })
            }
            var items: [DBusValue] = []
            while offset < end { items.append(try read(element)) }
            guard offset == end else { throw DBusError(.invalidValue, "an array's elements overrun its length") }
            return .array(element, items)
        case .dictionary(let key, let value):
            let length = Int(try load(UInt32.self))
            try align(8)
            try need(length)
            let end = offset + length
            var entries: [DBusValue.DictionaryEntry] = []
            while offset < end {
                try align(8)
                let k = try read(key)
                let v = try read(value)
                entries.append(.init(k, v))
            }
            guard offset == end else { throw DBusError(.invalidValue, "a dictionary's entries overrun its length") }
            return .dictionary(key: key, value: value, entries)
        }
    }
}
