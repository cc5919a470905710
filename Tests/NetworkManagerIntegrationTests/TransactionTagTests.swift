import DBus
import Foundation
import NMTestSupport
@testable import NetworkManager
import Testing

/// The staging tags a real transaction leaves on NetworkManager's profiles decode, through
/// ``NMStagedProfileTag``, to what the engine staged: read back from the daemon, not from the
/// engine's memory.
@Suite(.serialized)
struct TransactionTagTests {
    @Test func aPendingTransactionsTagsDecodeToWhatWasStaged() async throws {
        try await withNMContainer(nics: ["eno1"], eno1Static: true) { container in
            let nm = try await container.client()
            // A profile to modify (so that the transaction keeps a backup of it), on disk.
            let dummy = try NMConnectionProfile.dummy(name: "tagged-dummy", interface: NMInterfaceName("dummy7"),
                                                      autoconnect: false, ipv4: .disabled, ipv6: .disabled)
            #expect(try await nm.apply(NMTransaction([.add(dummy)], label: "seed")).outcome == .committed)
            var renamed = dummy
            renamed.connection.id = "tagged-dummy renamed"

            let conversion = try await BridgeConversion.make(nm)
            let transaction = NMTransaction(conversion.transaction.changes + [.modify(renamed)], label: "tags round trip")
            let result = try await nm.apply(transaction, commit: false, confirmTimeout: .seconds(60))
            let pending = try #require(result.pending)
            #expect(result.outcome == .pending)

            let stored = try await nm.profiles()
            var byRole: [NMStagedProfileTag.Role: [(NMStoredProfile, NMStagedProfileTag)]] = [:]
            for profile in stored {
                guard let tag = profile.profile.stagedTag else { continue }
                // Everything read back survives the codec both ways.
                #expect(NMStagedProfileTag(userData: tag.userData) == tag)
                #expect(try JSONDecoder().decode(NMStagedProfileTag.self, from: JSONEncoder().encode(tag)) == tag)
                #expect(tag.version == NMStagedProfileTag.currentVersion)
                #expect(tag.transaction == pending.id)
                #expect(tag.label == "tags round trip")
                byRole[try #require(tag.role), default: []].append((profile, tag))
            }
            // No witness profile of its own: the first staged add plays it (record.witness).
            #expect(Set(byRole.keys) == [.add, .modify, .backup, .record], "\(byRole.keys)")

            // The record: what the transaction does, where its checkpoint is, awaiting confirmation.
            let record = try #require(byRole[.record]?.first?.1)
            #expect(byRole[.record]?.count == 1)
            #expect(record.checkpoint == pending.checkpoint && record.checkpointCreated == pending.checkpointCreated)
            // The creation time is recorded as the range CheckpointCreate's timing gives, and
            // NetworkManager's own `Created` falls in it.
            let created = try #require(record.checkpointCreated), until = try #require(record.checkpointCreatedUntil)
            let checkpoint = try #require(try await nm.checkpoints().first { $0.path.rawValue == pending.checkpoint })
            #expect((created...until).contains(checkpoint.createdBootTimeMilliseconds), "\(created)...\(until): \(checkpoint.createdBootTimeMilliseconds)")
            #expect(until - created < 5_000)
            let body = try #require(record.record)
            #expect(body.id == pending.id && body.phase == .staging && body.awaitingConfirmation)
            #expect(Set(body.adds) == [conversion.bridge.uuid, conversion.port.uuid])
            #expect(body.modifies == [dummy.uuid])
            #expect(body.superseded.map(\.uuid) == [conversion.old.profile.uuid])
            #expect(body.reactivate.map(\.interface) == ["eno1"])
            #expect(body.newDevices == ["br0"])
            // The port, when the plan adds one (TransactionRun.witnessAdd: ports reach the disk first).
            #expect(body.witness == conversion.port.uuid)

            // Staged adds: autoconnect off on the host, the intended value in the tag.
            let adds = byRole[.add] ?? []
            #expect(Set(adds.map(\.0.profile.uuid)) == [conversion.bridge.uuid, conversion.port.uuid])
            for (profile, tag) in adds {
                #expect(profile.profile.connection.autoconnect == false)
                let intended = profile.profile.uuid == conversion.bridge.uuid ? conversion.bridge : conversion.port
                #expect(tag.hasAutoconnect && tag.autoconnect == intended.connection.autoconnect)
                #expect(tag.checkpoint == pending.checkpoint && tag.checkpointCreated == pending.checkpointCreated)
                #expect(tag.checkpointCreatedUntil == record.checkpointCreatedUntil)
                #expect(profile.isInMemory)
            }
            // The modified profile: staged in memory, its storage before recorded.
            let (modified, modifyTag) = try #require(byRole[.modify]?.first)
            #expect(modified.profile.uuid == dummy.uuid && modified.profile.name == "tagged-dummy renamed")
            #expect(modifyTag.originalStorage == .disk && modifyTag.hasAutoconnect && modifyTag.autoconnect == false)
            // Its backup: the original as it was.
            let (backup, backupTag) = try #require(byRole[.backup]?.first)
            #expect(backupTag.backupOf == dummy.uuid && backupTag.originalName == "tagged-dummy")
            #expect(backupTag.originalStorage == .disk && backupTag.hasAutoconnect && backupTag.autoconnect == false)
            #expect(backup.profile.uuid != dummy.uuid && backup.isInMemory)
            // Taken off, the tag leaves the caller's profile as it asked for it.
            #expect(NMClient.untagged(modified.profile).userData.isEmpty)
            #expect(NMClient.untagged(modified.profile).connection.autoconnect == false)

            #expect(try await nm.rollback(pending) == .before)
            #expect(try await nm.profiles().allSatisfy { $0.profile.stagedTag == nil })
            #expect(try await nm.profiles(named: "tagged-dummy").count == 1)
        }
    }
}
