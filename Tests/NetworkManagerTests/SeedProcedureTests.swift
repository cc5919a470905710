import DBus
import Foundation
import NetworkManager
import Testing

/// The seed procedure, in typed Swift, checked against what NetworkManager 1.42.4 made of the
/// same nmcli commands (Fixtures/GetSettings/seed-*.json):
/// ```
/// nmcli connection add con-name eno1 ifname eno1 ipv4.addresses 192.168.1.200/24 ipv4.method manual ipv4.gateway 192.168.1.1 ipv4.dns 114.114.114.114 type 802-3-ethernet
/// nmcli connection add con-name br0 ifname br0 type bridge ipv4.method manual ipv4.addresses 192.168.1.200/24 ipv4.gateway 192.168.1.1 ipv4.dns 114.114.114.114 autoconnect yes
/// nmcli connection add type bridge-slave ifname eno1 master br0
/// ```
@Suite("The seed procedure in typed Swift")
struct SeedProcedureTests {
    static func seed() throws -> (eno1: NMConnectionProfile, br0: NMConnectionProfile, port: NMConnectionProfile) {
        let lan = NMIPv4Setting.static(addresses: ["192.168.1.200/24"], gateway: "192.168.1.1", dns: ["114.114.114.114"])
        let eno1 = try NMConnectionProfile.ethernet(name: "eno1", interface: NMInterfaceName("eno1"), ipv4: lan)
        // The seed leaves autoconnect-slaves unset; the builder's default (true) is what field
        // problem 9 asks for, so the seed's choice is spelled out here.
        let br0 = try NMConnectionProfile.bridge(name: "br0", interface: NMInterfaceName("br0"), autoconnect: true,
                                                 autoconnectPorts: nil, ipv4: lan)
        // nmcli names a bridge-slave profile "bridge-slave-IFNAME".
        let port = try NMConnectionProfile.bridgePort(name: "bridge-slave-eno1", interface: NMInterfaceName("eno1"), controller: "br0")
        return (eno1, br0, port)
    }

    /// Keys the typed profile writes that NetworkManager leaves out of GetSettings because they
    /// hold its default.
    static let defaultsNMOmits: [String: DBusValue] = ["connection.autoconnect": .boolean(true)]

    @Test("each seed profile writes a subset of what NetworkManager stored", arguments: [
        ("eno1", "seed-eno1"), ("br0", "seed-br0"), ("port", "seed-port"),
    ])
    func wireMatchesNetworkManager(which: String, fixtureName: String) throws {
        let seed = try Self.seed()
        let profile = which == "eno1" ? seed.eno1 : which == "br0" ? seed.br0 : seed.port
        let fixture = try SettingsFixture.load(fixtureName)
        let written = try NMSettingsCodec(version: NMVersion(1, 42, 4)).encode(profile)
        for (setting, keys) in written {
            for (key, value) in keys where key != "uuid" {
                if let stored = fixture.settings[setting]?[key] {
                    #expect(value == stored, "\(setting).\(key)")
                } else {
                    #expect(Self.defaultsNMOmits["\(setting).\(key)"] == value, "\(setting).\(key) is not in GetSettings")
                }
            }
        }
        // Every setting NetworkManager stored is one the typed profile has, except those NM
        // adds by itself: an 802-3-ethernet setting on bridges, an empty proxy setting everywhere.
        let extraSettings = Set(fixture.settings.keys).subtracting(written.keys)
        #expect(extraSettings.isSubset(of: ["802-3-ethernet", "proxy"]), "\(extraSettings)")
    }

    @Test("reading NetworkManager's profiles gives the typed seed back")
    func typedEquality() throws {
        let seed = try Self.seed()
        let codec = NMSettingsCodec(version: NMVersion(1, 42, 4))
        for (built, fixtureName) in [(seed.eno1, "seed-eno1"), (seed.br0, "seed-br0"), (seed.port, "seed-port")] {
            let read = try codec.decode(SettingsFixture.load(fixtureName).settings)
            #expect(Self.comparable(read, uuid: built.uuid) == Self.comparable(built, uuid: built.uuid), "\(fixtureName)")
        }
    }

    @Test("the seed's bridge port carries no IP settings and names its controller")
    func portShape() throws {
        let port = try Self.seed().port
        #expect(port.ipv4 == nil && port.ipv6 == nil)
        #expect(port.connection.controller == "br0" && port.connection.portType == .bridge)
        let written = try NMSettingsCodec(version: NMVersion(1, 42)).encode(port)
        #expect(written["connection"]?["master"] == .string("br0"))
        #expect(written["connection"]?["slave-type"] == .string("bridge"))
        #expect(written["bridge-port"] == ["vlans": .array(.dictionary(key: .string, value: .variant), [])])
        #expect(written["ipv4"] == nil && written["ipv6"] == nil)
    }

    @Test("the bridge builder turns autoconnect-slaves on by default")
    func bridgeDefault() throws {
        let br0 = try NMConnectionProfile.bridge(name: "br0", interface: NMInterfaceName("br0"), stp: false)
        let written = try NMSettingsCodec(version: NMVersion(1, 42)).encode(br0)
        #expect(written["connection"]?["autoconnect-slaves"] == .int32(1))
        #expect(written["bridge"]?["stp"] == .boolean(false))
    }

    /// The typed profile without what differs by construction: the UUID, keys the model keeps
    /// verbatim (`extraKeys`: NM's own defaults such as `auto-negotiate`, `timestamp`), an
    /// `802-3-ethernet` setting holding nothing typed, and `autoconnect` `nil` vs `true`.
    static func comparable(_ profile: NMConnectionProfile, uuid: UUID) -> NMConnectionProfile {
        var p = profile
        p.connection.uuid = uuid
        p.connection.extraKeys = [:]
        if p.connection.autoconnect == nil { p.connection.autoconnect = true }
        p.ethernet?.extraKeys = [:]
        if p.ethernet == NMEthernetSetting() && p.connection.type != .ethernet { p.ethernet = nil }
        p.bridge?.extraKeys = [:]
        p.bridgePort?.extraKeys = [:]
        p.ipv4?.extraKeys = [:]
        p.ipv6?.extraKeys = [:]
        p.unknownSettings = [:]
        return p
    }
}
