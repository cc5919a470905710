extension NMError {
    /// The error for a device that failed (or left activation) for `reason`.
    ///
    /// - Parameter device: the interface name, to put in the message ("eno1: the DHCP client
    ///   failed").
    public init(deviceStateReason reason: NMDeviceStateReason, device: String? = nil) {
        let prefix = device.map { "\($0): " } ?? ""
        self.init(reason.errorCode, prefix + reason.message, hint: reason.hint, domain: .deviceStateReason)
    }

    /// The error for an active connection that was deactivated for `reason`.
    ///
    /// - Parameter profile: the profile's name, to put in the message.
    public init(activeConnectionStateReason reason: NMActiveConnectionStateReason, profile: String? = nil) {
        let prefix = profile.map { "\($0): " } ?? ""
        self.init(reason.errorCode, prefix + reason.message, hint: reason.hint, domain: .activeConnectionStateReason)
    }
}
