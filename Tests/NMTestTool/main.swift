// nm-testtool: performs one NetworkManager operation through the library and prints the
// outcome as one JSON line. Integration tests run it as another user (setpriv) to see what a
// non-root caller gets, which a root test process cannot observe from inside itself.
//
//   nm-testtool ADDRESS add-profile NAME IFNAME
//   nm-testtool ADDRESS checkpoint
//   nm-testtool ADDRESS activate PROFILE-NAME
//   nm-testtool ADDRESS read
//   nm-testtool ADDRESS apply [--readdress] [--pause-at STEP[:N]] [--rollback-timeout S] [--fail-probe]
//                             [--dhcp-timeout S] [--no-commit] [--confirm-timeout S]
//   nm-testtool ADDRESS confirm | revert       (the pending transactions found on the bus)
//
// `apply` runs the bridge conversion of eno1 (br0 with eno1's MAC and IPv4, eno1 as its port,
// the old profile superseded), as the integration tests' BridgeConversion does, or with
// --readdress moves eno1 from 192.168.1.200 to .201 by modifying its profile. With
// --pause-at it stops when the Nth start of STEP is reported through `progress`: it prints
// "PAUSED STEP N" on stdout, flushes, and blocks reading stdin; the line "continue" resumes,
// end of input exits at once (status 3) without touching anything more. The kill tests
// SIGKILL it while it waits there. --fail-probe makes the probe fail (to pause in the rollback).
import DBus
import Foundation
import NetworkManager
import Synchronization

struct Outcome: Encodable {
    var ok: Bool
    var code: String?
    var message: String?
    var hint: String?
    var dbusName: String?
    var detail: String?
    /// For `apply`: the step that failed, the rollback's outcome ("not-needed", "restored",
    /// "failed"), its time, and the transaction's outcome when it succeeded.
    var step: String?
    var rollback: String?
    var rollbackMilliseconds: Int?
    var outcome: String?
    var checkpoint: String?
}

func emit(_ outcome: Outcome) -> Never {
    let data = (try? JSONEncoder().encode(outcome)) ?? Data("{}".utf8)
    print(String(decoding: data, as: UTF8.self))
    exit(outcome.ok ? 0 : 1)
}

/// Where a paused `apply` waits, and how often that step has started so far.
final class PausePoint: Sendable {
    let step: NMTransactionStep
    let occurrence: Int
    let seen = Mutex(0)

    init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard let step = NMTransactionStep(rawValue: String(parts[0])) else { return nil }
        self.step = step
        occurrence = parts.count > 1 ? Int(parts[1]) ?? 1 : 1
    }

    /// Called from `progress`: blocks the transaction at the chosen step.
    func reached(_ event: NMTransactionEvent) {
        guard case .started(let step, _) = event, step == self.step else { return }
        let count = seen.withLock { value -> Int in
            value += 1
            return value
        }
        guard count == occurrence else { return }
        print("PAUSED \(step.rawValue) \(count)")
        fflush(nil)  // every stream: `stdout` itself is a global C variable Swift 6 will not touch
        guard let line = readLine(), line == "continue" else { exit(3) }
    }
}

func option(_ name: String, in arguments: [String]) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

func seconds(_ text: String?, default value: Int) -> Duration { .seconds(text.flatMap { Int($0) } ?? value) }

/// eno1 moved from .200 to .201 by modifying its profile (read, change, write), as the tests'
/// `readdressing` does.
func readdressing(_ nm: NMClient, arguments: [String]) async throws -> NMTransaction {
    guard var profile = try await nm.profiles(named: "eno1").first?.profile else { throw NMError(.unknownConnection, "no profile eno1") }
    profile.ipv4?.addresses = ["192.168.1.201/24"]
    let failProbe = arguments.contains("--fail-probe")
    let probe = NMProbe.custom(failProbe ? "fails on purpose" : "passes", budget: .seconds(1)) {
        if failProbe { throw NMError(.failed, "unreachable on purpose") }
    }
    return NMTransaction([.modify(profile), .activate(uuid: profile.uuid)], probes: [probe],
                         rollbackTimeout: seconds(option("--rollback-timeout", in: arguments), default: 2),
                         label: "eno1 to .201 (nm-testtool)")
}

/// The bridge conversion of eno1, as the tests' `BridgeConversion` builds it.
func bridgeConversion(_ nm: NMClient, arguments: [String]) async throws -> NMTransaction {
    guard let old = try await nm.profiles(named: "eno1").first else { throw NMError(.unknownConnection, "no profile eno1") }
    let device = try await nm.device(named: "eno1")
    let mac = try MACAddress(device.hardwareAddress ?? "")
    var ipv4 = old.profile.ipv4 ?? .dhcp
    if let dhcpTimeout = option("--dhcp-timeout", in: arguments) {
        ipv4 = .dhcp(timeout: seconds(dhcpTimeout, default: 3))
        ipv4.mayFail = false
    }
    let eno1 = try NMInterfaceName("eno1")
    let bridge = try NMConnectionProfile.bridge(name: "br0", interface: NMInterfaceName("br0"), stp: false, macAddress: mac, ipv4: ipv4, ipv6: .disabled)
    let port = try NMConnectionProfile.bridgePort(name: "br0-port-eno1", interface: eno1, controller: "br0")
    let failProbe = arguments.contains("--fail-probe")
    let probe = NMProbe.custom(failProbe ? "fails on purpose" : "passes", budget: .seconds(1)) {
        if failProbe { throw NMError(.failed, "unreachable on purpose") }
    }
    return NMTransaction(
        [.add(bridge), .add(port), .activate(uuid: bridge.uuid, ports: [eno1]), .supersede(uuid: old.profile.uuid)],
        probes: [probe], rollbackTimeout: seconds(option("--rollback-timeout", in: arguments), default: 2),
        activationTimeout: .seconds(30), label: "br0 over eno1 (nm-testtool)")
}

func milliseconds(_ duration: Duration) -> Int {
    Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: nm-testtool ADDRESS add-profile NAME IFNAME | checkpoint | activate NAME | read | apply [OPTIONS] | confirm | revert\n".utf8))
    exit(2)
}

do {
    let nm = try await NMClient.connect(address: arguments[0])
    switch arguments[1] {
    case "add-profile":
        let profile = try NMConnectionProfile.ethernet(
            name: arguments[2], interface: try NMInterfaceName(arguments[3]), autoconnect: false,
            ipv4: .static(addresses: ["198.51.100.7/24"]))
        let path = try await nm.addProfile(profile)
        emit(Outcome(ok: true, detail: path.rawValue))
    case "checkpoint":
        let checkpoint = try await nm.createCheckpoint(rollbackTimeout: .seconds(30))
        emit(Outcome(ok: true, detail: checkpoint.path.rawValue))
    case "activate":
        guard let stored = try await nm.profiles(named: arguments[2]).first else {
            emit(Outcome(ok: false, code: "no-such-profile"))
        }
        try await nm.activate(stored.path, timeout: .seconds(20))
        emit(Outcome(ok: true))
    case "apply":
        let pause = option("--pause-at", in: arguments).flatMap(PausePoint.init)
        let transaction = arguments.contains("--readdress")
            ? try await readdressing(nm, arguments: arguments) : try await bridgeConversion(nm, arguments: arguments)
        let commit = !arguments.contains("--no-commit")
        let result = try await nm.apply(transaction, commit: commit,
                                        confirmTimeout: seconds(option("--confirm-timeout", in: arguments), default: 120)) { event in
            pause?.reached(event)
        }
        emit(Outcome(ok: true, outcome: result.outcome.rawValue, checkpoint: result.pending?.checkpoint))
    case "confirm", "revert":
        let pending = try await nm.pendingTransactions()
        for transaction in pending {
            if arguments[1] == "confirm" { try await nm.confirm(transaction) } else { try await nm.rollback(transaction) }
        }
        emit(Outcome(ok: true, detail: pending.map(\.checkpoint).joined(separator: ",")))
    case "read":
        let snapshot = try await nm.snapshot()
        emit(Outcome(ok: true, detail: snapshot.devices.map(\.interface.rawValue).joined(separator: ",")))
    default:
        emit(Outcome(ok: false, code: "usage"))
    }
} catch let thrown as NMError where thrown.transaction != nil {
    let error = thrown.transaction!
    var outcome = Outcome(ok: false, code: error.cause.code.rawValue, message: error.cause.message, hint: error.hint,
                          dbusName: error.cause.dbusName, step: error.step.rawValue)
    switch error.rollback {
    case .notNeeded: outcome.rollback = "not-needed"
    case .restored(let duration):
        outcome.rollback = "restored"
        outcome.rollbackMilliseconds = milliseconds(duration)
    case .failed(let failure):
        outcome.rollback = "failed"
        outcome.detail = failure.description
    }
    emit(outcome)
} catch let error as NMError {
    emit(Outcome(ok: false, code: error.code.rawValue, message: error.message, hint: error.hint, dbusName: error.dbusName))
} catch let error as DBusError {
    emit(Outcome(ok: false, code: error.code.rawValue, message: error.message, hint: error.hint, dbusName: error.name))
} catch {
    emit(Outcome(ok: false, code: "other", message: "\(error)"))
}
