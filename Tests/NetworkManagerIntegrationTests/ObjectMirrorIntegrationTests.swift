import DBus
import NMTestSupport
@testable import NetworkManager
import Testing

/// The object mirror (``NMObjectMirror``) against the real NetworkManager: after a conversion
/// (a bridge and its port added, activated, the old profile superseded, the checkpoint
/// destroyed), what the mirror holds equals what a fresh `GetManagedObjects` returns, in
/// every part the engine reads (devices, active connections, checkpoints, IPv4 configurations).
@Suite(.serialized)
struct ObjectMirrorIntegrationTests {
    /// The parts the engine reads from the host, from the mirror and from a real read.
    static func compared(_ nm: NMClient) async throws -> (mirror: NMHostState?, read: NMHostState) {
        let mirrored = nm.mirror.objects(of: nm.runningInstance)
        // Not through readObjects: this read must not start the mirror again.
        let fresh = try await nm.connection.managedObjects(at: "/org/freedesktop", on: NMClient.service)
        var mirror: NMHostState?
        if let mirrored { mirror = try await nm.hostObjects(from: mirrored, withProfiles: false) }
        return (mirror, try await nm.hostObjects(from: fresh, withProfiles: false))
    }

    @Test func theMirrorEqualsAFreshReadAfterARealActivation() async throws {
        try await withNMContainer(nics: ["eno1"], eno1Static: true) { container in
            let nm = try await container.client()
            try await nm.followChanges()
            let host = try await nm.snapshotWithProfiles()  // starts the mirror
            let start = try await Self.compared(nm)
            let started = try #require(start.mirror, "the read after followChanges() did not start the mirror")
            #expect(started.devices == start.read.devices)

            let conversion = try await BridgeConversion.make(nm)
            let result = try await nm.apply(conversion.transaction, basedOn: host)
            #expect(result.outcome == .committed)
            #expect(result.steps.contains { $0.step == .verify })
            // The mirror has seen br0 appear, activate, get its address, and the checkpoint go:
            // equal to a read once NetworkManager has sent its last PropertiesChanged (an idle
            // cycle after a change), which a later signal-free moment shows.
            var last = try await Self.compared(nm)
            let deadline = ContinuousClock.now + .seconds(5)
            while last.mirror != last.read && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                last = try await Self.compared(nm)
            }
            let mirror = try #require(last.mirror)
            #expect(mirror.devices == last.read.devices)
            #expect(mirror.activeConnections == last.read.activeConnections)
            #expect(mirror.checkpoints == last.read.checkpoints && mirror.checkpoints.isEmpty)
            #expect(mirror.ipv4 == last.read.ipv4)
            // And it changed since the start: br0 is in it, activated, with eno1's address.
            let br0 = try #require(mirror.device(named: "br0"))
            #expect(br0.state == .activated)
            #expect(started.device(named: "br0") == nil || started.device(named: "br0")?.isReal == false)
            #expect(mirror.ipv4[br0.path]?.addresses.isEmpty == false)
        }
    }
}
