import Synchronization
internal import CDBus
#if canImport(Glibc)
import Glibc
#endif

/// An owned reference to a libdbus `DBusMessage`. Not shared between threads while mutable.
final class LibDBusMessage: @unchecked Sendable {
    let raw: OpaquePointer

    /// Takes over one reference to `raw`.
    init(taking raw: OpaquePointer) { self.raw = raw }

    deinit { dbus_message_unref(raw) }

    enum Kind { case methodCall, methodReturn, error, signal, other }

    var kind: Kind {
        switch dbus_message_get_type(raw) {
        case 1: return .methodCall
        case 2: return .methodReturn
        case 3: return .error
        case 4: return .signal
        default: return .other
        }
    }

    static func methodCall(
        destination: BusName?, path: ObjectPath, interface: InterfaceName?, member: MemberName
    ) throws(DBusError) -> LibDBusMessage {
        let raw: OpaquePointer? = path.rawValue.withCString { p in
            member.rawValue.withCString { m in
                withOptionalCString(destination?.rawValue) { d in
                    withOptionalCString(interface?.rawValue) { i in
                        dbus_message_new_method_call(d, p, i, m)
                    }
                }
            }
        }
        guard let raw else { throw DBusError(.noMemory, "cannot allocate a method call message") }
        return LibDBusMessage(taking: raw)
    }

    static func signal(path: ObjectPath, interface: InterfaceName, member: MemberName) throws(DBusError) -> LibDBusMessage {
        let raw: OpaquePointer? = path.rawValue.withCString { p in
            interface.rawValue.withCString { i in member.rawValue.withCString { m in dbus_message_new_signal(p, i, m) } }
        }
        guard let raw else { throw DBusError(.noMemory, "cannot allocate a signal message") }
        return LibDBusMessage(taking: raw)
    }

    static func methodReturn(to call: LibDBusMessage) throws(DBusError) -> LibDBusMessage {
        guard let raw = dbus_message_new_method_return(call.raw) else {
            throw DBusError(.noMemory, "cannot allocate a method return message")
        }
        return LibDBusMessage(taking: raw)
    }

    static func errorReply(to call: LibDBusMessage, name: String, message: String) throws(DBusError) -> LibDBusMessage {
        let raw: OpaquePointer? = name.withCString { n in message.withCString { m in dbus_message_new_error(call.raw, n, m) } }
        guard let raw else { throw DBusError(.noMemory, "cannot allocate an error message") }
        return LibDBusMessage(taking: raw)
    }

    var noReplyExpected: Bool {
        get { dbus_message_get_no_reply(raw) != 0 }
        set { dbus_message_set_no_reply(raw, newValue ? 1 : 0) }
    }

    var autoStart: Bool {
        get { dbus_message_get_auto_start(raw) != 0 }
        set { dbus_message_set_auto_start(raw, newValue ? 1 : 0) }
    }

    var allowInteractiveAuthorization: Bool {
        get { dbus_message_get_allow_interactive_authorization(raw) != 0 }
        set { dbus_message_set_allow_interactive_authorization(raw, newValue ? 1 : 0) }
    }

    var serial: UInt32 { dbus_message_get_serial(raw) }
    var replySerial: UInt32 { dbus_message_get_reply_serial(raw) }
    var sender: String? { dbus_message_get_sender(raw).map { String(cString: $0) } }
    var destination: String? { dbus_message_get_destination(raw).map { String(cString: $0) } }
    var path: String? { dbus_message_get_path(raw).map { String(cString: $0) } }
    var interface: String? { dbus_message_get_interface(raw).map { String(cString: $0) } }
    var member: String? { dbus_message_get_member(raw).map { String(cString: $0) } }
    /// `Interface.Member` (or the member alone), to name a call in an error.
    var callName: String {
        let member = self.member ?? "?"
        return interface.map { "\($0).\(member)" } ?? member
    }
    var errorName: String? { dbus_message_get_error_name(raw).map { String(cString: $0) } }
    var signatureString: String { dbus_message_get_signature(raw).map { String(cString: $0) } ?? "" }

    /// The wire bytes of this message (`dbus_message_marshal`); libdbus assigns a serial if unset.
    func marshal() throws(DBusError) -> [UInt8] {
        try withWireBytes { bytes in Array(bytes.bindMemory(to: UInt8.self)) }
    }

    /// Runs `body` with the wire bytes of this message, valid only during the call
    /// (`dbus_message_marshal`, freed afterwards); libdbus assigns a serial if unset.
    func withWireBytes<T>(_ body: (UnsafeRawBufferPointer) throws(DBusError) -> T) throws(DBusError) -> T {
        var buffer: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        if serial == 0 { dbus_message_set_serial(raw, 1) }
        guard dbus_message_marshal(raw, &buffer, &length) != 0, let buffer else {
            throw DBusError(.noMemory, "cannot marshal a message")
        }
        defer { dbus_free(buffer) }
        return try body(UnsafeRawBufferPointer(start: buffer, count: Int(length)))
    }

    /// Parses wire bytes (`dbus_message_demarshal`), validating them as libdbus does for received messages.
    ///
    /// Malformed input is a local ``DBusError/Code/invalidValue``: libdbus reports an empty or
    /// truncated buffer as "Not enough memory" and a corrupt one as `InvalidArgs`, which would
    /// otherwise read as an allocation failure or as an error reply from a peer.
    static func demarshal(_ bytes: [UInt8]) throws(DBusError) -> LibDBusMessage {
        let raw: OpaquePointer? = try bytes.withUnsafeBufferPointer { (buffer) throws(DBusError) -> OpaquePointer? in
            try buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { (p) throws(DBusError) -> OpaquePointer? in
                let needed = dbus_message_demarshal_bytes_needed(p, Int32(buffer.count))
                guard needed > 0, Int(needed) <= buffer.count else {
                    throw DBusError(.invalidValue, needed < 0
                        ? "not a D-Bus message: the header is invalid"
                        : "incomplete D-Bus message: \(buffer.count) bytes, \(needed > 0 ? "\(needed) needed" : "too short for a header")")
                }
                do throws(DBusError) {
                    return try withLibDBusError("demarshal") { dbus_message_demarshal(p, Int32(buffer.count), $0) }
                } catch {
                    if error.code == .noMemory { throw error }
                    throw DBusError(.invalidValue, "not a valid D-Bus message: \(error.message)")
                }
            }
        }
        guard let raw else { throw DBusError(.invalidValue, "demarshal returned no message") }
        return LibDBusMessage(taking: raw)
    }

    // MARK: - Writing the body

    func append(_ values: [DBusValue]) throws(DBusError) {
        for value in values { try value.validate() }
        // libdbus keeps the signature's length in one byte: at 256 bytes it writes a message no
        // one can read, and past that dbus_message_iter_append_basic never returns.
        let length = values.reduce(signatureString.utf8.count) { $0 + $1.type.signature.utf8.count }
        if length > Signature.maximumLength {
            throw DBusError(.invalidValue, "the message signature would be \(length) bytes, more than \(Signature.maximumLength)",
                            hint: "pass fewer arguments, or group them in an array or a struct")
        }
        var iter = DBusMessageIter()
        dbus_message_iter_init_append(raw, &iter)
        for value in values { try Self.write(value, into: &iter) }
    }

    private static func appendBasic<T: BitwiseCopyable>(_ iter: inout DBusMessageIter, _ code: UInt8, _ value: T) throws(DBusError) {
        var value = value
        guard dbus_message_iter_append_basic(&iter, Int32(code), &value) != 0 else {
            throw DBusError(.noMemory, "cannot append a value")
        }
    }

    private static func appendString(_ iter: inout DBusMessageIter, _ code: UInt8, _ string: String) throws(DBusError) {
        let ok: Bool = string.withCString { p in
            var pointer: UnsafePointer<CChar>? = p
            return dbus_message_iter_append_basic(&iter, Int32(code), &pointer) != 0
        }
        guard ok else { throw DBusError(.invalidValue, "libdbus refused the string \"\(string)\"") }
    }

    static func write(_ value: DBusValue, into iter: inout DBusMessageIter) throws(DBusError) {
        switch value {
        case .byte(let v): try appendBasic(&iter, UInt8(ascii: "y"), v)
        case .boolean(let v): try appendBasic(&iter, UInt8(ascii: "b"), UInt32(v ? 1 : 0))
        case .int16(let v): try appendBasic(&iter, UInt8(ascii: "n"), v)
        case .uint16(let v): try appendBasic(&iter, UInt8(ascii: "q"), v)
        case .int32(let v): try appendBasic(&iter, UInt8(ascii: "i"), v)
        case .uint32(let v): try appendBasic(&iter, UInt8(ascii: "u"), v)
        case .int64(let v): try appendBasic(&iter, UInt8(ascii: "x"), v)
        case .uint64(let v): try appendBasic(&iter, UInt8(ascii: "t"), v)
        case .double(let v): try appendBasic(&iter, UInt8(ascii: "d"), v)
        case .string(let v): try appendString(&iter, UInt8(ascii: "s"), v)
        case .objectPath(let v): try appendString(&iter, UInt8(ascii: "o"), v.rawValue)
        case .signature(let v): try appendString(&iter, UInt8(ascii: "g"), v.rawValue)
        case .unixFD(let v): try appendBasic(&iter, UInt8(ascii: "h"), Int32(v.rawValue))
        case .array(let element, let items):
            try container(&iter, UInt8(ascii: "a"), element.signature) { (sub) throws(DBusError) in
                if element == .byte {
                    // Fast path: one copy of the whole byte array.
                    var bytes = [UInt8]()
                    bytes.reserveCapacity(items.count)
                    for case .byte(let b) in items { bytes.append(b) }
                    let ok = bytes.withUnsafeBufferPointer { buffer -> Bool in
                        var base = buffer.baseAddress
                        return dbus_message_iter_append_fixed_array(&sub, Int32(UInt8(ascii: "y")), &base, Int32(buffer.count)) != 0
                    }
                    guard ok else { throw DBusError(.noMemory, "cannot append a byte array") }
                } else {
                    for item in items { try write(item, into: &sub) }
                }
            }
        case .dictionary(let key, let valueType, let entries):
            try container(&iter, UInt8(ascii: "a"), "{\(key.signature)\(valueType.signature)}") { (sub) throws(DBusError) in
                for entry in entries {
                    try container(&sub, UInt8(ascii: "e"), nil) { (pair) throws(DBusError) in
                        try write(entry.key, into: &pair)
                        try write(entry.value, into: &pair)
                    }
                }
            }
        case .structure(let fields):
            try container(&iter, UInt8(ascii: "r"), nil) { (sub) throws(DBusError) in
                for field in fields { try write(field, into: &sub) }
            }
        case .variant(let inner):
            try container(&iter, UInt8(ascii: "v"), inner.type.signature) { (sub) throws(DBusError) in
                try write(inner, into: &sub)
            }
        }
    }

    private static func container(
        _ iter: inout DBusMessageIter, _ code: UInt8, _ signature: String?,
        _ body: (inout DBusMessageIter) throws(DBusError) -> Void
    ) throws(DBusError) {
        var sub = DBusMessageIter()
        let opened = withOptionalCString(signature) { dbus_message_iter_open_container(&iter, Int32(code), $0, &sub) }
        guard opened != 0 else { throw DBusError(.noMemory, "cannot open a container") }
        do {
            try body(&sub)
        } catch {
            dbus_message_iter_abandon_container(&iter, &sub)
            throw error
        }
        guard dbus_message_iter_close_container(&iter, &sub) != 0 else {
            throw DBusError(.noMemory, "cannot close a container")
        }
    }

    // MARK: - Reading the body

    /// Decodes every argument, guided by the message's signature.
    func body() throws(DBusError) -> [DBusValue] {
        let signature = signatureString
        if signature.isEmpty { return [] }
        // File descriptors live outside the bytes: only libdbus's iterators can hand them out.
        if dbus_message_contains_unix_fds(raw) != 0 { return try bodyUsingIterators() }
        let types = try Self.bodyTypes(signature)
        return try withWireBytes { bytes throws(DBusError) in
            var decoder = try WireDecoder(message: bytes)
            return try decoder.body(types)
        }
    }

    /// Body signatures parsed so far: a client receives the same few (`a{sa{sv}}` for every
    /// profile) over and over. Bounded: cleared when it holds 256.
    private static let parsedSignatures = Mutex<[String: [DBusType]]>([:])

    static func bodyTypes(_ signature: String) throws(DBusError) -> [DBusType] {
        if let known = parsedSignatures.withLock({ $0[signature] }) { return known }
        let types = try Signature(signature).types
        parsedSignatures.withLock { cache in
            if cache.count >= 256 { cache.removeAll(keepingCapacity: true) }
            cache[signature] = types
        }
        return types
    }

    /// The body decoded through libdbus's iterators: the path for messages carrying file
    /// descriptors, and the reference the byte decoder is tested against.
    func bodyUsingIterators() throws(DBusError) -> [DBusValue] {
        let signature = signatureString
        if signature.isEmpty { return [] }
        var reader = BodyReader()
        let types = try reader.types(of: signature)
        var iter = DBusMessageIter()
        guard dbus_message_iter_init(raw, &iter) != 0 else { return [] }
        var values: [DBusValue] = []
        values.reserveCapacity(types.count)
        for (index, type) in types.enumerated() {
            if index > 0 { dbus_message_iter_next(&iter) }
            values.append(try reader.read(&iter, type))
        }
        return values
    }
}

/// Reads values from a libdbus iterator. Caches parsed variant signatures: NetworkManager's
/// replies carry thousands of variants with a handful of distinct types.
struct BodyReader {
    private var typeCache: [String: DBusType] = [:]

    mutating func types(of signature: String) throws(DBusError) -> [DBusType] {
        try Signature(signature).types
    }

    private mutating func variantType(_ signature: String) throws(DBusError) -> DBusType {
        if let cached = typeCache[signature] { return cached }
        let parsed = try DBusType(signature: signature)
        typeCache[signature] = parsed
        return parsed
    }

    mutating func read(_ iter: inout DBusMessageIter, _ type: DBusType) throws(DBusError) -> DBusValue {
        let actual = dbus_message_iter_get_arg_type(&iter)
        guard actual == Int32(type.typeCode) || (type.typeCode == UInt8(ascii: "r") && actual == Int32(UInt8(ascii: "r"))) else {
            throw DBusError(.typeMismatch, "message body does not match its signature: expected '\(type.signature)'")
        }
        var basic = DBusBasicValue()
        switch type {
        case .byte: dbus_message_iter_get_basic(&iter, &basic); return .byte(basic.byt)
        case .boolean: dbus_message_iter_get_basic(&iter, &basic); return .boolean(basic.bool_val != 0)
        case .int16: dbus_message_iter_get_basic(&iter, &basic); return .int16(basic.i16)
        case .uint16: dbus_message_iter_get_basic(&iter, &basic); return .uint16(basic.u16)
        case .int32: dbus_message_iter_get_basic(&iter, &basic); return .int32(basic.i32)
        case .uint32: dbus_message_iter_get_basic(&iter, &basic); return .uint32(basic.u32)
        case .int64: dbus_message_iter_get_basic(&iter, &basic); return .int64(Int64(basic.i64))
        case .uint64: dbus_message_iter_get_basic(&iter, &basic); return .uint64(UInt64(basic.u64))
        case .double: dbus_message_iter_get_basic(&iter, &basic); return .double(basic.dbl)
        case .string:
            dbus_message_iter_get_basic(&iter, &basic)
            return .string(String(cString: basic.str))
        case .objectPath:
            dbus_message_iter_get_basic(&iter, &basic)
            return .objectPath(ObjectPath(unchecked: String(cString: basic.str)))
        case .signature:
            dbus_message_iter_get_basic(&iter, &basic)
            return .signature(try Signature(String(cString: basic.str)))
        case .unixFD:
            // libdbus hands out a duplicate that the caller owns.
            dbus_message_iter_get_basic(&iter, &basic)
            return .unixFD(DBusUnixFD(takingOwnershipOf: basic.fd))
        case .array(let element):
            var sub = DBusMessageIter()
            dbus_message_iter_recurse(&iter, &sub)
            if element == .byte {
                var pointer: UnsafeMutableRawPointer?
                var count: Int32 = 0
                dbus_message_iter_get_fixed_array(&sub, &pointer, &count)
                guard count > 0, let pointer else { return .array(.byte, []) }
                let bytes = UnsafeBufferPointer(start: pointer.assumingMemoryBound(to: UInt8.self), count: Int(count))
                return .array(.byte, bytes.map { .byte($0) })
            }
            var items: [DBusValue] = []
            while dbus_message_iter_get_arg_type(&sub) != 0 {
                items.append(try read(&sub, element))
                dbus_message_iter_next(&sub)
            }
            return .array(element, items)
        case .dictionary(let key, let value):
            var sub = DBusMessageIter()
            dbus_message_iter_recurse(&iter, &sub)
            var entries: [DBusValue.DictionaryEntry] = []
            while dbus_message_iter_get_arg_type(&sub) != 0 {
                var pair = DBusMessageIter()
                dbus_message_iter_recurse(&sub, &pair)
                let k = try read(&pair, key)
                dbus_message_iter_next(&pair)
                let v = try read(&pair, value)
                entries.append(.init(k, v))
                dbus_message_iter_next(&sub)
            }
            return .dictionary(key: key, value: value, entries)
        case .structure(let fields):
            var sub = DBusMessageIter()
            dbus_message_iter_recurse(&iter, &sub)
            var values: [DBusValue] = []
            values.reserveCapacity(fields.count)
            for (index, field) in fields.enumerated() {
                if index > 0 { dbus_message_iter_next(&sub) }
                values.append(try read(&sub, field))
            }
            return .structure(values)
        case .variant:
            var sub = DBusMessageIter()
            dbus_message_iter_recurse(&iter, &sub)
            guard let cSignature = dbus_message_iter_get_signature(&sub) else {
                throw DBusError(.noMemory, "cannot read a variant's signature")
            }
            let signature = String(cString: cSignature)
            dbus_free(cSignature)
            return .variant(try read(&sub, try variantType(signature)))
        }
    }
}

@inline(__always)
func withOptionalCString<R>(_ string: String?, _ body: (UnsafePointer<CChar>?) throws -> R) rethrows -> R {
    if let string { return try string.withCString { try body($0) } }
    return try body(nil)
}
