public import DBus

/// An error from the NetworkManager layer: a D-Bus error reply from NetworkManager parsed into
/// a ``Code``, a device or active-connection failure reason, or a profile rejected before
/// anything was sent.
///
/// Every error carries a human ``message`` and, where there is something to do about it, a
/// ``hint``: the polkit action to grant, "a bridge port cannot carry IP settings",
/// "NetworkManager 1.40 lacks ipv4.dns-data". Errors that came over D-Bus keep the original
/// ``dbusError`` (name and message verbatim).
///
/// ```swift
/// do { try await nm.addProfile(profile) }
/// catch let error as NMError where error.code == .permissionDenied { print(error.hint ?? "") }
/// ```
public struct NMError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, as a value to switch on. Codes are shared across NetworkManager's
    /// error domains (`org.freedesktop.NetworkManager.PermissionDenied` and
    /// `...Settings.PermissionDenied` are both ``permissionDenied``); ``domain`` tells them apart.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A D-Bus error name this library does not know (kept whole in the code).
        public static func unknown(_ name: String) -> Code { Code(rawValue: "unknown:" + name) }
        /// For an ``unknown(_:)`` code, the D-Bus error name.
        public var unknownName: String? {
            rawValue.hasPrefix("unknown:") ? String(rawValue.dropFirst("unknown:".count)) : nil
        }
    }

    /// Which of NetworkManager's error families an error came from.
    public struct Domain: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// `org.freedesktop.NetworkManager.*` (NMManagerError).
        public static let manager = Domain(rawValue: "manager")
        /// `org.freedesktop.NetworkManager.Settings.*` (NMSettingsError).
        public static let settings = Domain(rawValue: "settings")
        /// `org.freedesktop.NetworkManager.Device.*` (NMDeviceError).
        public static let device = Domain(rawValue: "device")
        /// `org.freedesktop.NetworkManager.Settings.Connection.*` (NMConnectionError):
        /// a profile NetworkManager's validation rejected.
        public static let connection = Domain(rawValue: "connection")
        /// `org.freedesktop.NetworkManager.AgentManager.*` (NMAgentManagerError).
        public static let agentManager = Domain(rawValue: "agent-manager")
        /// A device's `StateReason` / `StateChanged` reason (``NMDeviceStateReason``).
        public static let deviceStateReason = Domain(rawValue: "device-state-reason")
        /// An active connection's `StateChanged` reason (``NMActiveConnectionStateReason``).
        public static let activeConnectionStateReason = Domain(rawValue: "active-connection-state-reason")
        /// Found by this library before anything was sent (profile validation, the codec).
        public static let local = Domain(rawValue: "local")
        /// A D-Bus error that is not NetworkManager's (the bus, the transport).
        public static let dbus = Domain(rawValue: "dbus")
    }

    /// What went wrong.
    public var code: Code
    /// Where the error came from.
    public var domain: Domain
    /// A human-readable description (NetworkManager's own text for D-Bus errors).
    public var message: String
    /// What the caller can do about it, where there is something to say.
    public var hint: String?
    /// The D-Bus error this was converted from, with its name and message verbatim.
    public var dbusError: DBusError?
    /// For an error thrown by ``NMClient/apply(_:plan:commit:confirmTimeout:basedOn:progress:)``,
    /// ``NMClient/confirm(_:)`` or ``NMClient/rollback(_:)-(NMPendingTransaction)``: the
    /// transaction's failure report (the step that failed, what the rollback did, where the
    /// host ended, read back). The error's own code, message and hint are the report's
    /// ``NMTransactionError/cause``.
    public var transaction: NMTransactionError? {
        get { transactionBox?.value }
        set { transactionBox = newValue.map(TransactionBox.init) }
    }
    // A box: a transaction report holds NMErrors itself (its cause, a failed rollback's error).
    private var transactionBox: TransactionBox?

    final class TransactionBox: Hashable, Sendable {
        let value: NMTransactionError
        init(_ value: NMTransactionError) { self.value = value }
        static func == (lhs: TransactionBox, rhs: TransactionBox) -> Bool { lhs.value.description == rhs.value.description }
        func hash(into hasher: inout Hasher) { hasher.combine(value.description) }
    }

    public init(_ code: Code, _ message: String, hint: String? = nil, domain: Domain = .local, dbusError: DBusError? = nil) {
        self.code = code
        self.domain = domain
        self.message = message
        self.hint = hint
        self.dbusError = dbusError
    }

    /// The D-Bus error name, for errors that came over D-Bus.
    public var dbusName: String? { dbusError?.name }

    public var description: String {
        if let transaction { return transaction.description }
        var text = dbusName.map { "\($0): \(message)" } ?? "\(code): \(message)"
        if let hint { text += " (hint: \(hint))" }
        return text
    }
}

// MARK: - Codes

extension NMError.Code {
    // MARK: Found before anything is sent

    /// A profile breaks a rule checked before sending (see the message for which).
    public static let invalidProfile = Self(rawValue: "invalid-profile")
    /// An interface name breaks the kernel's or NetworkManager's rules: empty, longer than 15
    /// bytes, `.` or `..`, `all`, `default` or `bonding_masters`, or containing `/`, `:`, `%`,
    /// whitespace or a control character.
    public static let invalidInterfaceName = Self(rawValue: "invalid-interface-name")
    /// Text that should be an IP address is not one.
    public static let invalidAddress = Self(rawValue: "invalid-address")
    /// Text or bytes that should be a MAC address are not one.
    public static let invalidMACAddress = Self(rawValue: "invalid-mac-address")
    /// A prefix length is longer than the address (over 32 for IPv4, 128 for IPv6), or a
    /// host's address has the prefix /0 (which would make every address on-link).
    public static let invalidPrefix = Self(rawValue: "invalid-prefix")
    /// An address that cannot be a host's own: multicast, loopback, unspecified (`0.0.0.0`,
    /// `::`) or in `0.0.0.0/8`, the limited broadcast `255.255.255.255`, or reserved
    /// (`240.0.0.0/4`). See ``IPSpecialPurpose``.
    public static let invalidHostAddress = Self(rawValue: "invalid-host-address")
    /// An IPv4 address that is the network address (host bits all zero) or the broadcast
    /// address (host bits all one) of its own prefix, for prefixes up to /30.
    public static let networkOrBroadcastAddress = Self(rawValue: "network-or-broadcast-address")
    /// A profile does not fit the device it names: an ethernet profile on `lo` (a loopback
    /// device), a bridge port whose controller is a NIC, a bond port whose controller is a
    /// bridge. Found at plan time from NetworkManager's device list, before any checkpoint; the
    /// hint names the device's real type and what the profile needs.
    public static let deviceTypeMismatch = Self(rawValue: "device-type-mismatch")
    /// A profile's parent (a VLAN's `vlan.parent`) names no device, no profile's interface
    /// and no profile's UUID, on the host or in the transaction. Found at plan time, before
    /// any checkpoint.
    public static let missingParent = Self(rawValue: "missing-parent")
    /// A port's controller (`connection.controller`) names no device, no profile's interface
    /// and no profile's UUID, on the host or in the transaction. Found at plan time, before any
    /// checkpoint.
    public static let missingController = Self(rawValue: "missing-controller")
    /// ``NMChange/ensure(_:matching:)`` found two or more existing profiles that its profile
    /// could stand for (the same name, the same interface, the same UUID); the message names
    /// them. Found at plan time, before any checkpoint.
    public static let ambiguousProfile = Self(rawValue: "ambiguous-profile")
    /// ``NMChange/ensure(_:matching:)`` found the existing profile its profile stands for, but
    /// of another `connection.type` (NetworkManager cannot change a profile's type). Found at
    /// plan time, before any checkpoint.
    public static let profileTypeMismatch = Self(rawValue: "profile-type-mismatch")
    /// The gateway lies outside the subnet of every configured address.
    public static let gatewayOutsideSubnet = Self(rawValue: "gateway-outside-subnet")
    /// The gateway is one of the profile's own addresses: the host would route through itself.
    public static let gatewayIsOwnAddress = Self(rawValue: "gateway-is-own-address")
    /// The gateway cannot be a neighbour's address: multicast, loopback, unspecified,
    /// broadcast or reserved, or the network or broadcast address of the subnet it lies in.
    public static let invalidGateway = Self(rawValue: "invalid-gateway")
    /// A DNS server address that no server can have: unspecified, multicast, broadcast or
    /// reserved (a loopback resolver such as 127.0.0.53 is fine).
    public static let invalidDNSServer = Self(rawValue: "invalid-dns-server")
    /// A DNS search domain that is not a domain name (LDH labels of 1-63 bytes, 253 in all;
    /// NetworkManager's routing-only `~domain` and `~.` are accepted), or contains a control
    /// character.
    public static let invalidSearchDomain = Self(rawValue: "invalid-search-domain")
    /// Free text of a profile (its name, the controller or parent it names, a DHCP host name,
    /// an address label, a bond option) contains a control character (``NMText/isControl(_:)``).
    public static let controlCharacter = Self(rawValue: "control-character")
    /// The same address appears twice in one IP setting.
    public static let duplicateAddress = Self(rawValue: "duplicate-address")
    /// The method is `manual` but no address is configured.
    public static let missingAddress = Self(rawValue: "missing-address")
    /// A VLAN id is outside 0...4094 (bridge VLAN ids: 1...4094).
    public static let invalidVLANID = Self(rawValue: "invalid-vlan-id")
    /// A port profile (it has a controller) carries `ipv4` / `ipv6` settings.
    public static let portWithIPSettings = Self(rawValue: "port-with-ip-settings")
    /// The running NetworkManager is too old for a setting, key or value the profile needs.
    public static let unsupportedByVersion = Self(rawValue: "unsupported-by-version")
    /// A settings dictionary (`a{sa{sv}}`) read from NetworkManager has a value of an
    /// unexpected type or form.
    public static let invalidSettings = Self(rawValue: "invalid-settings")

    // MARK: NetworkManager's D-Bus errors (nm-errors.h)

    /// `Failed` in any domain.
    public static let failed = Self(rawValue: "failed")
    /// `PermissionDenied` (manager, settings, agent manager): polkit said no.
    public static let permissionDenied = Self(rawValue: "permission-denied")
    /// `PermissionDenied` "Authorization request cancelled" from an activation: not polkit,
    /// but NetworkManager deactivating the new active connection before its authorization
    /// finished, because another activation (autoconnect, another client) took the device or
    /// the profile at the same moment.
    public static let activationSuperseded = Self(rawValue: "activation-superseded")
    /// `UnknownConnection`.
    public static let unknownConnection = Self(rawValue: "unknown-connection")
    /// `UnknownDevice`.
    public static let unknownDevice = Self(rawValue: "unknown-device")
    /// `ConnectionNotAvailable`: the profile cannot be activated on any (or the given) device.
    public static let connectionNotAvailable = Self(rawValue: "connection-not-available")
    /// `ConnectionNotActive`.
    public static let connectionNotActive = Self(rawValue: "connection-not-active")
    /// `ConnectionAlreadyActive`.
    public static let connectionAlreadyActive = Self(rawValue: "connection-already-active")
    /// `DependencyFailed` (and the state reasons of the same meaning).
    public static let dependencyFailed = Self(rawValue: "dependency-failed")
    /// `AlreadyAsleepOrAwake`.
    public static let alreadyAsleepOrAwake = Self(rawValue: "already-asleep-or-awake")
    /// `AlreadyEnabledOrDisabled`.
    public static let alreadyEnabledOrDisabled = Self(rawValue: "already-enabled-or-disabled")
    /// `UnknownLogLevel`.
    public static let unknownLogLevel = Self(rawValue: "unknown-log-level")
    /// `UnknownLogDomain`.
    public static let unknownLogDomain = Self(rawValue: "unknown-log-domain")
    /// `InvalidArguments` (manager, settings) and the device's `InvalidArgument`.
    public static let invalidArguments = Self(rawValue: "invalid-arguments")
    /// `InvalidArguments` from `CheckpointCreate`: "device 'X' is already included in
    /// checkpoint /path". See ``NMError/overlappingCheckpoint``.
    public static let checkpointOverlap = Self(rawValue: "checkpoint-overlap")
    /// `MissingPlugin`.
    public static let missingPlugin = Self(rawValue: "missing-plugin")
    /// `Settings.NotSupported`.
    public static let notSupported = Self(rawValue: "not-supported")
    /// `Settings.InvalidConnection`, `Device.InvalidConnection`.
    public static let invalidConnection = Self(rawValue: "invalid-connection")
    /// `Settings.ReadOnlyConnection`.
    public static let readOnlyConnection = Self(rawValue: "read-only-connection")
    /// `Settings.UuidExists`.
    public static let uuidExists = Self(rawValue: "uuid-exists")
    /// `Settings.InvalidHostname`.
    public static let invalidHostname = Self(rawValue: "invalid-hostname")
    /// `VersionIdMismatch` (settings 1.44, device): the profile changed since it was read.
    public static let versionIDMismatch = Self(rawValue: "version-id-mismatch")
    /// `Settings.NotSupportedByPlugin` (1.44).
    public static let notSupportedByPlugin = Self(rawValue: "not-supported-by-plugin")
    /// `Settings.FeatureDisabled` (1.56).
    public static let featureDisabled = Self(rawValue: "feature-disabled")
    /// `Settings.FeatureRemoved` (1.56).
    public static let featureRemoved = Self(rawValue: "feature-removed")
    /// `Device.CreationFailed`.
    public static let creationFailed = Self(rawValue: "creation-failed")
    /// `Device.IncompatibleConnection`: `Reapply` cannot apply this change without reactivating.
    public static let incompatibleConnection = Self(rawValue: "incompatible-connection")
    /// `Device.NotActive`.
    public static let deviceNotActive = Self(rawValue: "device-not-active")
    /// `Device.NotSoftware`: only software devices can be deleted.
    public static let notSoftware = Self(rawValue: "not-software")
    /// `Device.NotAllowed`.
    public static let notAllowed = Self(rawValue: "not-allowed")
    /// `Device.SpecificObjectNotFound`.
    public static let specificObjectNotFound = Self(rawValue: "specific-object-not-found")
    /// `Device.MissingDependencies`.
    public static let missingDependencies = Self(rawValue: "missing-dependencies")
    /// `Settings.Connection.SettingNotFound`.
    public static let settingNotFound = Self(rawValue: "setting-not-found")
    /// `Settings.Connection.PropertyNotFound`.
    public static let propertyNotFound = Self(rawValue: "property-not-found")
    /// `Settings.Connection.PropertyNotSecret`.
    public static let propertyNotSecret = Self(rawValue: "property-not-secret")
    /// `Settings.Connection.MissingSetting`.
    public static let missingSetting = Self(rawValue: "missing-setting")
    /// `Settings.Connection.InvalidSetting`.
    public static let invalidSetting = Self(rawValue: "invalid-setting")
    /// `Settings.Connection.MissingProperty`.
    public static let missingProperty = Self(rawValue: "missing-property")
    /// `Settings.Connection.InvalidProperty`.
    public static let invalidProperty = Self(rawValue: "invalid-property")
    /// `AgentManager.InvalidIdentifier`.
    public static let invalidIdentifier = Self(rawValue: "invalid-identifier")
    /// `AgentManager.NotRegistered`.
    public static let notRegistered = Self(rawValue: "not-registered")
    /// `AgentManager.NoSecrets` and the `NO_SECRETS` state reasons.
    public static let noSecrets = Self(rawValue: "no-secrets")
    /// `AgentManager.UserCanceled`.
    public static let userCanceled = Self(rawValue: "user-canceled")

    // MARK: D-Bus errors that are not NetworkManager's

    /// NetworkManager is not on the bus (`ServiceUnknown`, `NameHasNoOwner`), or left it while
    /// a signal sequence followed it (the D-Bus module's `peer-vanished`).
    public static let notRunning = Self(rawValue: "not-running")
    /// NetworkManager lacks a method, property or object: usually an older version
    /// (`UnknownMethod`, `UnknownProperty`, `UnknownInterface`, `UnknownObject`).
    public static let notImplemented = Self(rawValue: "not-implemented")
    /// No reply in time.
    public static let timeout = Self(rawValue: "timeout")
    /// The calling task was cancelled. A call already sent when it was cancelled, whose reply
    /// did not come within the connection's grace, may have taken effect
    /// (``NMError/outcomeUnknown``); a transaction rolls back instead (its
    /// ``NMError/transaction`` says where the host ended).
    public static let cancelled = Self(rawValue: "cancelled")
    /// The connection to the bus is gone (closed, or the bus itself went away). NetworkManager
    /// leaving a bus that is still there is ``notRunning``.
    public static let disconnected = Self(rawValue: "disconnected")
    /// Any other D-Bus failure; see ``NMError/dbusError``.
    public static let dbus = Self(rawValue: "dbus")

    // MARK: Activation failures (device and active-connection state reasons)

    /// Activation failed; the reason gives no more detail (`UNKNOWN`, `NONE`).
    public static let activationFailed = Self(rawValue: "activation-failed")
    /// The device could not be readied for configuration (`CONFIG_FAILED`).
    public static let configFailed = Self(rawValue: "config-failed")
    /// No IP configuration could be obtained or it became invalid
    /// (`IP_CONFIG_UNAVAILABLE`, `IP_CONFIG_EXPIRED`, `IP_CONFIG_INVALID`).
    public static let ipConfigFailed = Self(rawValue: "ip-config-failed")
    /// DHCP failed to start, errored or timed out (`DHCP_*`).
    public static let dhcpFailed = Self(rawValue: "dhcp-failed")
    /// IPv4 link-local (autoip) failed (`AUTOIP_*`).
    public static let autoIPFailed = Self(rawValue: "autoip-failed")
    /// Connection sharing failed (`SHARED_*`).
    public static let sharingFailed = Self(rawValue: "sharing-failed")
    /// 802.1X authentication failed (`SUPPLICANT_*`).
    public static let authenticationFailed = Self(rawValue: "authentication-failed")
    /// PPP, modem, GSM, Bluetooth, ADSL or ModemManager failures.
    public static let modemFailed = Self(rawValue: "modem-failed")
    /// The link has no carrier (cable unplugged, peer down) (`CARRIER`).
    public static let noCarrier = Self(rawValue: "no-carrier")
    /// The device disappeared (`REMOVED`, `DEVICE_REMOVED`, `DEVICE_REALIZE_FAILED`).
    public static let deviceRemoved = Self(rawValue: "device-removed")
    /// The device is or became unmanaged (`NOW_UNMANAGED`, `UNMANAGED_*`).
    public static let deviceUnmanaged = Self(rawValue: "device-unmanaged")
    /// The profile was deleted while active (`CONNECTION_REMOVED`).
    public static let connectionRemoved = Self(rawValue: "connection-removed")
    /// A user or client disconnected it (`USER_REQUESTED`, `USER_DISCONNECTED`).
    public static let userRequested = Self(rawValue: "user-requested")
    /// Another activation replaced this one (`NEW_ACTIVATION`).
    public static let superseded = Self(rawValue: "superseded")
    /// NetworkManager went to sleep or networking was switched off.
    public static let networkingDisabled = Self(rawValue: "networking-disabled")
    /// The device's parent changed or became unmanaged (`PARENT_*`).
    public static let parentChanged = Self(rawValue: "parent-changed")
    /// NetworkManager detected another host using the address (`IP_ADDRESS_DUPLICATE`).
    public static let ipAddressConflict = Self(rawValue: "ip-address-conflict")
    /// The IP method is not supported for this device (`IP_METHOD_UNSUPPORTED`).
    public static let ipMethodUnsupported = Self(rawValue: "ip-method-unsupported")
    /// Firmware, drivers, teamd, OVS, SR-IOV, DCB or a device handler failed.
    public static let deviceSetupFailed = Self(rawValue: "device-setup-failed")
    /// A Wi-Fi network or P2P peer could not be found.
    public static let peerNotFound = Self(rawValue: "peer-not-found")
    /// A secondary connection (such as a VPN) of the profile failed.
    public static let secondaryConnectionFailed = Self(rawValue: "secondary-connection-failed")
    /// The VPN / service behind the connection stopped, timed out or refused the login.
    public static let serviceFailed = Self(rawValue: "service-failed")
    /// Activation did not finish in time (`CONNECT_TIMEOUT`).
    public static let activationTimeout = Self(rawValue: "activation-timeout")
    /// Not a failure: the state changed for an expected reason (`NOW_MANAGED`,
    /// `CONNECTION_ASSUMED`, `SUPPLICANT_AVAILABLE`, `MODEM_AVAILABLE`).
    public static let informational = Self(rawValue: "informational")
}
