#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension NMClient {
    /// Refuses, at plan time and so before any checkpoint, a profile that cannot work with the
    /// devices NetworkManager has: NetworkManager itself would store it and fail only at
    /// activation, after the checkpoint, with `UnknownDevice` ("no such device") or a
    /// `DependencyFailed` that name neither the device's real type nor what the profile needs.
    ///
    /// - a profile whose `connection.interface-name` is a device of another type (an ethernet
    ///   profile on `lo`, a bridge profile on a NIC): ``NMError/Code/deviceTypeMismatch``;
    /// - a port whose controller (`connection.controller`, an interface name or a profile's
    ///   UUID) is of another type than its port type needs (a bridge port whose controller is
    ///   a NIC or a bond): ``NMError/Code/deviceTypeMismatch``; a controller that is no device,
    ///   no profile's interface and no profile's UUID: ``NMError/Code/missingController``;
    /// - a VLAN whose `vlan.parent` is no device, no profile's interface and no profile's UUID:
    ///   ``NMError/Code/missingParent``.
    ///
    /// Pure: it reads only its arguments (the planner's host reading).
    /// - Parameters:
    ///   - changed: the profiles the transaction adds or modifies (the only ones checked).
    ///   - profiles: every profile as it will be after the transaction (stored ones, with the
    ///     transaction's adds and modifies, without its deletes).
    ///   - devices: NetworkManager's devices, real and placeholders.
    static func checkDeviceFit(changed: [NMConnectionProfile], profiles: [NMConnectionProfile], devices: [NMDevice]) throws(NMError) {
        let byUUID = Dictionary(profiles.map { ($0.uuid, $0) }, uniquingKeysWith: { first, _ in first })
        func device(named name: String) -> NMDevice? { devices.first { $0.interface.rawValue == name } }
        func profilesOn(_ interface: String) -> [NMConnectionProfile] {
            profiles.filter { $0.interfaceName?.rawValue == interface }
        }

        for profile in changed.sorted(by: { ($0.name, $0.uuid.uuidString) < ($1.name, $1.uuid.uuidString) }) {
            // The profile's own interface.
            if let interface = profile.interfaceName?.rawValue, let device = device(named: interface),
               let fitting = deviceTypes[profile.type], !fitting.contains(device.type) {
                throw NMError(
                    .deviceTypeMismatch,
                    "profile \(NMText.quoted(profile.name)) is of type \(short(profile.type)), but \(interface) is a device of type \(device.type)",
                    hint: "a profile of type \(short(profile.type)) needs a device of type \(Self.names(fitting)); name another interface, "
                        + (connectionType(for: device.type).map { "or use a profile of type \($0) for \(interface)" }
                           ?? "or leave \(interface) alone"))
            }

            // The controller of a port.
            if let controller = profile.connection.controller, !controller.isEmpty {
                let portType = profile.connection.portType ?? .bridge
                if let wanted = controllerTypes[portType] {
                    try checkController(controller, of: profile, portType: portType, wanted: wanted,
                                        byUUID: byUUID, profilesOn: profilesOn, device: device(named:))
                }
            }

            // The parent of a VLAN.
            if profile.type == .vlan, let parent = profile.vlan?.parent, !parent.isEmpty {
                let known = UUID(uuidString: parent).flatMap { byUUID[$0] } != nil
                    || device(named: parent) != nil || !profilesOn(parent).isEmpty
                if !known {
                    throw NMError(
                        .missingParent,
                        "VLAN \(NMText.quoted(profile.name)) has parent \(NMText.quoted(parent)), which is no device, "
                            + "no profile's interface and no profile's UUID",
                        hint: "name an existing interface (nmcli device) or the UUID of a profile as vlan.parent, or add the "
                            + "parent's profile in the same transaction; nothing was changed")
                }
            }
        }
    }

    private static func checkController(
        _ controller: String, of port: NMConnectionProfile, portType: NMPortType, wanted: NMConnectionType,
        byUUID: [UUID: NMConnectionProfile], profilesOn: (String) -> [NMConnectionProfile], device: (String) -> NMDevice?
    ) throws(NMError) {
        let what = "\(portType.rawValue) port \(NMText.quoted(port.name))"
        let needs = "a \(portType.rawValue) port needs a controller of type \(wanted.rawValue)"
        if let uuid = UUID(uuidString: controller), let profile = byUUID[uuid] {
            guard profile.type == wanted else {
                throw NMError(.deviceTypeMismatch,
                              "\(what) has controller \(NMText.quoted(profile.name)) (\(controller)), a profile of type \(short(profile.type))",
                              hint: "\(needs); name a \(wanted.rawValue) (its interface or its profile's UUID) as the controller")
            }
            return
        }
        // By interface name: a profile of the right type for it (a controller this transaction
        // or an earlier one creates) is enough; otherwise the device that has it decides.
        let onInterface = profilesOn(controller)
        if onInterface.contains(where: { $0.type == wanted }) { return }
        if let existing = device(controller) {
            guard existing.type == deviceTypes[wanted]?.first else {
                throw NMError(.deviceTypeMismatch,
                              "\(what) has controller \(controller), which is a device of type \(existing.type)",
                              hint: "\(needs), and \(controller) is a device of type \(existing.type): name a \(wanted.rawValue) "
                                  + "as the controller (its interface or its profile's UUID)")
            }
            return
        }
        if let other = onInterface.first {
            throw NMError(.deviceTypeMismatch,
                          "\(what) has controller \(controller), whose profile \(NMText.quoted(other.name)) is of type \(short(other.type))",
                          hint: "\(needs); add a \(wanted.rawValue) profile for \(controller) in the same transaction")
        }
        throw NMError(.missingController,
                      "\(what) has controller \(NMText.quoted(controller)), which is no device, no profile's interface and no profile's UUID",
                      hint: "add the \(wanted.rawValue) in the same transaction (controllers are activated before their ports), "
                          + "or name an existing one; nothing was changed")
    }

    /// The device types a profile type can be activated on (those this check knows).
    static let deviceTypes: [NMConnectionType: [NMDeviceType]] = [
        .ethernet: [.ethernet, .veth], .bridge: [.bridge], .bond: [.bond], .vlan: [.vlan], .dummy: [.dummy],
        .loopback: [.loopback], .wifi: [.wifi],
    ]

    /// The controller's profile type each port type needs.
    static let controllerTypes: [NMPortType: NMConnectionType] = [.bridge: .bridge, .bond: .bond]

    static func connectionType(for device: NMDeviceType) -> String? {
        deviceTypes.first { $0.value.contains(device) }.map { short($0.key) }
    }

    /// nmcli's short name of a profile type (`ethernet` for `802-3-ethernet`).
    static func short(_ type: NMConnectionType) -> String {
        switch type {
        case .ethernet: return "ethernet"
        case .wifi: return "wifi"
        default: return type.rawValue
        }
    }

    private static func names(_ types: [NMDeviceType]) -> String {
        types.map(\.description).joined(separator: " or ")
    }
}
