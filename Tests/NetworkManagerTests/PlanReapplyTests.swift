import Foundation
@testable import NetworkManager
import Testing

/// How a plan says that a modified active profile is reapplied or reactivated (issue 11).
@Suite("Plans: reapply or reactivate")
struct PlanReapplyTests {
    /// What `Device.Reapply` took and refused when tried on 1.42.4 and 1.52.1
    /// (docs/networkmanager-quirks.md, "What `Reapply` refuses").
    @Test("keys that reapply in place", arguments: [
        ("ipv4", "route-data", true), ("ipv4", "dns-data", true), ("ipv6", "addr-gen-mode", true), ("user", "data", true),
        ("connection", "autoconnect-priority", true), ("connection", "lldp", true), ("connection", "stable-id", true),
        ("802-3-ethernet", "mtu", true),
        ("802-3-ethernet", "cloned-mac-address", false), ("802-3-ethernet", "assigned-mac-address", false),
        ("connection", "multi-connect", false), ("connection", "auth-retries", false), ("ethtool", "feature-rx", false),
        ("connection", "interface-name", false), ("bridge", "stp", false),
    ])
    func reapplicable(setting: String, key: String, inPlace: Bool) {
        #expect(NMTransactionPlan.reapplicable(setting: setting, key: key) == inPlace)
    }

    @Test("the human plan says how, and names what prevents a reapply; JSON keeps the kind and devices")
    func rendering() throws {
        let uuid = UUID()
        let route = NMTransactionPlan.SettingChange(setting: "ipv4", key: "route-data", before: .array(.dictionary(key: .string, value: .variant), []),
                                                    after: .array(.dictionary(key: .string, value: .variant), [.dictionary(key: .string, value: .variant, [.init(.string("dest"), .variant(.string("198.51.100.0")))])]))
        let mac = NMTransactionPlan.SettingChange(setting: "802-3-ethernet", key: "assigned-mac-address", before: nil, after: .string("02:00:5e:10:20:31"))
        let reapplied = NMTransactionPlan(steps: [
            .init(kind: .modify, profile: "eno1", uuid: uuid, ports: [], changes: [route], alreadyDone: false),
            .init(kind: .reapply, profile: "eno1", uuid: uuid, ports: [], changes: [route], alreadyDone: false, devices: ["eno1"]),
        ], networkManagerVersion: "1.42.4")
        let text = reapplied.description
        #expect(text.contains("2. reapply eno1 on eno1 in place (Reapply; reactivated if NetworkManager refuses)"), "\(text)")
        // The change is listed once, under the modify step.
        #expect(text.components(separatedBy: "ipv4.route-data").count == 2, "\(text)")

        // Stored already, not applied: the modify is done, the reapply lists what it changes.
        let onlyApplied = NMTransactionPlan(steps: [
            .init(kind: .modify, profile: "eno1", uuid: uuid, ports: [], changes: [], alreadyDone: true),
            .init(kind: .reapply, profile: "eno1", uuid: uuid, ports: [], changes: [route], alreadyDone: false, devices: ["eno1"]),
        ], networkManagerVersion: "1.42.4")
        #expect(!onlyApplied.isUnchanged)
        #expect(onlyApplied.description.contains("1. modify eno1: already done\n2. reapply eno1 on eno1"), "\(onlyApplied)")
        #expect(onlyApplied.description.contains("~ ipv4.route-data"), "\(onlyApplied)")

        let reactivated = NMTransactionPlan(steps: [
            .init(kind: .modify, profile: "eno1", uuid: uuid, ports: [], changes: [mac, route], alreadyDone: false),
            .init(kind: .reactivate, profile: "eno1", uuid: uuid, ports: [], changes: [mac, route], alreadyDone: false, devices: ["eno1"]),
        ], networkManagerVersion: "1.52.1")
        #expect(reactivated.description.contains("2. reactivate eno1 on eno1 (Reapply cannot change 802-3-ethernet.assigned-mac-address in place)"),
                "\(reactivated)")

        let json = try JSONEncoder().encode(reactivated)
        let text2 = String(decoding: json, as: UTF8.self)
        #expect(text2.contains(#""kind":"reactivate""#) && text2.contains(#""devices":["eno1"]"#), "\(text2)")
        #expect(try JSONDecoder().decode(NMTransactionPlan.self, from: json) == reactivated)

        // Everything applied: unchanged.
        let done = NMTransactionPlan(steps: [
            .init(kind: .modify, profile: "eno1", uuid: uuid, ports: [], changes: [], alreadyDone: true),
            .init(kind: .reapply, profile: "eno1", uuid: uuid, ports: [], changes: [], alreadyDone: true, devices: ["eno1"]),
        ], networkManagerVersion: "1.42.4")
        #expect(done.isUnchanged)
    }
}
