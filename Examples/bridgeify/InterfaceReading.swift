// Reading what an interface has now, through NMClient.
//
// Everything here is a read: `snapshotWithProfiles()` (one GetManagedObjects round trip: devices, active
// connections, checkpoints, and every profile's typed settings, pipelined),
// `appliedProfile(of:)` (the settings the device runs with now) and `ipv4Configuration(of:)`
// (the addresses and gateway NetworkManager sees on the device, DHCP-assigned ones included).
import Foundation
import NetworkManager

/// An interface as it is now, and the host around it.
struct InterfaceReading: Sendable {
    /// NetworkManager's version, devices, active connections, checkpoints and every profile,
    /// typed: the one read that the conversion plans against.
    var snapshot: NMHostState
    /// Every profile, typed.
    var profiles: [NMStoredProfile] { snapshot.profiles }
    /// The interface's device.
    var device: NMDevice
    /// The profile active on it, as stored, if any.
    var activeProfile: NMStoredProfile?
    /// Its active connection, if any.
    var activeConnection: NMActiveConnection?
    /// The settings the device runs with now (`GetAppliedConnection`): what the bridge takes
    /// over. It can differ from the stored profile if the profile was edited without being
    /// reapplied; what runs is what the operator relies on.
    var applied: NMConnectionProfile?
    /// What NetworkManager sees on the device now (DHCP leases included).
    var ipv4Now: NMIPv4Configuration
    /// The MAC address the interface has now; the bridge takes it.
    var mac: MACAddress

    /// Reads `interface`, or rejects it: it must exist, be an Ethernet NIC (veth ends count:
    /// NetworkManager reports them as type 20, not 1) and be managed by NetworkManager.
    static func read(_ interface: NMInterfaceName, with nm: NMClient) async throws -> InterfaceReading {
        // One read of the host: devices, active connections, checkpoints and every profile.
        let snapshot = try await nm.snapshotWithProfiles()
        let profiles = snapshot.profiles
        guard let device = snapshot.device(named: interface), device.isReal else {
            let known = snapshot.devices.filter { $0.isReal && $0.type.isEthernetLike }.map(\.interface.rawValue)
            throw Rejection(code: "no-such-interface", message: "there is no interface named \(interface)",
                            hint: known.isEmpty ? "NetworkManager sees no Ethernet interface on this host"
                                : "Ethernet interfaces here: \(known.joined(separator: ", "))")
        }
        if device.type == .loopback || interface.rawValue == "lo" {
            throw Rejection(code: "loopback", message: "\(interface) is the loopback interface",
                            hint: "bridge an Ethernet NIC, such as the one holding the default route")
        }
        guard device.type.isEthernetLike else {
            throw Rejection(code: "not-ethernet", message: "\(interface) is a \(device.type) device, not Ethernet",
                            hint: "only an Ethernet NIC can become a bridge port this way")
        }
        guard device.managed, device.state != .unmanaged else {
            throw Rejection(code: "unmanaged", message: "NetworkManager does not manage \(interface)",
                            hint: "let it manage the interface first: nmcli device set \(interface) managed yes "
                                + "(and check unmanaged-devices in NetworkManager.conf)")
        }
        guard let macText = device.hardwareAddress, let mac = try? MACAddress(macText) else {
            throw Rejection(code: "no-mac-address", message: "\(interface) has no Ethernet MAC address",
                            hint: "only an Ethernet NIC can become a bridge port this way")
        }

        let activeConnection = device.activeConnection.flatMap { path in snapshot.activeConnections.first { $0.path == path } }
        let activeProfile = activeConnection?.profile.flatMap { path in profiles.first { $0.path == path } }
        var applied: NMConnectionProfile?
        if activeConnection != nil {
            applied = try? await nm.appliedProfile(of: device.path).profile
        }
        let ipv4Now = snapshot.ipv4Configuration(of: device.path)
        return InterfaceReading(snapshot: snapshot, device: device, activeProfile: activeProfile,
                                activeConnection: activeConnection, applied: applied ?? activeProfile?.profile,
                                ipv4Now: ipv4Now, mac: mac)
    }

    /// The device the interface is attached to as a port, if any (`Controller` of its active
    /// connection).
    var controller: NMDevice? {
        guard let path = activeConnection?.controllerDevice else { return nil }
        return snapshot.devices.first { $0.path == path }
    }

    /// The device named `name`, if it exists.
    func device(named name: NMInterfaceName) -> NMDevice? {
        snapshot.device(named: name).flatMap { $0.isReal ? $0 : nil }
    }

    /// The profile active on the device named `name`, if any.
    func activeProfile(on name: NMInterfaceName) -> NMStoredProfile? {
        guard let device = device(named: name), let path = device.activeConnection,
            let active = snapshot.activeConnections.first(where: { $0.path == path }), let profile = active.profile
        else { return nil }
        return profiles.first { $0.path == profile }
    }

    /// Profiles that could autoconnect on any Ethernet NIC (no interface name, no MAC): left
    /// alone, but worth a warning, since one might win over the port profile at boot.
    func genericProfiles(except: Set<UUID>) -> [NMStoredProfile] {
        profiles.filter { stored in
            let profile = stored.profile
            return !except.contains(profile.uuid) && profile.connection.autoconnect != false && profile.type == .ethernet
                && profile.interfaceName == nil && profile.ethernet?.macAddress == nil && !profile.isPort
                && stored.path != activeProfile?.path
        }
    }
}
