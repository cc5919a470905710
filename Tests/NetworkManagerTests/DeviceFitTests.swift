import DBus
import Foundation
@testable import NetworkManager
import Testing

/// The plan-time check of profiles against NetworkManager's devices
/// (`NMClient.checkDeviceFit`): a table, no bus. The container tests check the same through
/// `plan` and `apply` (TransactionTests).
@Suite("Device fit")
struct DeviceFitTests {
    static func device(_ name: String, _ type: NMDeviceType, real: Bool = true) -> NMDevice {
        NMDevice(path: ObjectPath(rawValue: "/org/freedesktop/NetworkManager/Devices/\(name)")!,
                 properties: ["Interface": .string(name), "DeviceType": .uint32(type.rawValue), "Real": .boolean(real)])
    }

    static let devices = [
        device("lo", .loopback), device("eno1", .ethernet), device("eno2", .veth), device("br9", .bridge),
        device("bond9", .bond), device("dummy9", .dummy),
    ]

    static func fit(_ changed: [NMConnectionProfile], others: [NMConnectionProfile] = []) -> NMError? {
        do {
            try NMClient.checkDeviceFit(changed: changed, profiles: changed + others, devices: devices)
            return nil
        } catch {
            return error
        }
    }

    @Test("profiles that fit their devices pass")
    func fitting() throws {
        let eno1 = try NMInterfaceName("eno1"), eno2 = try NMInterfaceName("eno2")
        let bridge = try NMConnectionProfile.bridge(name: "new-br", interface: NMInterfaceName("br7"))
        let cases: [[NMConnectionProfile]] = [
            [try .ethernet(name: "e1", interface: eno1, ipv4: .dhcp)],
            [try .ethernet(name: "veth", interface: eno2, ipv4: .dhcp)],  // veth takes ethernet profiles
            [try .bridge(name: "b", interface: NMInterfaceName("br9"))],
            [try .bridgePort(name: "p", interface: eno1, controller: "br9")],  // an existing bridge device
            [bridge, try .bridgePort(name: "p", interface: eno1, controller: "br7")],  // a bridge added with it
            [bridge, try .bridgePort(name: "p", interface: eno1, controller: bridge.uuid.uuidString.lowercased())],
            [try .ethernet(name: "e", interface: eno2, ipv4: .dhcp).attached(to: "bond9", as: .bond)],
            [try .vlan(name: "v", parent: "eno1", id: 7)],
            [try .vlan(name: "v", parent: "br7", id: 7), bridge],  // a parent created in the same transaction
            [try .vlan(name: "v", parent: bridge.uuid.uuidString.lowercased(), id: 7), bridge],
            [try .ethernet(name: "new-nic", interface: NMInterfaceName("eno9"), ipv4: .dhcp)],  // no device yet: not judged
        ]
        for profiles in cases {
            #expect(Self.fit(profiles) == nil, "\(profiles.map(\.name))")
        }
    }

    @Test("a profile on a device of another type is deviceTypeMismatch, naming both types")
    func interfaceMismatch() throws {
        let onLoopback = try NMConnectionProfile.ethernet(name: "eth-on-lo", interface: NMInterfaceName("lo"), ipv4: .dhcp)
        let error = try #require(Self.fit([onLoopback]))
        #expect(error.code == .deviceTypeMismatch)
        #expect(error.message.contains("lo is a device of type loopback"), "\(error.message)")
        #expect(error.message.contains("of type ethernet"), "\(error.message)")
        #expect(error.hint?.contains("device of type ethernet or veth") == true, "\(error.hint ?? "")")
        #expect(error.hint?.contains("profile of type loopback for lo") == true, "\(error.hint ?? "")")

        let bridgeOnNIC = try NMConnectionProfile.bridge(name: "br-on-nic", interface: NMInterfaceName("eno1"))
        #expect(Self.fit([bridgeOnNIC])?.code == .deviceTypeMismatch)
    }

    @Test("a port whose controller is of another type is deviceTypeMismatch")
    func controllerMismatch() throws {
        let eno2 = try NMInterfaceName("eno2")
        // A bridge port whose controller is a NIC.
        let toNIC = try #require(Self.fit([try .bridgePort(name: "p", interface: eno2, controller: "eno1")]))
        #expect(toNIC.code == .deviceTypeMismatch)
        #expect(toNIC.message.contains("eno1, which is a device of type ethernet"), "\(toNIC.message)")
        #expect(toNIC.hint?.contains("controller of type bridge") == true, "\(toNIC.hint ?? "")")
        // A bond port whose controller is a NIC, and one whose controller is a bridge.
        let bondToNIC = try NMConnectionProfile.ethernet(name: "bp", interface: eno2, ipv4: .dhcp).attached(to: "eno1", as: .bond)
        #expect(Self.fit([bondToNIC])?.code == .deviceTypeMismatch)
        let bondToBridge = try NMConnectionProfile.ethernet(name: "bp", interface: eno2, ipv4: .dhcp).attached(to: "br9", as: .bond)
        let error = try #require(Self.fit([bondToBridge]))
        #expect(error.code == .deviceTypeMismatch)
        #expect(error.hint?.contains("controller of type bond") == true, "\(error.hint ?? "")")
        // A controller named by the UUID of a profile of another type.
        let nicProfile = try NMConnectionProfile.ethernet(name: "nic", interface: NMInterfaceName("eno1"), ipv4: .dhcp)
        let byUUID = try NMConnectionProfile.bridgePort(name: "p", interface: eno2, controller: nicProfile.uuid.uuidString.lowercased())
        #expect(Self.fit([byUUID], others: [nicProfile])?.code == .deviceTypeMismatch)
    }

    @Test("a controller that does not exist is missingController")
    func missingController() throws {
        let port = try NMConnectionProfile.bridgePort(name: "p", interface: NMInterfaceName("eno2"), controller: "nosuchbr")
        let error = try #require(Self.fit([port]))
        #expect(error.code == .missingController)
        #expect(error.hint?.contains("nothing was changed") == true)
    }

    @Test("a VLAN whose parent does not exist is missingParent")
    func missingParent() throws {
        let vlan = try NMConnectionProfile.vlan(name: "v", parent: "nosuch0", id: 7)
        let error = try #require(Self.fit([vlan]))
        #expect(error.code == .missingParent)
        #expect(error.message.contains("nosuch0"))
        let byUUID = try NMConnectionProfile.vlan(name: "v", parent: UUID().uuidString.lowercased(), id: 7)
        #expect(Self.fit([byUUID])?.code == .missingParent)
    }
}
