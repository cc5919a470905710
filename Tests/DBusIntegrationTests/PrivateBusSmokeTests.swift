import Foundation
import NMTestSupport
import Testing

/// The D-Bus integration tier's fixtures work: a private bus and a python-dbusmock peer
/// that answers methods, serves properties and vanishes on demand.
@Suite(.serialized)
struct PrivateBusSmokeTests {
    @Test func mockPeerAnswersOnPrivateBus() throws {
        let bus = try PrivateBus.start()
        defer { bus.stop() }
        #expect(bus.address.hasPrefix("unix:path="))

        let peer = try bus.startMock(
            name: "org.example.Smoke", path: "/org/example/Smoke", interface: "org.example.Smoke")
        try peer.addMethod(name: "Echo", inSignature: "s", outSignature: "s", code: "ret = args[0] + '!'")
        let reply = try bus.dbusSend(
            destination: "org.example.Smoke", path: "/org/example/Smoke", method: "org.example.Smoke.Echo",
            arguments: ["string:192.0.2.53"])
        #expect(reply.contains("string \"192.0.2.53!\""), "unexpected reply: \(reply)")

        let calls = try peer.methodCalls("Echo")
        #expect(calls.map(\.arguments) == [["\"192.0.2.53\""]])

        try peer.addProperty(name: "Mtu", value: .uint32(1492))
        try peer.addProperty(name: "Addresses", value: .strings(["192.0.2.1", "2001:db8::1"]))
        let mtu = try bus.dbusSend(
            destination: "org.example.Smoke", path: "/org/example/Smoke",
            method: "org.freedesktop.DBus.Properties.Get", arguments: ["string:org.example.Smoke", "string:Mtu"])
        #expect(mtu.contains("uint32 1492"), "unexpected reply: \(mtu)")

        try peer.emitSignal(
            name: "StateChanged", signature: "uuu", arguments: [.uint32(100), .uint32(30), .uint32(0)])
        try peer.updateProperties([("Mtu", .uint32(9000))])

        peer.kill()
        #expect(!peer.isRunning)
        // The bus drops the name once it sees the socket close.
        var owned = true
        for _ in 0..<100 where owned {
            owned = try bus.nameHasOwner("org.example.Smoke")
            if owned { usleep(10_000) }
        }
        #expect(!owned, "the name is still owned after the mock was killed")
    }
}
