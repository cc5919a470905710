/// What the caller may do, asked without trying.
extension NMClient {
    /// NetworkManager's answer, for each polkit action it checks, to "may this caller do it?":
    /// a way to refuse a change up front, before anything is touched, instead of failing half
    /// way. Keys are the actions of ``NMError/PolkitAction`` (and others).
    ///
    /// With `auth-polkit=root-only` (no polkit daemon) root gets `yes` and every other user
    /// `no`; with polkit, `auth` means the user could be allowed after authenticating.
    ///
    /// The corresponding D-Bus method is `org.freedesktop.NetworkManager.GetPermissions`.
    public func permissions() async throws(NMError) -> [String: NMPermission] {
        return try await NMError.boundary {
            let reply = try await nmCall(Self.managerPath, Self.managerInterface, "GetPermissions")
            let raw = try [String: String](dbusValue: reply.first ?? .dictionary(key: .string, value: .string, []))
            return raw.mapValues(NMPermission.init(rawValue:))
        }
    }
}
