import DBus

extension NMConnectionProfile {
    /// The `user.data` setting: free-form string pairs NetworkManager stores with the profile
    /// (keys like `org.example.key`). Transactions keep their bookkeeping here, so that another
    /// process can find what a pending transaction staged.
    public var userData: [String: String] {
        get {
            guard case .dictionary(_, _, let entries)? = unknownSettings["user"]?["data"]?.unwrapped else { return [:] }
            var result: [String: String] = [:]
            for entry in entries {
                if case .string(let key) = entry.key, case .string(let value) = entry.value.unwrapped { result[key] = value }
            }
            return result
        }
        set {
            if newValue.isEmpty {
                unknownSettings["user"]?["data"] = nil
                if unknownSettings["user"]?.isEmpty == true { unknownSettings["user"] = nil }
                return
            }
            unknownSettings["user", default: [:]]["data"] = newValue.dbusValue
        }
    }
}
