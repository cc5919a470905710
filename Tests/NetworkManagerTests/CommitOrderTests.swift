import Foundation
@testable import NetworkManager
import Testing

/// The two rules that put a controller's autoconnect-off write ahead of a port's in the commit
/// (docs/transactions.md, "A power cut during the commit"), as functions of the profiles alone.
/// The VM tier's PowerCutTests boot each prefix of the writes for real.
@Suite("Commit order")
struct CommitOrderTests {
    static func nic(_ name: String = "eno1") throws -> NMConnectionProfile {
        try .ethernet(name: name, interface: NMInterfaceName(name), ipv4: .static(addresses: ["192.168.1.200/24"]))
    }

    static func port(of controller: String, uuid: UUID = UUID()) throws -> NMConnectionProfile {
        try .bridgePort(name: "\(controller)-port-eno1", interface: NMInterfaceName("eno1"), controller: controller, uuid: uuid)
    }

    @Test func anAddedControllerOfAModifiedProfileIsWrittenInert() throws {
        let bridge = try NMConnectionProfile.bridge(name: "br0", interface: NMInterfaceName("br0"))
        let other = try NMConnectionProfile.bridge(name: "br1", interface: NMInterfaceName("br1"))
        let attached = try Self.nic().attached(to: "br0")
        #expect(NMClient.inertControllers(adds: [bridge, other], modifies: [attached]) == [bridge.uuid])
        // Named by UUID, as a profile may name its controller.
        let byUUID = try Self.nic().attached(to: other.uuid.uuidString)
        #expect(NMClient.inertControllers(adds: [bridge, other], modifies: [byUUID]) == [other.uuid])
        // A new port (bridgeify's way) leaves the bridge as it is: the port is inert without it.
        #expect(NMClient.inertControllers(adds: [bridge, try Self.port(of: "br0")], modifies: []).isEmpty)
    }

    @Test func aControllerAModificationDetachesFromIsLeftBehind() throws {
        let uuid = UUID()
        let before = try Self.port(of: "br0", uuid: uuid)
        var given = try Self.nic()
        given.connection.uuid = uuid
        #expect(NMClient.controllersLeftBehind(modifies: [given], before: [uuid: before]) == ["br0"])
        // Moved to another bridge: the old one is left behind too.
        var moved = before
        moved.connection.controller = "br1"
        #expect(NMClient.controllersLeftBehind(modifies: [moved], before: [uuid: before]) == ["br0"])
        // Still a port of the same bridge (its MTU changed): nothing is left behind, whatever the case.
        var same = before
        same.connection.controller = "BR0"
        #expect(NMClient.controllersLeftBehind(modifies: [same], before: [uuid: before]).isEmpty)
        // Unknown before (not a modification this run planned): no rule applies.
        #expect(NMClient.controllersLeftBehind(modifies: [given], before: [:]).isEmpty)
    }
}
