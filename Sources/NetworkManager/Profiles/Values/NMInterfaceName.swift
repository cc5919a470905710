/// A kernel network interface name, such as `eno1` or `br0`: `connection.interface-name`.
///
/// Checked when built, with the rules of the kernel (`dev_valid_name`) and of NetworkManager
/// (`nm_utils_ifname_valid`, which adds the last three), plus one of this library's own:
/// - 1 to 15 bytes (`IFNAMSIZ` minus the NUL);
/// - not `.` or `..`;
/// - no `/`, `:` or whitespace (the kernel's `isspace` includes the byte 0xA0, which is in
///   the UTF-8 of characters such as "à": the kernel refuses such a name);
/// - no `%` (the kernel would take it as a format, `dummy%d`);
/// - not `all`, `default` (directories of `/proc/sys/net/ipv4/conf/`) or `bonding_masters`
///   (a file in `/sys/class/net/`);
/// - no control character (``NMText/isControl(_:)``): the kernel and NetworkManager accept
///   ESC and most other controls, which then reach every terminal that lists interfaces.
///
/// There is deliberately no string-literal conformance: with one, `try NMInterfaceName("x")`
/// is a literal coercion (SE-0213) that traps on a bad name instead of throwing
/// (docs/decisions/0005-interface-names-are-not-string-literals.md). Write
/// `try NMInterfaceName("br0")`; in a call that throws anyway, the one `try` covers both:
/// `try NMConnectionProfile.bridge(name: "br0", interface: NMInterfaceName("br0"))`.
/// (The name `InterfaceName` belongs to D-Bus interface names in the `DBus` module.)
public struct NMInterfaceName: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The name's text.
    public let rawValue: String

    /// The kernel's limit: `IFNAMSIZ` (16) minus the terminating NUL.
    public static let maximumLength = 15

    /// Names NetworkManager refuses although the kernel's grammar allows them.
    public static let reservedNames: Set<String> = ["all", "default", "bonding_masters"]

    /// - Throws: ``NMError`` with code ``NMError/Code/invalidInterfaceName``, the name
    ///   (control characters made visible) and what is wrong with it in the message.
    public init(_ name: String) throws(NMError) {
        if let problem = Self.problem(name) {
            throw NMError(.invalidInterfaceName, "invalid interface name \(NMText.quoted(name)): \(problem)",
                          hint: "interface names are 1-15 bytes without '/', ':', '%', whitespace or control characters, "
                              + "such as eno1 or br0")
        }
        rawValue = name
    }

    public init?(rawValue: String) {
        guard Self.problem(rawValue) == nil else { return nil }
        self.rawValue = rawValue
    }

    /// A name as the system reports it, taken as it is, without the checks of ``init(_:)``.
    ///
    /// For names *read* from NetworkManager or the kernel (``NMDevice/interface``, a profile
    /// summary's interface): the kernel allows names that ``init(_:)`` refuses (an ESC or other
    /// control character, a name NetworkManager reserves), and a read must show such a device
    /// rather than trap or drop it. Never use it for a name you are about to send: check
    /// ``isValid`` or build it with ``init(_:)``.
    public init(unchecked name: String) {
        rawValue = name
    }

    /// Whether the name passes the checks of ``init(_:)`` (a name read with
    /// ``init(unchecked:)`` may not).
    public var isValid: Bool { Self.problem(rawValue) == nil }

    /// What is wrong with `name` as an interface name, or `nil` if nothing is.
    public static func problem(_ name: String) -> String? {
        let bytes = name.utf8.count
        if bytes == 0 { return "it is empty" }
        if bytes > maximumLength { return "it is \(bytes) bytes long, more than the kernel's \(maximumLength)" }
        if name == "." || name == ".." { return "\".\" and \"..\" are reserved" }
        if reservedNames.contains(name) { return "NetworkManager reserves \"\(name)\"" }
        if let control = NMText.firstControl(in: name) { return "it contains the control character \(NMText.visible(control))" }
        for forbidden in ["/", ":", "%"] where name.contains(forbidden) {
            return "it contains '\(forbidden)'"
        }
        if name.unicodeScalars.contains(where: \.properties.isWhitespace) { return "it contains whitespace" }
        // The kernel's isspace() is Latin-1's: 0xA0 (no-break space) counts, even as a byte
        // inside a UTF-8 sequence.
        if name.utf8.contains(0xA0) { return "it contains the byte 0xA0, which the kernel takes for a space" }
        return nil
    }

    public var description: String { rawValue }
    public static func < (lhs: NMInterfaceName, rhs: NMInterfaceName) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A name encodes as its text. Decoding checks it as ``NMInterfaceName/init(_:)`` does (a name
/// in a profile or a transaction is input); the types that hold names read from the system
/// (``NMDevice``, ``NMProfileSummary``) decode theirs with ``NMInterfaceName/init(unchecked:)``.
extension NMInterfaceName: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
