/// The JSON (or any `Codable`) form of a D-Bus value: its signature and a structured payload,
/// `{"signature": "u", "value": 24}`, so that it decodes back to the same typed value.
///
/// The payload is plain structured data, guided by the signature: numbers for the integer and
/// double types, `true`/`false` for `b`, strings for `s`, `o` and `g`, lists for arrays and
/// structs, objects for dictionaries with string keys (`a{sv}`: `{"key": ...}`) and lists of
/// `[key, value]` pairs for other dictionaries, and a variant as a nested
/// `{"signature": ..., "value": ...}`. The GVariant-like ``description`` stays the text form
/// for people.
///
/// Two limits, both of the JSON side: a dictionary with string keys comes back with its
/// entries sorted by key (D-Bus dictionaries are maps; the order on the wire carries no
/// meaning), and a Unix file descriptor (`h`) cannot be encoded (it is a process's resource,
/// not data).
extension DBusValue: Codable {
    private enum Keys: String, CodingKey { case signature, value }

    public init(from decoder: any Decoder) throws {
        let tree = try JSONTree(from: decoder)
        do {
            self = try tree.variantContent()
        } catch let problem as JSONTree.Problem {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: problem.text))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(type.signature, forKey: .signature)
        try container.encode(Payload(self), forKey: .value)
    }

    /// A value without its signature, decoded against a type known from elsewhere.
    struct Payload: Encodable {
        var value: DBusValue
        init(_ value: DBusValue) { self.value = value }

        private struct Key: CodingKey {
            var stringValue: String
            init(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }

        func encode(to encoder: any Encoder) throws {
            switch value {
            case .byte(let v): var c = encoder.singleValueContainer(); try c.encode(v)
            case .boolean(let v): var c = encoder.singleValueContainer(); try c.encode(v)
            case .int16(let v): var c = encoder.singleValueContainer(); try c.encode(v)
            case .uint16(let v): var c = encoder.singleValueContainer(); try c.encode(v)
            case .int32(let v): var c = encoder.singleValueContainer(); try c.encode(v)
            case .uint32(let v): var c = encoder.singleValueContainer(); try c.encode(v)
            case .int64(let v): var c = encoder.singleValueContainer(); try c.encode(v)
            case .uint64(let v): var c = encoder.singleValueContainer(); try c.encode(v)
            case .double(let v): var c = encoder.singleValueContainer(); try c.encode(v)
            case .string(let v): var c = encoder.singleValueContainer(); try c.encode(v)
            case .objectPath(let v): var c = encoder.singleValueContainer(); try c.encode(v.rawValue)
            case .signature(let v): var c = encoder.singleValueContainer(); try c.encode(v.rawValue)
            case .unixFD:
                throw EncodingError.invalidValue(value, .init(codingPath: encoder.codingPath,
                    debugDescription: "a Unix file descriptor (h) has no JSON form"))
            case .array(_, let items), .structure(let items):
                var c = encoder.unkeyedContainer()
                for item in items { try c.encode(Payload(item)) }
            case .dictionary(let key, _, let entries) where key == .string:
                var c = encoder.container(keyedBy: Key.self)
                for entry in entries {
                    guard case .string(let name) = entry.key else { continue }
                    try c.encode(Payload(entry.value), forKey: Key(stringValue: name))
                }
            case .dictionary(_, _, let entries):
                var c = encoder.unkeyedContainer()
                for entry in entries {
                    var pair = c.nestedUnkeyedContainer()
                    try pair.encode(Payload(entry.key))
                    try pair.encode(Payload(entry.value))
                }
            case .variant(let inner):
                try inner.encode(to: encoder)
            }
        }
    }

    /// Any JSON value, decoded without knowing its D-Bus type; ``value(as:)`` then reads it as
    /// one. (The payload's type comes from the signature beside it, which a plain `Decodable`
    /// cannot be handed.)
    enum JSONTree: Decodable {
        case bool(Bool), int(Int64), uint(UInt64), double(Double), string(String)
        case list([JSONTree]), object([String: JSONTree])

        struct Problem: Error { var text: String }

        init(from decoder: any Decoder) throws {
            if let c = try? decoder.singleValueContainer() {
                if let v = try? c.decode(Bool.self) { self = .bool(v); return }
                if let v = try? c.decode(Int64.self) { self = .int(v); return }
                if let v = try? c.decode(UInt64.self) { self = .uint(v); return }
                if let v = try? c.decode(Double.self) { self = .double(v); return }
                if let v = try? c.decode(String.self) { self = .string(v); return }
            }
            if var c = try? decoder.unkeyedContainer() {
                var items: [JSONTree] = []
                while !c.isAtEnd { items.append(try c.decode(JSONTree.self)) }
                self = .list(items)
                return
            }
            let c = try decoder.container(keyedBy: AnyKey.self)
            var fields: [String: JSONTree] = [:]
            for key in c.allKeys { fields[key.stringValue] = try c.decode(JSONTree.self, forKey: key) }
            self = .object(fields)
        }

        struct AnyKey: CodingKey {
            var stringValue: String
            init(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }

        /// `{"signature": ..., "value": ...}` as the value it describes.
        func variantContent() throws -> DBusValue {
            guard case .object(let fields) = self, case .string(let signature)? = fields["signature"], let payload = fields["value"] else {
                throw Problem(text: "a D-Bus value is {\"signature\": ..., \"value\": ...}")
            }
            let type: DBusType
            do {
                type = try DBusType(signature: signature)
            } catch {
                throw Problem(text: error.message)
            }
            return try payload.value(as: type)
        }

        func value(as type: DBusType) throws -> DBusValue {
            func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
                switch self {
                case .int(let v): if let exact = T(exactly: v) { return exact }
                case .uint(let v): if let exact = T(exactly: v) { return exact }
                case .double(let v): if let exact = T(exactly: v) { return exact }
                default: break
                }
                throw Problem(text: "\(self) is not a value of type '\(type.signature)'")
            }
            func text() throws -> String {
                guard case .string(let v) = self else { throw Problem(text: "\(self) is not a string (type '\(type.signature)')") }
                return v
            }
            func list() throws -> [JSONTree] {
                guard case .list(let v) = self else { throw Problem(text: "\(self) is not a list (type '\(type.signature)')") }
                return v
            }
            switch type {
            case .byte: return .byte(try integer(UInt8.self))
            case .int16: return .int16(try integer(Int16.self))
            case .uint16: return .uint16(try integer(UInt16.self))
            case .int32: return .int32(try integer(Int32.self))
            case .uint32: return .uint32(try integer(UInt32.self))
            case .int64: return .int64(try integer(Int64.self))
            case .uint64: return .uint64(try integer(UInt64.self))
            case .boolean:
                guard case .bool(let v) = self else { throw Problem(text: "\(self) is not true or false") }
                return .boolean(v)
            case .double:
                switch self {
                case .double(let v): return .double(v)
                case .int(let v): return .double(Double(v))
                case .uint(let v): return .double(Double(v))
                default: throw Problem(text: "\(self) is not a number")
                }
            case .string: return .string(try text())
            case .objectPath:
                let v = try text()
                guard let path = ObjectPath(rawValue: v) else { throw Problem(text: "invalid object path \"\(v)\"") }
                return .objectPath(path)
            case .signature:
                let v = try text()
                guard let signature = Signature(rawValue: v) else { throw Problem(text: "invalid signature \"\(v)\"") }
                return .signature(signature)
            case .unixFD:
                throw Problem(text: "a Unix file descriptor (h) has no JSON form")
            case .variant:
                return .variant(try variantContent())
            case .array(let element):
                return .array(element, try list().map { try $0.value(as: element) })
            case .structure(let fields):
                let items = try list()
                guard items.count == fields.count else {
                    throw Problem(text: "a struct '\(type.signature)' has \(fields.count) fields, not \(items.count)")
                }
                return .structure(try zip(items, fields).map { try $0.value(as: $1) })
            case .dictionary(let key, let valueType) where key == .string:
                guard case .object(let fields) = self else { throw Problem(text: "\(self) is not an object (type '\(type.signature)')") }
                return .dictionary(key: key, value: valueType, try fields.keys.sorted().map { name in
                    DictionaryEntry(.string(name), try fields[name]!.value(as: valueType))
                })
            case .dictionary(let key, let valueType):
                return .dictionary(key: key, value: valueType, try list().map { pair in
                    guard case .list(let kv) = pair, kv.count == 2 else { throw Problem(text: "a dictionary entry is [key, value]") }
                    return DictionaryEntry(try kv[0].value(as: key), try kv[1].value(as: valueType))
                })
            }
        }
    }
}

/// An object path encodes as its text, and is a JSON object key where it keys a dictionary;
/// decoding checks it.
extension ObjectPath: Codable, CodingKeyRepresentable {
    public var codingKey: any CodingKey { DBusValue.JSONTree.AnyKey(stringValue: rawValue) }

    public init?<T: CodingKey>(codingKey: T) {
        guard let path = ObjectPath(rawValue: codingKey.stringValue) else { return nil }
        self = path
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let path = ObjectPath(rawValue: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "invalid object path \"\(text)\"")
        }
        self = path
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
