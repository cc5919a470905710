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
        tag.checkpointCreatedUntil = 123_470
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
        #expect(flat[NMStagedProfileTag.versionKey] == String(NMStagedProfileTag.currentVersion))
        #expect(flat[NMStagedProfileTag.Key.checkpointCreatedUntil] == "123470")
        #expect(NMStagedProfileTag(userData: flat) == tag)
        #expect(try JSONDecoder().decode(NMStagedProfileTag.self, from: JSONEncoder().encode(tag)) == tag)
        // autoconnect: NetworkManager's default is its own value, distinct from absent.
        var byDefault = NMStagedProfileTag(transaction: Self.id, role: .add)
        byDefault.hasAutoconnect = true
        #expect(byDefault.userData[NMStagedProfileTag.Key.autoconnect] == "default")
        #expect(NMStagedProfileTag(userData: byDefault.userData) == byDefault)
        #expect(NMStagedProfileTag(transaction: Self.id, role: .add).userData[NMStagedProfileTag.Key.autoconnect] == nil)
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
        #expect(tag?.checkpointCreated == 987_654 && tag?.checkpointCreatedUntil == nil)
        #expect(tag?.hasAutoconnect == true && tag?.autoconnect == true)
        #expect(tag?.label == "old run")
        #expect(tag?.originalStorage == .disk)
        #expect(tag?.supersedes == [Self.other])
        #expect(tag?.reactivate == [.init(interface: "br0", uuid: Self.other), .init(interface: "eno1", uuid: Self.id)])
        #expect(tag?.newDevices == ["br0"])
        // Written again, the old keys come out the same (plus the version).
        var rewritten = tag!.userData
        #expect(rewritten.removeValue(forKey: NMStagedProfileTag.versionKey) == nil)  // version 0 writes none
        #expect(rewritten == old.filter { $0.key.hasPrefix(NMStagedProfileTag.Key.prefix) && $0.key != "org.swift-networkmanager.supersedes" }
            .merging(["org.swift-networkmanager.supersedes": Self.other.uuidString]) { $1 })
    }

    @Test("no transaction id: no tag")
    func untagged() {
        #expect(NMStagedProfileTag(userData: ["org.example.key": "value"]) == nil)
        #expect(NMStagedProfileTag(userData: [NMStagedProfileTag.Key.transaction: "not-a-uuid"]) == nil)
    }

    @Test("the record rides in the tag, as JSON under its key, and a record profile of the old format is read")
    func recordInTheTag() throws {
        var record = NMTransactionRecord(id: Self.id, label: "bridgeify eno1", phase: .staging, createdBootTimeMilliseconds: 42,
                                         rollbackTimeoutSeconds: 30, adds: [Self.other])
        record.reactivate = [.init(interface: "eno1", uuid: Self.other)]
        var tag = NMStagedProfileTag(transaction: Self.id, role: .record)
        tag.record = record
        tag.label = record.label
        #expect(tag.userData[NMStagedProfileTag.Key.record] == record.encoded())
        #expect(NMStagedProfileTag(userData: tag.userData) == tag)
        #expect(try JSONDecoder().decode(NMStagedProfileTag.self, from: JSONEncoder().encode(tag)) == tag)
        // As the engine wrote a record profile before the type: no version key.
        let old: [String: String] = [
            "org.swift-networkmanager.transaction": Self.id.uuidString,
            "org.swift-networkmanager.staged": "record",
            "org.swift-networkmanager.label": "bridgeify eno1",
            "org.swift-networkmanager.checkpoint": "/org/freedesktop/NetworkManager/Checkpoint/2",
            "org.swift-networkmanager.record": record.encoded(),
        ]
        let read = try #require(NMStagedProfileTag(userData: old))
        #expect(read.version == 0 && read.role == .record && read.record == record)
        #expect(read.checkpoint == "/org/freedesktop/NetworkManager/Checkpoint/2")
        // A record this version does not understand (a newer one): the role is still known.
        let future = try #require(NMStagedProfileTag(userData: old.merging([NMStagedProfileTag.Key.record: #"{"version":99}"#]) { $1 }))
        #expect(future.role == .record && future.record == nil)
    }

    @Test("setting a profile's tag replaces every tag key, of any version, and keeps the caller's own user data")
    func profileTag() throws {
        var profile = try NMConnectionProfile.dummy(name: "d", interface: NMInterfaceName("dummy3"))
        profile.userData = [
            "org.example.mine": "kept",
            "org.swift-networkmanager.supersedes": Self.other.uuidString,  // an older version's key
            "org.swift-networkmanager.transaction": Self.other.uuidString,
        ]
        var tag = NMStagedProfileTag(transaction: Self.id, role: .add)
        tag.hasAutoconnect = true
        tag.autoconnect = true
        profile.stagedTag = tag
        #expect(profile.stagedTag == tag)
        #expect(profile.userData["org.example.mine"] == "kept")
        #expect(profile.userData["org.swift-networkmanager.supersedes"] == nil)
        #expect(!profile.isTransactionBookkeeping)
        profile.connection.autoconnect = false
        let untagged = NMClient.untagged(profile)
        #expect(untagged.userData == ["org.example.mine": "kept"] && untagged.connection.autoconnect == true)
        profile.stagedTag = nil
        #expect(profile.userData == ["org.example.mine": "kept"])
        for role: NMStagedProfileTag.Role in [.backup, .record, .witness] {
            profile.stagedTag = NMStagedProfileTag(transaction: Self.id, role: role)
            #expect(profile.isTransactionBookkeeping)
        }
    }

    @Test("a checkpoint is recognised by its exact creation time, or by the range a transaction recorded")
    func checkpointIdentity() throws {
        let path = "/org/freedesktop/NetworkManager/Checkpoint/1"
        let made = NMCheckpoint(path: try ObjectPath(path), createdBetween: 1_000, and: 1_000, rollbackTimeout: 30)
        #expect(NMClient.isCheckpoint(made, path: path, created: 1_000))
        #expect(!NMClient.isCheckpoint(made, path: path, created: 999))
        #expect(NMClient.isCheckpoint(made, path: path, created: nil))
        #expect(!NMClient.isCheckpoint(made, path: path + "0", created: nil))
        #expect(NMClient.isCheckpoint(made, path: path, created: 990, until: 1_010))
        #expect(NMClient.isCheckpoint(made, path: path, created: 1_000, until: 1_000))
        // The same path reused by a restarted NetworkManager, later than the range.
        #expect(!NMClient.isCheckpoint(made, path: path, created: 980, until: 999))
        #expect(!NMClient.isCheckpoint(made, path: path, created: 1_001, until: 1_020))
    }
}
