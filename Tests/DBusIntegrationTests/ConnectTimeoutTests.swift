import Foundation
import Testing

@testable import DBus

/// Connection set-up against peers that misbehave (sockets made by the test itself): each
/// ends with a typed error within the connect timeout instead of hanging.
///
/// Upper time bounds are generous: other suites run in parallel, and their fixtures (starting
/// a bus, a python mock) block threads of the cooperative pool, of which a 2-core machine has
/// two; the resumption of an awaiting test can wait seconds for one (measured 4.2 s once). What
/// proves the mechanism is the error's code and the lower bound.
@Suite(.serialized)
struct ConnectTimeoutTests {
    static let slack: Duration = .seconds(5)

    @Test func aSilentSocketTimesOutWhileAuthenticating() async throws {
        let socket = try FakeBusSocket(.silent)
        defer { socket.stop() }
        let timeout: Duration = .milliseconds(500)
        let started = ContinuousClock.now
        let error = try await #require(throws: DBusError.self) {
            try await DBusConnection.connect(address: socket.address, options: .init(connectTimeout: timeout))
        }
        let elapsed = ContinuousClock.now - started
        #expect(error.code == .timeout)
        #expect(error.message.contains("connecting to the bus at \(socket.address)"), "\(error)")
        // The I/O thread names the step; on a starved machine the backstop, 250 ms later, may
        // answer first.
        #expect(error.message.contains("while authenticating") || error.message.contains("did not open"), "\(error)")
        #expect(error.hint != nil)
        #expect(!error.outcomeUnknown)
        #expect(elapsed >= timeout - .milliseconds(50) && elapsed < timeout + Self.slack, "took \(elapsed)")
    }

    @Test func aSocketSpeakingGarbageFailsQuickly() async throws {
        let socket = try FakeBusSocket(.garbage)
        defer { socket.stop() }
        let timeout: Duration = .seconds(30)
        let started = ContinuousClock.now
        let error = try await #require(throws: DBusError.self) {
            try await DBusConnection.connect(address: socket.address, options: .init(connectTimeout: timeout))
        }
        let elapsed = ContinuousClock.now - started
        // Not a timeout: libdbus gives up on what it cannot parse, long before the deadline.
        #expect(error.code == .authFailed, "\(error)")
        #expect(error.message.contains(socket.path), "\(error)")
        #expect(error.hint != nil)
        #expect(elapsed < .seconds(10), "took \(elapsed)")
    }

    @Test func aPeerThatNeverAnswersHelloTimesOut() async throws {
        let socket = try FakeBusSocket(.authenticatesThenSilent)
        defer { socket.stop() }
        let timeout: Duration = .milliseconds(700)
        let started = ContinuousClock.now
        let error = try await #require(throws: DBusError.self) {
            try await DBusConnection.connect(address: socket.address, options: .init(connectTimeout: timeout))
        }
        let elapsed = ContinuousClock.now - started
        #expect(error.code == .timeout)
        #expect(error.message.contains("connecting to the bus at \(socket.address)"), "\(error)")
        #expect(error.message.contains("Hello") || error.message.contains("did not open"), "\(error)")
        #expect(elapsed >= timeout - .milliseconds(50) && elapsed < timeout + Self.slack, "took \(elapsed)")
        // Without Hello (a peer-to-peer connection) the same peer is connected to at once.
        let direct = try await DBusConnection.connect(address: socket.address, registerOnBus: false,
                                                      options: .init(connectTimeout: timeout))
        #expect(direct.uniqueName == nil)
        #expect(!direct.isClosed)
        direct.close()
    }

    @Test func cancellingAConnectEndsItAtOnce() async throws {
        let socket = try FakeBusSocket(.silent)
        defer { socket.stop() }
        let task = Task {
            try await DBusConnection.connect(address: socket.address, options: .init(connectTimeout: .seconds(30)))
        }
        try await Task.sleep(for: .milliseconds(200))
        let started = ContinuousClock.now
        task.cancel()
        let result = await task.result
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(ContinuousClock.now - started < Self.slack, "far less than the 30 s connect timeout")
    }

    @Test func optionsThatCannotWorkAreRefusedBeforeConnecting() async throws {
        let window = try await #require(throws: DBusError.self) {
            try await DBusConnection.connect(address: "unix:path=/nonexistent/socket", options: .init(callWindow: 0))
        }
        #expect(window.code == .invalidValue)
        let timeout = try await #require(throws: DBusError.self) {
            try await DBusConnection.connect(address: "unix:path=/nonexistent/socket", options: .init(connectTimeout: .zero))
        }
        #expect(timeout.code == .invalidValue)
    }
}
