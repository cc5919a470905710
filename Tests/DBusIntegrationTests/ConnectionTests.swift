import Foundation
import NMTestSupport
import Testing

@testable import DBus

/// The DBus module against a real bus: a private `dbus-daemon --session` started per suite, with
/// python3-dbusmock as the peer (a D-Bus service that no one on this project wrote).
@Suite(.serialized)
final class ConnectionTests: Sendable {
    let bus: PrivateBus
    let peer: MockPeer
    static let name: BusName = "com.example.Test"
    static let path: ObjectPath = "/com/example/Test"
    static let interface: InterfaceName = "com.example.Test"

    init() throws {
        bus = try PrivateBus.start()
        peer = try bus.startMock(name: Self.name.rawValue, path: Self.path.rawValue, interface: Self.interface.rawValue,
                                 objectManager: true)
    }

    deinit { bus.stop() }

    func connect() async throws -> DBusConnection {
        try await DBusConnection.connect(address: bus.address)
    }

    func call(_ c: DBusConnection, _ member: MemberName, _ args: [DBusValue] = [], timeout: Duration? = .seconds(10)) async throws -> [DBusValue] {
        try await c.call(destination: Self.name, path: Self.path, interface: Self.interface, member: member,
                         arguments: args, timeout: timeout)
    }

    @Test func connectsAndGetsAUniqueName() async throws {
        let c = try await connect()
        let unique = try #require(c.uniqueName)
        #expect(unique.isUnique)
        #expect(try await c.nameHasOwner(Self.name))
        #expect(try await !c.nameHasOwner("com.example.Nobody"))
        let owner = try await c.nameOwner(Self.name)
        #expect(owner.isUnique && owner != unique)
        #expect(try await c.listNames().contains(Self.name.rawValue))
    }

    @Test func callsRoundTripComplexValues() async throws {
        try peer.addMethod(name: "Echo", inSignature: "a{sv}aa{sv}(iat)v", outSignature: "a{sv}aa{sv}(iat)v",
                           code: "ret = tuple(args)")
        let c = try await connect()
        let map: DBusValue = ["id": DBusVariant("eno1"), "mtu": DBusVariant(UInt32(1500)),
                              "dns": DBusVariant([UInt32(0x3502_00C0)])].dbusValue
        let list: DBusValue = .array(.dictionary(key: .string, value: .variant), [])
        let structure: DBusValue = .structure([.int32(-7), .array(.uint64, [.uint64(.max), .uint64(0)])])
        let nested: DBusValue = .variant(.variant(.array(.string, [.string("ä"), .string("")])))
        let reply = try await call(c, "Echo", [map, list, structure, nested])
        #expect(reply == [map, list, structure, nested])
    }

    @Test func typedCallsDecodeOrFailWithTypeMismatch() async throws {
        try peer.addMethod(name: "Answer", inSignature: "", outSignature: "u", code: "ret = 42")
        let c = try await connect()
        let answer = try await c.call(destination: Self.name, path: Self.path, interface: Self.interface,
                                      member: "Answer", returning: UInt32.self)
        #expect(answer == 42)
        await #expect(throws: DBusError.self) {
            _ = try await c.call(destination: Self.name, path: Self.path, interface: Self.interface,
                                 member: "Answer", returning: String.self)
        }
        do {
            _ = try await c.call(destination: Self.name, path: Self.path, interface: Self.interface,
                                 member: "Answer", returning: String.self)
        } catch let error as DBusError {
            #expect(error.code == .typeMismatch)
        }
    }

    @Test func remoteErrorsKeepTheirNameAndMessage() async throws {
        try peer.addMethod(name: "Fail", inSignature: "", outSignature: "",
                           code: "raise dbus.exceptions.DBusException('disk on fire', name='com.example.Error.OnFire')")
        let c = try await connect()
        let error = try await #require(throws: DBusError.self) { try await self.call(c, "Fail") }
        #expect(error.name == "com.example.Error.OnFire")
        #expect(error.message == "disk on fire")
        #expect(error.code == .remote)
        #expect(error.isRemote)
    }

    @Test func standardErrorNamesAreRecognisableCodes() async throws {
        let c = try await connect()
        let unknownService = try await #require(throws: DBusError.self) {
            try await c.call(destination: "com.example.Nobody", path: "/", interface: "com.example.X", member: "Y")
        }
        #expect(unknownService.code == .serviceUnknown)
        #expect(unknownService.name == "org.freedesktop.DBus.Error.ServiceUnknown")
        #expect(unknownService.hint != nil)
        let unknownMethod = try await #require(throws: DBusError.self) { try await self.call(c, "NoSuchMethod") }
        #expect(unknownMethod.code == .unknownMethod)
        let noOwner = try await #require(throws: DBusError.self) { try await c.nameOwner("com.example.Nobody") }
        #expect(noOwner.code == .nameHasNoOwner)
    }

    @Test func aCallTimesOutWithATypedError() async throws {
        try peer.addMethod(name: "Slow", inSignature: "", outSignature: "", code: "time.sleep(3)")
        let c = try await connect()
        let started = ContinuousClock.now
        let error = try await #require(throws: DBusError.self) { try await self.call(c, "Slow", timeout: .milliseconds(200)) }
        #expect(error.code == .timeout)
        #expect(error.outcomeUnknown)
        #expect(ContinuousClock.now - started < .seconds(2.5))
        // The connection stays usable: the late reply is dropped.
        try await Task.sleep(for: .seconds(3))
        #expect(try await c.nameHasOwner(Self.name))
    }

    /// Cancelling a call that was sent does not abandon it (decision 0004): it waits for the
    /// reply within the grace. Here the grace is shorter than the peer's work, so it ends in
    /// doubt, soon after the cancellation rather than when the peer answers.
    @Test func cancellingASentCallEndsItInDoubtAfterTheGrace() async throws {
        try peer.addMethod(name: "Slow2", inSignature: "", outSignature: "", code: "time.sleep(3)")
        let c = try await DBusConnection.connect(address: bus.address, options: .init(cancellationGrace: .milliseconds(200)))
        let task = Task { try await self.call(c, "Slow2", timeout: nil) }
        try await Task.sleep(for: .milliseconds(100))
        let started = ContinuousClock.now
        task.cancel()
        let result = await task.result
        // Ended by the grace, not by the reply (due after 3 s): the code says so.
        #expect(ContinuousClock.now - started < .seconds(2.5))
        let error = try #require(throws: DBusError.self) { try result.get() }
        #expect(error.code == .inDoubt && error.outcomeUnknown)
        // A task that is already cancelled fails before sending anything.
        let early = try await #require(throws: CancellationError.self) {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.cancelAll()
                group.addTask { try await c.nameHasOwner(Self.name) }
                return try await group.next() ?? false
            }
        }
        _ = early
        try await Task.sleep(for: .seconds(3))
    }

    @Test func aThousandConcurrentCallsArePipelined() async throws {
        let c = try await connect()
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<1000 {
                group.addTask { try await c.nameHasOwner(Self.name) }
            }
            var count = 0
            for try await owned in group where owned { count += 1 }
            #expect(count == 1000)
        }
        // Many calls were on the wire at the same time, sent before the first replies came back,
        // and never more than the window (InDoubtCallTests checks it against the bus's limit).
        let onWire = c.transport.maxCallsOnWire.load(ordering: .relaxed)
        #expect(onWire == c.options.callWindow, "at most \(onWire) calls were outstanding at once")
    }

    @Test func signalsAreDeliveredAfterSubscribingAndTheMatchIsRemovedAfterwards() async throws {
        let c = try await connect()
        let rule = DBusMatchRule(sender: Self.name, path: Self.path, interface: Self.interface, member: "Tick")
        let signals = try await c.signals(matching: rule)
        // Subscribed: emit right away, no sleep.
        try peer.emitSignal(name: "Tick", signature: "su", arguments: ["first", .uint32(1)])
        try peer.emitSignal(name: "Other", signature: "s", arguments: ["not for us"])
        try peer.emitSignal(name: "Tick", signature: "su", arguments: ["second", .uint32(2)])
        var received: [String] = []
        for try await signal in signals {
            received.append(try signal.argument(0))
            #expect(signal.member == "Tick")
            if received.count == 2 { break }
        }
        #expect(received == ["first", "second"])
        try await Task.sleep(for: .milliseconds(200))
        #expect(c.transport.state.withLock { $0.subscribers.isEmpty })
        let rules = try await matchRules(of: c)
        if let rules { #expect(!rules.contains { $0.contains("member='Tick'") }, "\(rules)") }
    }

    @Test func identicalRulesAreAddedOnceAndALeaseKeepsThem() async throws {
        let c = try await connect()
        let rule = DBusMatchRule(sender: Self.name, path: Self.path, interface: Self.interface, member: "Shared")
        func held() async throws -> Int {
            let rules = try #require(try await matchRules(of: c), "this dbus-daemon has no Debug.Stats interface")
            return rules.filter { $0.contains("member='Shared'") }.count
        }
        #expect(c.trackedOwner(of: Self.name) == nil)
        // A lease: the rule is on the bus, and the sender's owner tracked, without a sequence:
        // learnt from the next reply the name sends, not asked of the bus.
        let lease = try await c.keepMatching(rule)
        #expect(try await held() == 1)
        #expect(c.trackedOwner(of: Self.name) == nil)
        try await c.call(destination: Self.name, path: Self.path, interface: "org.freedesktop.DBus.Peer", member: "Ping")
        #expect(c.trackedOwner(of: Self.name) == (try await c.nameOwner(Self.name)))
        // Two sequences with the same rule share it: still one rule on the bus.
        let first = try await c.signals(matching: rule)
        let second = try await c.signals(matching: rule)
        #expect(try await held() == 1)
        try peer.emitSignal(name: "Shared", signature: "u", arguments: [.uint32(7)])
        var one = first.makeAsyncIterator()
        var two = second.makeAsyncIterator()
        #expect(try await one.next()?.argument(0, as: UInt32.self) == 7)
        #expect(try await two.next()?.argument(0, as: UInt32.self) == 7)
        // Both sequences end; the lease still holds the rule, and a new sequence works at once.
        first.continuation.finish()
        second.continuation.finish()
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await held() == 1)
        let third = try await c.signals(matching: rule)
        try peer.emitSignal(name: "Shared", signature: "u", arguments: [.uint32(8)])
        var three = third.makeAsyncIterator()
        #expect(try await three.next()?.argument(0, as: UInt32.self) == 8)
        third.continuation.finish()
        // Released: nothing uses the rule any more, and RemoveMatch took it off the bus.
        lease.release()
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await held() == 0)
        #expect(c.trackedOwner(of: Self.name) == nil)
        #expect(try await one.next() == nil)
        #expect(try await two.next() == nil)
        #expect(try await three.next() == nil)
    }

    @Test func aFailedAddMatchLeavesNothingHeld() async throws {
        let c = try await connect()
        // The bus refuses a rule with both a path and a path namespace: each attempt sees the
        // error (the bus is asked again, not a failed entry trusted), and nothing stays held.
        let bad = DBusMatchRule(path: Self.path, pathNamespace: Self.path, interface: Self.interface, member: "Refused")
        for _ in 0..<2 {
            await #expect(throws: DBusError.self) { _ = try await c.signals(matching: bad) }
        }
        #expect(c.matches.entries.withLock { $0.isEmpty })
        #expect(c.transport.state.withLock { $0.subscribers.isEmpty })
    }

    /// The bus's own view of our match rules, where dbus-daemon was built with its Stats interface.
    func matchRules(of c: DBusConnection) async throws -> [String]? {
        guard let unique = c.uniqueName else { return nil }
        let other = try await connect()
        do {
            let reply = try await other.call(
                destination: .bus, path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus.Debug.Stats",
                member: "GetAllMatchRules", returning: [String: [String]].self)
            return reply[unique.rawValue] ?? []
        } catch let error as DBusError where error.code == .unknownMethod || error.code == .unknownInterface || error.code == .accessDenied {
            return nil
        }
    }

    @Test func argumentMatchesFilterLocallyToo() async throws {
        let c = try await connect()
        let only = try await c.signals(matching: DBusMatchRule(interface: Self.interface, member: "Named", arguments: [0: "eno1"]))
        try peer.emitSignal(name: "Named", signature: "s", arguments: ["br0"])
        try peer.emitSignal(name: "Named", signature: "s", arguments: ["eno1"])
        var iterator = only.makeAsyncIterator()
        let first = try await iterator.next()
        #expect(try first?.argument(0, as: String.self) == "eno1")
    }

    @Test func propertiesGetGetAllSetAndChanges() async throws {
        try peer.addProperties([("Version", "1.2.3"), ("Count", .uint32(7))])
        let c = try await connect()
        let version: String = try await c.property("Version", of: Self.interface, at: Self.path, on: Self.name)
        #expect(version == "1.2.3")
        let all = try await c.allProperties(of: Self.interface, at: Self.path, on: Self.name)
        #expect(all["Count"] == .uint32(7))
        let changes = try await c.propertiesChanges(on: Self.name, path: Self.path, interface: Self.interface)
        try await c.setProperty("Count", of: Self.interface, at: Self.path, on: Self.name, to: UInt32(8))
        #expect(try await c.property("Count", of: Self.interface, at: Self.path, on: Self.name, as: UInt32.self) == 8)
        try peer.updateProperties([("Version", "2.0")])
        for try await change in changes {
            if let v = change.changed["Version"] {
                #expect(v == .string("2.0"))
                #expect(change.interface == Self.interface)
                break
            }
        }
        let wrongType = try await #require(throws: DBusError.self) {
            _ = try await c.property("Version", of: Self.interface, at: Self.path, on: Self.name, as: UInt32.self)
        }
        #expect(wrongType.code == .typeMismatch)
    }

    @Test func managedObjectsAndIntrospection() async throws {
        try peer.addObject(path: "/com/example/Test/Dev1", interface: "com.example.Device",
                           properties: [("Interface", "eno1"), ("State", .uint32(100))])
        let c = try await connect()
        let objects = try await c.managedObjects(at: Self.path, on: Self.name)
        let device = try #require(objects["/com/example/Test/Dev1"]?["com.example.Device"])
        #expect(device["Interface"] == .string("eno1"))
        #expect(device["State"] == .uint32(100))
        let xml = try await c.introspect(Self.path, on: Self.name)
        #expect(xml.contains("org.freedesktop.DBus.Mock"))
    }

    @Test func unixFileDescriptorsTravelOverTheBus() async throws {
        let c = try await connect()
        try #require(c.canPassUnixFDs)
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let signals = try await c.signals(matching: DBusMatchRule(interface: "com.example.Fd", member: "Pass"))
        try c.emit(path: "/com/example/Fd", interface: "com.example.Fd", member: "Pass",
                   arguments: [.unixFD(try DBusUnixFD(duplicating: fds[1]))])
        var iterator = signals.makeAsyncIterator()
        let signal = try #require(try await iterator.next())
        guard case .unixFD(let received)? = signal.body.first else {
            Issue.record("no fd in \(signal)")
            return
        }
        #expect(received.rawValue != fds[1])
        // Same pipe: what we write through the received descriptor comes out of our read end.
        var byte: UInt8 = 0x5A
        #expect(write(received.rawValue, &byte, 1) == 1)
        var back: UInt8 = 0
        #expect(read(fds[0], &back, 1) == 1)
        #expect(back == 0x5A)
    }

    @Test func aPeerVanishingMidCallFailsTheCallAndEndsItsSignalSequences() async throws {
        let other = try bus.startMock(name: "com.example.Doomed", path: "/com/example/Doomed", interface: "com.example.Doomed")
        try other.addMethod(name: "Hang", inSignature: "", outSignature: "", code: "time.sleep(30)")
        let c = try await connect()
        let signals = try await c.signals(matching: DBusMatchRule(sender: "com.example.Doomed", interface: "com.example.Doomed"))
        let pending = Task {
            try await c.call(destination: "com.example.Doomed", path: "/com/example/Doomed",
                             interface: "com.example.Doomed", member: "Hang", timeout: .seconds(20))
        }
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        other.kill()
        let callError = try await #require(throws: DBusError.self) { try await pending.value }
        #expect(callError.code == .noReply)
        // The bus delivered the call; the peer may have acted on it before it died.
        #expect(callError.outcomeUnknown)
        let streamError = try await #require(throws: DBusError.self) { for try await _ in signals {} }
        #expect(streamError.code == .peerVanished)
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    /// Regression: the owner of a well-known name was cached after the last subscription on it
    /// ended; when the service restarted in between, every signal of the new owner was dropped.
    @Test func aServiceRestartBetweenSubscriptionsDoesNotLeaveAStaleOwner() async throws {
        let first = try bus.startMock(name: "com.example.Phoenix", path: "/com/example/Phoenix", interface: "com.example.Phoenix")
        let c = try await connect()
        let rule = DBusMatchRule(sender: "com.example.Phoenix", interface: "com.example.Phoenix", member: "Ping")
        do {
            let signals = try await c.signals(matching: rule)
            try first.emitSignal(name: "Ping", signature: "s", arguments: ["one"])
            var iterator = signals.makeAsyncIterator()
            #expect(try await iterator.next()?.argument(0, as: String.self) == "one")
        }
        first.kill()
        let second = try bus.startMock(name: "com.example.Phoenix", path: "/com/example/Phoenix", interface: "com.example.Phoenix")
        let signals = try await c.signals(matching: rule)
        try second.emitSignal(name: "Ping", signature: "s", arguments: ["two"])
        let received = try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask {
                var iterator = signals.makeAsyncIterator()
                return try await iterator.next()?.argument(0, as: String.self)
            }
            group.addTask {
                try await Task.sleep(for: .seconds(5))
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        #expect(received == "two")
    }

    @Test func closingFailsPendingCallsAndEndsSequences() async throws {
        try peer.addMethod(name: "Slow3", inSignature: "", outSignature: "", code: "time.sleep(2)")
        let c = try await connect()
        let signals = try await c.signals(matching: DBusMatchRule(interface: Self.interface))
        let pending = (0..<20).map { _ in Task { try await self.call(c, "Slow3", timeout: nil) } }
        try await Task.sleep(for: .milliseconds(100))
        c.close()
        for task in pending {
            let error = try await #require(throws: DBusError.self) { try await task.value }
            #expect(error.code == .disconnected)
            #expect(error.outcomeUnknown, "a call on the wire when the connection closed: \(error)")
        }
        let streamError = try await #require(throws: DBusError.self) { for try await _ in signals {} }
        #expect(streamError.code == .disconnected)
        let after = try await #require(throws: DBusError.self) { try await c.nameHasOwner(Self.name) }
        #expect(after.code == .disconnected)
        #expect(!after.outcomeUnknown, "refused before sending")
        c.close()  // twice is fine
        try await Task.sleep(for: .seconds(2))
    }

    @Test func badAddressesGiveTypedErrors() async throws {
        let malformed = try await #require(throws: DBusError.self) { try await DBusConnection.connect(address: "nonsense") }
        #expect(malformed.code == .badAddress)
        let nobody = try await #require(throws: DBusError.self) {
            try await DBusConnection.connect(address: "unix:path=/nonexistent/bus-socket")
        }
        #expect(nobody.code == .disconnected)
        #expect(nobody.hint != nil)
    }
}

/// The bus itself going away: its own suite, since it kills the daemon. Also the tests that set
/// `DBUS_SYSTEM_BUS_ADDRESS`, which is process-wide: they must not run alongside each other.
@Suite(.serialized)
struct BusLossTests {
    @Test func theBusGoingAwayFailsEverythingAndDoesNotExitTheProcess() async throws {
        let bus = try PrivateBus.start()
        defer { bus.stop() }
        let peer = try bus.startMock(name: "com.example.Lost", path: "/com/example/Lost", interface: "com.example.Lost")
        try peer.addMethod(name: "Hang", inSignature: "", outSignature: "", code: "time.sleep(30)")
        let c = try await DBusConnection.connect(address: bus.address)
        let signals = try await c.signals(matching: DBusMatchRule(interface: "com.example.Lost"))
        let pending = Task {
            try await c.call(destination: "com.example.Lost", path: "/com/example/Lost", interface: "com.example.Lost",
                             member: "Hang", timeout: nil)
        }
        try await Task.sleep(for: .milliseconds(200))
        // A second connection whose window holds one call: one call on the wire, one queued.
        let narrow = try await DBusConnection.connect(address: bus.address, options: .init(callWindow: 1))
        let sent = Task {
            try await narrow.call(destination: "com.example.Lost", path: "/com/example/Lost", interface: "com.example.Lost",
                                  member: "Hang", timeout: nil)
        }
        try await Task.sleep(for: .milliseconds(100))
        let queued = Task {
            try await narrow.call(destination: "com.example.Lost", path: "/com/example/Lost", interface: "com.example.Lost",
                                  member: "Hang", timeout: nil)
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(narrow.transport.state.withLock { $0.calls.values.map(\.phase).sorted { "\($0)" < "\($1)" } } == [.onWire, .queued])
        kill(bus.pid, SIGKILL)
        let error = try await #require(throws: DBusError.self) { try await pending.value }
        #expect(error.code == .disconnected)
        #expect(error.outcomeUnknown, "an in-flight call when the connection dropped: \(error)")
        let sentError = try await #require(throws: DBusError.self) { try await sent.value }
        #expect(sentError.code == .disconnected && sentError.outcomeUnknown, "\(sentError)")
        let queuedError = try await #require(throws: DBusError.self) { try await queued.value }
        #expect(queuedError.code == .disconnected && !queuedError.outcomeUnknown, "\(queuedError)")
        #expect(queuedError.message.contains("was not sent"), "\(queuedError)")
        let streamError = try await #require(throws: DBusError.self) { for try await _ in signals {} }
        #expect(streamError.code == .disconnected)
        #expect(c.isClosed)
    }

    @Test func theSystemBusFollowsDBUS_SYSTEM_BUS_ADDRESS() async throws {
        let bus = try PrivateBus.start()
        defer { bus.stop() }
        let previous = ProcessInfo.processInfo.environment["DBUS_SYSTEM_BUS_ADDRESS"]
        setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.address, 1)
        defer {
            if let previous { setenv("DBUS_SYSTEM_BUS_ADDRESS", previous, 1) } else { unsetenv("DBUS_SYSTEM_BUS_ADDRESS") }
        }
        let system = try await DBusConnection.system()
        let id = try await system.call(destination: .bus, path: "/org/freedesktop/DBus", interface: .bus, member: "GetId",
                                       returning: String.self)
        let direct = try await DBusConnection.connect(address: bus.address)
        let sameID = try await direct.call(destination: .bus, path: "/org/freedesktop/DBus", interface: .bus, member: "GetId",
                                           returning: String.self)
        #expect(id == sameID)
        system.close()
    }

    @Test func aSystemBusAddressThatIsNotASocketIsRefused() async throws {
        let previous = ProcessInfo.processInfo.environment["DBUS_SYSTEM_BUS_ADDRESS"]
        defer {
            if let previous { setenv("DBUS_SYSTEM_BUS_ADDRESS", previous, 1) } else { unsetenv("DBUS_SYSTEM_BUS_ADDRESS") }
        }
        setenv("DBUS_SYSTEM_BUS_ADDRESS", "unixexec:path=/bin/true", 1)
        let refused = try await #require(throws: DBusError.self) { try await DBusConnection.system() }
        #expect(refused.code == .badAddress)
        #expect(refused.message.contains("unixexec"), "\(refused)")
        #expect(refused.hint?.contains("allowsNonSocketSystemBus") == true)
        // Allowed explicitly, libdbus runs /bin/true, which exits: a different failure, quickly.
        let allowed = try await #require(throws: DBusError.self) {
            try await DBusConnection.system(options: .init(connectTimeout: .seconds(5), allowsNonSocketSystemBus: true))
        }
        #expect(allowed.code != .badAddress, "\(allowed)")
        // Every entry of a list is checked.
        setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/socket;autolaunch:", 1)
        let listed = try await #require(throws: DBusError.self) { try await DBusConnection.system() }
        #expect(listed.code == .badAddress && listed.message.contains("autolaunch"), "\(listed)")
    }
}
