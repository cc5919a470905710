import DBus
import Foundation
import NMTestSupport
import NetworkManager
import Testing

/// Issue 10, defect 4: with 1,100 profiles `bridgeify status` failed 4 times in 5 with
/// `LimitsExceeded`, because every `GetSettings` went out at once and dbus-daemon refuses a
/// connection more than `max_replies_per_connection` (128 on a default system bus) pending
/// replies. Reads now keep at most `DBusConnection.Options.callWindow` (64) calls on the wire
/// (decision 0004). These tests read thousands of real profiles from the container's
/// NetworkManager; the bridgeify side is in BridgeifyIntegrationTests/ScaleTests.swift.
///
/// Timings are printed, not asserted: this is a shared 2-core machine and a debug build. The
/// only bounds are generous ones that catch a hang.
@Suite(.serialized)
struct ScaleTests {
    /// Far beyond anything measured (a few seconds at 5,000 in a debug build): only a hang or
    /// a read that went one call at a time per round trip with a stall would reach it.
    static let hangBound: Duration = .seconds(120)

    @Test(arguments: [1_100, 5_000])
    func profilesReadsThousandsOfProfilesEachWithItsOwnSettings(count: Int) async throws {
        try await withNMContainer(eno1Static: true) { container in
            let nm = try await container.client()
            let base = try await nm.profiles()
            let (written, load) = try await Self.load(count, into: container, nm)

            let clock = ContinuousClock()
            var profiles: [NMStoredProfile] = []
            let first = try await clock.measure { profiles = try await nm.profiles() }
            #expect(profiles.count == base.count + count, "\(profiles.count) profiles read, \(base.count + count) exist")
            try Self.expectEveryInertProfile(written, in: profiles)
            #expect(first < Self.hangBound)

            // A second read on the same client, and a fresh client's (a command's) first read.
            var again: [NMStoredProfile] = []
            let second = try await clock.measure { again = try await nm.profiles() }
            #expect(again.count == profiles.count)
            var fresh: [NMStoredProfile] = []
            let freshRead = try await clock.measure {
                fresh = try await NMClient.connect(address: container.busAddress).profiles()
            }
            #expect(fresh.count == profiles.count)
            #expect(Set(fresh.map(\.profile.uuid)) == Set(profiles.map(\.profile.uuid)))

            // And the snapshot with profiles, which a transaction's plan reads.
            var withSnapshot: NMHostState?
            let snapshotRead = try await clock.measure { withSnapshot = try await nm.snapshotWithProfiles() }
            #expect(withSnapshot?.profiles.count == profiles.count)
            #expect(withSnapshot?.profileSummaries.count == profiles.count)
            #expect(withSnapshot?.device(named: "eno1")?.state == .activated)

            print("scale \(count): \(load); profiles() \(Self.seconds(first)) (\(profiles.count) profiles), "
                + "again \(Self.seconds(second)), fresh client \(Self.seconds(freshRead)), "
                + "snapshotWithProfiles() \(Self.seconds(snapshotRead))")
        }
    }

    /// The defect itself, with the window opened beyond the bus's limit: 2,000 calls on the
    /// wire at once, as before the fix every one of them was. The bus refuses the excess with
    /// `LimitsExceeded`, and profiles() fails with that error; the same read through the
    /// default window, on the same NetworkManager, returns every profile.
    @Test func aCallWindowAboveTheBusLimitFailsWithLimitsExceeded() async throws {
        try await withNMContainer(eno1Static: true) { container in
            let nm = try await container.client()
            let base = try await nm.profiles().count
            _ = try await Self.load(5_000, into: container, nm)

            let wide = try await NMClient.connect(address: container.busAddress,
                                                  options: DBusConnection.Options(callWindow: 2_000))
            let clock = ContinuousClock()
            var failure: (any Error)?
            let elapsed = await clock.measure {
                do {
                    let read = try await wide.profiles()
                    Issue.record("profiles() through a window of 2,000 read \(read.count) profiles: the bus did not refuse")
                } catch {
                    failure = error
                }
            }
            let dbusError = (failure as? DBusError) ?? (failure as? NMError)?.dbusError
            #expect(dbusError?.code == .limitsExceeded, "\(String(describing: failure))")
            #expect(dbusError?.name == "org.freedesktop.DBus.Error.LimitsExceeded")
            // Refused by the bus: the call was never delivered, so its outcome is known.
            #expect(dbusError?.outcomeUnknown == false)
            print("window 2,000, 5,000 profiles: failed in \(Self.seconds(elapsed)) with \(dbusError.map { "\($0.code)" } ?? "?")")

            // The control: the default window, same bus, same profiles.
            let all = try await container.client().profiles()
            #expect(all.count == base + 5_000)
        }
    }

    // MARK: - Helpers

    /// Writes `count` inert profiles and has NetworkManager load them (`ReloadConnections`);
    /// returns them and a line of timings.
    static func load(_ count: Int, into container: NMContainer, _ nm: NMClient) async throws
        -> (profiles: [InertProfile], timings: String)
    {
        let clock = ContinuousClock()
        var written: [InertProfile] = []
        let write = try clock.measure { written = try container.writeInertProfiles(count: count, prefix: "scale") }
        let reload = try await clock.measure { try await reloadKeyfiles(nm) }
        #expect(reload < hangBound)
        return (written, "keyfiles written in \(seconds(write)), ReloadConnections \(seconds(reload))")
    }

    /// `Settings.ReloadConnections`, as `NMClient.reloadProfiles()` sends it, but with a 300 s
    /// timeout instead of the library's default 25 s: NetworkManager 1.42 took 12-20 s to load
    /// 5,000 new keyfiles on the loaded 2-core VM (superlinear: docs/networkmanager-quirks.md).
    static func reloadKeyfiles(_ nm: NMClient) async throws {
        _ = try await nm.connection.call(
            destination: NMClient.service, path: "/org/freedesktop/NetworkManager/Settings",
            interface: "org.freedesktop.NetworkManager.Settings", member: "ReloadConnections", timeout: .seconds(300))
    }

    /// Each written profile is there exactly once, with its own interface name and address:
    /// no reply was matched to the wrong profile.
    static func expectEveryInertProfile(_ written: [InertProfile], in profiles: [NMStoredProfile]) throws {
        let byUUID = Dictionary(grouping: profiles, by: { $0.profile.uuid.uuidString.lowercased() })
        var wrong: [String] = []
        for expected in written {
            guard let found = byUUID[expected.uuid], found.count == 1, let stored = found.first else {
                wrong.append("\(expected.name): \(byUUID[expected.uuid]?.count ?? 0) read")
                continue
            }
            let profile = stored.profile
            if profile.name != expected.name || profile.interfaceName?.rawValue != expected.interface
                || profile.ipv4?.addresses.map(\.description) != [expected.ipv4Address]
                || profile.connection.autoconnect != false || stored.isInMemory
            {
                wrong.append("\(expected.name): read \(profile.name) on \(profile.interfaceName?.rawValue ?? "-") "
                    + "with \(profile.ipv4?.addresses.map(\.description) ?? [])")
            }
        }
        #expect(wrong.isEmpty, "\(wrong.count) of \(written.count) profiles wrong, first: \(wrong.prefix(5))")
    }

    static func seconds(_ duration: Duration) -> String {
        let ms = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return String(format: "%.2f s", ms / 1000)
    }
}
