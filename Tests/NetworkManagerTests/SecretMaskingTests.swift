import DBus
import NetworkManager
import Testing

@Suite("Profiles never print secrets")
struct SecretMaskingTests {
    static func profileWithSecrets() throws -> NMConnectionProfile {
        var profile = try NMSettingsCodec(version: NMVersion(1, 42)).decode(SettingsFixture.load("unknown-keys").settings)
        profile.unknownSettings["802-1x"]?["password"] = .string("s3cret-8021x")
        profile.unknownSettings["802-11-wireless-security"] = [
            "psk": .string("s3cret-psk"), "psk-flags": .uint32(0), "wep-key0": .string("s3cret-wep"),
            "key-mgmt": .string("wpa-psk"),
        ]
        profile.unknownSettings["vpn"] = ["secrets": .dictionary(key: .string, value: .string, [
            .init(.string("password"), .string("s3cret-vpn")),
        ])]
        profile.unknownSettings["wireguard"] = [
            "private-key": .string("s3cret-wg"),
            "peers": .array(.dictionary(key: .string, value: .variant), [
                .dictionary(key: .string, value: .variant, [
                    .init(.string("public-key"), .variant(.string("pub"))),
                    .init(.string("preshared-key"), .variant(.string("s3cret-peer"))),
                ]),
            ]),
        ]
        profile.connection.extraKeys["802-1x-ish-secret"] = .string("s3cret-extra")
        return profile
    }

    @Test("secret keys", arguments: [
        ("psk", true), ("password", true), ("leap-password", true), ("ca-cert-password", true), ("private-key", true),
        ("private-key-password", true), ("preshared-key", true), ("wep-key0", true), ("wep-key3", true), ("pin", true),
        ("secrets", true), ("client-secret", true), ("psk-flags", false), ("password-flags", false),
        ("wep-key-type", false), ("wep-tx-keyidx", false), ("identity", false), ("id", false), ("uuid", false),
    ])
    func secretKeys(key: String, secret: Bool) {
        #expect(NMConnectionProfile.isSecretKey(key) == secret)
    }

    @Test("description, debugDescription, string interpolation and dump mask secrets")
    func masked() throws {
        let profile = try Self.profileWithSecrets()
        var dumped = ""
        dump(profile, to: &dumped)
        for text in [profile.description, profile.debugDescription, "\(profile)", String(reflecting: profile), dumped] {
            #expect(!text.contains("s3cret"), "\(text)")
        }
        let debug = profile.debugDescription
        #expect(debug.contains("802-1x.password = <hidden>"))
        #expect(debug.contains("802-11-wireless-security.psk = <hidden>"))
        #expect(debug.contains("802-11-wireless-security.psk-flags = uint32 0"))
        #expect(debug.contains("802-1x.identity = 'alice'"))
        #expect(debug.contains("'preshared-key': <hidden>"))
        #expect(debug.contains("'public-key': <'pub'>"))
        #expect(debug.contains("connection.zone = 'trusted'"))
        #expect(profile.description.hasPrefix("NMConnectionProfile \"eth-extras\" (802-3-ethernet, interface eno1"))
    }

    @Test("GetSettings never returns secrets: the 802-1x password nmcli stored is not in the fixture")
    func fixtureHasNoSecrets() throws {
        let settings = try SettingsFixture.load("unknown-keys").settings
        #expect(settings["802-1x"]?["password"] == nil)
        #expect(settings["802-1x"]?["identity"] == .string("alice"))
    }
}
