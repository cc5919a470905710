import DBus

// The JSON (`Codable`) forms of the NetworkManager module's values: what a tool stores, logs
// or hands to other programs. Values with a text form encode as that text (addresses, MACs,
// enumerations as their wire words, interface names); numeric codes and flags as their
// numbers; unmodelled settings and keys as ``DBus/DBusValue``'s structured form (signature and
// value), so that a profile decodes back to the same profile.

// MARK: Values with a text form

/// Encodes `value` as its text.
private func encodeText(_ text: String, to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(text)
}

/// Decodes a text and parses it with `parse`; a parse failure is a `DecodingError` with the
/// parser's message.
private func decodeText<T>(from decoder: any Decoder, _ parse: (String) throws(NMError) -> T) throws -> T {
    let container = try decoder.singleValueContainer()
    let text = try container.decode(String.self)
    do {
        return try parse(text)
    } catch {
        throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
    }
}

extension IPv4Address: Codable {
    public init(from decoder: any Decoder) throws { self = try decodeText(from: decoder) { text throws(NMError) in try IPv4Address(text) } }
    public func encode(to encoder: any Encoder) throws { try encodeText(description, to: encoder) }
}

extension IPv6Address: Codable {
    public init(from decoder: any Decoder) throws { self = try decodeText(from: decoder) { text throws(NMError) in try IPv6Address(text) } }
    public func encode(to encoder: any Encoder) throws { try encodeText(description, to: encoder) }
}

/// `"192.0.2.10/24"`; also a JSON object key (``addressAttributes``).
extension IPAddressWithPrefix: Codable, CodingKeyRepresentable {
    public init(from decoder: any Decoder) throws { self = try decodeText(from: decoder) { text throws(NMError) in try Self(text) } }
    public func encode(to encoder: any Encoder) throws { try encodeText(description, to: encoder) }
    public var codingKey: any CodingKey { TextKey(description) }
    public init?<T: CodingKey>(codingKey: T) {
        guard let value = try? Self(codingKey.stringValue) else { return nil }
        self = value
    }
}

private struct TextKey: CodingKey {
    var stringValue: String
    init(_ text: String) { stringValue = text }
    init?(stringValue: String) { self.stringValue = stringValue }
    var intValue: Int? { nil }
    init?(intValue: Int) { nil }
}

extension MACAddress: Codable {
    public init(from decoder: any Decoder) throws { self = try decodeText(from: decoder) { text throws(NMError) in try MACAddress(text) } }
    public func encode(to encoder: any Encoder) throws { try encodeText(description, to: encoder) }
}

extension NMVersion: Codable {
    public init(from decoder: any Decoder) throws {
        self = try decodeText(from: decoder) { text throws(NMError) in
            guard let version = NMVersion(text) else { throw NMError(.invalidSettings, "invalid NetworkManager version \"\(text)\"") }
            return version
        }
    }
    public func encode(to encoder: any Encoder) throws { try encodeText(rawValue, to: encoder) }
}

// Wire words (`connection.type`, `ipv4.method`, ...): RawRepresentable with a String raw value.
extension NMBondMode: Codable {}
extension NMDHCPClientID: Codable {}
extension NMIPv4Method: Codable {}
extension NMIPv6Method: Codable {}
extension NMPortType: Codable {}
extension NMAssignedMACAddress: Codable {
    public init(from decoder: any Decoder) throws { self.init(rawValue: try decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: any Encoder) throws { try encodeText(rawValue, to: encoder) }
}

// Numeric codes and flags: their numbers.
extension NMDeviceType: Codable {}
extension NMDeviceState: Codable {}
extension NMActiveConnectionState: Codable {}
extension NMActivationStateFlags: Codable {}
extension NMSettingsConnectionFlags: Codable {}
extension NMVLANFlags: Codable {}

// MARK: Profiles


// MARK: Host objects

extension NMDevice: Codable {
    private enum CodingKeys: String, CodingKey {
        case path, interface, type, state, managed, hardwareAddress, activeConnection, isReal
    }

    /// The interface name is taken as it is (``NMInterfaceName/init(unchecked:)``): a device
    /// read from NetworkManager may have a name a profile could not use, and must decode back.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decode(ObjectPath.self, forKey: .path)
        interface = NMInterfaceName(unchecked: try c.decode(String.self, forKey: .interface))
        type = try c.decode(NMDeviceType.self, forKey: .type)
        state = try c.decode(NMDeviceState.self, forKey: .state)
        managed = try c.decode(Bool.self, forKey: .managed)
        hardwareAddress = try c.decodeIfPresent(String.self, forKey: .hardwareAddress)
        activeConnection = try c.decodeIfPresent(ObjectPath.self, forKey: .activeConnection)
        isReal = try c.decode(Bool.self, forKey: .isReal)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(path, forKey: .path)
        try c.encode(interface.rawValue, forKey: .interface)
        try c.encode(type, forKey: .type)
        try c.encode(state, forKey: .state)
        try c.encode(managed, forKey: .managed)
        try c.encodeIfPresent(hardwareAddress, forKey: .hardwareAddress)
        try c.encodeIfPresent(activeConnection, forKey: .activeConnection)
        try c.encode(isReal, forKey: .isReal)
    }
}

extension NMProfileSummary: Codable {
    private enum CodingKeys: String, CodingKey { case path, name, uuid, type, interfaceName, filename, unsaved }

    /// The interface name is taken as it is, as for ``NMDevice``.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decode(ObjectPath.self, forKey: .path)
        name = try c.decode(String.self, forKey: .name)
        uuid = try c.decode(UUID.self, forKey: .uuid)
        type = try c.decode(NMConnectionType.self, forKey: .type)
        interfaceName = try c.decodeIfPresent(String.self, forKey: .interfaceName).map(NMInterfaceName.init(unchecked:))
        filename = try c.decodeIfPresent(String.self, forKey: .filename)
        unsaved = try c.decode(Bool.self, forKey: .unsaved)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(path, forKey: .path)
        try c.encode(name, forKey: .name)
        try c.encode(uuid, forKey: .uuid)
        try c.encode(type, forKey: .type)
        try c.encodeIfPresent(interfaceName?.rawValue, forKey: .interfaceName)
        try c.encodeIfPresent(filename, forKey: .filename)
        try c.encode(unsaved, forKey: .unsaved)
    }
}


// MARK: Errors

/// `{"code", "domain", "message", "hint", "dbusError": {"name", "message", "code", "hint"}}`. A transaction's
/// failure report (``NMError/transaction``) is not part of it: it holds the host's state and
/// the run's steps, which a report of its own carries (``NMTransactionError``'s description).
extension NMError: Codable {
    private enum CodingKeys: String, CodingKey { case code, domain, message, hint, dbusError }
    private enum DBusKeys: String, CodingKey { case name, message, code, hint, outcomeUnknown }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(Code(rawValue: try c.decode(String.self, forKey: .code)), try c.decode(String.self, forKey: .message),
                  hint: try c.decodeIfPresent(String.self, forKey: .hint),
                  domain: Domain(rawValue: try c.decode(String.self, forKey: .domain)))
        if c.contains(.dbusError) {
            let d = try c.nestedContainer(keyedBy: DBusKeys.self, forKey: .dbusError)
            dbusError = DBusError(DBusError.Code(rawValue: try d.decode(String.self, forKey: .code)),
                                  try d.decode(String.self, forKey: .message), name: try d.decodeIfPresent(String.self, forKey: .name),
                                  hint: try d.decodeIfPresent(String.self, forKey: .hint),
                                  outcomeUnknown: try d.decodeIfPresent(Bool.self, forKey: .outcomeUnknown) ?? false)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(code.rawValue, forKey: .code)
        try c.encode(domain.rawValue, forKey: .domain)
        try c.encode(message, forKey: .message)
        try c.encodeIfPresent(hint, forKey: .hint)
        if let dbusError {
            var d = c.nestedContainer(keyedBy: DBusKeys.self, forKey: .dbusError)
            try d.encodeIfPresent(dbusError.name, forKey: .name)
            try d.encode(dbusError.message, forKey: .message)
            try d.encode(dbusError.code.rawValue, forKey: .code)
            try d.encodeIfPresent(dbusError.hint, forKey: .hint)
            if dbusError.outcomeUnknown { try d.encode(true, forKey: .outcomeUnknown) }
        }
    }
}
