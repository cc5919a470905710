import DBus
import Foundation
@testable import NetworkManager
import Testing

/// The one conversion point of the module's error boundary (docs/decisions/0007).
@Suite("Error boundary")
struct ErrorBoundaryTests {
    @Test("NetworkManager leaving the bus is notRunning, as a call to it is")
    func peerVanished() {
        let vanished = NMError(DBusError(.peerVanished, "org.freedesktop.NetworkManager left the bus"))
        let unknown = NMError(DBusError.remote(name: "org.freedesktop.DBus.Error.ServiceUnknown", message: "not activatable"))
        #expect(vanished.code == .notRunning)
        #expect(unknown.code == .notRunning)
        #expect(vanished.dbusError?.code == .peerVanished, "the D-Bus error stays the cause")
        #expect(vanished.hint?.contains("subscribe again") == true, "\(vanished)")
    }

    @Test("a call NetworkManager took with it when it left the bus is notRunning, outcome unknown")
    func recipientLeft() {
        var noReply = DBusError.remote(name: "org.freedesktop.DBus.Error.NoReply",
                                       message: "Message recipient disconnected from message bus without replying")
        noReply.outcomeUnknown = true
        let error = NMError(noReply)
        #expect(error.code == .notRunning)
        #expect(error.outcomeUnknown)
        #expect(error.hint?.contains("may have taken effect") == true)
        // The bus's own reply timeout stays a timeout.
        let timedOut = DBusError.remote(name: "org.freedesktop.DBus.Error.NoReply", message: "Did not receive a reply.")
        #expect(NMError(timedOut).code == .timeout)
    }

    @Test("a closed connection stays disconnected, not notRunning")
    func disconnected() {
        #expect(NMError(DBusError(.disconnected, "closed")).code == .disconnected)
        #expect(NMError(wrapping: DBusError(.disconnected, "closed")).code == .disconnected)
    }

    @Test("cancellation has its own code, distinct from timeouts and disconnects")
    func cancellation() {
        let cancelled = NMError(wrapping: CancellationError())
        #expect(cancelled.code == .cancelled)
        #expect(cancelled.code != .timeout && cancelled.code != .disconnected)
        #expect(cancelled.dbusError == nil)
        #expect(!cancelled.outcomeUnknown, "a call never sent took no effect")
        // A call cancelled on the wire whose reply did not come within the grace.
        let inDoubt = NMError(wrapping: DBusError(.inDoubt, "cancelled while in flight", outcomeUnknown: true))
        #expect(inDoubt.code == .cancelled)
        #expect(inDoubt.outcomeUnknown, "it may have taken effect")
        #expect(inDoubt.hint?.contains("may have taken effect") == true)
        #expect(NMError(wrapping: DBusError(.timeout, "no reply")).code == .timeout)
    }

    @Test("an NMError passes unchanged; anything else becomes failed with its description")
    func passThrough() {
        let original = NMError(.permissionDenied, "no", hint: "grant it", domain: .manager)
        #expect(NMError(wrapping: original) == original)
        struct Custom: Error, CustomStringConvertible { var description: String { "probe said \u{1b}[31mno" } }
        let other = NMError(wrapping: Custom())
        #expect(other.code == .failed)
        #expect(other.message == "probe said \\u{1b}[31mno", "sanitized: \(other.message)")
    }

    @Test("a transaction report becomes its cause, with the report attached")
    func transactionReport() {
        let cause = NMError(.notRunning, "NetworkManager is not running", domain: .dbus)
        let report = NMTransactionError(step: .validate, cause: cause, rollback: .notNeeded, steps: [])
        let error = NMError(wrapping: report)
        #expect(error.code == .notRunning)
        #expect(error.message == cause.message)
        #expect(error.transaction?.step == .validate)
        #expect(error.transaction?.cause == cause)
        #expect(error.description == report.description)
        var plain = error
        plain.transaction = nil
        #expect(plain == cause)
        #expect(error != cause, "the report is part of the value")
    }

    @Test("the boundary converts what its body throws")
    func boundary() async {
        await #expect(throws: NMError(wrapping: CancellationError())) {
            try await NMError.boundary { () async throws -> Int in throw CancellationError() }
        }
        let value = try? await NMError.boundary { 7 }
        #expect(value == 7)
    }

    @Test("an event sequence ends with NMError: peer-vanished becomes notRunning")
    func eventSequence() async throws {
        let (stream, continuation) = AsyncThrowingStream<Int, any Error>.makeStream()
        continuation.yield(1)
        continuation.yield(2)
        continuation.yield(3)
        continuation.finish(throwing: DBusError(.peerVanished, "NetworkManager left"))
        let events = NMEventSequence(base: stream) { $0 == 2 ? nil : $0 * 10 }
        var seen: [Int] = []
        do {
            for try await value in events { seen.append(value) }
            Issue.record("the sequence ended without an error")
        } catch {
            // `error` is NMError by type: the sequence's Failure.
            #expect(error.code == .notRunning)
            #expect(error.dbusError?.code == .peerVanished)
        }
        #expect(seen == [10, 30])
    }
}
