/// A kernel network interface name, such as `eno1` or `br0`: `connection.interface-name`.
///
/// Checked when built, with the kernel's rules as NetworkManager applies them
/// (`nm_utils_ifname_valid_kernel`): 1 to 15 bytes (`IFNAMSIZ` minus the NUL), no `/`, no
/// whitespace, and not `.` or `..`. (The name `InterfaceName` belongs to D-Bus interface
/// names in the `DBus` module.)
public struct NMInterfaceName: Hashable, Sendable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The name's text.
    public let rawValue: String

    /// The kernel's limit: `IFNAMSIZ` (16) minus the terminating NUL.
    public static let maximumLength = 15

    /// - Throws: ``NMError`` with code ``NMError/Code/invalidInterfaceName``.
    public init(_ name: String) throws(NMError) {
        if let problem = Self.problem(name) {
            throw NMError(.invalidInterfaceName, "invalid interface name \"\(name)\": \(problem)",
                          hint: "interface names are 1-15 bytes without '/', ':' or whitespace, such as eno1 or br0")
        }
        rawValue = name
    }

    public init?(rawValue: String) {
        guard Self.problem(rawValue) == nil else { return nil }
        self.rawValue = rawValue
    }

    public init(stringLiteral value: String) {
        do { try self.init(value) } catch { preconditionFailure("\(error)") }
    }

    static func problem(_ name: String) -> String? {
        let bytes = name.utf8.count
        if bytes == 0 { return "it is empty" }
        if bytes > maximumLength { return "it is \(bytes) bytes long, more than the kernel's \(maximumLength)" }
        if name == "." || name == ".." { return "\".\" and \"..\" are reserved" }
        if name.contains("/") { return "it contains '/'" }
        // The kernel's dev_valid_name refuses ':' too (it once separated alias labels).
        if name.contains(":") { return "it contains ':'" }
        if name.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value == 0 }) {
            return "it contains whitespace"
        }
        return nil
    }

    public var description: String { rawValue }
    public static func < (lhs: NMInterfaceName, rhs: NMInterfaceName) -> Bool { lhs.rawValue < rhs.rawValue }
}
