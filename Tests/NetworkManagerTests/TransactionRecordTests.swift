import Foundation
@testable import NetworkManager
import Testing

/// The record a transaction keeps in NetworkManager (docs/transactions.md, "Interrupted at any
/// point"): what another process reads to finish or undo it, so it must survive a round trip
/// and stay readable by newer versions.
@Suite("Transaction record")
struct TransactionRecordTests {
    static func sample() -> NMTransactionRecord {
        var record = NMTransactionRecord(
            id: UUID(uuidString: "1A2B3C4D-0000-4000-8000-000000000001")!, label: "bridgeify eno1 -> br0",
            phase: .committing, createdBootTimeMilliseconds: 123_456, rollbackTimeoutSeconds: 36,
            adds: [UUID(uuidString: "1A2B3C4D-0000-4000-8000-000000000002")!],
            modifies: [UUID(uuidString: "1A2B3C4D-0000-4000-8000-000000000003")!],
            superseded: [.init(uuid: UUID(uuidString: "1A2B3C4D-0000-4000-8000-000000000004")!, autoconnect: nil, inMemory: false)],
            deletes: [UUID(uuidString: "1A2B3C4D-0000-4000-8000-000000000005")!],
            reactivate: [.init(interface: "eno1", uuid: UUID(uuidString: "1A2B3C4D-0000-4000-8000-000000000004")!)],
            newDevices: ["br0"])
        record.awaitingConfirmation = true
        record.ownerPID = 4242
        record.ownerStartTime = 987_654
        return record
    }

    @Test func aRecordSurvivesARoundTripThroughItsText() throws {
        let record = Self.sample()
        let text = record.encoded()
        #expect(NMTransactionRecord.decode(text) == record)
        // The text is what NetworkManager stores in user.data: small, and one line.
        #expect(text.utf8.count < 8 * 1024 && !text.contains("\n"))
    }

    /// A record written before the owner's pid and start time were kept still reads; its owner
    /// is then unknown, and an age decides whether it was abandoned.
    @Test func aRecordOfTheFirstFormatWithoutItsOwnerIsStillRead() throws {
        let text = """
            {"adds":[],"awaitingConfirmation":false,"createdBootTimeMilliseconds":5,"deletes":[],"id":"1A2B3C4D-0000-4000-8000-000000000001",\
            "label":"x","modifies":[],"newDevices":[],"phase":"staging","reactivate":[],"rollbackTimeoutSeconds":2,"superseded":[],"version":1}
            """
        let record = try #require(NMTransactionRecord.decode(text))
        #expect(record.phase == .staging && record.ownerPID == nil && record.ownerAlive == nil)
        #expect(record.witness == nil)  // version 1: the witness is a profile of its own
    }

    /// Version 2 names the staged add that plays the witness.
    @Test func aRecordNamesItsStagedWitness() throws {
        var record = Self.sample()
        let add = UUID()
        record.adds = [add]
        record.witness = add
        #expect(record.version == 2)
        #expect(NMTransactionRecord.decode(record.encoded())?.witness == add)
    }

    @Test func aRecordOfAFutureVersionOrGarbageIsNotTakenForOne() {
        var future = Self.sample()
        future.version = NMTransactionRecord.currentVersion + 1
        #expect(NMTransactionRecord.decode(future.encoded()) == nil)
        #expect(NMTransactionRecord.decode("{\"phase\":\"staging\"}") == nil)
        #expect(NMTransactionRecord.decode("not json") == nil)
    }

    @Test func theOwnerIsAliveOnlyWhileItsPidAndStartTimeMatch() throws {
        var record = Self.sample()
        let pid = NMTransactionRecord.currentPID
        record.ownerPID = pid
        let start: UInt64 = try #require(NMTransactionRecord.startTime(of: pid))
        record.ownerStartTime = start
        #expect(record.ownerAlive == true)
        record.ownerStartTime! += 1  // the same pid, reused by another process
        #expect(record.ownerAlive == false)
        record.ownerPID = Int32.max  // no such process
        #expect(record.ownerAlive == false)
    }

    /// The bookkeeping profiles are inert: a dummy that never autoconnects and carries no IP,
    /// with an interface name of its own that NetworkManager accepts.
    @Test func bookkeepingProfilesCannotTakeOverAnInterface() throws {
        let id = UUID()
        for witness in [false, true] {
            let tag = NMStagedProfileTag(transaction: id, role: witness ? .witness : .record)
            let profile = NMClient.bookkeepingProfile(for: id, witness: witness, tag: tag)
            #expect(profile.connection.autoconnect == false)
            #expect(profile.ipv4?.method == .disabled && profile.ipv6?.method == .disabled)
            #expect(profile.type == .dummy && profile.stagedTag == tag && profile.isTransactionBookkeeping)
            try profile.validate()
        }
    }
}
