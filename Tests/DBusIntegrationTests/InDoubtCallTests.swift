import Foundation
import NMTestSupport
import Testing

@testable import DBus

/// Cancellation and the window of calls on the wire, against a python-dbusmock peer on a
/// private bus whose `max_replies_per_connection` is lowered to 200, so that a client without a
/// window would be refused by the bus (decision 0004).
///
/// Outcomes are proven by results rather than upper time bounds (a reply that comes back, an
/// error code that only a grace or a withdrawal gives): other suites run in parallel and can
/// keep this one's continuations waiting for a thread of the cooperative pool (see
/// ConnectTimeoutTests).
@Suite(.serialized)
final class InDoubtCallTests: Sendable {
    let bus: PrivateBus
    let peer: MockPeer
    static let busLimit = 200
    static let name: BusName = "com.example.Doubt"
    static let path: ObjectPath = "/com/example/Doubt"
    static let interface: InterfaceName = "com.example.Doubt"

    init() throws {
        bus = try PrivateBus.start(limits: ["max_replies_per_connection": Self.busLimit])
        peer = try bus.startMock(name: Self.name.rawValue, path: Self.path.rawValue, interface: Self.interface.rawValue)
        try peer.addMethod(name: "Echo", inSignature: "u", outSignature: "u", code: "ret = args[0]")
        try peer.addMethod(name: "Sleepy", inSignature: "s", outSignature: "s", code: "time.sleep(1.5); ret = args[0] + ' done'")
        try peer.addMethod(name: "SleepyFail", inSignature: "", outSignature: "",
                           code: "time.sleep(1.5); raise dbus.exceptions.DBusException('refused late', name='com.example.Error.Late')")
        try peer.addMethod(name: "Stuck", inSignature: "d", outSignature: "", code: "time.sleep(args[0])")
        try peer.addMethod(name: "Marker", inSignature: "s", outSignature: "", code: "")
    }

    deinit { bus.stop() }

    func connect(_ options: DBusConnection.Options = .init()) async throws -> DBusConnection {
        try await DBusConnection.connect(address: bus.address, options: options)
    }

    func call(_ c: DBusConnection, _ member: MemberName, _ args: [DBusValue] = [], timeout: Duration? = .seconds(10)) async throws -> [DBusValue] {
        try await c.call(destination: Self.name, path: Self.path, interface: Self.interface, member: member,
                         arguments: args, timeout: timeout)
    }

    // The peer's slow methods take 1.5 s (not less): on a loaded 2-core CI machine the test's
    // polling task was once not scheduled for the whole of a 0.3 s call, which then ended
    // before the test saw it on the wire.

    /// Waits until `c` has `count` calls on the wire (taken by its I/O thread to be sent).
    func waitUntilOnWire(_ c: DBusConnection, _ count: Int = 1) async throws {
        try await waitFor { c.transport.state.withLock { $0.calls.values.filter { $0.phase != .queued }.count } >= count }
    }

    /// Waits until `c` holds `count` calls, queued or on the wire.
    func waitUntilPending(_ c: DBusConnection, _ count: Int) async throws {
        try await waitFor { c.transport.state.withLock { $0.calls.count } >= count }
    }

    func waitFor(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not met within 5 s")
                return
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    @Test func aSentCallCancelledWhileThePeerWorksReturnsThePeersReply() async throws {
        try peer.clearCalls()
        let c = try await connect()
        let task = Task { () async throws -> ([DBusValue], Bool) in
            let reply = try await self.call(c, "Sleepy", [.string("checkpoint")])
            return (reply, Task.isCancelled)
        }
        try await waitUntilOnWire(c)
        let cancelled = ContinuousClock.now
        task.cancel()
        let (reply, sawCancellation) = try await task.value
        // The outcome is known: the reply is returned, and the caller still learns it was cancelled.
        #expect(reply == [.string("checkpoint done")])
        #expect(sawCancellation)
        #expect(ContinuousClock.now - cancelled < c.options.cancellationGrace)
        #expect(try peer.methodCalls("Sleepy").count == 1)
    }

    @Test func anErrorReplyAfterCancellationIsThePeersError() async throws {
        let c = try await connect()
        let task = Task { try await self.call(c, "SleepyFail") }
        try await waitUntilOnWire(c)
        task.cancel()
        let error = try await #require(throws: DBusError.self) { try await task.value }
        #expect(error.name == "com.example.Error.Late")
        #expect(error.message == "refused late")
        #expect(!error.outcomeUnknown)
    }

    @Test func theGraceExpiringLeavesASentCallInDoubt() async throws {
        let grace: Duration = .milliseconds(300)
        let c = try await connect(.init(cancellationGrace: grace))
        let task = Task { try await self.call(c, "Stuck", [.double(4)]) }
        try await waitUntilOnWire(c)
        let cancelled = ContinuousClock.now
        task.cancel()
        let error = try await #require(throws: DBusError.self) { try await task.value }
        let waited = ContinuousClock.now - cancelled
        #expect(error.code == .inDoubt)
        #expect(error.outcomeUnknown)
        #expect(error.message.contains("com.example.Doubt.Stuck") && error.message.contains("may have taken effect"), "\(error)")
        // It waited out the grace; an error at all (not the reply, due at 4 s) shows it ended there.
        #expect(waited >= grace - .milliseconds(20), "waited \(waited)")
        // The stuck call's slot was given back: the connection still works once the peer does.
        #expect(try await call(c, "Echo", [.uint32(7)]) == [.uint32(7)])
    }

    @Test func theGraceNeverOutlastsTheCallsTimeout() async throws {
        let c = try await connect(.init(cancellationGrace: .seconds(5)))
        let task = Task { try await self.call(c, "Stuck", [.double(4)], timeout: .milliseconds(500)) }
        try await waitUntilOnWire(c)
        task.cancel()
        // A grace of 5 s would have seen the reply at 4 s: an error means the call's 0.5 s
        // timeout ended it.
        let error = try await #require(throws: DBusError.self) { try await task.value }
        #expect(error.outcomeUnknown)
        // inDoubt; timeout if the deadline passed before the cancellation was handled.
        #expect(error.code == .inDoubt || error.code == .timeout, "\(error)")
        #expect(try await call(c, "Echo", [.uint32(8)]) == [.uint32(8)])
    }

    @Test func aQueuedCallCancelledIsNeverSent() async throws {
        try peer.clearCalls()
        let c = try await connect(.init(callWindow: 1))
        let blocking = Task { try await self.call(c, "Stuck", [.double(4)]) }
        try await waitUntilOnWire(c)
        let queued = Task { try await self.call(c, "Marker", [.string("withdrawn")]) }
        try await waitUntilPending(c, 2)
        queued.cancel()
        let result = await queued.result
        #expect(throws: CancellationError.self) { try result.get() }
        // It ended at once, not when the call ahead of it (4 s) gave it a slot.
        #expect(c.transport.state.withLock { $0.calls.values.map(\.phase) } == [.onWire], "a queued call waited to be cancelled")
        _ = try await blocking.value
        // The withdrawn call took no slot and gave none back: the window still holds one call.
        async let first = call(c, "Stuck", [.double(0.1)])
        async let second = call(c, "Marker", [.string("sent")])
        _ = try await (first, second)
        #expect(c.transport.maxCallsOnWire.load(ordering: .relaxed) == 1)
        // dbusmock's log: the withdrawn call never reached the peer.
        #expect(try peer.methodCalls("Marker").map(\.arguments) == [["\"sent\""]])
    }

    @Test func aQueuedCallTimingOutWasNotSent() async throws {
        try peer.clearCalls()
        let c = try await connect(.init(callWindow: 1))
        let blocking = Task { try await self.call(c, "Stuck", [.double(2.0)]) }
        try await waitUntilOnWire(c)
        let error = try await #require(throws: DBusError.self) {
            try await self.call(c, "Marker", [.string("late")], timeout: .milliseconds(200))
        }
        #expect(error.code == .timeout)
        #expect(!error.outcomeUnknown, "\(error)")
        #expect(error.message.contains("never sent"), "\(error)")
        _ = try await blocking.value
        #expect(try peer.methodCalls("Marker").isEmpty)
    }

    @Test func aSentCallTimingOutHasAnUnknownOutcome() async throws {
        let c = try await connect()
        let error = try await #require(throws: DBusError.self) {
            try await self.call(c, "Stuck", [.double(2.0)], timeout: .milliseconds(150))
        }
        #expect(error.code == .timeout)
        #expect(error.outcomeUnknown)
        try await Task.sleep(for: .milliseconds(1900))
    }

    @Test func theWindowHoldsUnderFiveThousandConcurrentCalls() async throws {
        let c = try await connect()
        #expect(c.options.callWindow < Self.busLimit)
        let started = ContinuousClock.now
        let echoed = try await withThrowingTaskGroup(of: Bool.self) { group in
            for value in 0..<5000 {
                group.addTask { try await self.call(c, "Echo", [.uint32(UInt32(value) &* 2_654_435_761)]) == [.uint32(UInt32(value) &* 2_654_435_761)] }
            }
            var count = 0
            for try await same in group where same { count += 1 }
            return count
        }
        let elapsed = ContinuousClock.now - started
        #expect(echoed == 5000)
        let onWire = c.transport.maxCallsOnWire.load(ordering: .relaxed)
        // Never more than the window, and the window was filled: the calls were pipelined.
        #expect(onWire == c.options.callWindow, "at most \(onWire) calls were on the wire at once")
        print("5000 concurrent calls through a window of \(c.options.callWindow): \(elapsed)")
    }

    /// The control for the test above: the bus's limit is real, and a window wider than it gets
    /// calls refused. Without it the window test could pass on a bus with no limit at all.
    @Test func withoutAWindowUnderItsLimitTheBusRefusesCalls() async throws {
        let c = try await connect(.init(callWindow: 2000))
        let refused = try await withThrowingTaskGroup(of: Bool.self) { group in
            for value in 0..<1000 {
                group.addTask {
                    do {
                        _ = try await self.call(c, "Echo", [.uint32(UInt32(value))])
                        return false
                    } catch let error as DBusError where error.code == .limitsExceeded {
                        #expect(!error.outcomeUnknown)
                        return true
                    }
                }
            }
            var count = 0
            for try await wasRefused in group where wasRefused { count += 1 }
            return count
        }
        #expect(refused > 0, "the bus refused no call: is max_replies_per_connection set?")
        print("a window of 2000 against a bus limit of \(Self.busLimit): \(refused) of 1000 calls refused (LimitsExceeded)")
    }
}
