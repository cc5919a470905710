// An EXPERIMENTAL decoder, here only to show what decoding could cost: it reads the body
// straight from the message's wire bytes into the same `[DBusValue]` that
// `LibDBusMessage.body()` returns, instead of asking libdbus's iterators for every value.
//
// It trusts its input: the bytes must already have passed `dbus_message_demarshal` (which
// validates the whole message: lengths, alignment padding, UTF-8, signatures, nesting), as
// every message the library receives has (libdbus validates on receipt). What it saves:
// - one C call per value (get_arg_type, get_basic, next, recurse) and the iterator structs;
// - the malloc'd signature libdbus returns for every variant (dbus_message_iter_get_signature),
//   the String made of it and its dictionary lookup: here a variant's type is looked up by the
//   signature bytes in place, in a small table of the types already seen;
// - `String(cString:)`'s strlen: the length is on the wire.
@testable import DBus

struct WireDecoder {
    private let base: UnsafeRawPointer
    private let end: Int
    private var offset: Int
    private let swap: Bool
    /// Variant types seen so far, keyed by their signature bytes (at most 8 bytes packed in a
    /// UInt64; longer ones are parsed each time, and NetworkManager sends none).
    private var variantTypes: [UInt64: DBusType] = [:]

    /// Decodes the body of the whole message in `bytes` (header included), whose signature is `signature`.
    static func body(of bytes: UnsafeRawBufferPointer, signature: String) throws -> [DBusValue] {
        guard bytes.count >= 16, let base = bytes.baseAddress else { throw DBusError(.invalidValue, "short message") }
        let little = bytes[0] == UInt8(ascii: "l")
        var decoder = WireDecoder(base: base, end: bytes.count, offset: 12, swap: little != (1.littleEndian == 1))
        let fieldsLength = Int(decoder.readUInt32())
        decoder.offset = (16 + fieldsLength + 7) & ~7
        let types = try Signature(signature).types
        var values: [DBusValue] = []
        values.reserveCapacity(types.count)
        for type in types { values.append(try decoder.read(type)) }
        return values
    }

    private init(base: UnsafeRawPointer, end: Int, offset: Int, swap: Bool) {
        self.base = base
        self.end = end
        self.offset = offset
        self.swap = swap
    }

    @inline(__always) private mutating func align(_ n: Int) { offset = (offset + n - 1) & ~(n - 1) }

    @inline(__always) private mutating func readUInt32() -> UInt32 {
        align(4)
        let v = base.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        offset += 4
        return swap ? v.byteSwapped : v
    }

    @inline(__always) private mutating func readUInt16() -> UInt16 {
        align(2)
        let v = base.loadUnaligned(fromByteOffset: offset, as: UInt16.self)
        offset += 2
        return swap ? v.byteSwapped : v
    }

    @inline(__always) private mutating func readUInt64() -> UInt64 {
        align(8)
        let v = base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        offset += 8
        return swap ? v.byteSwapped : v
    }

    @inline(__always) private mutating func readString() -> String {
        let length = Int(readUInt32())
        let s = String(decoding: UnsafeRawBufferPointer(start: base + offset, count: length), as: UTF8.self)
        offset += length + 1
        return s
    }

    /// A signature's bytes (after its length byte), without copying.
    @inline(__always) private mutating func readSignatureBytes() -> UnsafeRawBufferPointer {
        let length = Int(base.load(fromByteOffset: offset, as: UInt8.self))
        let bytes = UnsafeRawBufferPointer(start: base + offset + 1, count: length)
        offset += length + 2
        return bytes
    }

    private mutating func variantType(_ bytes: UnsafeRawBufferPointer) throws -> DBusType {
        guard bytes.count <= 8 else {
            return try DBusType(signature: String(decoding: bytes, as: UTF8.self))
        }
        var key: UInt64 = 0
        for (i, b) in bytes.enumerated() { key |= UInt64(b) << (8 * UInt64(i)) }
        if let known = variantTypes[key] { return known }
        let type = try DBusType(signature: String(decoding: bytes, as: UTF8.self))
        variantTypes[key] = type
        return type
    }

    private static func alignment(of type: DBusType) -> Int {
        switch type {
        case .byte, .signature, .variant: return 1
        case .int16, .uint16: return 2
        case .boolean, .int32, .uint32, .unixFD, .string, .objectPath, .array, .dictionary: return 4
        case .int64, .uint64, .double, .structure: return 8
        }
    }

    mutating func read(_ type: DBusType) throws -> DBusValue {
        switch type {
        case .byte:
            let v = base.load(fromByteOffset: offset, as: UInt8.self)
            offset += 1
            return .byte(v)
        case .boolean: return .boolean(readUInt32() != 0)
        case .int16: return .int16(Int16(bitPattern: readUInt16()))
        case .uint16: return .uint16(readUInt16())
        case .int32: return .int32(Int32(bitPattern: readUInt32()))
        case .uint32: return .uint32(readUInt32())
        case .int64: return .int64(Int64(bitPattern: readUInt64()))
        case .uint64: return .uint64(readUInt64())
        case .double: return .double(Double(bitPattern: readUInt64()))
        case .string: return .string(readString())
        case .objectPath: return .objectPath(ObjectPath(unchecked: readString()))
        case .signature:
            let bytes = readSignatureBytes()
            return .signature(try Signature(String(decoding: bytes, as: UTF8.self)))
        case .unixFD:
            throw DBusError(.invalidValue, "unix fds are not in these fixtures")
        case .array(let element):
            let length = Int(readUInt32())
            align(Self.alignment(of: element))
            let stop = offset + length
            if case .byte = element {
                let bytes = UnsafeRawBufferPointer(start: base + offset, count: length)
                offset = stop
                return .array(.byte, bytes.map { .byte($0) })
            }
            var items: [DBusValue] = []
            while offset < stop { items.append(try read(element)) }
            return .array(element, items)
        case .dictionary(let key, let value):
            let length = Int(readUInt32())
            align(8)
            let stop = offset + length
            var entries: [DBusValue.DictionaryEntry] = []
            while offset < stop {
                align(8)
                let k = try read(key)
                let v = try read(value)
                entries.append(.init(k, v))
            }
            return .dictionary(key: key, value: value, entries)
        case .structure(let fields):
            align(8)
            var values: [DBusValue] = []
            values.reserveCapacity(fields.count)
            for field in fields { values.append(try read(field)) }
            return .structure(values)
        case .variant:
            let inner = try variantType(readSignatureBytes())
            return .variant(try read(inner))
        }
    }
}
