public import DBus

/// Converts between ``NMConnectionProfile`` and NetworkManager's wire form, `a{sa{sv}}`
/// (`[setting: [key: value]]`), for the version of NetworkManager that will read it.
///
/// ```swift
/// let codec = NMSettingsCodec(version: try await nm.version())
/// let profile = try codec.decode(settingsFromGetSettings)
/// let wire = try codec.encode(profile)       // for AddConnection2 / Update2
/// ```
///
/// **Writing.** NetworkManager parses incoming settings strictly and rejects keys it does not
/// know, so the encoder never sends a key newer than ``version``: it keeps a per-key "since"
/// table (``since(setting:key:)``), leaves out newer keys whose value is empty or default, and
/// otherwise throws ``NMError/Code/unsupportedByVersion`` ("NetworkManager 1.16 lacks
/// bridge.vlan-filtering"). Choices, each documented in docs/networkmanager-quirks.md:
/// - DNS servers go as `dns-data` (`as`) from 1.42 and as the legacy `dns` below it, never
///   both (when both arrive, NetworkManager prefers the legacy `dns`). The legacy IPv4 form is an
///   `au` whose numbers hold the octets in memory order (``IPv4Address/inAddr``).
/// - Addresses and routes always go as `address-data` + `gateway` + `route-data`; the legacy
///   `addresses` / `routes` are never sent (sending them makes NetworkManager ignore the others).
/// - A port's controller always goes as the legacy `master` / `slave-type` /
///   `autoconnect-slaves`: every version reads them, the daemon prefers them over 1.46's
///   `controller` / `port-type` / `autoconnect-ports` when both are present, and `GetSettings`
///   only ever returns the legacy names.
/// - Settings and keys the model does not type are sent back exactly as they were read.
///
/// **Reading** accepts both the legacy and the new forms, prefers the new typed forms
/// (`address-data` over `addresses`, `dns-data` over `dns`) but the legacy `master` over
/// `controller` (as the daemon does), and tolerates missing keys: NetworkManager omits keys that
/// hold their default value.
public struct NMSettingsCodec: Sendable {
    /// The NetworkManager version the encoded settings are for.
    public let version: NMVersion

    public init(version: NMVersion) { self.version = version }

    /// The newest NetworkManager version whose keys this codec knows.
    public static let newestKnownVersion = NMVersion(1, 56)

    /// Reads a profile from `GetSettings` output. Values may be bare or wrapped in one variant.
    /// - Throws: ``NMError`` with ``NMError/Code/invalidSettings`` when a typed key has the
    ///   wrong D-Bus type or an unparseable value.
    public func decode(_ settings: [String: [String: DBusValue]]) throws(NMError) -> NMConnectionProfile {
        try Decoder(settings: settings).decode()
    }

    /// Reads a profile from `GetSettings` output decoded as variants.
    public func decode(_ settings: [String: [String: DBusVariant]]) throws(NMError) -> NMConnectionProfile {
        try decode(settings.mapValues { $0.mapValues(\.value) })
    }

    /// Reads a profile from the `a{sa{sv}}` value itself.
    public func decode(_ value: DBusValue) throws(NMError) -> NMConnectionProfile {
        try decode(Self.settings(fromWire: value))
    }

    /// The wire form of `profile` for NetworkManager ``version``, after
    /// ``NMConnectionProfile/validateStructure()``. Values are bare (not wrapped in variants);
    /// ``wireValue(_:)`` builds the `a{sa{sv}}` to send.
    ///
    /// Only the structural rules: profiles read from NetworkManager are written back through
    /// here too (superseded, restored), whatever another tool put in them. New profiles get
    /// every rule from their builder or ``NMConnectionProfile/validate()``.
    /// - Throws: ``NMError`` when the profile is invalid or needs a key ``version`` lacks.
    public func encode(_ profile: NMConnectionProfile) throws(NMError) -> [String: [String: DBusValue]] {
        try profile.validateStructure()
        var encoder = Encoder(version: version, checkVersions: true)
        return try encoder.encode(profile)
    }

    /// `settings` as one `a{sa{sv}}` value, each value wrapped in a variant, for
    /// `AddConnection2`, `Update2` or `Reapply`. Entries are sorted by name.
    public static func wireValue(_ settings: [String: [String: DBusValue]]) -> DBusValue {
        let inner = DBusType.dictionary(key: .string, value: .variant)
        let entries = settings.keys.sorted().map { name in
            let keys = settings[name] ?? [:]
            return DBusValue.DictionaryEntry(
                .string(name),
                .dictionary(key: .string, value: .variant, keys.keys.sorted().map { key in
                    let value = keys[key]!
                    if case .variant = value { return DBusValue.DictionaryEntry(.string(key), value) }
                    return DBusValue.DictionaryEntry(.string(key), .variant(value))
                }))
        }
        return .dictionary(key: .string, value: inner, entries)
    }

    /// The settings in an `a{sa{sv}}` value, each value with its variant removed.
    /// - Throws: ``NMError`` with ``NMError/Code/invalidSettings`` when `value` is not an `a{sa{sv}}`.
    public static func settings(fromWire value: DBusValue) throws(NMError) -> [String: [String: DBusValue]] {
        guard case .dictionary(.string, .dictionary(.string, .variant), let entries) = value.unwrapped else {
            throw NMError(.invalidSettings, "expected settings of type a{sa{sv}}, found \(value.type.signature)")
        }
        var result: [String: [String: DBusValue]] = [:]
        result.reserveCapacity(entries.count)
        for entry in entries {
            guard case .string(let name) = entry.key, case .dictionary(_, _, let keys) = entry.value else { continue }
            var setting: [String: DBusValue] = [:]
            setting.reserveCapacity(keys.count)
            for pair in keys {
                guard case .string(let key) = pair.key else { continue }
                if case .variant(let inner) = pair.value { setting[key] = inner } else { setting[key] = pair.value }
            }
            result[name] = setting
        }
        return result
    }
}
