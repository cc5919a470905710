// nm-bench: our side of the benchmarks in docs/benchmarks.md (run by scripts/bench).
//
// Each subcommand does one piece of work the way an application would, through the public
// API of the library, and prints a small result the harness checks (a count, a version), so
// that a tool that silently did less work cannot look fast. Wall time, CPU and peak memory of
// a whole process are measured from outside (Benchmarks/c/bench-time.c); in-process timings
// (concurrent reads) are printed as JSON.
//
//   nm-bench version [--address A]             fresh process: connect, read the Version property
//   nm-bench start                              start-up alone (the same binary, no bus): version's floor
//   nm-bench read-profiles [--address A]       every profile with its typed settings (NMClient.profiles())
//   nm-bench read-profiles --raw [--sequential]  the same calls (or one at a time), settings left as DBusValue
//   nm-bench concurrent-reads --count 1000 --rounds 5   Properties.Get x N, concurrently vs one at a time
// No `import Foundation` here: start-up is measured, and what Foundation costs to load should
// be counted only if the library itself needs it.
import ArgumentParser
import DBus
import NetworkManager
#if canImport(Glibc)
import Glibc
#endif

/// `version` and `start` are parsed by hand, before ArgumentParser: its first parse reflects
/// over the command types and scans every protocol conformance in the binary (about 2 ms of a
/// fresh process), which is the parser's start-up, not the library's. The rest goes through it.
@main
enum Entry {
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        switch arguments.first {
        // write(2), not print: print's dynamic casts (TextOutputStreamable, ...) each scan every
        // protocol conformance in the binary on first use, a cost dbus-send does not have.
        case "start" where arguments.count == 1:
            output("started\n")
        case "version" where arguments.count == 1 || (arguments.count == 3 && arguments[1] == "--address"):
            do {
                let connection = arguments.count == 3
                    ? try await DBusConnection.connect(address: arguments[2]) : try await DBusConnection.system()
                let version = try await NMClient(connection: connection).version()
                output("\(version)\n")
            } catch {
                print("nm-bench: \(error)")
                exit(1)
            }
        default:
            await Bench.main()
        }
    }
}

/// `text` to standard output, unbuffered.
func output(_ text: String) {
    var text = text
    text.withUTF8 { bytes in _ = write(1, bytes.baseAddress, bytes.count) }
}

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nm-bench",
        abstract: "Benchmark workloads for scripts/bench (our library's side).",
        subcommands: [Version.self, Start.self, ReadProfiles.self, ConcurrentReads.self])
}

/// `--address`, or the system bus (`DBUS_SYSTEM_BUS_ADDRESS` is honoured).
struct BusOptions: ParsableArguments {
    @Option(help: "D-Bus address of NetworkManager's bus (default: the system bus).")
    var address: String?

    func connection() async throws -> DBusConnection {
        if let address { return try await DBusConnection.connect(address: address) }
        return try await DBusConnection.system()
    }
}

extension Bench {
    /// Process start to first reply: what a short-lived command pays before it can do anything.
    struct Version: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print NetworkManager's version (one Properties.Get).")
        @OptionGroup var bus: BusOptions

        func run() async throws {
            let nm = NMClient(connection: try await bus.connection())
            print(try await nm.version())
        }
    }

    /// The process's start-up alone: what `version` costs before it touches the bus.
    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start, parse arguments, exit: no bus.")

        func run() async throws {
            print("started")
        }
    }

    /// Every profile with its full settings, as a fresh process.
    struct ReadProfiles: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read every profile with its settings; print how many and a checksum of their names.")
        @OptionGroup var bus: BusOptions
        @Flag(help: "Keep settings as DBusValue (GetManagedObjects + pipelined GetSettings) instead of typed profiles.")
        var raw = false
        @Flag(help: "With --raw: one GetSettings at a time instead of all at once.")
        var sequential = false

        func run() async throws {
            let connection = try await bus.connection()
            if !raw {
                let profiles = try await NMClient(connection: connection).profiles()
                let addresses = profiles.reduce(0) { $0 + ($1.profile.ipv4?.addresses.count ?? 0) }
                print("profiles=\(profiles.count) ipv4-addresses=\(addresses)")
                return
            }
            @Sendable func settings(_ path: ObjectPath) async throws -> [DBusValue] {
                try await connection.call(
                    destination: NMClient.service, path: path,
                    interface: "org.freedesktop.NetworkManager.Settings.Connection", member: "GetSettings")
            }
            @Sendable func objects() async throws -> [ObjectPath: [InterfaceName: [String: DBusValue]]] {
                try await connection.managedObjects(at: "/org/freedesktop", on: NMClient.service)
            }
            var settingCount = 0
            var paths: [ObjectPath] = []
            if sequential {
                // The objects first, then each profile's settings in turn.
                paths = try await objects().compactMap { path, interfaces in
                    interfaces["org.freedesktop.NetworkManager.Settings.Connection"] == nil ? nil : path
                }
                for path in paths { settingCount += try Self.countSettings(try await settings(path)) }
            } else {
                // What NMClient.profiles() sends on a first read: the list, then the objects and
                // every profile's settings at once.
                paths = try await connection.call(
                    destination: NMClient.service, path: "/org/freedesktop/NetworkManager/Settings",
                    interface: "org.freedesktop.NetworkManager.Settings", member: "ListConnections", returning: [ObjectPath].self)
                let objectsTask = Task { try await objects() }
                let list = paths
                settingCount = try await withThrowingTaskGroup(of: Int.self) { group in
                    for path in list { group.addTask { try Self.countSettings(try await settings(path)) } }
                    return try await group.reduce(0, +)
                }
                _ = try await objectsTask.value
            }
            print("profiles=\(paths.count) settings=\(settingCount)")
        }

        static func countSettings(_ reply: [DBusValue]) throws -> Int {
            guard case .dictionary(_, _, let settings)? = reply.first else {
                throw DBusError(.typeMismatch, "GetSettings did not return a{sa{sv}}")
            }
            return settings.count
        }
    }

    /// N `Properties.Get` on one connection: all in flight at once, then one after another.
    struct ConcurrentReads: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time N concurrent Properties.Get of the manager's Version against N sequential ones; print JSON.")
        @OptionGroup var bus: BusOptions
        @Option(help: "Reads per batch.") var count = 1000
        @Option(help: "Batches of each kind, alternated (concurrent, sequential, concurrent, ...).") var rounds = 5

        func run() async throws {
            let connection = try await bus.connection()
            @Sendable func read() async throws -> String {
                try await connection.property(
                    "Version", of: "org.freedesktop.NetworkManager", at: "/org/freedesktop/NetworkManager",
                    on: NMClient.service)
            }
            _ = try await read()  // warm: the first call pays for nothing else but itself
            var concurrent: [Double] = []
            var sequential: [Double] = []
            let clock = ContinuousClock()
            for _ in 0..<rounds {
                let c = try await clock.measure {
                    let n = try await withThrowingTaskGroup(of: Int.self) { group in
                        for _ in 0..<count { group.addTask { try await read().isEmpty ? 0 : 1 } }
                        return try await group.reduce(0, +)
                    }
                    guard n == count else { throw DBusError(.failed, "only \(n) of \(count) concurrent reads returned a version") }
                }
                let s = try await clock.measure {
                    for _ in 0..<count { _ = try await read() }
                }
                concurrent.append(c.milliseconds)
                sequential.append(s.milliseconds)
            }
            func list(_ values: [Double]) -> String { "[" + values.map { "\($0)" }.joined(separator: ", ") + "]" }
            print("{\"concurrent_ms\": \(list(concurrent)), \"count\": \(count), \"sequential_ms\": \(list(sequential))}")
        }
    }
}

extension Duration {
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
