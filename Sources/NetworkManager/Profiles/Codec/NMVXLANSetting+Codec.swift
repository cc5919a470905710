import DBus

// The `vxlan` setting on the wire (`a{sv}` of `a{sa{sv}}`), kept out of the codec's main files:
// the codec calls `wireKeys` and `init(wire:)`.
extension NMVXLANSetting {
    /// The typed keys as they go on the wire, `nil` for a key left out (NetworkManager's default).
    var wireKeys: [(key: String, value: DBusValue?)] {
        [("id", .uint32(id)), ("remote", remote.map(DBusValue.string)), ("local", local.map(DBusValue.string)),
         ("destination-port", destinationPort.map { .uint32(UInt32($0)) }), ("parent", parent.map(DBusValue.string))]
    }

    /// Reads the setting from `GetSettings`' keys; unknown keys go to ``extraKeys``.
    init(wire keys: [String: DBusValue]) throws(NMError) {
        var reader = SettingReader(setting: "vxlan", keys: keys)
        let id = try reader.uint32("id") ?? 0
        let remote = try reader.string("remote")
        let local = try reader.string("local")
        let port = try reader.uint32("destination-port")
        if let port, port > UInt32(UInt16.max) {
            throw reader.invalid("destination-port", "\(port) is not a UDP port")
        }
        let parent = try reader.string("parent")
        self.init(id: id, remote: remote, local: local, destinationPort: port.map { UInt16($0) }, parent: parent,
                  extraKeys: reader.remaining)
    }
}
