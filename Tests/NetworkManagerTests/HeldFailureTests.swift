@testable import NetworkManager
import Testing

/// The grace an activation gives a port's vague failure ("no reason", "dependency failed")
/// before reporting it: the controller's precise failure, arriving later, wins. These check
/// the timer alone; `aFailedActivationReportsNetworkManagersReasonQuickly` checks it against
/// NetworkManager, where 1.52 fails the port with no reason before the bridge's DHCP timeout
/// reaches the client.
@Suite struct HeldFailureTests {
    static let vague = NMError(.activationFailed, "eno2: no reason given")
    static let precise = NMError(.ipConfigFailed, "doomed0: DHCP timed out")

    @Test func aHeldFailureIsThrownAfterTheGrace() async throws {
        let started = ContinuousClock.now
        let error = try await #require(throws: NMError.self) {
            try await withHeldFailure(grace: .milliseconds(200)) { hold in
                hold(Self.vague)
                try await Task.sleep(for: .seconds(30))
            }
        }
        #expect(error.code == .activationFailed)
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(200) && elapsed < .seconds(20), "\(elapsed)")
    }

    @Test func aPreciseFailureWithinTheGraceWins() async throws {
        let error = try await #require(throws: NMError.self) {
            try await withHeldFailure(grace: .seconds(30)) { hold in
                hold(Self.vague)
                try await Task.sleep(for: .milliseconds(50))
                throw Self.precise
            }
        }
        #expect(error.code == .ipConfigFailed)
    }

    @Test func successWithinTheGraceIsSuccess() async throws {
        try await withHeldFailure(grace: .seconds(30)) { hold in
            hold(Self.vague)
        }
    }

    @Test func theFirstHeldFailureIsTheOneReported() async throws {
        let error = try await #require(throws: NMError.self) {
            try await withHeldFailure(grace: .milliseconds(100)) { hold in
                hold(Self.vague)
                hold(Self.precise)
                try await Task.sleep(for: .seconds(30))
            }
        }
        #expect(error.code == .activationFailed)
    }

    @Test func noHeldFailureMeansTheBodysOwnOutcome() async throws {
        let error = try await #require(throws: NMError.self) {
            try await withHeldFailure(grace: .milliseconds(10)) { _ in
                try await Task.sleep(for: .milliseconds(100))
                throw Self.precise
            }
        }
        #expect(error.code == .ipConfigFailed)
    }
}
