import DBus
import Foundation
import Testing

/// One `GetSettings` capture made by scripts/capture-fixtures: the settings as
/// `[setting: [key: value]]` (values bare, as NMSettingsCodec takes them), plus the
/// NetworkManager version and the nmcli command that made the profile.
struct SettingsFixture: Sendable, CustomTestStringConvertible {
    let name: String
    let nmVersion: String
    let nmcli: [String]
    let settings: [String: [String: DBusValue]]

    var testDescription: String { name }

    /// Every fixture under Fixtures/GetSettings.
    static let allNames = [
        "seed-eno1", "seed-br0", "seed-port", "ethernet-static", "ethernet-dhcp", "bridge", "bridge-port",
        "vlan", "bond", "dummy", "unknown-keys",
    ]

    static func load(_ name: String) throws -> SettingsFixture {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures/GetSettings") else {
            throw FixtureError("no fixture \(name).json in the test bundle")
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        guard let root = json as? [String: Any], let settings = root["settings"] as? [String: Any] else {
            throw FixtureError("\(name).json: no settings object")
        }
        var result: [String: [String: DBusValue]] = [:]
        for (setting, keys) in settings {
            guard let keys = keys as? [String: Any] else { throw FixtureError("\(name).json: \(setting) is not an object") }
            var converted: [String: DBusValue] = [:]
            for (key, tagged) in keys { converted[key] = try taggedValue(tagged, at: "\(setting).\(key)") }
            result[setting] = converted
        }
        return SettingsFixture(name: name, nmVersion: root["nm-version"] as? String ?? "",
                               nmcli: root["nmcli"] as? [String] ?? [], settings: result)
    }

    /// `{"sig": "...", "value": ...}` → DBusValue (the variant's content).
    static func taggedValue(_ json: Any, at path: String) throws -> DBusValue {
        guard let object = json as? [String: Any], let sig = object["sig"] as? String, let value = object["value"] else {
            throw FixtureError("\(path): not a {sig, value} object")
        }
        return try convert(value, as: DBusType(signature: sig), at: path)
    }

    /// The JSON form capture-fixtures writes, by D-Bus type: numbers, bools, strings; 64-bit
    /// integers as decimal strings; arrays and structs as arrays; dictionaries as arrays of
    /// [key, value] pairs in wire order; variants as {sig, value}.
    static func convert(_ json: Any, as type: DBusType, at path: String) throws -> DBusValue {
        func number() throws -> NSNumber {
            guard let n = json as? NSNumber else { throw FixtureError("\(path): expected a number for \(type)") }
            return n
        }
        func text() throws -> String {
            guard let s = json as? String else { throw FixtureError("\(path): expected a string for \(type)") }
            return s
        }
        switch type {
        case .byte: return .byte(try number().uint8Value)
        case .boolean: return .boolean(try (json as? Bool) ?? number().boolValue)
        case .int16: return .int16(try number().int16Value)
        case .uint16: return .uint16(try number().uint16Value)
        case .int32: return .int32(try number().int32Value)
        case .uint32: return .uint32(try number().uint32Value)
        case .int64:
            guard let v = Int64(try text()) else { throw FixtureError("\(path): bad int64") }
            return .int64(v)
        case .uint64:
            guard let v = UInt64(try text()) else { throw FixtureError("\(path): bad uint64") }
            return .uint64(v)
        case .double: return .double(try number().doubleValue)
        case .string: return .string(try text())
        case .objectPath: return .objectPath(try ObjectPath(try text()))
        case .signature: return .signature(try Signature(try text()))
        case .unixFD: throw FixtureError("\(path): file descriptors cannot be fixtures")
        case .variant: return .variant(try taggedValue(json, at: path))
        case .array(let element):
            guard let items = json as? [Any] else { throw FixtureError("\(path): expected an array") }
            return .array(element, try items.enumerated().map { try convert($1, as: element, at: "\(path)[\($0)]") })
        case .dictionary(let key, let value):
            guard let pairs = json as? [[Any]] else { throw FixtureError("\(path): expected [[key, value]]") }
            return .dictionary(key: key, value: value, try pairs.map { pair in
                guard pair.count == 2 else { throw FixtureError("\(path): a pair has \(pair.count) items") }
                return DBusValue.DictionaryEntry(try convert(pair[0], as: key, at: path), try convert(pair[1], as: value, at: path))
            })
        case .structure(let fields):
            guard let items = json as? [Any], items.count == fields.count else {
                throw FixtureError("\(path): expected a struct of \(fields.count) fields")
            }
            return .structure(try zip(items, fields).map { try convert($0, as: $1, at: path) })
        }
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
