// nm-testtool: performs one NetworkManager operation through the library and prints the
// outcome as one JSON line. Integration tests run it as another user (setpriv) to see what a
// non-root caller gets, which a root test process cannot observe from inside itself.
//
//   nm-testtool ADDRESS add-profile NAME IFNAME
//   nm-testtool ADDRESS checkpoint
//   nm-testtool ADDRESS activate PROFILE-NAME
//   nm-testtool ADDRESS read
import DBus
import Foundation
import NetworkManager

struct Outcome: Encodable {
    var ok: Bool
    var code: String?
    var message: String?
    var hint: String?
    var dbusName: String?
    var detail: String?
}

func emit(_ outcome: Outcome) -> Never {
    let data = (try? JSONEncoder().encode(outcome)) ?? Data("{}".utf8)
    print(String(decoding: data, as: UTF8.self))
    exit(outcome.ok ? 0 : 1)
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: nm-testtool ADDRESS add-profile NAME IFNAME | checkpoint | activate NAME | read\n".utf8))
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
    case "read":
        let snapshot = try await nm.snapshot()
        emit(Outcome(ok: true, detail: snapshot.devices.map(\.interface).joined(separator: ",")))
    default:
        emit(Outcome(ok: false, code: "usage"))
    }
} catch let error as NMError {
    emit(Outcome(ok: false, code: error.code.rawValue, message: error.message, hint: error.hint, dbusName: error.dbusName))
} catch let error as DBusError {
    emit(Outcome(ok: false, code: error.code.rawValue, message: error.message, hint: error.hint, dbusName: error.name))
} catch {
    emit(Outcome(ok: false, code: "other", message: "\(error)"))
}
