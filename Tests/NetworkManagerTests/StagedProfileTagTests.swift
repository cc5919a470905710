import Foundation
@testable import NetworkManager
import Testing

/// `NMStagedProfileTag`: what a staged profile carries in `user.data`, as one type.
@Suite("Staged profile tags")
struct StagedProfileTagTests {
    static let id = UUID(uuidString: "6f1c2a9e-1111-4222-8333-444455556666")!
    static let other = UUID(uuidString: "0a0b0c0d-1111-4222-8333-444455556666")!

    @Test("every field survives user.data and JSON")
    func roundTrip() throws {
        var tag = NMStagedProfileTag(transaction: Self.id, role: .backup)
        tag.checkpoint = "/org/freedesktop/NetworkManager/Checkpoint/3"
        tag.checkpointCreated = 123_456
        tag.hasAutoconnect = true
        tag.autoconnect = false
        tag.label = "bridgeify eno1"
        tag.backupOf = Self.other
        tag.originalName = "Wired connection 1"
        tag.originalStorage = .memory
        tag.supersedes = [Self.other]
        tag.deletes = [Self.id, Self.other]
        tag.reactivate = [.init(interface: "eno1", uuid: Self.other)]
        tag.newDevices = ["br0", "bond0"]
        let flat = tag.userData
        #expect(flat[NMStagedProfileTag.versionKey] == "1")
        #expect(NMStagedProfileTag(userData: flat) == tag)
        #expect(try JSONDecoder().decode(NMStagedProfileTag.self, from: JSONEncoder().encode(tag)) == tag)
        // autoconnect: NetworkManager's default is its own value, distinct from absent.
        var byDefault = NMStagedProfileTag(transaction: Self.id, role: .add)
        byDefault.hasAutoconnect = true
        #expect(byDefault.userData[NMClient.Tag.autoconnect] == "default")
        #expect(NMStagedProfileTag(userData: byDefault.userData) == byDefault)
        #expect(NMStagedProfileTag(transaction: Self.id, role: .add).userData[NMClient.Tag.autoconnect] == nil)
    }

    @Test("the string format written before the type (no version key) is read")
    func oldFormat() {
        // As the engine's hand-written tags() and the older writers left them on the host.
        let old: [String: String] = [
            "org.swift-networkmanager.transaction": Self.id.uuidString,
            "org.swift-networkmanager.checkpoint": "/org/freedesktop/NetworkManager/Checkpoint/1",
            "org.swift-networkmanager.checkpoint-created": "987654",
            "org.swift-networkmanager.staged": "modify",
            "org.swift-networkmanager.autoconnect": "true",
            "org.swift-networkmanager.label": "old run",
            "org.swift-networkmanager.original-storage": "disk",
            "org.swift-networkmanager.supersedes": "\(Self.other.uuidString),not-a-uuid",
            "org.swift-networkmanager.reactivate": "br0=\(Self.other.uuidString),eno1=\(Self.id.uuidString)",
            "org.swift-networkmanager.new-devices": "br0",
            "org.example.unrelated": "kept elsewhere",
        ]
        let tag = NMStagedProfileTag(userData: old)
        #expect(tag?.version == 0)
        #expect(tag?.transaction == Self.id)
        #expect(tag?.role == .modify)
        #expect(tag?.checkpoint == "/org/freedesktop/NetworkManager/Checkpoint/1")
        #expect(tag?.checkpointCreated == 987_654)
        #expect(tag?.hasAutoconnect == true && tag?.autoconnect == true)
        #expect(tag?.label == "old run")
        #expect(tag?.originalStorage == .disk)
        #expect(tag?.supersedes == [Self.other])
        #expect(tag?.reactivate == [.init(interface: "br0", uuid: Self.other), .init(interface: "eno1", uuid: Self.id)])
        #expect(tag?.newDevices == ["br0"])
        // Written again, the old keys come out the same (plus the version).
        var rewritten = tag!.userData
        #expect(rewritten.removeValue(forKey: NMStagedProfileTag.versionKey) == nil)  // version 0 writes none
        #expect(rewritten == old.filter { $0.key.hasPrefix(NMClient.Tag.prefix) && $0.key != "org.swift-networkmanager.supersedes" }
            .merging(["org.swift-networkmanager.supersedes": Self.other.uuidString]) { $1 })
    }

    @Test("no transaction id: no tag")
    func untagged() {
        #expect(NMStagedProfileTag(userData: ["org.example.key": "value"]) == nil)
        #expect(NMStagedProfileTag(userData: [NMClient.Tag.transaction: "not-a-uuid"]) == nil)
    }
}
