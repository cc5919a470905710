// bridgeify: moves a NIC's network configuration onto a new Linux bridge and attaches the NIC
// to it as a port, as one transaction that rolls back by itself if anything goes wrong.
//
// This example is also the library's guided tour. Read the files in this order:
//
//   Bridgeify.swift         the command line, exit codes, and how outcomes are reported
//   ConvertCommand.swift    the conversion, from reading the host to committing (start here)
//   InterfaceReading.swift  reading what an interface has now through NMClient
//   ConversionDesign.swift  building the bridge and port profiles and the NMTransaction
//   Probes.swift            choosing the probes that prove the host is still reachable
//   Neighbours.swift        the NIC's ARP/NDP entries carried onto the bridge (rtnetlink)
//   PendingCommands.swift   `confirm`, `rollback`, `status`: a pending change from another process
//   Report.swift            terminal progress and the JSON document
//
//   bridgeify eno1                          # eno1's configuration moves onto br0
//   bridgeify eno1 --dry-run                # the plan, as a diff; nothing changes
//   bridgeify eno1 --confirm 120 && ssh ... && bridgeify confirm
//
// docs/bridgeify.md describes usage, the JSON format, exit codes and what happens on failure.
import CommandSignals
import ArgumentParser
import Foundation
import NetworkManager

@main
struct Bridgeify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bridgeify",
        abstract: "Move an interface's network configuration onto a new bridge, safely.",
        discussion: """
            `bridgeify INTERFACE` reads the interface's active configuration (static or DHCP: \
            addresses, gateway, routes, DNS, MTU) and its MAC address, creates a bridge that takes \
            all of it, and attaches the interface to the bridge as its port, as one NetworkManager \
            transaction under a checkpoint: if activation, verification or a probe fails, or this \
            process dies, the host goes back to exactly where it was.

            Examples:
              bridgeify eno1                  move eno1's configuration onto br0
              bridgeify eno1 --bridge virbr1  ... onto a bridge named virbr1
              bridgeify eno1 --dry-run        show the plan as a diff; change nothing
              bridgeify eno1 --dhcp           the bridge gets its address by DHCP
              bridgeify eno1 --ipv4 192.168.1.200/24 --gateway 192.168.1.1 \\
                             --dns 114.114.114.114
                                              supply (or override) the IP configuration
              bridgeify eno1 --probe tcp:192.168.1.10:22
                                              also require this TCP connection to work
              bridgeify eno1 --confirm 120    apply; it reverts in 120 s unless ...
              bridgeify confirm               ... this runs (from a new SSH session)
              bridgeify rollback              undo a pending conversion now
              bridgeify status                is a conversion waiting? (exit 4 if so)
              bridgeify eno1 --json           one JSON document instead of progress

            Exit codes:
              0  committed, unchanged (already converted) or planned (--dry-run);
                 confirm: confirmed; rollback: rolled back; status: nothing pending
              1  rolled back: the change failed, the host was restored
              2  rejected: invalid input, unfit host or not permitted; nothing changed
              3  failed, and the rollback failed too: the host needs attention
              4  pending: applied, waiting for `bridgeify confirm`;
                 status: a conversion is pending, running, or stale (its checkpoint
                 was lost: `bridgeify rollback` undoes what it left)

            Every report ends with the state the host was read back in: before,
            committed, pending, or needs-attention (with what differs).

            The previous profile of the interface is kept, unable to autoconnect, so it can be \
            restored (docs/bridgeify.md, "Going back").
            """,
        version: "0.1.0",
        subcommands: [ConvertCommand.self, ConfirmCommand.self, RollbackCommand.self, StatusCommand.self],
        defaultSubcommand: ConvertCommand.self)

    /// The entry point. ArgumentParser's own `main()` exits 64 on a usage error and prints
    /// nothing on stdout; bridgeify promises exit 2 ("rejected") for every invalid input, with
    /// a JSON document under `--json`, so it parses and dispatches here itself.
    static func main() async {
        // First of all: from here on a SIGINT, SIGTERM or SIGHUP cancels the command, which then
        // reports (a JSON document under --json) instead of dying silently.
        Interruption.shared.install(name: "bridgeify")
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments == ["--help"] || arguments == ["-h"] || arguments == ["help"] {
            // The conversion is the default subcommand: show its options here too, where an
            // operator looks first.
            print(helpMessage())
            print("")
            print(helpMessage(for: ConvertCommand.self))
            Foundation.exit(0)
        }
        let command: any ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            // --help and --version are "errors" that exit 0: let ArgumentParser print them.
            if exitCode(for: error) == .success { exit(withError: error) }
            let json = arguments.contains("--json")
            let report = Report(command: "bridgeify", result: .rejected, error: .init(
                code: "invalid-arguments", message: message(for: error).trimmingCharacters(in: .whitespacesAndNewlines),
                hint: "see bridgeify --help"))
            Output(json: json).finish(report)
            Foundation.exit(Outcome.rejected.exitCode)
        }
        guard let runnable = command as? any AsyncParsableCommand else {
            exit(withError: CleanExit.helpRequest(self))
        }
        let box = CommandBox(command: runnable)
        let task = Task { try await box.run() }
        Interruption.shared.onSignal { task.cancel() }
        do {
            try await task.value
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            exit(withError: error)
        }
    }
}

/// The parsed command, handed to the task that runs it (a signal cancels that task).
final class CommandBox: @unchecked Sendable {
    // Set once before the task starts and used only by it.
    var command: any AsyncParsableCommand
    init(command: any AsyncParsableCommand) { self.command = command }
    func run() async throws { try await command.run() }
}

/// The outcome of a run, as the JSON document's `result` and as the exit code.
enum Outcome: String, Encodable, Sendable {
    /// `--dry-run`: the plan was printed, nothing changed.
    case planned
    /// The interface already is a port of the bridge, configured as asked: nothing to do.
    case unchanged
    /// Applied, verified, probed and made permanent.
    case committed
    /// Applied, verified and probed; reverts by itself unless confirmed (`--confirm`).
    case pending
    /// Failed; the host was restored.
    case rolledBack = "rolled-back"
    /// Failed, and the rollback failed too: the host needs attention.
    case failed
    /// Invalid input, a host that does not fit, or not permitted: nothing was changed.
    case rejected
    /// `status`: no conversion is pending.
    case none
    /// `status`: a conversion is being applied right now by another process.
    case running
    /// `status`: a conversion lost its checkpoint (NetworkManager restarted, someone destroyed
    /// or rolled it back) and left changes behind: `bridgeify rollback` undoes them,
    /// `bridgeify confirm` commits them where that is still possible.
    case stale

    var exitCode: Int32 {
        switch self {
        case .planned, .unchanged, .committed, .none: return 0
        case .rolledBack: return 1
        case .rejected: return 2
        case .failed: return 3
        case .pending, .running, .stale: return 4
        }
    }
}

/// Options every subcommand shares.
struct CommonOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "D-Bus address of the bus NetworkManager is on (default: the system bus; DBUS_SYSTEM_BUS_ADDRESS is honoured).",
        valueName: "address"))
    var address: String?

    @Flag(help: "Print one JSON document instead of progress lines.")
    var json = false

    /// A client of NetworkManager on the chosen bus.
    ///
    /// `NMClient.system()` is what a tool on a real host uses; `connect(address:)` reaches a
    /// NetworkManager on another bus, such as a test container's.
    func client() async throws(Rejection) -> NMClient {
        do {
            if let address { return try await NMClient.connect(address: address) }
            return try await NMClient.system()
        } catch {
            throw Rejection(code: "bus-unreachable", message: "cannot reach the bus: \(error)",
                            hint: "is dbus running? bridgeify talks to NetworkManager on the system bus")
        }
    }
}

/// Why bridgeify refuses to go on. Thrown only before anything has been changed, so a
/// rejection always means "nothing changed".
struct Rejection: Error, Sendable {
    /// A stable, kebab-case code for scripts (`no-such-interface`, `bridge-name-taken`, ...),
    /// or the library's ``NMError/Code`` when the library found the problem.
    var code: String
    var message: String
    var hint: String?

    init(code: String, message: String, hint: String? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
    }

    /// A library error found before anything was changed (an invalid profile, a permission
    /// NetworkManager refused up front, ...), keeping its code and hint.
    init(_ error: NMError) {
        self.init(code: error.code.rawValue, message: error.message, hint: error.hint)
    }
}
