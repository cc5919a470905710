import DBus

/// Takes typed keys out of one setting's dictionary; what is left are the keys the model does
/// not know (`extraKeys`). Every accessor throws ``NMError/Code/invalidSettings`` naming the
/// key when the value has the wrong D-Bus type.
struct SettingReader {
    let setting: String
    private(set) var remaining: [String: DBusValue]

    init(setting: String, keys: [String: DBusValue]) {
        self.setting = setting
        // One variant layer (a{sv}'s own) is removed; the rest is kept as sent.
        remaining = keys.mapValues { value in
            if case .variant(let inner) = value { return inner }
            return value
        }
    }

    /// Removes `key` and returns its value, if present.
    mutating func take(_ key: String) -> DBusValue? { remaining.removeValue(forKey: key) }

    func has(_ key: String) -> Bool { remaining[key] != nil }

    func mismatch(_ key: String, _ expected: String, _ value: DBusValue) -> NMError {
        NMError(.invalidSettings, "\(setting).\(key): expected a value of type '\(expected)', found '\(value.type.signature)' (\(value))",
                hint: "the settings do not look like NetworkManager's; check the source of the dictionary")
    }

    func invalid(_ key: String, _ problem: String) -> NMError {
        NMError(.invalidSettings, "\(setting).\(key): \(problem)")
    }

    mutating func string(_ key: String) throws(NMError) -> String? {
        guard let value = take(key) else { return nil }
        guard case .string(let text) = value else { throw mismatch(key, "s", value) }
        return text
    }

    mutating func bool(_ key: String) throws(NMError) -> Bool? {
        guard let value = take(key) else { return nil }
        guard case .boolean(let flag) = value else { throw mismatch(key, "b", value) }
        return flag
    }

    mutating func uint32(_ key: String) throws(NMError) -> UInt32? {
        guard let value = take(key) else { return nil }
        guard case .uint32(let number) = value else { throw mismatch(key, "u", value) }
        return number
    }

    mutating func uint16(fromU32 key: String) throws(NMError) -> UInt16? {
        guard let number = try uint32(key) else { return nil }
        guard let small = UInt16(exactly: number) else { throw invalid(key, "\(number) is larger than 65535") }
        return small
    }

    mutating func int32(_ key: String) throws(NMError) -> Int32? {
        guard let value = take(key) else { return nil }
        guard case .int32(let number) = value else { throw mismatch(key, "i", value) }
        return number
    }

    mutating func int64(_ key: String) throws(NMError) -> Int64? {
        guard let value = take(key) else { return nil }
        guard case .int64(let number) = value else { throw mismatch(key, "x", value) }
        return number
    }

    mutating func seconds(_ key: String) throws(NMError) -> Duration? {
        try uint32(key).map { .seconds(Int64($0)) }
    }

    mutating func bytes(_ key: String) throws(NMError) -> [UInt8]? {
        guard let value = take(key) else { return nil }
        return try Self.bytes(value, key: key, reader: self)
    }

    static func bytes(_ value: DBusValue, key: String, reader: SettingReader) throws(NMError) -> [UInt8] {
        guard case .array(.byte, let items) = value else { throw reader.mismatch(key, "ay", value) }
        var out: [UInt8] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard case .byte(let byte) = item else { throw reader.mismatch(key, "ay", value) }
            out.append(byte)
        }
        return out
    }

    mutating func strings(_ key: String) throws(NMError) -> [String]? {
        guard let value = take(key) else { return nil }
        guard case .array(.string, let items) = value else { throw mismatch(key, "as", value) }
        var out: [String] = []
        for item in items {
            guard case .string(let text) = item else { throw mismatch(key, "as", value) }
            out.append(text)
        }
        return out
    }

    mutating func uint32s(_ key: String) throws(NMError) -> [UInt32]? {
        guard let value = take(key) else { return nil }
        return try Self.uint32s(value, key: key, reader: self)
    }

    static func uint32s(_ value: DBusValue, key: String, reader: SettingReader) throws(NMError) -> [UInt32] {
        guard case .array(.uint32, let items) = value else { throw reader.mismatch(key, "au", value) }
        var out: [UInt32] = []
        for item in items {
            guard case .uint32(let number) = item else { throw reader.mismatch(key, "au", value) }
            out.append(number)
        }
        return out
    }

    /// An `aa{sv}` (such as `address-data`) as dictionaries with their variants removed.
    mutating func dictionaries(_ key: String) throws(NMError) -> [[String: DBusValue]]? {
        guard let value = take(key) else { return nil }
        guard case .array(.dictionary(.string, .variant), let items) = value else { throw mismatch(key, "aa{sv}", value) }
        var out: [[String: DBusValue]] = []
        for item in items {
            guard case .dictionary(_, _, let entries) = item else { throw mismatch(key, "aa{sv}", value) }
            var dict: [String: DBusValue] = [:]
            for entry in entries {
                guard case .string(let name) = entry.key else { throw mismatch(key, "aa{sv}", value) }
                if case .variant(let inner) = entry.value { dict[name] = inner } else { dict[name] = entry.value }
            }
            out.append(dict)
        }
        return out
    }

    /// An array of structs or arrays (legacy `aau`, `a(ayuay)`), as their fields.
    mutating func records(_ key: String, signature: String) throws(NMError) -> [[DBusValue]]? {
        guard let value = take(key) else { return nil }
        guard case .array(_, let items) = value, value.type.signature == signature else {
            throw mismatch(key, signature, value)
        }
        return items.map { item in
            switch item {
            case .array(_, let fields), .structure(let fields): return fields
            default: return [item]
            }
        }
    }

    mutating func stringMap(_ key: String) throws(NMError) -> [String: String]? {
        guard let value = take(key) else { return nil }
        guard case .dictionary(.string, .string, let entries) = value else { throw mismatch(key, "a{ss}", value) }
        var out: [String: String] = [:]
        for entry in entries {
            guard case .string(let name) = entry.key, case .string(let text) = entry.value else {
                throw mismatch(key, "a{ss}", value)
            }
            out[name] = text
        }
        return out
    }
}
