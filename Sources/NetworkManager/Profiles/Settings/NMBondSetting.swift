public import DBus

/// The `bond` setting: `bond.options`, a string map such as `mode=active-backup,miimon=100`.
public struct NMBondSetting: Hashable, Sendable, Codable {
    /// `bond.options` (`a{ss}`), verbatim. ``mode`` reads and writes its `mode` entry.
    public var options: [String: String]
    /// Keys this library does not model, sent back exactly as read.
    public var extraKeys: [String: DBusValue]

    public init(mode: NMBondMode? = nil, options: [String: String] = [:], extraKeys: [String: DBusValue] = [:]) {
        self.options = options
        self.extraKeys = extraKeys
        if let mode { self.mode = mode }
    }

    /// The bond mode: `bond.options["mode"]`. The kernel's numbers (`"1"`) read as their names.
    /// NetworkManager's default is `balance-rr`.
    public var mode: NMBondMode? {
        get {
            guard let text = options["mode"] else { return nil }
            if let number = Int(text), NMBondMode.known.indices.contains(number) { return NMBondMode.known[number] }
            return NMBondMode(rawValue: text)
        }
        set { options["mode"] = newValue?.rawValue }
    }
}
