import DBus

extension NMConnectionProfile: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Whether a settings key holds a secret (`psk`, `password`, `*-secret*`, `wep-key0`,
    /// `pin`, `private-key`, `preshared-key`, ...). Its `*-flags` companion is not a secret.
    /// Descriptions of profiles print such values as `<hidden>`.
    public static func isSecretKey(_ key: String) -> Bool {
        let key = key.lowercased()
        if key.hasSuffix("-flags") || key == "wep-key-type" || key == "wep-tx-keyidx" { return false }
        if key.hasPrefix("wep-key") { return true }
        if key == "pin" || key == "puk" { return true }
        return ["psk", "password", "secret", "private-key", "preshared-key"].contains { key.contains($0) }
    }

    /// A one-line summary: name, type, interface, UUID, controller and IP methods. It never
    /// contains secrets.
    public var description: String {
        var parts = ["\(connection.type)"]
        if let interfaceName { parts.append("interface \(interfaceName)") }
        if let controller = connection.controller {
            parts.append("port of \(controller)" + (connection.portType.map { " (\($0))" } ?? ""))
        }
        if let ipv4 {
            parts.append("ipv4 \(ipv4.method)" + (ipv4.addresses.isEmpty ? "" : " " + ipv4.addresses.map(\.description).joined(separator: ",")))
        }
        if let ipv6 {
            parts.append("ipv6 \(ipv6.method)" + (ipv6.addresses.isEmpty ? "" : " " + ipv6.addresses.map(\.description).joined(separator: ",")))
        }
        parts.append("uuid \(connection.uuid.uuidString.lowercased())")
        return "NMConnectionProfile \"\(connection.id)\" (" + parts.joined(separator: ", ") + ")"
    }

    /// Every setting and key, one `setting.key = value` per line, sorted, with secret values
    /// (``isSecretKey(_:)``, also inside nested dictionaries) shown as `<hidden>`.
    public var debugDescription: String {
        maskedSettings.map { "\($0.setting).\($0.key) = \($0.value)" }.joined(separator: "\n")
    }

    /// The settings as masked text, so `dump(profile)` and debuggers print no secrets either.
    public var customMirror: Mirror {
        Mirror(self, children: maskedSettings.map { (label: "\($0.setting).\($0.key)", value: $0.value as Any) },
               displayStyle: .struct)
    }

    private var maskedSettings: [(setting: String, key: String, value: String)] {
        var encoder = NMSettingsCodec.Encoder(version: NMSettingsCodec.newestKnownVersion, checkVersions: false)
        let settings = (try? encoder.encode(self)) ?? unknownSettings
        var lines: [(String, String, String)] = []
        for name in settings.keys.sorted() {
            let keys = settings[name] ?? [:]
            for key in keys.keys.sorted() {
                let text = Self.isSecretKey(key) ? "<hidden>" : Self.masked(keys[key]!)
                lines.append((name, key, text))
            }
        }
        return lines
    }

    static func masked(_ value: DBusValue) -> String {
        switch value {
        case .dictionary(.string, _, let entries):
            if entries.isEmpty { return value.description }
            return "{" + entries.map { entry in
                guard case .string(let key) = entry.key else { return "\(entry.key): \(masked(entry.value))" }
                return "'\(key)': " + (isSecretKey(key) ? "<hidden>" : masked(entry.value))
            }.joined(separator: ", ") + "}"
        case .array(_, let items) where !items.isEmpty:
            return "[" + items.map(masked).joined(separator: ", ") + "]"
        case .variant(let inner):
            return "<\(masked(inner))>"
        case .structure(let fields):
            return "(" + fields.map(masked).joined(separator: ", ") + ")"
        default:
            return value.description
        }
    }
}
