/// Why a device changed state: `NMDeviceStateReason`, the third argument of
/// `org.freedesktop.NetworkManager.Device.StateChanged` and the second field of the
/// `StateReason` property (`nm-dbus-interface.h`).
///
/// Unknown values (from a newer NetworkManager) keep their number. Each known reason has a
/// ``name`` (the C enum's suffix in kebab case), a human ``message``, an ``NMError/Code`` and,
/// where there is one, a remediation ``hint``; ``NMError/init(deviceStateReason:device:)``
/// turns a failure reason into an ``NMError``.
public struct NMDeviceStateReason: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `NM_DEVICE_STATE_REASON_NONE` (0): no reason given.
    public static let none = NMDeviceStateReason(rawValue: 0)
    /// `NM_DEVICE_STATE_REASON_UNKNOWN` (1): unknown error.
    public static let unknown = NMDeviceStateReason(rawValue: 1)
    /// `NM_DEVICE_STATE_REASON_NOW_MANAGED` (2): the device is now managed.
    public static let nowManaged = NMDeviceStateReason(rawValue: 2)
    /// `NM_DEVICE_STATE_REASON_NOW_UNMANAGED` (3): the device is now unmanaged.
    public static let nowUnmanaged = NMDeviceStateReason(rawValue: 3)
    /// `NM_DEVICE_STATE_REASON_CONFIG_FAILED` (4): the device could not be readied for configuration.
    public static let configFailed = NMDeviceStateReason(rawValue: 4)
    /// `NM_DEVICE_STATE_REASON_IP_CONFIG_UNAVAILABLE` (5): IP configuration could not be reserved (no available address, timeout, etc.).
    public static let ipConfigUnavailable = NMDeviceStateReason(rawValue: 5)
    /// `NM_DEVICE_STATE_REASON_IP_CONFIG_EXPIRED` (6): the IP configuration is no longer valid.
    public static let ipConfigExpired = NMDeviceStateReason(rawValue: 6)
    /// `NM_DEVICE_STATE_REASON_NO_SECRETS` (7): secrets were required, but not provided.
    public static let noSecrets = NMDeviceStateReason(rawValue: 7)
    /// `NM_DEVICE_STATE_REASON_SUPPLICANT_DISCONNECT` (8): 802.1X supplicant disconnected.
    public static let supplicantDisconnect = NMDeviceStateReason(rawValue: 8)
    /// `NM_DEVICE_STATE_REASON_SUPPLICANT_CONFIG_FAILED` (9): 802.1X supplicant configuration failed.
    public static let supplicantConfigFailed = NMDeviceStateReason(rawValue: 9)
    /// `NM_DEVICE_STATE_REASON_SUPPLICANT_FAILED` (10): 802.1X supplicant failed.
    public static let supplicantFailed = NMDeviceStateReason(rawValue: 10)
    /// `NM_DEVICE_STATE_REASON_SUPPLICANT_TIMEOUT` (11): 802.1X supplicant took too long to authenticate.
    public static let supplicantTimeout = NMDeviceStateReason(rawValue: 11)
    /// `NM_DEVICE_STATE_REASON_PPP_START_FAILED` (12): PPP service failed to start.
    public static let pppStartFailed = NMDeviceStateReason(rawValue: 12)
    /// `NM_DEVICE_STATE_REASON_PPP_DISCONNECT` (13): PPP service disconnected.
    public static let pppDisconnect = NMDeviceStateReason(rawValue: 13)
    /// `NM_DEVICE_STATE_REASON_PPP_FAILED` (14): PPP failed.
    public static let pppFailed = NMDeviceStateReason(rawValue: 14)
    /// `NM_DEVICE_STATE_REASON_DHCP_START_FAILED` (15): the DHCP client failed to start.
    public static let dhcpStartFailed = NMDeviceStateReason(rawValue: 15)
    /// `NM_DEVICE_STATE_REASON_DHCP_ERROR` (16): DHCP client error.
    public static let dhcpError = NMDeviceStateReason(rawValue: 16)
    /// `NM_DEVICE_STATE_REASON_DHCP_FAILED` (17): the DHCP client failed (no lease in time).
    public static let dhcpFailed = NMDeviceStateReason(rawValue: 17)
    /// `NM_DEVICE_STATE_REASON_SHARED_START_FAILED` (18): the shared connection service failed to start.
    public static let sharedStartFailed = NMDeviceStateReason(rawValue: 18)
    /// `NM_DEVICE_STATE_REASON_SHARED_FAILED` (19): the shared connection service failed.
    public static let sharedFailed = NMDeviceStateReason(rawValue: 19)
    /// `NM_DEVICE_STATE_REASON_AUTOIP_START_FAILED` (20): the AutoIP service failed to start.
    public static let autoipStartFailed = NMDeviceStateReason(rawValue: 20)
    /// `NM_DEVICE_STATE_REASON_AUTOIP_ERROR` (21): AutoIP service error.
    public static let autoipError = NMDeviceStateReason(rawValue: 21)
    /// `NM_DEVICE_STATE_REASON_AUTOIP_FAILED` (22): the AutoIP service failed.
    public static let autoipFailed = NMDeviceStateReason(rawValue: 22)
    /// `NM_DEVICE_STATE_REASON_MODEM_BUSY` (23): the line is busy.
    public static let modemBusy = NMDeviceStateReason(rawValue: 23)
    /// `NM_DEVICE_STATE_REASON_MODEM_NO_DIAL_TONE` (24): no dial tone.
    public static let modemNoDialTone = NMDeviceStateReason(rawValue: 24)
    /// `NM_DEVICE_STATE_REASON_MODEM_NO_CARRIER` (25): no carrier could be established.
    public static let modemNoCarrier = NMDeviceStateReason(rawValue: 25)
    /// `NM_DEVICE_STATE_REASON_MODEM_DIAL_TIMEOUT` (26): the dialing request timed out.
    public static let modemDialTimeout = NMDeviceStateReason(rawValue: 26)
    /// `NM_DEVICE_STATE_REASON_MODEM_DIAL_FAILED` (27): the dialing attempt failed.
    public static let modemDialFailed = NMDeviceStateReason(rawValue: 27)
    /// `NM_DEVICE_STATE_REASON_MODEM_INIT_FAILED` (28): modem initialization failed.
    public static let modemInitFailed = NMDeviceStateReason(rawValue: 28)
    /// `NM_DEVICE_STATE_REASON_GSM_APN_FAILED` (29): failed to select the specified APN.
    public static let gsmAPNFailed = NMDeviceStateReason(rawValue: 29)
    /// `NM_DEVICE_STATE_REASON_GSM_REGISTRATION_NOT_SEARCHING` (30): not searching for networks.
    public static let gsmRegistrationNotSearching = NMDeviceStateReason(rawValue: 30)
    /// `NM_DEVICE_STATE_REASON_GSM_REGISTRATION_DENIED` (31): network registration denied.
    public static let gsmRegistrationDenied = NMDeviceStateReason(rawValue: 31)
    /// `NM_DEVICE_STATE_REASON_GSM_REGISTRATION_TIMEOUT` (32): network registration timed out.
    public static let gsmRegistrationTimeout = NMDeviceStateReason(rawValue: 32)
    /// `NM_DEVICE_STATE_REASON_GSM_REGISTRATION_FAILED` (33): failed to register with the requested network.
    public static let gsmRegistrationFailed = NMDeviceStateReason(rawValue: 33)
    /// `NM_DEVICE_STATE_REASON_GSM_PIN_CHECK_FAILED` (34): PIN check failed.
    public static let gsmPINCheckFailed = NMDeviceStateReason(rawValue: 34)
    /// `NM_DEVICE_STATE_REASON_FIRMWARE_MISSING` (35): necessary firmware for the device may be missing.
    public static let firmwareMissing = NMDeviceStateReason(rawValue: 35)
    /// `NM_DEVICE_STATE_REASON_REMOVED` (36): the device was removed.
    public static let removed = NMDeviceStateReason(rawValue: 36)
    /// `NM_DEVICE_STATE_REASON_SLEEPING` (37): NetworkManager went to sleep.
    public static let sleeping = NMDeviceStateReason(rawValue: 37)
    /// `NM_DEVICE_STATE_REASON_CONNECTION_REMOVED` (38): the device's active connection disappeared.
    public static let connectionRemoved = NMDeviceStateReason(rawValue: 38)
    /// `NM_DEVICE_STATE_REASON_USER_REQUESTED` (39): the device was disconnected by a user or client.
    public static let userRequested = NMDeviceStateReason(rawValue: 39)
    /// `NM_DEVICE_STATE_REASON_CARRIER` (40): carrier/link changed.
    public static let carrier = NMDeviceStateReason(rawValue: 40)
    /// `NM_DEVICE_STATE_REASON_CONNECTION_ASSUMED` (41): the device's existing connection was assumed.
    public static let connectionAssumed = NMDeviceStateReason(rawValue: 41)
    /// `NM_DEVICE_STATE_REASON_SUPPLICANT_AVAILABLE` (42): the supplicant is now available.
    public static let supplicantAvailable = NMDeviceStateReason(rawValue: 42)
    /// `NM_DEVICE_STATE_REASON_MODEM_NOT_FOUND` (43): the modem could not be found.
    public static let modemNotFound = NMDeviceStateReason(rawValue: 43)
    /// `NM_DEVICE_STATE_REASON_BT_FAILED` (44): the Bluetooth connection failed or timed out.
    public static let bluetoothFailed = NMDeviceStateReason(rawValue: 44)
    /// `NM_DEVICE_STATE_REASON_GSM_SIM_NOT_INSERTED` (45): the GSM modem's SIM card is not inserted.
    public static let gsmSIMNotInserted = NMDeviceStateReason(rawValue: 45)
    /// `NM_DEVICE_STATE_REASON_GSM_SIM_PIN_REQUIRED` (46): the GSM modem's SIM PIN is required.
    public static let gsmSIMPINRequired = NMDeviceStateReason(rawValue: 46)
    /// `NM_DEVICE_STATE_REASON_GSM_SIM_PUK_REQUIRED` (47): the GSM modem's SIM PUK is required.
    public static let gsmSIMPUKRequired = NMDeviceStateReason(rawValue: 47)
    /// `NM_DEVICE_STATE_REASON_GSM_SIM_WRONG` (48): the GSM modem's SIM is wrong.
    public static let gsmSIMWrong = NMDeviceStateReason(rawValue: 48)
    /// `NM_DEVICE_STATE_REASON_INFINIBAND_MODE` (49): the InfiniBand device does not support connected mode.
    public static let infinibandMode = NMDeviceStateReason(rawValue: 49)
    /// `NM_DEVICE_STATE_REASON_DEPENDENCY_FAILED` (50): a dependency of the connection failed.
    public static let dependencyFailed = NMDeviceStateReason(rawValue: 50)
    /// `NM_DEVICE_STATE_REASON_BR2684_FAILED` (51): problem with the RFC 2684 Ethernet over ADSL bridge.
    public static let br2684Failed = NMDeviceStateReason(rawValue: 51)
    /// `NM_DEVICE_STATE_REASON_MODEM_MANAGER_UNAVAILABLE` (52): ModemManager is not running.
    public static let modemManagerUnavailable = NMDeviceStateReason(rawValue: 52)
    /// `NM_DEVICE_STATE_REASON_SSID_NOT_FOUND` (53): the Wi-Fi network could not be found.
    public static let ssidNotFound = NMDeviceStateReason(rawValue: 53)
    /// `NM_DEVICE_STATE_REASON_SECONDARY_CONNECTION_FAILED` (54): a secondary connection of the base connection failed.
    public static let secondaryConnectionFailed = NMDeviceStateReason(rawValue: 54)
    /// `NM_DEVICE_STATE_REASON_DCB_FCOE_FAILED` (55): DCB or FCoE setup failed.
    public static let dcbFCoEFailed = NMDeviceStateReason(rawValue: 55)
    /// `NM_DEVICE_STATE_REASON_TEAMD_CONTROL_FAILED` (56): teamd control failed.
    public static let teamdControlFailed = NMDeviceStateReason(rawValue: 56)
    /// `NM_DEVICE_STATE_REASON_MODEM_FAILED` (57): the modem failed or is no longer available.
    public static let modemFailed = NMDeviceStateReason(rawValue: 57)
    /// `NM_DEVICE_STATE_REASON_MODEM_AVAILABLE` (58): the modem is now ready and available.
    public static let modemAvailable = NMDeviceStateReason(rawValue: 58)
    /// `NM_DEVICE_STATE_REASON_SIM_PIN_INCORRECT` (59): the SIM PIN was incorrect.
    public static let simPINIncorrect = NMDeviceStateReason(rawValue: 59)
    /// `NM_DEVICE_STATE_REASON_NEW_ACTIVATION` (60): a new connection activation was enqueued.
    public static let newActivation = NMDeviceStateReason(rawValue: 60)
    /// `NM_DEVICE_STATE_REASON_PARENT_CHANGED` (61): the device's parent changed.
    public static let parentChanged = NMDeviceStateReason(rawValue: 61)
    /// `NM_DEVICE_STATE_REASON_PARENT_MANAGED_CHANGED` (62): the management of the device's parent changed.
    public static let parentManagedChanged = NMDeviceStateReason(rawValue: 62)
    /// `NM_DEVICE_STATE_REASON_OVSDB_FAILED` (63): problem communicating with the Open vSwitch database.
    public static let ovsdbFailed = NMDeviceStateReason(rawValue: 63)
    /// `NM_DEVICE_STATE_REASON_IP_ADDRESS_DUPLICATE` (64): a duplicate IP address was detected.
    public static let ipAddressDuplicate = NMDeviceStateReason(rawValue: 64)
    /// `NM_DEVICE_STATE_REASON_IP_METHOD_UNSUPPORTED` (65): the selected IP method is not supported.
    public static let ipMethodUnsupported = NMDeviceStateReason(rawValue: 65)
    /// `NM_DEVICE_STATE_REASON_SRIOV_CONFIGURATION_FAILED` (66): configuration of SR-IOV parameters failed.
    public static let sriovConfigurationFailed = NMDeviceStateReason(rawValue: 66)
    /// `NM_DEVICE_STATE_REASON_PEER_NOT_FOUND` (67): the Wi-Fi P2P peer could not be found.
    public static let peerNotFound = NMDeviceStateReason(rawValue: 67)
    /// `NM_DEVICE_STATE_REASON_DEVICE_HANDLER_FAILED` (68): the device handler dispatcher returned an error.
    public static let deviceHandlerFailed = NMDeviceStateReason(rawValue: 68)
    /// `NM_DEVICE_STATE_REASON_UNMANAGED_BY_DEFAULT` (69): the device is unmanaged because the device type is unmanaged by default.
    public static let unmanagedByDefault = NMDeviceStateReason(rawValue: 69)
    /// `NM_DEVICE_STATE_REASON_UNMANAGED_EXTERNAL_DOWN` (70): the device is unmanaged because it is an external device and is unconfigured (down or without addresses).
    public static let unmanagedExternalDown = NMDeviceStateReason(rawValue: 70)
    /// `NM_DEVICE_STATE_REASON_UNMANAGED_LINK_NOT_INIT` (71): the device is unmanaged because the link is not initialized by udev.
    public static let unmanagedLinkNotInit = NMDeviceStateReason(rawValue: 71)
    /// `NM_DEVICE_STATE_REASON_UNMANAGED_QUITTING` (72): the device is unmanaged because NetworkManager is quitting.
    public static let unmanagedQuitting = NMDeviceStateReason(rawValue: 72)
    /// `NM_DEVICE_STATE_REASON_UNMANAGED_MANAGER_DISABLED` (73): the device is unmanaged because networking is disabled or the system is suspended.
    public static let unmanagedManagerDisabled = NMDeviceStateReason(rawValue: 73)
    /// `NM_DEVICE_STATE_REASON_UNMANAGED_USER_CONF` (74): the device is unmanaged by user decision in NetworkManager.conf ('unmanaged' in a [device*] section).
    public static let unmanagedUserConf = NMDeviceStateReason(rawValue: 74)
    /// `NM_DEVICE_STATE_REASON_UNMANAGED_USER_EXPLICIT` (75): the device is unmanaged by explicit user decision (e.g. 'nmcli device set $DEV managed no').
    public static let unmanagedUserExplicit = NMDeviceStateReason(rawValue: 75)
    /// `NM_DEVICE_STATE_REASON_UNMANAGED_USER_SETTINGS` (76): the device is unmanaged by user decision via settings plugin ('unmanaged-devices' for keyfile or 'NM_CONTROLLED=no' for ifcfg-rh).
    public static let unmanagedUserSettings = NMDeviceStateReason(rawValue: 76)
    /// `NM_DEVICE_STATE_REASON_UNMANAGED_USER_UDEV` (77): the device is unmanaged via udev rule (ENV{NM_UNMANAGED}).
    public static let unmanagedUserUdev = NMDeviceStateReason(rawValue: 77)
    /// `NM_DEVICE_STATE_REASON_NETWORKING_OFF` (78): NetworkManager was disabled (networking off).
    public static let networkingOff = NMDeviceStateReason(rawValue: 78)
    /// `NM_DEVICE_STATE_REASON_MODEM_NO_OPERATOR_CODE` (79): the modem cannot determine the operator code.
    public static let modemNoOperatorCode = NMDeviceStateReason(rawValue: 79)

    struct Info: Sendable {
        let name: String
        let message: String
        let code: NMError.Code
        let hint: String?
    }

    /// Every reason this library knows, by value.
    static let table: [UInt32: Info] = [
        0: Info(name: "none", message: "no reason given", code: .activationFailed, hint: nil),
        1: Info(name: "unknown", message: "unknown error", code: .activationFailed, hint: "read NetworkManager's log (journalctl -u NetworkManager) for the cause"),
        2: Info(name: "now-managed", message: "the device is now managed", code: .informational, hint: nil),
        3: Info(name: "now-unmanaged", message: "the device is now unmanaged", code: .deviceUnmanaged, hint: "set the device managed again (nmcli device set IFACE managed yes) and check unmanaged-devices in NetworkManager.conf"),
        4: Info(name: "config-failed", message: "the device could not be readied for configuration", code: .configFailed, hint: "read NetworkManager's log for the device; the driver or a setting such as the MTU or MAC address may be refused"),
        5: Info(name: "ip-config-unavailable", message: "IP configuration could not be reserved (no available address, timeout, etc.)", code: .ipConfigFailed, hint: "check the DHCP server or the static addresses; set ipv4.may-fail/ipv6.may-fail if one family is optional"),
        6: Info(name: "ip-config-expired", message: "the IP configuration is no longer valid", code: .ipConfigFailed, hint: "the DHCP lease or router advertisement expired; check the DHCP server and the link"),
        7: Info(name: "no-secrets", message: "secrets were required, but not provided", code: .noSecrets, hint: "store the secret in the profile or run a secret agent (nmcli --ask, a desktop agent)"),
        8: Info(name: "supplicant-disconnect", message: "802.1X supplicant disconnected", code: .authenticationFailed, hint: "check the 802.1X credentials and the authenticator"),
        9: Info(name: "supplicant-config-failed", message: "802.1X supplicant configuration failed", code: .authenticationFailed, hint: "check the 802-1x setting of the profile (EAP method, certificates)"),
        10: Info(name: "supplicant-failed", message: "802.1X supplicant failed", code: .authenticationFailed, hint: "check that wpa_supplicant is running and the 802.1X credentials"),
        11: Info(name: "supplicant-timeout", message: "802.1X supplicant took too long to authenticate", code: .authenticationFailed, hint: "check the authenticator (switch port, access point) and the credentials"),
        12: Info(name: "ppp-start-failed", message: "PPP service failed to start", code: .modemFailed, hint: "check that pppd is installed"),
        13: Info(name: "ppp-disconnect", message: "PPP service disconnected", code: .modemFailed, hint: nil),
        14: Info(name: "ppp-failed", message: "PPP failed", code: .modemFailed, hint: nil),
        15: Info(name: "dhcp-start-failed", message: "the DHCP client failed to start", code: .dhcpFailed, hint: "check the DHCP client NetworkManager is configured to use ([main] dhcp= in NetworkManager.conf)"),
        16: Info(name: "dhcp-error", message: "DHCP client error", code: .dhcpFailed, hint: "read NetworkManager's log for the DHCP client's messages"),
        17: Info(name: "dhcp-failed", message: "the DHCP client failed (no lease in time)", code: .dhcpFailed, hint: "check that a DHCP server answers on this link, or raise ipv4.dhcp-timeout; a new bridge MAC may get a different lease (copy the NIC's MAC to the bridge)"),
        18: Info(name: "shared-start-failed", message: "the shared connection service failed to start", code: .sharingFailed, hint: "check that dnsmasq is installed (method 'shared' needs it)"),
        19: Info(name: "shared-failed", message: "the shared connection service failed", code: .sharingFailed, hint: nil),
        20: Info(name: "autoip-start-failed", message: "the AutoIP service failed to start", code: .autoIPFailed, hint: nil),
        21: Info(name: "autoip-error", message: "AutoIP service error", code: .autoIPFailed, hint: nil),
        22: Info(name: "autoip-failed", message: "the AutoIP service failed", code: .autoIPFailed, hint: nil),
        23: Info(name: "modem-busy", message: "the line is busy", code: .modemFailed, hint: nil),
        24: Info(name: "modem-no-dial-tone", message: "no dial tone", code: .modemFailed, hint: nil),
        25: Info(name: "modem-no-carrier", message: "no carrier could be established", code: .modemFailed, hint: nil),
        26: Info(name: "modem-dial-timeout", message: "the dialing request timed out", code: .modemFailed, hint: nil),
        27: Info(name: "modem-dial-failed", message: "the dialing attempt failed", code: .modemFailed, hint: nil),
        28: Info(name: "modem-init-failed", message: "modem initialization failed", code: .modemFailed, hint: nil),
        29: Info(name: "gsm-apn-failed", message: "failed to select the specified APN", code: .modemFailed, hint: "check the APN in the gsm setting"),
        30: Info(name: "gsm-registration-not-searching", message: "not searching for networks", code: .modemFailed, hint: nil),
        31: Info(name: "gsm-registration-denied", message: "network registration denied", code: .modemFailed, hint: nil),
        32: Info(name: "gsm-registration-timeout", message: "network registration timed out", code: .modemFailed, hint: nil),
        33: Info(name: "gsm-registration-failed", message: "failed to register with the requested network", code: .modemFailed, hint: nil),
        34: Info(name: "gsm-pin-check-failed", message: "PIN check failed", code: .modemFailed, hint: "check the SIM PIN"),
        35: Info(name: "firmware-missing", message: "necessary firmware for the device may be missing", code: .deviceSetupFailed, hint: "install the device's firmware package and reload the driver"),
        36: Info(name: "removed", message: "the device was removed", code: .deviceRemoved, hint: "the device disappeared (unplugged, driver unloaded, or a software device deleted)"),
        37: Info(name: "sleeping", message: "NetworkManager went to sleep", code: .networkingDisabled, hint: "wake NetworkManager (resume from suspend, or enable networking: nmcli networking on)"),
        38: Info(name: "connection-removed", message: "the device's active connection disappeared", code: .connectionRemoved, hint: "the profile was deleted while active"),
        39: Info(name: "user-requested", message: "the device was disconnected by a user or client", code: .userRequested, hint: nil),
        40: Info(name: "carrier", message: "carrier/link changed", code: .noCarrier, hint: "the link lost carrier: check the cable and the switch port (for a bridge: that a port is attached and up)"),
        41: Info(name: "connection-assumed", message: "the device's existing connection was assumed", code: .informational, hint: nil),
        42: Info(name: "supplicant-available", message: "the supplicant is now available", code: .informational, hint: nil),
        43: Info(name: "modem-not-found", message: "the modem could not be found", code: .modemFailed, hint: nil),
        44: Info(name: "bt-failed", message: "the Bluetooth connection failed or timed out", code: .modemFailed, hint: nil),
        45: Info(name: "gsm-sim-not-inserted", message: "the GSM modem's SIM card is not inserted", code: .modemFailed, hint: nil),
        46: Info(name: "gsm-sim-pin-required", message: "the GSM modem's SIM PIN is required", code: .modemFailed, hint: nil),
        47: Info(name: "gsm-sim-puk-required", message: "the GSM modem's SIM PUK is required", code: .modemFailed, hint: nil),
        48: Info(name: "gsm-sim-wrong", message: "the GSM modem's SIM is wrong", code: .modemFailed, hint: nil),
        49: Info(name: "infiniband-mode", message: "the InfiniBand device does not support connected mode", code: .deviceSetupFailed, hint: "use infiniband.transport-mode datagram"),
        50: Info(name: "dependency-failed", message: "a dependency of the connection failed", code: .dependencyFailed, hint: "the controller (bridge, bond) or parent (VLAN) profile failed to activate; check that one first"),
        51: Info(name: "br2684-failed", message: "problem with the RFC 2684 Ethernet over ADSL bridge", code: .modemFailed, hint: nil),
        52: Info(name: "modem-manager-unavailable", message: "ModemManager is not running", code: .modemFailed, hint: "start ModemManager"),
        53: Info(name: "ssid-not-found", message: "the Wi-Fi network could not be found", code: .peerNotFound, hint: nil),
        54: Info(name: "secondary-connection-failed", message: "a secondary connection of the base connection failed", code: .secondaryConnectionFailed, hint: "check the profiles listed in connection.secondaries (often a VPN)"),
        55: Info(name: "dcb-fcoe-failed", message: "DCB or FCoE setup failed", code: .deviceSetupFailed, hint: nil),
        56: Info(name: "teamd-control-failed", message: "teamd control failed", code: .deviceSetupFailed, hint: "check that teamd is installed and running"),
        57: Info(name: "modem-failed", message: "the modem failed or is no longer available", code: .modemFailed, hint: nil),
        58: Info(name: "modem-available", message: "the modem is now ready and available", code: .informational, hint: nil),
        59: Info(name: "sim-pin-incorrect", message: "the SIM PIN was incorrect", code: .modemFailed, hint: "check the SIM PIN"),
        60: Info(name: "new-activation", message: "a new connection activation was enqueued", code: .superseded, hint: "another activation replaced this one on the device"),
        61: Info(name: "parent-changed", message: "the device's parent changed", code: .parentChanged, hint: nil),
        62: Info(name: "parent-managed-changed", message: "the management of the device's parent changed", code: .parentChanged, hint: "the parent device became unmanaged; manage it again"),
        63: Info(name: "ovsdb-failed", message: "problem communicating with the Open vSwitch database", code: .deviceSetupFailed, hint: "check that ovsdb-server / openvswitch is running"),
        64: Info(name: "ip-address-duplicate", message: "a duplicate IP address was detected", code: .ipAddressConflict, hint: "another host on the link uses the address; pick another or find the other host (arping)"),
        65: Info(name: "ip-method-unsupported", message: "the selected IP method is not supported", code: .ipMethodUnsupported, hint: "choose an IP method this device type supports"),
        66: Info(name: "sriov-configuration-failed", message: "configuration of SR-IOV parameters failed", code: .deviceSetupFailed, hint: nil),
        67: Info(name: "peer-not-found", message: "the Wi-Fi P2P peer could not be found", code: .peerNotFound, hint: nil),
        68: Info(name: "device-handler-failed", message: "the device handler dispatcher returned an error", code: .deviceSetupFailed, hint: "check the device-handler script for this device type (NetworkManager 1.46+)"),
        69: Info(name: "unmanaged-by-default", message: "the device is unmanaged because the device type is unmanaged by default", code: .deviceUnmanaged, hint: "set the device managed (nmcli device set IFACE managed yes)"),
        70: Info(name: "unmanaged-external-down", message: "the device is unmanaged because it is an external device and is unconfigured (down or without addresses)", code: .deviceUnmanaged, hint: nil),
        71: Info(name: "unmanaged-link-not-init", message: "the device is unmanaged because the link is not initialized by udev", code: .deviceUnmanaged, hint: "wait for udev to finish, or check the udev rules for the device"),
        72: Info(name: "unmanaged-quitting", message: "the device is unmanaged because NetworkManager is quitting", code: .deviceUnmanaged, hint: nil),
        73: Info(name: "unmanaged-manager-disabled", message: "the device is unmanaged because networking is disabled or the system is suspended", code: .networkingDisabled, hint: "enable networking (nmcli networking on)"),
        74: Info(name: "unmanaged-user-conf", message: "the device is unmanaged by user decision in NetworkManager.conf ('unmanaged' in a [device*] section)", code: .deviceUnmanaged, hint: "remove the device from the unmanaged list in NetworkManager.conf"),
        75: Info(name: "unmanaged-user-explicit", message: "the device is unmanaged by explicit user decision (e.g. 'nmcli device set $DEV managed no')", code: .deviceUnmanaged, hint: "nmcli device set IFACE managed yes"),
        76: Info(name: "unmanaged-user-settings", message: "the device is unmanaged by user decision via settings plugin ('unmanaged-devices' for keyfile or 'NM_CONTROLLED=no' for ifcfg-rh)", code: .deviceUnmanaged, hint: "remove the device from unmanaged-devices (keyfile) or NM_CONTROLLED=no (ifcfg-rh)"),
        77: Info(name: "unmanaged-user-udev", message: "the device is unmanaged via udev rule (ENV{NM_UNMANAGED})", code: .deviceUnmanaged, hint: "remove the ENV{NM_UNMANAGED} udev rule for the device"),
        78: Info(name: "networking-off", message: "NetworkManager was disabled (networking off)", code: .networkingDisabled, hint: "enable networking (nmcli networking on)"),
        79: Info(name: "modem-no-operator-code", message: "the modem cannot determine the operator code", code: .modemFailed, hint: nil),
    ]

    /// Every known reason, in numeric order.
    public static var allKnown: [NMDeviceStateReason] { table.keys.sorted().map(NMDeviceStateReason.init(rawValue:)) }

    /// The reason's name, such as `dhcp-failed`; `reason-N` for values this library does not know.
    public var name: String { Self.table[rawValue]?.name ?? "reason-\(rawValue)" }
    /// What happened, in words.
    public var message: String { Self.table[rawValue]?.message ?? "device state reason \(rawValue) (unknown to this library)" }
    /// The error code this reason maps to.
    public var errorCode: NMError.Code { Self.table[rawValue]?.code ?? .activationFailed }
    /// What to do about it, where there is something to say.
    public var hint: String? { Self.table[rawValue]?.hint }
    public var description: String { name }
}
