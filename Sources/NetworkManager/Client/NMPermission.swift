/// What NetworkManager answers for one polkit action when asked what the caller may do:
/// one value of the `org.freedesktop.NetworkManager.GetPermissions` reply.
public struct NMPermission: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// `yes`: allowed.
    public static let yes = NMPermission(rawValue: "yes")
    /// `no`: refused.
    public static let no = NMPermission(rawValue: "no")
    /// `auth`: allowed once the user authenticates to a polkit agent (interactively).
    public static let auth = NMPermission(rawValue: "auth")

    public var description: String { rawValue }
}
