import Foundation
import Testing

@testable import DBus

/// Connection set-up against peers that misbehave (sockets made by the test itself): each
/// ends with a typed error within the connect timeout instead of hanging.
@Suite(.serialized)
struct ConnectTimeoutTests {
    static let slack: Duration = .seconds(1)

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
        #expect(error.message.contains(socket.path) && error.message.contains("authenticating"), "\(error)")
        #expect(error.hint != nil)
        #expect(!error.outcomeUnknown)
        #expect(elapsed >= timeout - .milliseconds(50) && elapsed < timeout + Self.slack, "took \(elapsed)")
    }

    @Test func aSocketSpeakingGarbageFailsQuickly() async throws {
        let socket = try FakeBusSocket(.garbage)
        defer { socket.stop() }
        let timeout: Duration = .seconds(5)
        let started = ContinuousClock.now
        let error = try await #require(throws: DBusError.self) {
            try await DBusConnection.connect(address: socket.address, options: .init(connectTimeout: timeout))
        }
        let elapsed = ContinuousClock.now - started
        #expect(error.code == .authFailed, "\(error)")
        #expect(error.message.contains(socket.path), "\(error)")
        #expect(error.hint != nil)
        // Well before the connect timeout: libdbus gives up on what it cannot parse.
        #expect(elapsed < .seconds(2), "took \(elapsed)")
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
        #expect(error.message.contains("Hello") && error.message.contains(socket.path), "\(error)")
        #expect(elapsed < timeout + Self.slack, "took \(elapsed)")
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
        #expect(ContinuousClock.now - started < .seconds(1))
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
